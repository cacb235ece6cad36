"""A history that records its own restatements (issue 21): every recording that changes a
period's value, band or cases adds a revision (kpi_recorded_revision), recording unchanged
data adds none, kpi_restatements lists the past periods that late data moved by more than
their interval's half-width or into another band, such a band change is sent like a band
change marked as a restatement, kpi_record_due() records each tracking's lookback periods,
old revisions are thinned by the retention setting, and pg_dump keeps the revisions."""

import json
import subprocess
from datetime import timedelta

import psycopg

from conftest import PG_BIN, conninfo

DATA = """
SET TimeZone = 'UTC';
CREATE TABLE tickets (id serial, channel text, opened_at timestamptz, escalated boolean);
-- August to October: 400 cases a month, 8 escalated (2%: 'excellent')
INSERT INTO tickets (channel, opened_at, escalated)
SELECT (ARRAY['email', 'chat'])[1 + g % 2], m + (g % 28) * interval '1 day', g <= 8
FROM (VALUES (timestamptz '2026-08-01'), ('2026-09-01'), ('2026-10-01')) v(m), generate_series(1, 400) g;
INSERT INTO kpi_tracked (tracking, kpi, source, time_column, summary, dimensions) VALUES
    ('late', 'escalation_rate', 'public.tickets', 'opened_at', 'escalation_summary(escalated)', '{channel}');
"""


def revisions(c, month):
    return c.execute("""SELECT dimension_value, revision, value, band FROM kpi_recorded_revision
                        WHERE period_start = %s ORDER BY 1, 2""", [month]).fetchall()


def test_late_data_is_kept_as_revisions_and_listed_as_restatements(new_database):
    db = new_database()
    with psycopg.connect(conninfo(db), autocommit=True) as c, \
            psycopg.connect(conninfo(db), autocommit=True) as listener:
        c.execute(DATA)
        c.execute("CALL kpi_record_range('late', '2026-08-01', '2026-11-01')")
        first = revisions(c, "2026-09-01")
        assert [(d, r, b) for d, r, _, b in first] == [("all", 1, "excellent"), ("chat", 1, "excellent"),
                                                       ("email", 1, "excellent")]
        # recording again, unchanged: no revision, nothing restated
        c.execute("SELECT kpi_record('late', '2026-09-01')")
        assert revisions(c, "2026-09-01") == first
        assert c.execute("SELECT count(*) FROM kpi_restatements").fetchone() == (0,)
        listener.execute("LISTEN support_kpi_band_change")
        # two late escalations: a new revision, within the interval: not a restatement
        c.execute("INSERT INTO tickets (channel, opened_at, escalated) "
                  "VALUES ('chat', '2026-09-20', true), ('email', '2026-09-21', true)")
        c.execute("SELECT kpi_record('late', '2026-09-01')")
        assert [(d, r) for d, r, _, _ in revisions(c, "2026-09-01")] == \
            [("all", 1), ("all", 2), ("chat", 1), ("chat", 2), ("email", 1), ("email", 2)]
        assert c.execute("SELECT count(*) FROM kpi_restatements").fetchone() == (0,)
        assert [json.loads(n.payload) for n in listener.notifies(timeout=1, stop_after=5)] == []
        # 30 more on email: September's email rate leaves its band: a restatement, sent
        c.execute("INSERT INTO tickets (channel, opened_at, escalated) "
                  "SELECT 'email', '2026-09-22', true FROM generate_series(1, 30)")
        c.execute("SELECT kpi_record('late', '2026-09-01')")
        restated = c.execute("""SELECT dimension_value, revision, previous_band, band, band_changed,
                                       abs(value - previous_value) > previous_half_width
                                FROM kpi_restatements ORDER BY 1""").fetchall()
        assert ("email", 3, "excellent", "concern", True, True) in restated
        assert {r[0] for r in restated} <= {"all", "email"}
        notes = [json.loads(n.payload) for n in listener.notifies(timeout=2, stop_after=10)]
        restatements = [n for n in notes if n.get("restatement")]
        assert {(n["dimension_value"], n["previous_band"], n["band"], n["revision"]) for n in restatements} >= \
            {("email", "excellent", "concern", 3)}
        note = next(n for n in restatements if n["dimension_value"] == "email")
        assert note["why"].startswith("restated: the month of 2026-09-01") and note["rule"] == "significant"
        # kpi_recorded holds the latest revision
        latest = c.execute("SELECT value, band FROM kpi_recorded WHERE period_start = '2026-09-01' "
                           "AND dimension_value = 'email'").fetchone()
        assert latest == c.execute("SELECT value, band FROM kpi_recorded_revision WHERE period_start = '2026-09-01' "
                                   "AND dimension_value = 'email' ORDER BY revision DESC LIMIT 1").fetchone()
        # a slice the data no longer has gets a revision of NULLs
        c.execute("DELETE FROM tickets WHERE channel = 'chat' AND opened_at < '2026-10-01' AND opened_at >= '2026-09-01'")
        c.execute("SELECT kpi_record('late', '2026-09-01')")
        assert ("chat", 3, None, None) in revisions(c, "2026-09-01")

        # pg_dump keeps the revisions
        dump = subprocess.run([f"{PG_BIN}/pg_dump", "-Fc", db], check=True, capture_output=True).stdout
        count = c.execute("SELECT count(*) FROM kpi_recorded_revision").fetchone()[0]
    restored = new_database(extension=False)
    subprocess.run([f"{PG_BIN}/pg_restore", "--exit-on-error", "-d", restored], input=dump, check=True,
                   capture_output=True)
    with psycopg.connect(conninfo(restored), autocommit=True) as c:
        assert c.execute("SELECT count(*) FROM kpi_recorded_revision").fetchone()[0] == count
        assert c.execute("SELECT count(*) FROM kpi_restatements").fetchone()[0] >= 1


def test_the_lookback_and_the_retention(new_database):
    db = new_database()
    with psycopg.connect(conninfo(db), autocommit=True) as c:
        c.execute("SET TimeZone = 'UTC'")
        c.execute("CREATE TABLE events AS SELECT date_trunc('day', now()) - g * interval '1 day' AS at, g % 9 = 0 AS hit "
                  "FROM generate_series(0, 20) g")
        c.execute("INSERT INTO kpi_tracked (tracking, kpi, source, time_column, summary, period, lookback) "
                  "VALUES ('d', 'escalation_rate', 'public.events', 'at', 'escalation_summary(hit)', 'day', 3)")
        notices = []
        c.add_notice_handler(lambda d: notices.append(d.message_primary))
        c.execute("CALL kpi_record_due('d')")
        days = c.execute("SELECT period_start::date FROM kpi_recorded ORDER BY 1").fetchall()
        today = c.execute("SELECT date_trunc('day', now())::date").fetchone()[0]
        assert [d for (d,) in days] == [today - timedelta(days=i) for i in (3, 2, 1, 0)]
        assert len([n for n in notices if n.startswith('kpi_record_due: tracking "d"')]) == 4
        # the default for new trackings is 2
        assert c.execute("SELECT column_default FROM information_schema.columns "
                         "WHERE table_name = 'kpi_tracked' AND column_name = 'lookback'").fetchone() == ("2",)
        # retention: revisions of periods more than 1 period back keep their latest only
        c.execute("CALL kpi_record_range('d', now() - interval '6 days', now())")
        c.execute("UPDATE events SET hit = NOT hit")
        c.execute("CALL kpi_record_range('d', now() - interval '6 days', now())")
        assert c.execute("SELECT max(revision) FROM kpi_recorded_revision").fetchone() == (2,)
        c.execute("UPDATE kpi_tracked SET revision_retention = 1")
        c.execute("SELECT kpi_record('d', date_trunc('day', now()))")
        kept = c.execute("""SELECT period_start::date, count(*) FROM kpi_recorded_revision
                            GROUP BY 1 ORDER BY 1""").fetchall()
        assert [n for _, n in kept[:-2]] == [1] * (len(kept) - 2) and [n for _, n in kept[-2:]] == [2, 2]


def test_an_update_from_0_5_0_keeps_its_history_as_first_revisions(new_database):
    db = new_database(extension=False)
    with psycopg.connect(conninfo(db), autocommit=True) as c:
        c.execute("CREATE EXTENSION support_kpi VERSION '0.5.0'")
        c.execute(DATA.split("INSERT INTO kpi_tracked")[0])
        c.execute("INSERT INTO kpi_tracked (tracking, kpi, source, time_column, summary, dimensions) VALUES "
                  "('late', 'escalation_rate', 'public.tickets', 'opened_at', 'escalation_summary(escalated)', '{channel}')")
        c.execute("SELECT kpi_record('late', '2026-09-01')")
        c.execute("ALTER EXTENSION support_kpi UPDATE")
        assert c.execute("SELECT lookback, revision_retention FROM kpi_tracked").fetchone() == (1, None)
        assert c.execute("SELECT count(*), min(revision), max(revision) FROM kpi_recorded_revision").fetchone() == (3, 1, 1)
        c.execute("INSERT INTO tickets (channel, opened_at, escalated) "
                  "SELECT 'email', '2026-09-22', true FROM generate_series(1, 30)")
        c.execute("SELECT kpi_record('late', '2026-09-01')")
        assert c.execute("SELECT count(*) FROM kpi_restatements WHERE dimension_value = 'email' AND band_changed"
                         ).fetchone() == (1,)

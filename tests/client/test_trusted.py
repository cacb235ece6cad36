"""support_kpi is a trusted extension: a database owner who is not a superuser installs, uses,
dumps, restores and drops it, and the rights stay where the README says:

- every role reads the catalog, schedules and history; the database owner (and whom it
  grants) changes them; no other role does;
- a kpi_tracked row's SQL runs with the rights of the role that wrote it, never the
  caller's (a superuser's pg_cron job cannot be made to run an analyst's SQL as superuser);
- no SQL of the extension is bound to an object another role planted in its schema, before
  or after CREATE EXTENSION, and a hostile search_path captures no call;
- the releases before the review (0.5.0 and earlier) still take a superuser."""

import os
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest

from conftest import PG_BIN, conninfo, sqlstate_of

REPO = Path(__file__).resolve().parents[2]
OWNER = "kpi_test_db_owner"
ANALYST = "kpi_test_plain_role"
TRAP = "BEGIN ALTER ROLE {role} SUPERUSER; RETURN {ret}; EXCEPTION WHEN OTHERS THEN RETURN {ret}; END"


def as_role(db, role):
    return psycopg.connect(conninfo(db) + f" user={role}", autocommit=True)


def is_superuser(admin, role):
    return admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role]).fetchone()[0]


@pytest.fixture
def roles(admin):
    for role in (ANALYST, OWNER):
        admin.execute(f"DROP ROLE IF EXISTS {role}")
    admin.execute(f"CREATE ROLE {OWNER} LOGIN NOSUPERUSER")
    admin.execute(f"CREATE ROLE {ANALYST} LOGIN NOSUPERUSER")
    made = []

    def database():
        name = f"kpi_test_{uuid.uuid4().hex[:10]}"
        admin.execute(f"CREATE DATABASE {name} OWNER {OWNER}")
        made.append(name)
        return name

    yield database
    for name in made:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    for role in (ANALYST, OWNER):
        admin.execute(f"DROP ROLE IF EXISTS {role}")


# The plain SQL each KPI is checked against, and the same KPIs from support_kpi.
DATA = """
CREATE TABLE tickets AS
SELECT g AS id, g % 97 AS customer_id, (g % 5 = 0) AS escalated, timestamptz '2026-09-01' + g * interval '1 hour' AS opened_at
FROM generate_series(1, 2000) g;
CREATE TABLE customers AS SELECT g AS id FROM generate_series(0, 199) g;
"""
KPIS = """
SELECT (SELECT incident_rate(c.id, t.id) FROM customers c LEFT JOIN tickets t ON t.customer_id = c.id),
       (SELECT round(count(t.id) * 1000.0 / count(DISTINCT c.id), 6) FROM customers c LEFT JOIN tickets t ON t.customer_id = c.id),
       (SELECT escalation_rate(escalated) FROM tickets),
       (SELECT round(avg(escalated::int) * 100, 6) FROM tickets)
"""


def test_a_database_owner_installs_uses_dumps_restores_and_drops_it(admin, roles, tmp_path):
    db = roles()
    with as_role(db, OWNER) as c:
        c.execute("CREATE EXTENSION support_kpi")
        # the extension is the owner's; its objects the bootstrap superuser's
        assert c.execute("SELECT extowner::regrole::text FROM pg_extension WHERE extname = 'support_kpi'"
                         ).fetchone() == (OWNER,)
        owners = c.execute("SELECT array_agg(DISTINCT r.rolsuper) FROM pg_class k JOIN pg_roles r ON r.oid = k.relowner "
                           "WHERE k.relname IN ('kpi_catalog', 'kpi_tracked', 'kpi_recorded', 'kpi_schedule')").fetchone()
        assert owners == ([True],)
        c.execute(DATA)
        incident, incident_sql, escalation, escalation_sql = c.execute(KPIS).fetchone()
        assert round(incident, 6) == incident_sql and round(escalation, 6) == escalation_sql
        assert (round(incident_sql, 2), round(escalation_sql, 2)) == (10000.0, 20.0)
        # the owner changes the catalog, the schedules and the history
        c.execute("UPDATE kpi_catalog SET band_edges = '{4,9}' WHERE kpi = 'incident_rate'")
        c.execute("INSERT INTO kpi_schedule VALUES ('office', 'Europe/Berlin')")
        c.execute("INSERT INTO kpi_schedule_hours VALUES ('office', 1, '09:00', '17:00')")
        c.execute("INSERT INTO kpi_holiday VALUES ('office', '2026-12-28', 'closed')")
        assert c.execute("SELECT business_time('2026-12-21 08:00+01', '2026-12-29 08:00+01', 'office')").fetchone()[0] \
            .total_seconds() == 8 * 3600
        c.execute("INSERT INTO kpi_tracked (tracking, kpi, source, time_column, summary) "
                  "VALUES ('monthly', 'escalation_rate', 'tickets', 'opened_at', 'escalation_summary(escalated)')")
        assert c.execute("SELECT written_by::text FROM kpi_tracked").fetchone() == (OWNER,)
        c.execute("CALL kpi_record_range('monthly', '2026-09-01', '2026-12-01')")
        recorded = c.execute("SELECT period_start::date::text, value FROM kpi_recorded ORDER BY 1").fetchall()
        expected = c.execute("SELECT date_trunc('month', opened_at)::date::text, round(avg(escalated::int) * 100, 6) "
                             "FROM tickets WHERE opened_at < '2026-12-01' GROUP BY 1 ORDER BY 1").fetchall()
        assert [(p, round(v, 6)) for p, v in recorded] == expected and len(expected) == 3
        c.execute("CREATE TABLE summaries AS SELECT incident_summary(customer_id, id) AS s FROM tickets")
        before = c.execute("SELECT incident_rate(s), s::text FROM summaries").fetchone()

    dump = tmp_path / "owner.dump"
    subprocess.run([f"{PG_BIN}/pg_dump", "-Fc", "-U", OWNER, "-f", str(dump), db], check=True, capture_output=True)
    admin.execute(f"DROP DATABASE {db} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {db} OWNER {OWNER}")
    restore = subprocess.run([f"{PG_BIN}/pg_restore", "--exit-on-error", "-U", OWNER, "-d", db, str(dump)],
                             capture_output=True, text=True)
    assert restore.returncode == 0, restore.stderr
    with as_role(db, OWNER) as c:
        assert c.execute("SELECT incident_rate(s), s::text FROM summaries").fetchone() == before
        assert c.execute("SELECT band_edges::text FROM kpi_catalog WHERE kpi = 'incident_rate'").fetchone() == ("{4,9}",)
        assert c.execute("SELECT count(*) FROM kpi_schedule_hours WHERE schedule = 'office'").fetchone() == (1,)
        assert c.execute("SELECT count(*) FROM kpi_holiday").fetchone() == (1,)
        assert c.execute("SELECT count(*) FROM kpi_recorded").fetchone() == (3,)
        # restored rows are the restoring role's
        assert c.execute("SELECT written_by::text FROM kpi_tracked").fetchone() == (OWNER,)
        c.execute("SELECT kpi_record('monthly', '2026-10-01')")
        # the owner may grant its rights on; pg_dump writes such a grant as made by
        # pg_database_owner (who holds the grant option), which only a superuser can restore:
        # a restore by the owner reports that one statement and restores everything else
        c.execute(f"GRANT INSERT, UPDATE ON kpi_tracked TO {ANALYST}")
        assert c.execute("SELECT has_table_privilege(%s, 'kpi_tracked', 'INSERT')", [ANALYST]).fetchone() == (True,)
    subprocess.run([f"{PG_BIN}/pg_dump", "-Fc", "-U", OWNER, "-f", str(dump), db], check=True, capture_output=True)
    admin.execute(f"DROP DATABASE {db} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {db} OWNER {OWNER}")
    restore = subprocess.run([f"{PG_BIN}/pg_restore", "-U", OWNER, "-d", db, str(dump)], capture_output=True, text=True)
    assert restore.returncode == 1 and "errors ignored on restore: 1" in restore.stderr, restore.stderr
    assert 'permission denied to set session authorization "pg_database_owner"' in restore.stderr
    with as_role(db, OWNER) as c:
        assert c.execute("SELECT incident_rate(s), s::text FROM summaries").fetchone() == before
        assert c.execute("SELECT count(*) FROM kpi_recorded").fetchone() == (3,)
        assert c.execute("SELECT has_table_privilege(%s, 'kpi_tracked', 'INSERT')", [ANALYST]).fetchone() == (False,)
        c.execute(f"GRANT INSERT, UPDATE ON kpi_tracked TO {ANALYST}")
        c.execute("DROP EXTENSION support_kpi CASCADE")
        assert c.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'kpi\\_%'").fetchone() == (0,)
        assert c.execute("SELECT count(*) FROM pg_proc WHERE proname LIKE '%kpi%'").fetchone() == (0,)
        # a release from before the review still takes a superuser, to install or to update to
        for version in ("0.5.0", "0.1.0"):
            err = sqlstate_of(c, f"CREATE EXTENSION support_kpi VERSION '{version}'")
            assert err is not None and err[0] == "42501" and "permission denied" in err[1], err
        c.execute("CREATE EXTENSION support_kpi")


def test_a_role_without_rights_cannot_write_the_tables(roles):
    db = roles()
    with as_role(db, OWNER) as c:
        c.execute("CREATE EXTENSION support_kpi")
        c.execute("INSERT INTO kpi_tracked (tracking, kpi, source, time_column, summary) "
                  "VALUES ('t', 'escalation_rate', 'pg_class', 'x', 'escalation_summary(true)')")
    with as_role(db, ANALYST) as c:
        assert c.execute("SELECT kpi_band('incident_rate', 7)").fetchone() == ("acceptable",)
        assert c.execute("SELECT count(*) FROM kpi_tracked").fetchone() == (1,)
        for sql in ["UPDATE kpi_catalog SET band_edges = '{1,2}' WHERE kpi = 'incident_rate'",
                    "DELETE FROM kpi_benchmark",
                    "INSERT INTO kpi_schedule VALUES ('x', 'UTC')",
                    "DELETE FROM kpi_schedule_hours",
                    "INSERT INTO kpi_holiday VALUES ('24/7', '2026-12-25', 'x')",
                    "UPDATE kpi_tracked SET summary = 'x'",
                    "INSERT INTO kpi_tracked (tracking, kpi, source, time_column, summary) VALUES ('a', 'b', 'c', 'd', 'e')",
                    "DELETE FROM kpi_recorded",
                    "TRUNCATE kpi_recorded"]:
            err = sqlstate_of(c, sql)
            assert err is not None and err[0] == "42501", (sql, err)
        # nor grant what it has not been granted (PostgreSQL warns and grants nothing)
        c.execute(f"GRANT INSERT ON kpi_catalog TO {ANALYST}")
        assert c.execute("SELECT has_table_privilege('kpi_catalog', 'INSERT')").fetchone() == (False,)


def test_a_tracking_runs_with_the_rights_of_its_writer_never_the_callers(admin, roles):
    """An analyst allowed to write kpi_tracked writes a summary that calls its own function,
    which tries ALTER ROLE ... SUPERUSER. A superuser's recording (pg_cron's) runs it as the
    analyst: the attempt fails. The owner, who may not act as the analyst, is refused."""
    db = roles()
    with as_role(db, OWNER) as c:
        c.execute("CREATE EXTENSION support_kpi")
        c.execute(DATA)
        c.execute(f"GRANT SELECT ON tickets TO {ANALYST}")
        c.execute(f"GRANT INSERT, UPDATE ON kpi_tracked TO {ANALYST}")
        c.execute(f"GRANT CREATE ON SCHEMA public TO {ANALYST}")
    with as_role(db, ANALYST) as c:
        c.execute("CREATE TABLE public.seen (who name)")
        c.execute("CREATE FUNCTION public.sneaky(b boolean) RETURNS boolean LANGUAGE plpgsql AS $$"
                  f"BEGIN INSERT INTO public.seen VALUES (current_user); "
                  f"BEGIN ALTER ROLE {ANALYST} SUPERUSER; EXCEPTION WHEN OTHERS THEN NULL; END; RETURN b; END$$")
        c.execute("GRANT INSERT ON public.seen TO PUBLIC")
        # written_by is the writer, whatever the row says
        c.execute("INSERT INTO kpi_tracked VALUES ('sneaky', 'escalation_rate', 'public.tickets', 'opened_at', "
                  "'escalation_summary(public.sneaky(escalated))', 'month', '{}', 'postgres')")
        assert c.execute("SELECT written_by::text FROM kpi_tracked").fetchone() == (ANALYST,)
    with as_role(db, OWNER) as c:
        err = sqlstate_of(c, "SELECT kpi_record('sneaky', '2026-10-01')")
        assert err is not None and err[0] == "42501" and f'written by role "{ANALYST}"' in err[1], err
        assert "rights of the role that wrote it" in err[3]
    with psycopg.connect(conninfo(db), autocommit=True) as c:  # the superuser, as pg_cron's job
        assert c.execute("SELECT kpi_record('sneaky', '2026-10-01')").fetchone() == (1,)
        assert c.execute("SELECT current_user = session_user").fetchone() == (True,)  # the role is back
        c.execute("CALL kpi_record_due()")
        assert {w for (w,) in c.execute("SELECT DISTINCT who::text FROM public.seen").fetchall()} == {ANALYST}
        value = c.execute("SELECT value FROM kpi_recorded WHERE period_start = '2026-10-01'").fetchone()[0]
        assert round(value, 6) == c.execute("SELECT round(avg(escalated::int) * 100, 6) FROM public.tickets "
                                            "WHERE opened_at >= '2026-10-01' AND opened_at < '2026-11-01'").fetchone()[0]
    assert not is_superuser(admin, ANALYST)
    # a row whose writer is gone is refused, with what to do
    with psycopg.connect(conninfo(db), autocommit=True) as c:
        c.execute("ALTER TABLE kpi_tracked DISABLE TRIGGER kpi_tracked_written_by")
        c.execute("UPDATE kpi_tracked SET written_by = 'kpi_test_nobody'")
        c.execute("ALTER TABLE kpi_tracked ENABLE TRIGGER kpi_tracked_written_by")
        err = sqlstate_of(c, "SELECT kpi_record('sneaky', '2026-10-01')")
        assert err is not None and err[0] == "42501" and "no longer exists" in err[1], err


def test_a_hostile_search_path_captures_no_call_in_an_owners_install(admin, roles):
    """The attacker-role test of the superuser's install (test_robustness), repeated on an
    install the database owner made: a role with CREATE on public plants overloads of
    built-ins and operators there; a superuser with public first in its search_path calls
    the KPIs, the verdicts and the recording."""
    db = roles()
    with as_role(db, OWNER) as c:
        c.execute("CREATE SCHEMA kpi")
        c.execute("CREATE EXTENSION support_kpi SCHEMA kpi")
        c.execute(f"GRANT CREATE, USAGE ON SCHEMA public TO {ANALYST}")
        c.execute("CREATE TABLE public.tickets AS SELECT g AS id, g % 7 AS customer_id, g % 3 = 0 AS escalated, "
                  "timestamptz '2026-10-01' + g * interval '1 minute' AS opened_at FROM generate_series(1, 500) g")
        c.execute(f"GRANT SELECT ON public.tickets TO {ANALYST}")
    trap = TRAP.format(role=ANALYST, ret=1)
    with as_role(db, ANALYST) as c:
        c.execute(f"CREATE FUNCTION public.cardinality(anyarray) RETURNS int LANGUAGE plpgsql AS $${trap}$$")
        c.execute(f"CREATE FUNCTION public.array_position(anyarray, anyelement) RETURNS int LANGUAGE plpgsql AS $${trap}$$")
        c.execute(f"CREATE FUNCTION public.date_trunc(text, timestamptz) RETURNS timestamptz LANGUAGE plpgsql AS "
                  f"$$BEGIN ALTER ROLE {ANALYST} SUPERUSER; RETURN $2; EXCEPTION WHEN OTHERS THEN RETURN $2; END$$")
        c.execute(f"CREATE FUNCTION public.evil_mul(bigint, numeric) RETURNS numeric LANGUAGE plpgsql AS $${trap}$$")
        c.execute("CREATE OPERATOR public.* (LEFTARG = bigint, RIGHTARG = numeric, FUNCTION = public.evil_mul)")
        c.execute(f"CREATE FUNCTION public.evil_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS "
                  f"$$BEGIN ALTER ROLE {ANALYST} SUPERUSER; RETURN $1 OPERATOR(pg_catalog.=) $2; "
                  f"EXCEPTION WHEN OTHERS THEN RETURN $1 OPERATOR(pg_catalog.=) $2; END$$")
        c.execute("CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.evil_eq)")
        c.execute(f"CREATE FUNCTION public.jsonb_each(jsonb, OUT key text, OUT value jsonb) RETURNS SETOF record "
                  f"LANGUAGE plpgsql AS $$BEGIN ALTER ROLE {ANALYST} SUPERUSER; END$$")
    with psycopg.connect(conninfo(db), autocommit=True) as c:  # the superuser
        c.execute("SET search_path = public, kpi, pg_catalog")
        assert c.execute("SELECT kpi.kpi_band('incident_rate', 7)").fetchone() == ("acceptable",)
        c.execute("SELECT kpi.contact_rate_by_segment(s, c, e) FROM (VALUES ('a', 1, 1)) v(s, c, e)")
        c.execute("SELECT kpi.escalation_rate_ci(kpi.escalation_summary(true))")
        c.execute("SELECT kpi.business_time('2026-01-05', '2026-01-06', '24/7')")
        # (the superuser's own statements avoid text = text: its search_path would take the plant)
        c.execute("UPDATE kpi.kpi_catalog SET band_edges = '{4,9}' WHERE kpi OPERATOR(pg_catalog.=) 'incident_rate'")
        c.execute("INSERT INTO kpi.kpi_tracked (tracking, kpi, source, time_column, summary, dimensions) "
                  "VALUES ('m', 'escalation_rate', 'public.tickets', 'opened_at', 'kpi.escalation_summary(escalated)', "
                  "'{customer_id}')")
        c.execute("SELECT kpi.kpi_record('m', '2026-10-01')")
        c.execute("CALL kpi.kpi_record_range('m', '2026-09-01', '2026-11-01')")
        c.execute("CALL kpi.kpi_record_due('m')")
        assert c.execute("SELECT count(*) FROM kpi.kpi_recorded WHERE period_start = '2026-10-01'").fetchone() == (8,)
    assert not is_superuser(admin, ANALYST)


def test_objects_planted_before_create_extension_are_refused(admin, roles):
    """The database owner plants, in the schema the extension goes to, a better match for a
    built-in that the install script's SQL uses (array_position(text[], text) for
    array_position(dimensions, NULL) in kpi_tracked's CHECK). CREATE EXTENSION then fails:
    nothing of the extension may be bound to it. Without the plant it works."""
    db = roles()
    with as_role(db, OWNER) as c:
        c.execute(f"CREATE FUNCTION public.array_position(text[], text) RETURNS int LANGUAGE plpgsql AS "
                  f"$${TRAP.format(role=OWNER, ret='NULL')}$$")
        err = sqlstate_of(c, "CREATE EXTENSION support_kpi")
        assert err is not None and err[0] == "42501", err
        assert "support_kpi would call objects that another role made" in err[1], err
        assert f"function public.array_position(text[],text) (owned by {OWNER})" in err[1], err
        assert c.execute("SELECT count(*) FROM pg_extension WHERE extname = 'support_kpi'").fetchone() == (0,)
        c.execute("DROP FUNCTION public.array_position(text[], text)")
        # a temporary table of a catalog table's name does not take the script's rows
        c.execute("CREATE TEMP TABLE kpi_catalog (kpi text, title text, unit text, direction text, formula text, "
                  "band_labels text[], band_edges numeric[], edge_belongs_to text[], min_value numeric, "
                  "max_value numeric, customized boolean)")
        c.execute("CREATE TEMP TABLE kpi_schedule (schedule text, time_zone text)")
        c.execute("CREATE EXTENSION support_kpi")
        assert c.execute("SELECT count(*) FROM pg_temp.kpi_catalog").fetchone() == (0,)
        assert c.execute("SELECT count(*) FROM public.kpi_catalog").fetchone()[0] > 20
        assert c.execute("SELECT count(*) FROM public.kpi_schedule").fetchone() == (1,)
    assert not is_superuser(admin, OWNER)


def test_the_owner_updates_it_and_an_update_script_is_checked_too(admin, roles, tmp_path):
    """The owner runs ALTER EXTENSION ... UPDATE: the update script runs as a superuser, and,
    as every update script since 0.5.1 does, ends with the check that nothing it made is bound
    to an object another role planted. A test-only update step (written into the server's
    extension directory for this test, removed afterwards) creates one function whose body
    calls array_position(text[], NULL): with the owner's better-matching plant in the schema
    the update fails and changes nothing; without it the owner's update works."""
    current = admin.execute("SELECT default_version FROM pg_available_extensions WHERE name = 'support_kpi'"
                            ).fetchone()[0]
    sharedir = admin.execute("SELECT setting FROM pg_config WHERE name = 'SHAREDIR'").fetchone()[0]
    probe = f"{current}-update-test"
    name = f"support_kpi--{current}--{probe}.sql"
    (tmp_path / name).write_text("CREATE FUNCTION _kpi_update_test(dimensions text[]) RETURNS integer LANGUAGE sql IMMUTABLE\n"
                                 "RETURN array_position(dimensions, NULL);\n"
                                 "SELECT @extschema@._kpi_check_references();\n")
    extension_dir = os.path.join(sharedir, "extension")
    # as scripts/common.sh installs files there (with sudo when not root)
    subprocess.run(["bash", "-c", 'source "$0/scripts/common.sh"; install_file "$1" 644 "$2"',
                    str(REPO), extension_dir, str(tmp_path / name)], check=True)
    try:
        db = roles()
        with as_role(db, OWNER) as c:
            c.execute("CREATE EXTENSION support_kpi")
            c.execute(f"CREATE FUNCTION public.array_position(text[], text) RETURNS int LANGUAGE plpgsql AS "
                      f"$${TRAP.format(role=OWNER, ret='NULL')}$$")
            err = sqlstate_of(c, f"ALTER EXTENSION support_kpi UPDATE TO '{probe}'")
            assert err is not None and err[0] == "42501", err
            assert "function public.array_position(text[],text)" in err[1], err
            assert c.execute("SELECT extversion FROM pg_extension WHERE extname = 'support_kpi'").fetchone() == (current,)
            c.execute("DROP FUNCTION public.array_position(text[], text)")
            c.execute(f"ALTER EXTENSION support_kpi UPDATE TO '{probe}'")
            assert c.execute("SELECT extversion FROM pg_extension WHERE extname = 'support_kpi'").fetchone() == (probe,)
            assert c.execute("SELECT _kpi_update_test('{a,NULL}'), r.rolsuper FROM pg_proc p "
                             "JOIN pg_roles r ON r.oid = p.proowner WHERE p.proname = '_kpi_update_test'"
                             ).fetchone() == (2, True)
            assert c.execute("SELECT escalation_rate(g % 4 = 0) FROM generate_series(1, 400) g").fetchone()[0] == 25
            c.execute("DROP EXTENSION support_kpi")
        assert not is_superuser(admin, OWNER)
    finally:
        subprocess.run(["bash", "-c", 'source "$0/scripts/common.sh"; "${SUDO[@]}" rm -f "$1"',
                        str(REPO), os.path.join(extension_dir, name)], check=True)


def test_every_script_since_the_review_ends_with_the_check():
    """The install script's last file, and every update script to 0.5.1 or later, end with
    the reference check (a new delta script must too)."""
    repo = REPO
    last_line = "SELECT @extschema@._kpi_check_references();"
    assert (repo / "sql/trusted.sql").read_text().rstrip().endswith(last_line)
    lib = (repo / "src/lib.rs").read_text()
    assert lib.rstrip().count('extension_sql_file!("../sql/trusted.sql", name = "trusted", finalize)') == 1
    deltas = sorted((repo / "sql").glob("support_kpi--*--*.sql"))
    since = [d for d in deltas if tuple(map(int, d.stem.split("--")[2].split("."))) >= (0, 5, 1)]
    assert since, deltas
    for d in since:
        assert d.read_text().rstrip().endswith(last_line), d.name

"""SLA policies (sql/sla.sql): ticket_timeline() and sla_instances() against a reference written
here in Python from the rules of docs/sla-policies.md, over random tickets.

The reference works on a grid of whole minutes: every event, schedule boundary, DST change and
target lies on a minute, so a clock's elapsed time is a count of minutes, and an SLA breaches at
the start of the first minute in which its elapsed time passes the target in force (or at a
minute where a priority change brings in a target already passed). It walks the minutes one by
one, with working minutes read from zoneinfo minute by minute: nothing is shared with the
extension's interval arithmetic (running totals, binary searches, the server's time zone data).

The tickets have priorities that change (and priorities without targets), schedules that
change (a ticket moving to another desk's hours and back), reopens, pauses (pending), several
reply cycles, agents who write first, solves with the last reply, events at the same minute,
and an as-of instant inside their life; the schedules are in Europe/Berlin and
America/New_York across both DST changes of March 2026, with an overnight shift and holidays.
Every row of every SLA is compared: metric, cycle, priority, target, schedule, applied,
fulfilled and breach instants, elapsed time, status, achieved and paused, in a serial and a
parallel plan.
"""

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import psycopg
import psycopg.sql
import pytest

from conftest import PARALLEL, SERIAL, assert_workers_combine, set_plan, sqlstate_of

W0 = datetime(2026, 3, 2, tzinfo=timezone.utc)  # a Monday
GRID = 75 * 24 * 60  # minutes of the grid
MINUTE = timedelta(minutes=1)

SCHEDULES = {
    # name: (time zone, [(iso weekday, start minute, end minute)], holidays)
    "office": ("Europe/Berlin", [(d, 9 * 60, 17 * 60) for d in range(1, 6)] + [(6, 22 * 60, 2 * 60)],
               ["2026-03-10", "2026-04-03", "2026-04-06"]),
    "ny": ("America/New_York", [(d, 8 * 60, 20 * 60) for d in range(1, 6)], ["2026-03-16"]),
}
STATUS_FLAGS = {  # status: (requester_wait, agent_work, solved), as shipped
    "new": (True, True, False), "open": (True, True, False), "pending": (False, False, False),
    "hold": (True, False, False), "solved": (False, False, True), "closed": (False, False, True),
}
METRICS = ["first_reply_time", "next_reply_time", "periodic_update", "requester_wait_time", "agent_work_time"]
PRIORITIES = ["low", "normal", "high", "urgent"]


def working_minutes(zone, hours, holidays):
    """Whether each minute of the grid is working time: its local wall clock in the schedule's
    zone lies in the hours of its local day (or in the part after midnight of the previous
    day's overnight row), and that day is no holiday."""
    tz, out = ZoneInfo(zone), []
    holidays = {datetime.fromisoformat(d).date() for d in holidays}
    for m in range(GRID):
        local = (W0 + m * MINUTE).astimezone(tz)
        day, minute = local.date(), local.hour * 60 + local.minute
        wd, prev = day.isoweekday(), (day.isoweekday() + 5) % 7 + 1
        ok = False
        for (w, a, b) in hours:
            if b > a and w == wd and a <= minute < b:
                ok = True
            if b <= a and ((w == wd and minute >= a) or (w == prev and minute < b)):
                ok = True
        out.append(ok and day not in holidays)
    return out


WORKING = {}


def working(clock, m):
    return True if clock is None else WORKING[clock][m]


def random_policy(rng):
    """{(metric, priority): (target minutes, schedule or None)}; some priorities lack targets."""
    policy = {}
    for metric in METRICS:
        for p in PRIORITIES:
            if rng.random() < 0.15:
                continue
            clock = rng.choice([None, "office", "ny"])
            scale = 60 if metric in ("first_reply_time", "next_reply_time") else 240
            policy[(metric, p)] = (rng.randint(1, 12) * scale // rng.choice([1, 2, 4]), clock)
    return policy


def random_ticket(rng):
    """A ticket's events (minute, kind, value), kind in status/priority/customer/agent."""
    start = rng.randint(0, 40 * 24 * 60)
    t, events = start, [(start, "status", "new")]
    if rng.random() < 0.9:
        events.append((start, "priority", rng.choice(PRIORITIES)))
    first = rng.random()
    if first < 0.8:
        events.append((start, "customer", None))
    elif first < 0.9:
        events.append((start + rng.randint(0, 30), "agent", None))
    status, solved = "new", False
    for _ in range(rng.randint(0, 14)):
        t += rng.choice([0, 0, 1, 5, 30, 60, 180, 600, 1500])
        r = rng.random()
        if r < 0.3:
            events.append((t, "customer", None))
            if solved or status in ("pending", "hold"):
                status, solved = "open", False
                events.append((t, "status", status))
        elif r < 0.55:
            events.append((t, "agent", None))
            if rng.random() < 0.5:
                status = rng.choice(["pending", "open", "hold", "solved"])
                solved = status == "solved"
                events.append((t, "status", status))
        elif r < 0.8:
            status = rng.choice(["open", "pending", "hold", "solved", "closed" if solved else "solved"])
            solved = status in ("solved", "closed")
            events.append((t, "status", status))
        elif r < 0.92:
            events.append((t, "priority", rng.choice(PRIORITIES + ["none", None])))
        else:
            # the ticket moves to another desk's hours (None: back to the policy's)
            events.append((t, "schedule", rng.choice(["office", "ny", None])))
    as_of = rng.choice([GRID - 1, start + rng.randint(0, max(1, t - start + 600))])
    return events, min(as_of, GRID - 1)


KIND_ORDER = {"priority": 0, "schedule": 1, "customer": 2, "agent": 3, "status": 4}


def reference(events, policy, as_of, horizon=30 * 24 * 60):
    """The SLA rows of one ticket, per docs/sla-policies.md, minute by minute."""
    events = sorted(events, key=lambda e: (e[0], KIND_ORDER[e[1]], (e[2] or "").encode()))
    created = next(m for m, k, _ in events if k == "status")
    if as_of < created:
        return []
    seen = [e for e in events if e[0] <= as_of]

    def priority_at(m):
        p = None
        for (t, k, v) in seen:
            if k == "priority" and t <= m:
                p = v or None
        return p

    statuses = [(t, v) for (t, k, v) in seen if k == "status"]
    moves = [(t, v) for (t, k, v) in seen if k == "schedule"]

    def clock_at(clock, m):
        """A business-hours target follows the ticket's schedule in force, if it gave one."""
        if clock is None:
            return None
        s = None
        for (t, v) in moves:
            if t <= m:
                s = v
        return s or clock

    def status_at(m):
        s = None
        for (t, v) in statuses:
            if t <= m:
                s = v
        return s

    # candidates: [metric, cycle, applied, fulfilled, by_solve, running(m)]
    cands = []
    messages = [k for (_, k, _) in seen if k in ("customer", "agent")]
    reply = update = None
    if not (messages and messages[0] == "agent"):
        cands.append(["first_reply_time", 1, created, None, False])
        reply = cands[-1]
    n_next = n_update = 0
    solved = False
    for (t, k, v) in seen:
        if k == "customer" and reply is None:
            n_next += 1
            cands.append(["next_reply_time", n_next, t, None, False])
            reply = cands[-1]
        elif k == "agent":
            for c in (reply, update):
                if c is not None:
                    c[3] = t
            reply = None
            n_update += 1
            cands.append(["periodic_update", n_update, t, None, False])
            update = cands[-1]
        elif k == "status":
            now = STATUS_FLAGS[v][2]
            if now and not solved:
                for c in (reply, update):
                    if c is not None:
                        c[3], c[4] = t, True
                reply = update = None
            solved = now
    rows = []
    with_running = []
    for (metric, cycle, applied, fulfilled, by_solve) in cands:
        if by_solve and fulfilled == applied:
            continue
        end = fulfilled if fulfilled is not None else float("inf")
        with_running.append((metric, cycle, applied, fulfilled, lambda m, a=applied, e=end: a <= m < e))
    final_solved = bool(statuses) and STATUS_FLAGS[statuses[-1][1]][2]
    last_entry = None
    for i, (t, v) in enumerate(statuses):
        if STATUS_FLAGS[v][2] and (i == 0 or not STATUS_FLAGS[statuses[i - 1][1]][2]):
            last_entry = t
    fulfilled = last_entry if final_solved else None
    for metric, flag in (("requester_wait_time", 0), ("agent_work_time", 1)):
        end = fulfilled if fulfilled is not None else float("inf")
        with_running.append((metric, 1, created, fulfilled,
                             lambda m, e=end, f=flag: created <= m < e and STATUS_FLAGS[status_at(m)][f]))

    for (metric, cycle, applied, fulfilled, running) in with_running:
        if not any(k[0] == metric for k in policy):
            continue
        decided = fulfilled if fulfilled is not None else as_of

        def target(m, frozen=None):
            p = priority_at(m if frozen is None else min(m, frozen))
            return (p, policy.get((metric, p))) if p is not None else (None, None)

        def scan(run, stop, frozen=None):
            elapsed = {None: 0, "office": 0, "ny": 0}
            for m in range(applied, stop + 1):
                p, t = target(m, frozen)
                if t is not None:
                    minutes, clock = t
                    e = elapsed[clock]
                    if e > minutes or (e == minutes and run(m) and working(clock_at(clock, m), m)):
                        return m
                if run(m):
                    for clock in elapsed:
                        if working(clock_at(clock, m), m):
                            elapsed[clock] += 1
            return None

        def elapsed_in(clock, run):
            return sum(1 for m in range(applied, decided) if run(m) and working(clock_at(clock, m), m))

        ran = lambda m: running(m) and m < decided  # noqa: E731
        breach = scan(ran, decided)
        if breach is not None:
            p, (minutes, clock) = target(breach)
            rows.append((metric, cycle, p, minutes, clock, applied, fulfilled, breach,
                         elapsed_in(clock, ran), "breached", False, False))
            continue
        p, t = target(decided)
        if t is None:
            continue
        minutes, clock = t
        elapsed = elapsed_in(clock, ran)
        if fulfilled is not None:
            deadline = scan(lambda m: ran(m) or m >= decided, decided + horizon, frozen=decided)
            rows.append((metric, cycle, p, minutes, clock, applied, fulfilled, deadline, elapsed, "achieved", True,
                         False))
        else:
            paused = not running(as_of)
            predicted = None if paused else scan(running, as_of + horizon)
            rows.append((metric, cycle, p, minutes, clock, applied, None, predicted, elapsed, "active", None, paused))
    return sorted(rows, key=lambda r: (METRICS.index(r[0]), r[1]))


def ts(m):
    return None if m is None else W0 + m * MINUTE


@pytest.fixture(scope="module")
def sla_db(kpi_db):
    for name, (zone, hours, holidays) in SCHEDULES.items():
        WORKING[name] = working_minutes(zone, hours, holidays)
    with psycopg.connect(psycopg.conninfo.make_conninfo(dbname=kpi_db), autocommit=True) as c:
        for name, (zone, hours, holidays) in SCHEDULES.items():
            c.execute("INSERT INTO kpi_schedule VALUES (%s, %s)", [name, zone])
            for (w, a, b) in hours:
                c.execute("INSERT INTO kpi_schedule_hours VALUES (%s, %s, make_time(%s, %s, 0), make_time(%s, %s, 0))",
                          [name, w, a // 60, a % 60, b // 60 % 24, b % 60])
            for d in holidays:
                c.execute("INSERT INTO kpi_holiday VALUES (%s, %s)", [name, d])
    return kpi_db


def load(c, rng, policies, tickets):
    c.execute("DROP TABLE IF EXISTS sla_events, sla_tickets CASCADE")
    c.execute("CREATE TABLE sla_events (ticket_id int, kind text, value text, at timestamptz)")
    c.execute("CREATE TABLE sla_tickets (ticket_id int PRIMARY KEY, policy text, as_of timestamptz)")
    c.execute("DELETE FROM kpi_sla_policy")
    for name, policy in policies.items():
        for (metric, p), (minutes, clock) in policy.items():
            c.execute("INSERT INTO kpi_sla_policy VALUES (%s, %s, %s, make_interval(mins => %s), %s)",
                      [name, metric, p, minutes, clock])
    with c.cursor().copy("COPY sla_events FROM STDIN") as copy:
        for tid, (policy, events, as_of) in tickets.items():
            rows = list(events)
            rng.shuffle(rows)  # rows in any order
            for (m, k, v) in rows:
                kind, value = ("message", k) if k in ("customer", "agent") else (k, v)
                copy.write_row([tid, kind, value, ts(m)])
    with c.cursor().copy("COPY sla_tickets FROM STDIN") as copy:
        for tid, (policy, events, as_of) in tickets.items():
            copy.write_row([tid, policy, ts(as_of)])
    c.execute("ANALYZE sla_events")


QUERY = """
SELECT t.ticket_id, s.metric, s.cycle, s.priority, extract(epoch FROM s.target)::bigint / 60, s.schedule,
       s.applied_at, s.fulfilled_at, s.breach_at, extract(epoch FROM s.elapsed)::bigint / 60, s.status, s.achieved,
       s.paused
FROM (SELECT e.ticket_id, ticket_timeline(e.kind, e.value, e.at) AS timeline FROM sla_events e GROUP BY e.ticket_id) h
JOIN sla_tickets t USING (ticket_id)
CROSS JOIN LATERAL sla_instances(h.timeline, t.policy, t.as_of) s
ORDER BY 1, array_position(ARRAY['first_reply_time', 'next_reply_time', 'periodic_update', 'requester_wait_time',
                                 'agent_work_time'], s.metric), s.cycle
"""


@pytest.mark.parametrize("seed", [1, 2])
def test_sla_instances_match_the_reference(sla_db, seed):
    rng = random.Random(seed)
    policies = {f"policy_{i}": random_policy(rng) for i in range(3)}
    tickets = {}
    for tid in range(1, 161):
        name = rng.choice(sorted(policies))
        events, as_of = random_ticket(rng)
        tickets[tid] = (name, events, as_of)
    expected = []
    for tid, (name, events, as_of) in tickets.items():
        for r in reference(events, policies[name], as_of):
            (metric, cycle, p, minutes, clock, applied, fulfilled, breach, elapsed, status, achieved, paused) = r
            expected.append((tid, metric, cycle, p, minutes, clock, ts(applied), ts(fulfilled), ts(breach), elapsed,
                             status, achieved, paused))
    with psycopg.connect(psycopg.conninfo.make_conninfo(dbname=sla_db), autocommit=True) as c:
        load(c, rng, policies, tickets)
        set_plan(c, SERIAL)
        serial = c.execute(QUERY).fetchall()
        # the timelines from partial states of parallel workers, merged, are the serial ones (a
        # table this small is aggregated in the workers only when shipping rows costs nothing)
        c.execute("SET parallel_tuple_cost = 0")
        assert_workers_combine(c, """
            SELECT ticket_id, (SELECT jsonb_agg(e ORDER BY (e->>0)::bigint, e->>1, e->>2)
                               FROM jsonb_array_elements(t::text::jsonb->'events') e)
            FROM (SELECT ticket_id, ticket_timeline(kind, value, at) t FROM sla_events GROUP BY ticket_id) x
            ORDER BY ticket_id""")
        set_plan(c, PARALLEL)
        plan = "\n".join(r[0] for r in c.execute("EXPLAIN (COSTS OFF) " + QUERY))
        assert "Partial" in plan, plan
        parallel = c.execute(QUERY).fetchall()
        set_plan(c, SERIAL)
    statuses = {r[10] for r in expected}
    assert statuses == {"achieved", "breached", "active"}, statuses
    assert {r[1] for r in expected} == set(METRICS)
    assert any(r[12] for r in expected), "no paused SLA"
    assert any(r[5] for r in expected) and any(r[5] is None for r in expected)
    assert len(expected) > 400
    for got in (serial, parallel):
        for e, g in zip(expected, got):
            assert g == e, f"ticket {e[0]}: {tickets[e[0]]}\nexpected {e}\ngot      {g}"
        assert len(got) == len(expected)

    # the achievement rate per policy, metric and priority: achieved / (achieved + breached),
    # exact against plain SQL over the same rows and against the reference's counts
    with psycopg.connect(psycopg.conninfo.make_conninfo(dbname=sla_db), autocommit=True) as c:
        rates = c.execute("""
            SELECT t.policy, s.metric, s.priority, sla_achievement_rate(s.achieved),
                   100.0 * count(*) FILTER (WHERE s.achieved) / nullif(count(s.achieved), 0),
                   count(*) FILTER (WHERE s.achieved), count(s.achieved),
                   sla_achievement_rate(sla_achievement_summary(s.achieved))
            FROM (SELECT e.ticket_id, ticket_timeline(e.kind, e.value, e.at) AS timeline FROM sla_events e
                  GROUP BY e.ticket_id) h
            JOIN sla_tickets t USING (ticket_id)
            CROSS JOIN LATERAL sla_instances(h.timeline, t.policy, t.as_of) s
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""").fetchall()
        counts = {}
        for r in expected:
            key = (tickets[r[0]][0], r[1], r[3])
            a, n = counts.get(key, (0, 0))
            counts[key] = (a + (r[11] is True), n + (r[11] is not None))
        assert {(p, m, pr): (a, n) for (p, m, pr, _, _, a, n, _) in rates} == counts
        for (_, _, _, ours, plain, _, n, rolled) in rates:
            assert ours == plain == rolled if n else ours is plain is rolled is None

        # the at-risk queue as of one instant: the reference's active SLAs, soonest breach first
        as_of = 30 * 24 * 60
        c.execute("CREATE OR REPLACE VIEW sla_source AS SELECT e.ticket_id, t.policy, e.kind, e.value, e.at"
                  " FROM sla_events e JOIN sla_tickets t USING (ticket_id)")
        queue = c.execute("SELECT ticket_id, metric, cycle, breach_at, time_to_breach, paused"
                          " FROM kpi_sla_at_risk('sla_source', %s)", [ts(as_of)]).fetchall()
    want = []
    for tid, (name, events, _) in tickets.items():
        for r in reference(events, policies[name], as_of):
            if r[9] == "active":
                want.append((str(tid), r[0], r[1], ts(r[7]), None if r[7] is None else (r[7] - as_of) * MINUTE, r[11]))
    want.sort(key=lambda w: (w[3] is None, w[3] or W0, w[0], METRICS.index(w[1]), w[2]))
    assert len(want) > 10
    # ties on the breach instant (the paused SLAs have none): by ticket id in its own type's
    # order (9 before 10), then metric names as text
    key = lambda w: (w[3] is None, w[3] or W0, int(w[0]), w[1], w[2])  # noqa: E731
    assert queue == sorted(want, key=key)
    # the queue has ties where text order would differ (e.g. ticket 9 before ticket 10)
    assert any(a[3] == b[3] and a[0] > b[0] for a, b in zip(queue, queue[1:]))


TIMES = """
SELECT h.ticket_id, extract(epoch FROM time_in_status(h.timeline, '{new,open,hold}', t.as_of, 'office'))::bigint / 60,
       extract(epoch FROM time_in_status(h.timeline, '{new,open,hold}', t.as_of))::bigint / 60,
       extract(epoch FROM time_in_status(h.timeline, '{solved,closed}', t.as_of, 'ny'))::bigint / 60,
       extract(epoch FROM business_time(h.created, greatest(h.created, t.as_of), 'ny', h.timeline))::bigint / 60,
       extract(epoch FROM business_time(h.created, greatest(h.created, t.as_of), NULL, h.timeline))::bigint / 60
FROM (SELECT e.ticket_id, ticket_timeline(e.kind, e.value, e.at) AS timeline,
             min(e.at) FILTER (WHERE e.kind = 'status') AS created
      FROM sla_events e GROUP BY e.ticket_id) h
JOIN sla_tickets t USING (ticket_id) ORDER BY 1
"""


def test_time_in_status_and_business_time_follow_the_ticket_schedules(sla_db):
    """time_in_status(timeline, statuses, until, schedule) and business_time(start, end,
    schedule, timeline): a ticket's schedule changes over a default schedule (NULL: calendar
    time where none is in force), against the minutes of the reference's clocks, as known at
    an instant (later events unseen), in a serial and a parallel plan."""
    rng = random.Random(3)
    tickets = {tid: (None, *random_ticket(rng)) for tid in range(1, 161)}

    def expected(events, as_of):
        events = sorted(events, key=lambda e: (e[0], KIND_ORDER[e[1]], (e[2] or "").encode()))
        created = next(m for m, k, _ in events if k == "status")

        def last(kind, m, default):
            v = default
            for (t, k, x) in events:
                if k == kind and t <= m:
                    v = x if kind == "status" else (x or default)
            return v

        def minutes(default, keep=lambda m: True):
            return sum(1 for m in range(created, max(created, as_of))
                       if keep(m) and working(last("schedule", m, default), m))

        def in_status(names, default):
            return None if as_of < created else minutes(default, lambda m: last("status", m, None) in names)

        waiting = {"new", "open", "hold"}
        return (in_status(waiting, "office"), in_status(waiting, None), in_status({"solved", "closed"}, "ny"),
                minutes("ny"), minutes(None))

    want = [(tid, *expected(events, as_of)) for tid, (_, events, as_of) in tickets.items()]
    with psycopg.connect(psycopg.conninfo.make_conninfo(dbname=sla_db), autocommit=True) as c:
        load(c, rng, {}, tickets)
        set_plan(c, SERIAL)
        serial = c.execute(TIMES).fetchall()
        c.execute("SET parallel_tuple_cost = 0")  # as above: a small table, aggregated in the workers
        set_plan(c, PARALLEL)
        plan = "\n".join(r[0] for r in c.execute("EXPLAIN (COSTS OFF) " + TIMES))
        assert "Partial" in plan, plan
        parallel = c.execute(TIMES).fetchall()
        set_plan(c, SERIAL)
    moved = [tid for tid, (_, events, _) in tickets.items() if any(k == "schedule" for _, k, _ in events)]
    assert len(moved) > 30
    # the schedule changes matter: a moved ticket's time differs from its default schedule's
    assert sum(1 for w in want if w[0] in moved and w[4] != w[5]) > 10
    assert sum(1 for w in want if w[1]) > 50 and sum(1 for w in want if w[3]) > 20
    for got in (serial, parallel):
        for w, g in zip(want, got):
            assert g == w, f"ticket {w[0]}: {tickets[w[0]]}\nexpected {w}\ngot      {g}"
        assert len(got) == len(want)


def test_time_in_status_of_a_timeline_defaults_to_now(conn):
    """An open ticket's current status counts until now; a NULL timeline gives NULL; the
    timeline's other events change nothing."""
    row = conn.execute("""
        WITH t AS (SELECT ticket_timeline(k, v, now() - d) AS tl FROM (VALUES
            ('status', 'new', interval '3 hours'), ('message', 'customer', interval '3 hours'),
            ('status', 'open', interval '2 hours'), ('priority', 'high', interval '1 hour')) e(k, v, d))
        SELECT time_in_status(tl, '{open}'), time_in_status(tl, '{new,open}', now() - interval '150 minutes'),
               time_in_status(tl, '{open}', now() - interval '4 hours'), time_in_status(NULL, '{open}'),
               business_time(now() - interval '3 hours', now(), NULL, tl),
               business_time(now() - interval '3 hours', now(), NULL, NULL),
               business_time(NULL, now(), NULL, tl)
        FROM t""").fetchone()
    assert row == (timedelta(hours=2), timedelta(minutes=30), None, None, timedelta(hours=3), timedelta(hours=3),
                   None)


def test_as_of_defaults_to_now_and_answers_grow_with_time(conn):
    conn.execute("DELETE FROM kpi_sla_policy WHERE policy = 'now'")
    conn.execute("INSERT INTO kpi_sla_policy VALUES ('now', 'first_reply_time', 'normal', '1 hour', NULL)")
    row = conn.execute("""
        SELECT s.status, s.breach_at = now() + interval '30 minutes', s.elapsed = interval '30 minutes'
        FROM sla_instances((SELECT ticket_timeline(k, v, t) FROM (VALUES
            ('status', 'new', now() - interval '30 minutes'), ('priority', 'normal', now() - interval '30 minutes'),
            ('message', 'customer', now() - interval '30 minutes')) e(k, v, t)), 'now') s""").fetchall()
    assert row == [("active", True, True)]


def test_bad_input_is_an_error_naming_the_row(conn):
    conn.execute("DELETE FROM kpi_sla_policy WHERE policy = 'bad'")
    conn.execute("INSERT INTO kpi_sla_policy VALUES ('bad', 'first_reply_time', 'normal', '1 hour', NULL)")
    cases = [
        ("INSERT INTO kpi_sla_policy VALUES ('bad', 'resolution_time', 'normal', '1 hour', NULL)",
         "22023", 'unknown SLA metric "resolution_time" in policy "bad"'),
        ("INSERT INTO kpi_sla_policy VALUES ('bad', 'next_reply_time', 'normal', '0', NULL)",
         "22023", 'the next_reply_time target of policy "bad" for priority "normal" is 00:00:00, not a positive time'),
        ("INSERT INTO kpi_sla_policy VALUES ('bad', 'next_reply_time', 'normal', '1 month', NULL)",
         "22023", 'the next_reply_time target of policy "bad" for priority "normal" is 1 mon, not a positive time'),
        ("INSERT INTO kpi_sla_policy VALUES ('bad', 'first_reply_time', 'normal', '2 hours', NULL)",
         "23505", 'duplicate key value violates unique constraint "kpi_sla_policy_pkey"'),
        ("INSERT INTO kpi_sla_policy VALUES ('bad', 'periodic_update', 'normal', '2 hours', 'no such')",
         "22023", 'unknown schedule "no such"'),
        ("SELECT ticket_timeline(k, v, '2026-03-02 10:00+00') FROM (VALUES ('message', NULL)) e(k, v)",
         "22023", "the message at 2026-03-02 10:00:00+00 has no side"),
        ("SELECT ticket_timeline(k, v, '2026-03-02 10:00+00') FROM (VALUES ('message', 'bot')) e(k, v)",
         "22023", "the message at 2026-03-02 10:00:00+00 has side \"bot\", neither 'customer' nor 'agent'"),
        ("SELECT ticket_timeline(k, v, '2026-03-02 10:00+00') FROM (VALUES ('comment', 'x')) e(k, v)",
         "22023", 'unknown event kind "comment" at 2026-03-02 10:00:00+00'),
        ("SELECT ticket_timeline(k, v, '2026-03-02 10:00+00') FROM (VALUES (NULL, 'x')) e(k, v)",
         "22004", "the event at 2026-03-02 10:00:00+00 has no kind"),
        ("SELECT ticket_timeline('status', NULL, '2026-03-02 10:00+00')",
         "22023", "the status change at 2026-03-02 10:00:00+00 has no status"),
        ("SELECT ticket_timeline('status', 'new', 'infinity')", "22008", "an event of the ticket is at an infinite instant"),
        ("SELECT * FROM sla_instances((SELECT ticket_timeline(k, v, t::timestamptz) FROM (VALUES "
         "('status', 'new', '2026-03-02 10:00+00'), ('message', 'customer', '2026-03-02 09:00+00')) e(k, v, t)), 'bad')",
         "22023", "the message at 2026-03-02 09:00:00+00 is before the ticket was created at 2026-03-02 10:00:00+00"),
        ("SELECT * FROM sla_instances('{\"events\": [[0, \"status\", \"waiting\"]]}', 'bad')",
         "22023", 'status "waiting" of the change at 2000-01-01 00:00:00+00 is not in kpi_sla_status'),
        ("SELECT * FROM sla_instances('{\"events\": [[0, \"message\", \"agent\"]]}', 'bad')",
         "22023", "the ticket has events (the first at 2000-01-01 00:00:00+00) but no status change"),
        ("SELECT * FROM sla_instances('{\"events\": []}', 'nope')", "22023", 'unknown SLA policy "nope"'),
        ("SELECT * FROM sla_instances('{\"events\": []}', NULL)", "22004", "policy is NULL"),
        ("SELECT * FROM sla_instances('{\"events\": []}', 'bad', NULL)", "22004", "as_of is NULL"),
        ("SELECT time_in_status('{\"events\": []}'::ticket_timeline, NULL)", "22004", "statuses is NULL"),
        ("SELECT time_in_status('{\"events\": []}'::ticket_timeline, '{open}', NULL)", "22004", "until is NULL"),
        ("SELECT time_in_status('{\"events\": []}'::ticket_timeline, '{open}', 'infinity')", "22008",
         "until is infinite"),
        ("SELECT time_in_status('{\"events\": [[0, \"status\", \"new\"], [0, \"schedule\", \"nope\"]]}'::ticket_timeline, '{new}',"
         " '2000-01-02')", "22023", 'unknown schedule "nope"'),
        ("SELECT business_time('2026-03-02', '2026-03-01', NULL, '{\"events\": []}')", "22023",
         "end 2026-03-01 00:00:00+00 is before start 2026-03-02 00:00:00+00"),
        ("SELECT business_time('2026-03-01', '2026-03-02', 'nope', '{\"events\": []}')", "22023",
         'unknown schedule "nope"'),
        ("SELECT '{\"events\": [[0, \"message\", \"robot\"]]}'::ticket_timeline", "22P02",
         "the message at 2000-01-01 00:00:00+00 has side \"robot\", neither 'customer' nor 'agent'"),
    ]
    for sql, state, message in cases:
        got = sqlstate_of(conn, sql)
        assert got is not None, sql
        assert (got[0], got[1]) == (state, message), sql
        if state != "23505":
            assert got[3], f"no hint: {sql}"
    # a NULL timeline (a ticket without rows) has no SLAs; an empty one neither
    assert conn.execute("SELECT count(*) FROM sla_instances(NULL, 'bad')").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM sla_instances('{\"events\": []}', 'bad')").fetchone() == (0,)


def test_a_policy_follows_its_schedule(conn):
    """A schedule renamed is renamed in its policies; one in use cannot be deleted (as on
    Citus, where the reference tables have the same key), so no policy points at nothing."""
    conn.execute("INSERT INTO kpi_schedule VALUES ('desk', 'Europe/Berlin')")
    conn.execute("INSERT INTO kpi_schedule_hours SELECT 'desk', d, '09:00', '17:00' FROM generate_series(1, 5) d")
    conn.execute("INSERT INTO kpi_sla_policy VALUES ('follows', 'first_reply_time', 'high', '4 hours', 'desk')")
    try:
        conn.execute("UPDATE kpi_schedule SET schedule = 'front desk' WHERE schedule = 'desk'")
        assert conn.execute("SELECT schedule FROM kpi_sla_policy WHERE policy = 'follows'").fetchone() == ("front desk",)
        # and the renamed policy measures in it: created Friday 16:00 in Berlin, 4 business
        # hours run out Monday 12:00 there (11:00 UTC)
        rows = conn.execute(
            "SELECT s.schedule, s.breach_at FROM (SELECT ticket_timeline(k, v, '2026-03-06 16:00+01') AS t "
            "FROM (VALUES ('status', 'new'), ('priority', 'high'), ('message', 'customer')) e(k, v)) x, "
            "sla_instances(x.t, 'follows', '2026-03-07') s").fetchall()
        assert rows == [("front desk", datetime(2026, 3, 9, 11, tzinfo=timezone.utc))]
        got = sqlstate_of(conn, "DELETE FROM kpi_schedule WHERE schedule = 'front desk'")
        assert got[0] == "23503" and "kpi_sla_policy" in got[1], got
        assert conn.execute("SELECT count(*) FROM kpi_schedule WHERE schedule = 'front desk'").fetchone() == (1,)
        conn.execute("DELETE FROM kpi_sla_policy WHERE policy = 'follows'")
        conn.execute("DELETE FROM kpi_schedule WHERE schedule = 'front desk'")
    finally:
        conn.execute("DELETE FROM kpi_sla_policy WHERE policy = 'follows'")
        conn.execute("DELETE FROM kpi_schedule WHERE schedule IN ('desk', 'front desk')")


def test_long_names_come_back_whole(conn):
    """A row's texts are laid out in place up to a length, longer ones allocated: a priority
    and a schedule name of every length on either side come back as they went in."""
    for n in [1, 123, 124, 125, 1000]:
        priority, schedule = "p" * n, "s" * n
        conn.execute("INSERT INTO kpi_schedule VALUES (%s, 'UTC')", [schedule])
        conn.execute("INSERT INTO kpi_schedule_hours SELECT %s, d, '00:00', '00:00' FROM generate_series(1, 7) d",
                     [schedule])
        conn.execute("INSERT INTO kpi_sla_policy VALUES ('long', 'first_reply_time', %s, '1 hour', %s)",
                     [priority, schedule])
        try:
            rows = conn.execute(
                "SELECT s.metric, s.priority, s.schedule, s.status, s.elapsed FROM (SELECT ticket_timeline(k, v, "
                "'2026-03-02 10:00+00'::timestamptz + m * interval '1 minute') AS t FROM (VALUES ('status', 'new', 0), "
                "('priority', %s, 0), ('message', 'customer', 0), ('message', 'agent', 30)) e(k, v, m)) x, "
                "sla_instances(x.t, 'long', '2026-03-03') s", [priority]).fetchall()
            assert rows == [("first_reply_time", priority, schedule, "achieved", timedelta(minutes=30))], n
        finally:
            conn.execute("DELETE FROM kpi_sla_policy WHERE policy = 'long'")
            conn.execute("DELETE FROM kpi_schedule WHERE schedule = %s", [schedule])


def test_every_way_of_calling_sla_instances_gives_the_same_rows(conn):
    """The rows are stored with the row type the caller expects: in FROM, in a select list, read
    backwards by a scroll cursor and returned by a PL/pgSQL function, the same rows; a NULL
    timeline gives none."""
    conn.execute("DELETE FROM kpi_sla_policy WHERE policy = 'forms'")
    conn.execute("""INSERT INTO kpi_sla_policy SELECT 'forms', m, 'high', interval '2 hours', NULL
                    FROM unnest('{first_reply_time,next_reply_time,requester_wait_time}'::text[]) m""")
    timeline = """(SELECT ticket_timeline(k, v, '2026-03-02 10:00+00'::timestamptz + m * interval '1 minute')
        FROM (VALUES ('status', 'new', 0), ('priority', 'high', 0), ('message', 'customer', 0),
                     ('message', 'agent', 60), ('status', 'pending', 61), ('message', 'customer', 300),
                     ('status', 'open', 301), ('message', 'agent', 500), ('status', 'solved', 501)) e(k, v, m))"""
    try:
        rows = conn.execute(f"SELECT * FROM sla_instances({timeline}, 'forms', '2026-03-05')").fetchall()
        # first reply after 1 hour; the next after 200 minutes, breached at 2 hours; the
        # requester waited 61 + 200 minutes, breached 2 hours in
        start = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
        assert [(r[0], r[1], r[9], r[7]) for r in rows] == [
            ("first_reply_time", 1, "achieved", start + timedelta(hours=2)),
            ("next_reply_time", 1, "breached", start + timedelta(minutes=420)),
            ("requester_wait_time", 1, "breached", start + timedelta(minutes=360)),
        ]
        assert conn.execute(f"SELECT (sla_instances({timeline}, 'forms', '2026-03-05')).*").fetchall() == rows
        with conn.transaction():
            conn.execute(f"DECLARE c SCROLL CURSOR FOR SELECT * FROM sla_instances({timeline}, 'forms', '2026-03-05')")
            assert conn.execute("FETCH ALL c").fetchall() == rows
            assert conn.execute("FETCH BACKWARD ALL c").fetchall() == rows[::-1]
            assert conn.execute("FETCH ABSOLUTE 2 c").fetchall() == rows[1:2]
        conn.execute("""CREATE FUNCTION pg_temp.sla_rows(t ticket_timeline) RETURNS SETOF text LANGUAGE plpgsql
                        AS $$ BEGIN RETURN QUERY SELECT s::text FROM sla_instances(t, 'forms', '2026-03-05') s; END $$""")
        texts = conn.execute(f"SELECT s::text FROM sla_instances({timeline}, 'forms', '2026-03-05') s").fetchall()
        assert conn.execute(f"SELECT pg_temp.sla_rows({timeline})").fetchall() == texts
        assert len(texts) == 3
        assert conn.execute("SELECT count(*) FROM sla_instances(NULL, 'forms')").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM (SELECT sla_instances(NULL, 'forms')) s").fetchone() == (0,)
    finally:
        conn.execute("DELETE FROM kpi_sla_policy WHERE policy = 'forms'")


def test_forms_round_trip(conn):
    text = ('{"events":[[1,"status","new"],[1,"priority",null],[2,"message","customer"],'
            '[3,"message","agent"],[4,"priority","high"]]}')
    assert conn.execute("SELECT %s::ticket_timeline::text", [text]).fetchone()[0] == text
    # the binary form, through COPY ... BINARY
    conn.execute("DROP TABLE IF EXISTS timelines")
    conn.execute("CREATE TABLE timelines (t ticket_timeline)")
    with conn.cursor().copy("COPY (SELECT %s::ticket_timeline) TO STDOUT (FORMAT binary)" % psycopg.sql.quote(text)
                            ) as copy:
        data = b"".join(bytes(b) for b in copy)
    with conn.cursor().copy("COPY timelines FROM STDIN (FORMAT binary)") as copy:
        copy.write(data)
    assert conn.execute("SELECT t::text FROM timelines").fetchone()[0] == text
    shipped = conn.execute("SELECT status, requester_wait, agent_work, solved FROM kpi_sla_status ORDER BY status"
                           ).fetchall()
    assert shipped == sorted((s, *f) for s, f in STATUS_FLAGS.items())


def test_the_achievement_rate_is_recorded_by_the_kpi_history(sla_db):
    """sla_achievement_rate is a catalog KPI like the others: kpi_record() records it per
    month and metric from a view of SLA rows, each value exactly the plain SQL's."""
    rng = random.Random(5)
    policies = {"p": random_policy(rng)}
    tickets = {}
    for tid in range(1, 161):
        events, as_of = random_ticket(rng)
        tickets[tid] = ("p", events, as_of)
    with psycopg.connect(psycopg.conninfo.make_conninfo(dbname=sla_db), autocommit=True) as c:
        load(c, rng, policies, tickets)
        c.execute("""CREATE VIEW sla_rows AS
            SELECT s.* FROM (SELECT ticket_id, ticket_timeline(kind, value, at) AS timeline FROM sla_events
                             GROUP BY ticket_id) h
            JOIN sla_tickets t USING (ticket_id)
            CROSS JOIN LATERAL sla_instances(h.timeline, t.policy, t.as_of) s""")
        c.execute("DELETE FROM kpi_tracked WHERE tracking = 'slas'")
        c.execute("""INSERT INTO kpi_tracked (tracking, kpi, source, time_column, summary, period, dimensions)
                     VALUES ('slas', 'sla_achievement_rate', 'sla_rows', 'applied_at',
                             'sla_achievement_summary(achieved)', 'month', '{metric}')""")
        c.execute("SELECT kpi_record('slas', '2026-03-01')")
        recorded = c.execute("""SELECT dimension_value, value, cases FROM kpi_recorded
                                WHERE tracking = 'slas' AND period_start = '2026-03-01' ORDER BY 1""").fetchall()
        plain = c.execute("""
            SELECT coalesce(metric, 'all'), 100.0 * count(*) FILTER (WHERE achieved) / nullif(count(achieved), 0),
                   count(achieved)
            FROM sla_rows WHERE applied_at >= '2026-03-01' AND applied_at < '2026-04-01'
            GROUP BY ROLLUP (metric) ORDER BY 1""").fetchall()
        c.execute("DELETE FROM kpi_tracked WHERE tracking = 'slas'")
        c.execute("DROP VIEW sla_rows")
    assert len(recorded) == 6 and recorded == plain


def test_names_in_a_latin1_database(admin):
    """Policies, priorities, statuses and schedules named with accents, in a database whose
    encoding is not UTF-8: the names read through the policy's JSON are the server's bytes."""
    name = "kpi_test_sla_latin1"
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {name} ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
    try:
        with psycopg.connect(psycopg.conninfo.make_conninfo(dbname=name), autocommit=True) as c:
            c.execute("SET client_encoding = 'UTF8'")
            c.execute("CREATE EXTENSION support_kpi")
            c.execute("INSERT INTO kpi_schedule VALUES ('Büro', 'Europe/Berlin')")
            c.execute("INSERT INTO kpi_schedule_hours SELECT 'Büro', d, '09:00', '17:00' FROM generate_series(1, 5) d")
            c.execute("INSERT INTO kpi_sla_status VALUES ('geöffnet', true, true, false)")
            c.execute("INSERT INTO kpi_sla_policy VALUES ('Priorität', 'requester_wait_time', 'höchste', '2 hours', 'Büro')")
            rows = c.execute("""
                SELECT s.priority, s.schedule, s.breach_at, s.elapsed, s.status
                FROM sla_instances((SELECT ticket_timeline(k, v, t::timestamptz) FROM (VALUES
                    ('status', 'geöffnet', '2026-03-02 16:00+01'), ('priority', 'höchste', '2026-03-02 16:00+01')) e(k, v, t)),
                    'Priorität', '2026-03-02 18:00+01') s""").fetchall()
            assert rows == [("höchste", "Büro", datetime(2026, 3, 3, 9, tzinfo=timezone.utc), timedelta(hours=1),
                             "active")]
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

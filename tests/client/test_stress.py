"""Bounded stress runs against the test cluster: sqlsmith's random queries, a loop of queries
cancelled at random, and pgbench at 16 clients. None may crash a backend (the server log is
read for 'terminated by signal'), and no error may come from the extension as XX000."""

import os
import random
import re
import shutil
import subprocess
import time

import psycopg
import pytest

from conftest import PG_BIN, conninfo, rss_anon_kb

SCHEMA = """
CREATE TABLE customers (id bigint PRIMARY KEY, segment text, joined timestamptz, churned timestamptz);
CREATE TABLE tickets (id bigint PRIMARY KEY, customer_id bigint, escalated boolean, opened_at timestamptz,
                      resolved_at timestamptz, cost numeric, score int, handle interval);
INSERT INTO customers SELECT g, (ARRAY['consumer','enterprise','public'])[1 + g % 3],
       '2026-01-01'::timestamptz + g * interval '1 minute',
       CASE WHEN g % 11 = 0 THEN '2026-06-01'::timestamptz + g * interval '1 minute' END
FROM generate_series(1, 2000) g;
INSERT INTO tickets SELECT g, 1 + g % 1500, CASE WHEN g % 17 = 0 THEN NULL ELSE g % 9 = 0 END,
       '2026-05-01'::timestamptz + g * interval '7 minutes',
       CASE WHEN g % 5 <> 0 THEN '2026-05-01'::timestamptz + g * interval '7 minutes' + (g % 50) * interval '1 hour' END,
       CASE WHEN g % 4 <> 0 THEN (g % 300) * 1.25 END, g % 11, (g % 40) * interval '1 minute'
FROM generate_series(1, 6000) g;
CREATE TABLE summaries AS SELECT date_trunc('day', opened_at) AS day, incident_summary(customer_id, id) AS i,
       escalation_summary(escalated) AS e, resolution_time_summary(opened_at, resolved_at) AS r,
       nps_summary(score) AS n, complaint_resolution_cost_summary(cost, escalated) AS c
FROM tickets GROUP BY 1;
ANALYZE;
"""


def server_log():
    return os.path.join(os.environ["PGHOST"], "server.log")


def log_since(offset):
    with open(server_log(), errors="replace") as f:
        f.seek(offset)
        return f.read()


def log_size():
    return os.path.getsize(server_log())


@pytest.fixture(scope="module")
def stress_db(admin):
    name = "kpi_test_stress"
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {name}")
    with psycopg.connect(conninfo(name), autocommit=True) as c:
        c.execute("CREATE EXTENSION support_kpi")
        c.execute(SCHEMA)
    yield name
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def extension_internal_errors(log):
    """XX000 errors raised by the extension's Rust code, from a log written with
    log_error_verbosity = verbose: an `ERROR:  XX000:` line whose backend's next LOCATION line
    names a .rs file."""
    found, open_errors = [], {}
    for line in log.splitlines():
        m = re.search(r"\[(\d+)\] (ERROR|LOCATION):  (.*)", line)
        if not m:
            continue
        pid, field, text = m.groups()
        if field == "ERROR":
            open_errors[pid] = text if text.startswith("XX000:") else None
        elif open_errors.pop(pid, None) and ".rs:" in text:
            found.append(text)
    return found


SAMPLE_LOG = """\
2026-11-24 12:10:23.868 UTC [7] ERROR:  XX000: index out of bounds
2026-11-24 12:10:23.868 UTC [8] ERROR:  XX000: cache lookup failed
2026-11-24 12:10:23.868 UTC [7] DETAIL:  d
2026-11-24 12:10:23.868 UTC [7] HINT:  h
2026-11-24 12:10:23.868 UTC [7] CONTEXT:  c
2026-11-24 12:10:23.868 UTC [8] LOCATION:  SearchCatCache, catcache.c:1
2026-11-24 12:10:23.868 UTC [7] LOCATION:  support_kpi, flat.rs:611
2026-11-24 12:10:23.868 UTC [9] ERROR:  22P02: invalid
2026-11-24 12:10:23.868 UTC [9] LOCATION:  support_kpi, fmgr.rs:111
"""


def test_the_internal_error_detector_reads_verbose_logs():
    assert extension_internal_errors(SAMPLE_LOG) == ["support_kpi, flat.rs:611"]


def test_sqlsmith_finds_no_crash_and_no_internal_error(admin, stress_db):
    sqlsmith = shutil.which("sqlsmith")
    assert sqlsmith, "sqlsmith is not installed (scripts/setup.sh installs Debian's package)"
    queries = int(os.environ.get("SUPPORT_KPI_SQLSMITH_QUERIES", "15000"))
    admin.execute(f"ALTER DATABASE {stress_db} SET statement_timeout = '2s'")
    admin.execute(f"ALTER DATABASE {stress_db} SET log_error_verbosity = 'verbose'")
    start = log_size()
    target = f"host={os.environ['PGHOST']} port={os.environ['PGPORT']} user=postgres dbname={stress_db}"
    try:
        run = subprocess.run([sqlsmith, f"--target={target}", f"--max-queries={queries}", "--seed=8",
                              "--exclude-catalog"], capture_output=True, text=True, timeout=420)
    except subprocess.TimeoutExpired:
        run = None
    log = log_since(start)
    assert "terminated by signal" not in log, log[-4000:]
    assert admin.execute("SELECT 1").fetchone() == (1,)
    assert extension_internal_errors(log) == []
    if run is not None:
        print(run.stderr[-600:])


FAMILIES = [
    "SELECT incident_rate(customer_id, id) FROM big",
    "SELECT customer_id % 50000 AS g, contact_rate(customer_id, id) FROM big GROUP BY 1",
    "SELECT contact_rate_by_segment((customer_id % 7)::text, customer_id, id) FROM big",
    "SELECT length(incident_summary(customer_id::text, id)::text) FROM big",
    "SELECT escalation_rate(id % 9 = 0) FROM big",
    "SELECT avg_resolution_time(t, t + (id % 100) * interval '1 minute') FROM big",
    "SELECT nps((id % 11)::int) FROM big",
    "SELECT complaint_resolution_cost(id % 100 * 1.5, id % 3 = 0) FROM big",
    "SELECT incident_rate(rollup(s)) FROM (SELECT incident_summary(customer_id, id) s FROM big "
    "GROUP BY customer_id % 1000) x",
]



def test_queries_cancelled_at_random_leak_nothing(stress_db):
    rng = random.Random(5)
    with psycopg.connect(conninfo(stress_db), autocommit=True) as c:
        c.execute("CREATE TEMP TABLE big AS SELECT g::bigint AS id, (g::bigint * 7919) % 1500000 AS customer_id, "
                  "'2026-01-01'::timestamptz + g * interval '1 second' AS t FROM generate_series(1, 2000000) g")
        c.execute("SET max_parallel_workers_per_gather = 0")
        pid = c.execute("SELECT pg_backend_pid()").fetchone()[0]
        outcomes = {"done": 0, "cancelled": 0}
        rss = []
        for i in range(240):
            c.execute(f"SET statement_timeout = '{rng.choice([5, 20, 60, 150, 400])}ms'")
            try:
                c.execute(rng.choice(FAMILIES)).fetchall()
                outcomes["done"] += 1
            except psycopg.errors.QueryCanceled:
                outcomes["cancelled"] += 1
            if i in (40, 239):
                rss.append(rss_anon_kb(pid))
        c.execute("RESET statement_timeout")
        assert c.execute("SELECT incident_rate(customer_id, id) FROM big WHERE id <= 10").fetchone()[0] == 1000
        assert outcomes["cancelled"] > 50 and outcomes["done"] > 10, outcomes
        # memory after 200 more cancelled or finished queries: no growth beyond noise
        assert rss[1] - rss[0] < 64 * 1024, rss


PGBENCH_OURS = """
SELECT incident_rate(c.id, t.id) FROM customers c LEFT JOIN tickets t ON t.customer_id = c.id;
SELECT escalation_rate(escalated) FROM tickets;
SELECT segment, contact_rate(c.id, t.id) FROM customers c LEFT JOIN tickets t ON t.customer_id = c.id GROUP BY segment;
SELECT avg_resolution_time(opened_at, resolved_at), nps(score) FROM tickets WHERE score <= 10;
SELECT incident_rate(rollup(i)), escalation_rate(rollup(e)) FROM summaries;
"""
PGBENCH_PLAIN = """
SELECT count(t.id) * 1000.0 / count(DISTINCT c.id) FROM customers c LEFT JOIN tickets t ON t.customer_id = c.id;
SELECT count(*) FILTER (WHERE escalated) * 100.0 / count(escalated) FROM tickets;
SELECT segment, count(t.id) * 100.0 / count(DISTINCT c.id) FROM customers c LEFT JOIN tickets t ON t.customer_id = c.id GROUP BY segment;
SELECT avg(resolved_at - opened_at), (count(*) FILTER (WHERE score >= 9) - count(*) FILTER (WHERE score <= 6)) * 100.0 / count(score) FROM tickets WHERE score <= 10;
SELECT count(id) * 1000.0 / count(DISTINCT customer_id), count(*) FILTER (WHERE escalated) * 100.0 / count(escalated) FROM tickets;
"""


def pgbench(db, script, tmp_path, seconds):
    path = tmp_path / f"script{abs(hash(script))}.sql"
    path.write_text(script)
    run = subprocess.run([f"{PG_BIN}/pgbench", "-n", "-c", "16", "-j", "2", "-T", str(seconds), "-f", str(path), db],
                         capture_output=True, text=True, timeout=seconds + 60)
    assert run.returncode == 0, run.stdout + run.stderr
    failed = re.search(r"number of failed transactions: (\d+)", run.stdout)
    assert failed is None or failed.group(1) == "0", run.stdout
    assert "aborted" not in run.stdout + run.stderr, run.stdout + run.stderr
    return float(re.search(r"tps = ([\d.]+)", run.stdout).group(1))


@pytest.fixture
def bench_db(new_database):
    """A database of its own, untouched by sqlsmith's settings and load."""
    name = new_database()
    with psycopg.connect(conninfo(name), autocommit=True) as c:
        c.execute(SCHEMA)
    return name


def test_pgbench_at_16_clients_runs_clean(bench_db, tmp_path):
    start = log_size()
    seconds = int(os.environ.get("SUPPORT_KPI_PGBENCH_SECONDS", "8"))
    runs = {"ours": [], "plain": []}
    for _ in range(2):  # alternating, so both see the same machine
        runs["plain"].append(pgbench(bench_db, PGBENCH_PLAIN, tmp_path, seconds))
        runs["ours"].append(pgbench(bench_db, PGBENCH_OURS, tmp_path, seconds))
    ours, plain = max(runs["ours"]), max(runs["plain"])
    print(f"pgbench 16 clients: support_kpi {ours:.1f} tps, plain SQL {plain:.1f} tps ({ours / plain:.2f}x)")
    assert "terminated by signal" not in log_since(start)
    assert ours > 0.5 * plain, (ours, plain)

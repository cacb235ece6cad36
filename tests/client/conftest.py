"""Client-side tests: a real PostgreSQL server with support_kpi installed, reached like a user
would reach it. scripts/test.sh starts a throwaway cluster and sets PGHOST/PGPORT/PGUSER."""

import contextlib
import getpass
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest

PG_BIN = os.environ.get("SUPPORT_KPI_PG_BIN", "/usr/lib/postgresql/15/bin")
# scripts/common.sh exports it; extra clusters of the tests live there, so that the run's
# crash check (check_no_crash) reads their logs too
WORK_DIR = os.environ.get("SUPPORT_KPI_WORK_DIR", f"/tmp/support_kpi-{getpass.getuser()}")


DEMO = Path(__file__).resolve().parents[2] / "demo"


def as_owner(cmd):
    """PostgreSQL refuses to run as root: as root, run it as the postgres user."""
    return ["runuser", "-u", "postgres", "--"] + cmd if os.geteuid() == 0 else cmd


@contextlib.contextmanager
def extra_servers(group, names, base_port, *settings):
    """Fresh PostgreSQL servers for a test (one per name, ports from base_port, Unix sockets
    only) in WORK_DIR/group/<name>; yields {name: (socket dir, port)}. Stopped afterwards;
    their logs stay, so the run's crash check (check_no_crash) reads them."""
    root = os.path.join(WORK_DIR, group)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    os.chmod(WORK_DIR, 0o755)
    os.chmod(root, 0o755)
    started, servers = [], {}
    try:
        for i, name in enumerate(names):
            base = os.path.join(root, name)
            os.mkdir(base)
            if os.geteuid() == 0:
                shutil.chown(base, "postgres", "postgres")
            data, port = os.path.join(base, "data"), base_port + i
            subprocess.run(as_owner([f"{PG_BIN}/initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync"]),
                           check=True, capture_output=True)
            options = " ".join([f"-p {port} -k {base} -c listen_addresses=''", *(f"-c {s}" for s in settings)])
            subprocess.run(as_owner([f"{PG_BIN}/pg_ctl", "-D", data, "-l", os.path.join(base, "server.log"), "-w",
                                     "-o", options, "start"]), check=True, capture_output=True)
            started.append(data)
            servers[name] = (base, port)
        yield servers
    finally:
        for data in started:
            subprocess.run(as_owner([f"{PG_BIN}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"]), capture_output=True)
            shutil.rmtree(data, ignore_errors=True)


def sqlstate_of(conn, sql, params=None):
    """(SQLSTATE, message, detail, hint) of the error that sql raises, or None."""
    try:
        conn.execute(sql, params)
    except psycopg.Error as e:
        return e.sqlstate, e.diag.message_primary, e.diag.message_detail, e.diag.message_hint
    return None


def conninfo(dbname):
    return psycopg.conninfo.make_conninfo(dbname=dbname)


@pytest.fixture(scope="session")
def admin():
    with psycopg.connect(conninfo("postgres"), autocommit=True) as conn:
        yield conn


@pytest.fixture
def new_database(admin):
    """Makes fresh databases with support_kpi installed; drops them afterwards."""
    made = []

    def make(extension=True):
        name = f"kpi_test_{uuid.uuid4().hex[:10]}"
        admin.execute(f"CREATE DATABASE {name}")
        made.append(name)
        if extension:
            with psycopg.connect(conninfo(name), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION support_kpi")
        return name

    yield make
    for name in made:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def kpi_db(admin):
    """One database with support_kpi for a whole test module."""
    name = f"kpi_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f"CREATE DATABASE {name}")
    with psycopg.connect(conninfo(name), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION support_kpi")
    yield name
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def conn(kpi_db):
    with psycopg.connect(conninfo(kpi_db), autocommit=True) as c:
        yield c


SERIAL = {"max_parallel_workers_per_gather": "0"}
# Forces parallel plans even on small tables, without the leader taking part, so the
# result is always combined from partial states computed by workers. parallel_tuple_cost
# keeps its default: shipping every row to the leader must cost something, or the planner
# has no reason to aggregate in the workers.
PARALLEL = {
    "max_parallel_workers_per_gather": "2",
    "parallel_setup_cost": "0",
    "min_parallel_table_scan_size": "0",
    "parallel_leader_participation": "off",
    "enable_indexscan": "off",
    "enable_bitmapscan": "off",
}


def raw_types(c, type_names):
    """Makes `raw_i` and `raw_d`: bytea's own I/O under int and double alignment, cast to and
    from each variable-length type of `type_names` without a function (a superuser's tool, here
    only to lay down stored bytes unchanged: old, damaged or recorded values)."""
    for align, name in (("i", "int4"), ("d", "double")):
        c.execute(f"CREATE TYPE raw_{align}")
        c.execute(f"CREATE FUNCTION raw_{align}_in(cstring) RETURNS raw_{align} AS 'byteain' "
                  "LANGUAGE internal IMMUTABLE STRICT")
        c.execute(f"CREATE FUNCTION raw_{align}_out(raw_{align}) RETURNS cstring AS 'byteaout' "
                  "LANGUAGE internal IMMUTABLE STRICT")
        c.execute(f"CREATE TYPE raw_{align} (INPUT = raw_{align}_in, OUTPUT = raw_{align}_out, "
                  f"INTERNALLENGTH = VARIABLE, ALIGNMENT = {name}, STORAGE = extended)")
    for typname, align in c.execute("SELECT typname, typalign FROM pg_type WHERE typlen = -1 AND typname = ANY(%s)",
                                    [list(type_names)]).fetchall():
        c.execute(f"CREATE CAST (raw_{align} AS {typname}) WITHOUT FUNCTION")
        c.execute(f"CREATE CAST ({typname} AS raw_{align}) WITHOUT FUNCTION")


def set_plan(conn, settings):
    for key, value in settings.items():
        conn.execute(f"SET {key} = {value}")
    if settings is SERIAL:
        for key in PARALLEL:
            if key not in SERIAL:
                conn.execute(f"RESET {key}")


def explain(conn, query):
    return "\n".join(row[0] for row in conn.execute("EXPLAIN (COSTS OFF) " + query))


def assert_workers_combine(conn, query):
    """Runs the query serially and in a forced-parallel plan: both workers must be launched,
    the plan must aggregate partially in them and finalize in the leader, and the result
    must equal the serial one."""
    set_plan(conn, SERIAL)
    serial = conn.execute(query).fetchall()
    set_plan(conn, PARALLEL)
    analyzed = "\n".join(r[0] for r in conn.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + query))
    parallel = conn.execute(query).fetchall()
    set_plan(conn, SERIAL)
    assert "Workers Launched: 2" in analyzed, analyzed
    assert "Partial" in analyzed and "Finalize" in analyzed, analyzed
    assert parallel == serial


@pytest.fixture(scope="module")
def demo_db(admin):
    """The demo database of scripts/demo.sh, loaded from demo/."""
    name = "kpi_test_demo_report"
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {name}")
    with psycopg.connect(conninfo(name), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION support_kpi")
        conn.execute((DEMO / "schema.sql").read_text())
        conn.execute((DEMO / "generate.sql").read_text())
    yield name
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")




def rss_anon_kb(pid):
    """A backend's private memory (RssAnon, kB), read from /proc: the tests and the server
    share this machine."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    raise AssertionError("no RssAnon")

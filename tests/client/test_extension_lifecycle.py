"""The extension installs, drops without leaving objects behind, and installs again."""

import psycopg

from conftest import conninfo

OBJECTS = """
SELECT (SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace)
     + (SELECT count(*) FROM pg_type WHERE typnamespace = 'public'::regnamespace)
     + (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace)
"""


def test_drop_extension_removes_every_object_and_create_works_again(new_database):
    db = new_database(extension=False)
    with psycopg.connect(conninfo(db), autocommit=True) as conn:
        assert conn.execute(OBJECTS).fetchone()[0] == 0
        conn.execute("CREATE EXTENSION support_kpi")
        installed = conn.execute(OBJECTS).fetchone()[0]
        # every object in the schema belongs to the extension (the DO blocks' aggregates too)
        members = conn.execute(
            "SELECT count(*) FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'"
            " AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'support_kpi')"
        ).fetchone()[0]
        assert installed > 50 and members > 50
        conn.execute("DROP EXTENSION support_kpi")
        assert conn.execute(OBJECTS).fetchone()[0] == 0
        conn.execute("CREATE EXTENSION support_kpi")
        assert conn.execute(OBJECTS).fetchone()[0] == installed
        assert conn.execute("SELECT kpi_band('escalation_rate', 4)").fetchone()[0] == "acceptable"

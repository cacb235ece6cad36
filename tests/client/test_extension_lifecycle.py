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
        # every object in the schema belongs to the extension
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


# Every object of the extension as the catalog describes it: signatures, support functions,
# properties, SQL bodies, types, relations, comments. Two databases with the same objects give
# the same rows.
CATALOG = """
SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', p.prorettype::regtype::text,
       p.prokind::text, p.provolatile::text, p.proparallel::text, p.proisstrict::text, p.prosrc, p.proargnames::text,
       pg_get_expr(p.proargdefaults, 0), p.proconfig::text,
       CASE WHEN p.prokind = 'a' OR p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c') THEN ''
            ELSE pg_get_functiondef(p.oid) END,
       a.aggtransfn::regprocedure::text, a.aggfinalfn::regprocedure::text, a.aggcombinefn::regprocedure::text,
       a.aggmtransfn::regprocedure::text, a.aggminvtransfn::regprocedure::text, a.aggmfinalfn::regprocedure::text,
       a.aggtranstype::regtype::text, a.aggmtranstype::regtype::text, a.agginitval, a.aggminitval,
       obj_description(p.oid, 'pg_proc')
FROM pg_proc p LEFT JOIN pg_aggregate a ON a.aggfnoid = p.oid
WHERE p.pronamespace = 'public'::regnamespace
UNION ALL
SELECT t.typname, t.typlen::text, t.typalign::text, t.typstorage::text, t.typinput::text, t.typoutput::text,
       t.typreceive::text, t.typsend::text, obj_description(t.oid, 'pg_type'), NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace
UNION ALL
SELECT c.relname, c.relkind::text, c.relacl::text, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
ORDER BY 1, 2
"""


def test_every_update_path_gives_the_objects_of_a_fresh_install(new_database):
    """ALTER EXTENSION UPDATE from each released version (its install script is in
    sql/released/) ends with exactly the objects CREATE EXTENSION makes: the delta scripts
    are complete."""
    fresh = new_database()
    with psycopg.connect(conninfo(fresh), autocommit=True) as conn:
        expected = conn.execute(CATALOG).fetchall()
        current = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'support_kpi'").fetchone()[0]
        released = [r[0] for r in conn.execute(
            "SELECT version FROM pg_available_extension_versions WHERE name = 'support_kpi' AND version <> %s "
            "ORDER BY string_to_array(version, '.')::int[]", [current])]
    assert released[:2] == ["0.1.0", "0.2.0"], released
    assert len(expected) > 300
    for version in released:
        db = new_database(extension=False)
        with psycopg.connect(conninfo(db), autocommit=True) as conn:
            conn.execute(f"CREATE EXTENSION support_kpi VERSION '{version}'")
            conn.execute("ALTER EXTENSION support_kpi UPDATE")
            assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'support_kpi'").fetchone()[0] == current
            got = conn.execute(CATALOG).fetchall()
        missing = sorted(set(expected) - set(got))[:5]
        extra = sorted(set(got) - set(expected))[:5]
        assert got == expected, f"update from {version}: missing {missing}, extra {extra}"

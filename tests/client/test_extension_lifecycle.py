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


# The rest of each object, category by category (issue 19): every pg_aggregate field, function
# properties and ACLs, types in full, columns with their defaults, constraints, triggers,
# indexes, view bodies, comments, the extension's configuration tables, and the rows the
# extension ships. Object ids differ between databases, so they are shown by name.
DETAILS = {
    "aggregates": """
SELECT a.aggfnoid::regprocedure::text, a.aggkind::text, a.aggnumdirectargs::text,
       a.aggtransfn::regprocedure::text, a.aggfinalfn::regprocedure::text, a.aggcombinefn::regprocedure::text,
       a.aggserialfn::regprocedure::text, a.aggdeserialfn::regprocedure::text,
       a.aggmtransfn::regprocedure::text, a.aggminvtransfn::regprocedure::text, a.aggmfinalfn::regprocedure::text,
       a.aggfinalextra::text, a.aggmfinalextra::text, a.aggfinalmodify::text, a.aggmfinalmodify::text,
       a.aggsortop::regoperator::text, a.aggtranstype::regtype::text, a.aggtransspace::text,
       a.aggmtranstype::regtype::text, a.aggmtransspace::text, a.agginitval, a.aggminitval
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid WHERE p.pronamespace = 'public'::regnamespace
""",
    "function properties": """
SELECT p.oid::regprocedure::text, p.prosecdef::text, p.proleakproof::text, p.procost::text, p.prorows::text,
       p.prosupport::regproc::text, p.proacl::text, p.proretset::text, p.proargmodes::text,
       (SELECT lanname FROM pg_language WHERE oid = p.prolang),
       pg_get_function_result(p.oid), p.probin
FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
""",
    "types": """
SELECT t.typname, t.typtype::text, t.typcategory::text, t.typispreferred::text, t.typbyval::text,
       t.typdelim::text, t.typelem::regtype::text, t.typarray::regtype::text, t.typmodin::text, t.typmodout::text,
       t.typanalyze::text, t.typnotnull::text, t.typdefault, t.typacl::text, t.typcollation::text
FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace
""",
    "relations": """
SELECT c.relname, c.relkind::text, c.relpersistence::text, c.reloptions::text, c.relrowsecurity::text,
       c.relhasindex::text, c.relacl::text, obj_description(c.oid, 'pg_class')
FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
""",
    "columns": """
SELECT c.relname, a.attnum::text, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull::text,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text, a.attcollation::regcollation::text,
       col_description(c.oid, a.attnum), a.attacl::text
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE c.relnamespace = 'public'::regnamespace
""",
    "constraints": """
SELECT con.conrelid::regclass::text, con.conname, con.contype::text, pg_get_constraintdef(con.oid)
FROM pg_constraint con WHERE con.connamespace = 'public'::regnamespace
""",
    "triggers": """
SELECT tg.tgrelid::regclass::text, tg.tgname, pg_get_triggerdef(tg.oid), tg.tgenabled::text
FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
WHERE c.relnamespace = 'public'::regnamespace AND NOT tg.tgisinternal
""",
    "indexes": """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'public'::regnamespace
""",
    "views": """
SELECT c.relname, pg_get_viewdef(c.oid) FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('v', 'm')
""",
    "configuration tables": """
SELECT cfg::regclass::text, cond
FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(cfg, cond) WHERE e.extname = 'support_kpi'
""",
    "shipped rows": """
SELECT 'kpi_catalog', to_jsonb(k)::text FROM kpi_catalog k
UNION ALL SELECT 'kpi_benchmark', to_jsonb(b)::text FROM kpi_benchmark b
UNION ALL SELECT 'kpi_schedule', to_jsonb(s)::text FROM kpi_schedule s
UNION ALL SELECT 'kpi_schedule_hours', to_jsonb(h)::text FROM kpi_schedule_hours h
UNION ALL SELECT 'kpi_holiday', to_jsonb(h)::text FROM kpi_holiday h
UNION ALL SELECT 'kpi_tracked', to_jsonb(t)::text FROM kpi_tracked t
""",
}


def described(conn):
    """Every object of the extension in `conn`'s database, category by category."""
    out = {"objects": conn.execute(CATALOG).fetchall()}
    for name, sql in DETAILS.items():
        out[name] = sorted(conn.execute(sql).fetchall(), key=repr)
    return out


def differences(expected, got):
    """The categories that differ, with a few rows missing and extra in each."""
    found = {}
    for name in expected:
        if expected[name] != got[name]:
            missing = sorted(set(expected[name]) - set(got[name]), key=repr)[:3]
            extra = sorted(set(got[name]) - set(expected[name]), key=repr)[:3]
            found[name] = {"missing": missing, "extra": extra}
    return found


def test_every_update_path_gives_the_objects_of_a_fresh_install(new_database):
    """ALTER EXTENSION UPDATE from each released version (its install script is in
    sql/released/) ends with exactly the objects CREATE EXTENSION makes, object by object and
    field by field: the delta scripts are complete. And the comparison can fail: a changed
    default, a changed aggregate field or a changed shipped row after an update is found."""
    fresh = new_database()
    with psycopg.connect(conninfo(fresh), autocommit=True) as conn:
        expected = described(conn)
        current = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'support_kpi'").fetchone()[0]
        released = [r[0] for r in conn.execute(
            "SELECT version FROM pg_available_extension_versions WHERE name = 'support_kpi' AND version <> %s "
            "ORDER BY string_to_array(version, '.')::int[]", [current])]
    assert released[:2] == ["0.1.0", "0.2.0"], released
    assert len(expected["objects"]) > 300 and len(expected["aggregates"]) > 250
    assert len(expected["shipped rows"]) > 20 and expected["triggers"] and expected["views"]
    for version in released:
        db = new_database(extension=False)
        with psycopg.connect(conninfo(db), autocommit=True) as conn:
            conn.execute(f"CREATE EXTENSION support_kpi VERSION '{version}'")
            conn.execute("ALTER EXTENSION support_kpi UPDATE")
            assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'support_kpi'").fetchone()[0] == current
            got = described(conn)
            assert not differences(expected, got), f"update from {version}: {differences(expected, got)}"
            if version == released[-1]:
                # the comparison finds what a faulty delta script would leave behind
                conn.execute("ALTER TABLE kpi_tracked ALTER COLUMN period SET DEFAULT 'week'")
                conn.execute("UPDATE pg_aggregate SET aggtransspace = 64 "
                             "WHERE aggfnoid = 'median_resolution_time(timestamptz, timestamptz)'::regprocedure")
                conn.execute("SET session_replication_role = replica")  # the catalog's own triggers off
                conn.execute("UPDATE kpi_catalog SET title = title || ' ' WHERE kpi = 'nps'")
                assert set(differences(expected, described(conn))) == {"columns", "aggregates", "shipped rows"}

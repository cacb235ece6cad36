-- Who may change the extension's tables, and the check that ends every script.
--
-- support_kpi is a trusted extension: a database owner who is not a superuser may CREATE
-- EXTENSION it. The script then runs as the bootstrap superuser, who owns every object it
-- makes (a superuser's CREATE EXTENSION: that superuser). Every role may read the tables
-- (GRANT SELECT ... TO PUBLIC beside each table). The database owner (pg_database_owner) may
-- change the catalog, the schedules, the SLA policies and the history, and grant that on; no
-- one else may.
GRANT INSERT, UPDATE, DELETE
    ON kpi_catalog, kpi_benchmark, kpi_schedule, kpi_schedule_hours, kpi_holiday, kpi_tracked, kpi_recorded,
       kpi_recorded_revision, kpi_sla_policy, kpi_sla_status
    TO pg_database_owner WITH GRANT OPTION;

-- Every function body, view, default, constraint, trigger and index of the extension was
-- bound to the functions, operators, types and tables it names when the script created it.
-- In a schema that other roles may create objects in (in PostgreSQL 15, public belongs to the
-- database owner), one of them could have made a better-matching overload there first, and
-- a call a superuser makes later would run it. This check fails the script if any of them is
-- bound to an object that no superuser owns (PostgreSQL's own and the extension's are owned
-- by superusers). Install and update scripts end with it.
CREATE FUNCTION _kpi_check_references() RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found text;
BEGIN
    WITH member AS (
        SELECT d.classid, d.objid FROM pg_depend d JOIN pg_extension x ON x.oid = d.refobjid
        WHERE d.refclassid = 'pg_extension'::regclass AND x.extname = 'support_kpi' AND d.deptype = 'e'
    ), parsed AS (
        SELECT m.classid, m.objid FROM member m
        UNION ALL
        SELECT 'pg_rewrite'::regclass, r.oid FROM pg_rewrite r JOIN member m ON m.classid = 'pg_class'::regclass AND r.ev_class = m.objid
        UNION ALL
        SELECT 'pg_attrdef'::regclass, a.oid FROM pg_attrdef a JOIN member m ON m.classid = 'pg_class'::regclass AND a.adrelid = m.objid
        UNION ALL
        SELECT 'pg_constraint'::regclass, c.oid FROM pg_constraint c JOIN member m ON m.classid = 'pg_class'::regclass AND c.conrelid = m.objid
        UNION ALL
        SELECT 'pg_trigger'::regclass, t.oid FROM pg_trigger t JOIN member m ON m.classid = 'pg_class'::regclass AND t.tgrelid = m.objid
        UNION ALL
        SELECT 'pg_class'::regclass, i.indexrelid FROM pg_index i JOIN member m ON m.classid = 'pg_class'::regclass AND i.indrelid = m.objid
    ), referenced AS (
        SELECT DISTINCT d.refclassid, d.refobjid
        FROM pg_depend d JOIN parsed p ON d.classid = p.classid AND d.objid = p.objid
    ), owned AS (
        SELECT r.refclassid, r.refobjid,
               coalesce(f.proowner, o.oprowner, t.typowner, c.relowner, l.collowner) AS owner
        FROM referenced r
        LEFT JOIN pg_proc f ON r.refclassid = 'pg_proc'::regclass AND f.oid = r.refobjid
        LEFT JOIN pg_operator o ON r.refclassid = 'pg_operator'::regclass AND o.oid = r.refobjid
        LEFT JOIN pg_type t ON r.refclassid = 'pg_type'::regclass AND t.oid = r.refobjid
        LEFT JOIN pg_class c ON r.refclassid = 'pg_class'::regclass AND c.oid = r.refobjid
        LEFT JOIN pg_collation l ON r.refclassid = 'pg_collation'::regclass AND l.oid = r.refobjid
    )
    SELECT string_agg(format('%s (owned by %s)', pg_describe_object(w.refclassid, w.refobjid, 0), a.rolname), ', '
                      ORDER BY pg_describe_object(w.refclassid, w.refobjid, 0))
    INTO found
    FROM owned w JOIN pg_roles a ON a.oid = w.owner
    WHERE NOT a.rolsuper;
    IF found IS NOT NULL THEN
        RAISE EXCEPTION 'support_kpi would call objects that another role made: %', found
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'They are better matches than the built-in or support_kpi objects its SQL means. Drop them, or '
                         'install support_kpi into a schema in which only trusted roles may create objects.';
    END IF;
END
$$;

SELECT @extschema@._kpi_check_references();

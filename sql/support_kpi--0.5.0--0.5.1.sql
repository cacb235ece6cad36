-- support_kpi 0.5.0 -> 0.5.1: ALTER EXTENSION support_kpi UPDATE TO '0.5.1'
--
-- 0.5.1 keeps every object and stored value of 0.5.0. Its library makes the 0.5.0 states
-- safer (the README's upgrade notes list it all): duration_sketch values of a few cases
-- take 124 bytes instead of kilobytes (a sparse layout; 0.5.0's dense sketches are read as
-- they are), one validity rule per state type for text, binary and stored values, no
-- negative time in status, and errors that echo at most 64 characters of a user's input.
-- In SQL:
-- - the aggregates of the growing states tell the planner the memory a group's state takes
--   (SSPACE): 128 bytes for customer_rate_summary (a state of up to three customers, one
--   128-byte allocation since 0.5.1), duration_sketch and status_history, 512 for
--   segment_rate_summary, where 0.5.0 let it assume 32; hash aggregation sizes its groups
--   by it. ALTER AGGREGATE cannot change it, so the catalog rows of the extension's own
--   aggregates are updated (as contrib's delta scripts once updated proparallel); the same
--   values are in the CREATE AGGREGATE statements of sql/customer_rate.sql,
--   sql/segment_rate.sql, sql/percentiles.sql, sql/status_history.sql and
--   sql/business_hours.sql;
-- - the errors of the schedule functions show at most 64 characters of a schedule or time
--   zone name (and at most 20 known schedules in the hint); the same statements are in
--   sql/business_hours.sql;
-- - kpi_band(kpi, NULL) and kpi_band(kpi, '4.2') work again (they did in 0.1.0; the summary
--   overloads made an untyped literal ambiguous): a new overload kpi_band(text, text) reads
--   the value as a number; the same statements are in sql/kpi_catalog.sql;
-- - the SQL that the KPI registry (registry/kpis.toml) makes is generated, and so is what it
--   adds to or changes in 0.5.0, at the end of this script: _kpi_summary_type, which now
--   lists the share KPIs in catalog order (the same answers).
\echo Use "ALTER EXTENSION support_kpi UPDATE TO '0.5.1'" to load this file. \quit

-- At most 64 characters of a name a user gave, for error messages: a 100 kB name is never
-- echoed whole.
CREATE FUNCTION _kpi_excerpt(name text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN pg_catalog.length(name) > 64 THEN pg_catalog.left(name, 64) OPERATOR(pg_catalog.||) '...' ELSE name END;

CREATE OR REPLACE FUNCTION _kpi_check_time_zone() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_timezone_names WHERE lower(name) = lower(NEW.time_zone)) THEN
        RAISE EXCEPTION 'unknown time zone "%" for schedule "%"',
                        @extschema@._kpi_excerpt(NEW.time_zone), @extschema@._kpi_excerpt(NEW.schedule)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give an IANA time zone name, e.g. ''Europe/Berlin'' or ''America/New_York'' (see pg_timezone_names).';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION _kpi_schedule_spec(schedule text) RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    spec text;
BEGIN
    SELECT json_build_object(
        'time_zone', s.time_zone,
        'hours', (SELECT coalesce(json_agg(json_build_array(h.iso_weekday,
                                                          (extract(epoch FROM h.starts) * 1000000)::bigint,
                                                          (extract(epoch FROM h.ends) * 1000000)::bigint)
                                           ORDER BY h.iso_weekday, h.starts), '[]')
                  FROM @extschema@.kpi_schedule_hours h WHERE h.schedule = s.schedule),
        'holidays', (SELECT coalesce(json_agg(h.day - date '2000-01-01' ORDER BY h.day), '[]')
                     FROM @extschema@.kpi_holiday h WHERE h.schedule = s.schedule AND isfinite(h.day)))::text
    INTO spec
    FROM @extschema@.kpi_schedule s WHERE s.schedule = _kpi_schedule_spec.schedule;
    IF spec IS NULL THEN
        RAISE EXCEPTION 'unknown schedule "%"', @extschema@._kpi_excerpt(schedule)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Known schedules: '
                         || (SELECT string_agg(format('%L', @extschema@._kpi_excerpt(s.schedule)), ', ' ORDER BY s.schedule)
                             FROM (SELECT k.schedule FROM @extschema@.kpi_schedule k ORDER BY k.schedule LIMIT 20) s)
                         || (SELECT CASE WHEN count(*) > 20 THEN format(' and %s more', count(*) - 20) ELSE '' END
                             FROM @extschema@.kpi_schedule)
                         || '. Add one with INSERT INTO kpi_schedule and kpi_schedule_hours.';
    END IF;
    RETURN spec;
END
$$;

UPDATE pg_catalog.pg_aggregate a
   SET aggtransspace = CASE a.aggtranstype
                           WHEN '@extschema@.customer_rate_summary'::pg_catalog.regtype::pg_catalog.oid THEN 128
                           WHEN '@extschema@.segment_rate_summary'::pg_catalog.regtype::pg_catalog.oid THEN 512
                           ELSE 128 END
 WHERE a.aggtranstype IN ('@extschema@.customer_rate_summary'::pg_catalog.regtype::pg_catalog.oid,
                          '@extschema@.segment_rate_summary'::pg_catalog.regtype::pg_catalog.oid,
                          '@extschema@.duration_sketch'::pg_catalog.regtype::pg_catalog.oid,
                          '@extschema@.status_history'::pg_catalog.regtype::pg_catalog.oid)
   AND a.aggfnoid IN (SELECT d.objid FROM pg_catalog.pg_depend d
                       WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                         AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
                         AND d.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = 'support_kpi')
                         AND d.deptype = 'e');

-- kpi_band(kpi, NULL) and kpi_band(kpi, '4.2'): an untyped literal (or a text value) is read
-- as a number, as it was before the summary overloads of kpi_band existed; NULL gives NULL.
-- (Without this overload PostgreSQL cannot choose between the numeric and the summary
-- versions for an untyped literal.) A summary literal needs its type: '...'::share_summary.
CREATE FUNCTION kpi_band(kpi text, value text) RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF value !~ '^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$'
       AND lower(btrim(value)) NOT IN ('nan', 'infinity', '+infinity', '-infinity', 'inf', '+inf', '-inf') THEN
        RAISE EXCEPTION 'cannot classify "%" as a value of KPI "%": it is not a number',
            @extschema@._kpi_excerpt(value), kpi
            USING ERRCODE = 'invalid_text_representation',
                  HINT = 'Pass the value as a number (e.g. 4.2), or a summary with its type, e.g. '
                         || '''{"hits":1,"total":12}''::share_summary or escalation_summary(escalated).';
    END IF;
    RETURN @extschema@.kpi_band(kpi, value::numeric);
END
$$;
COMMENT ON FUNCTION kpi_band(text, text) IS
    'support_kpi: the band of a KPI value given as text or as an untyped literal (kpi_band(kpi, NULL) is NULL)';

-- BEGIN additions generated by scripts/generate.py from registry/kpis.toml (do not edit)
-- What the registry makes that 0.5.0 lacked, or makes differently.
CREATE OR REPLACE FUNCTION _kpi_summary_type(kpi text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN kpi IN ('incident_rate', 'contact_rate', 'interaction_rate') THEN 'customer_rate_summary'
    WHEN kpi IN ('nps', 'csat', 'ces') THEN 'survey_summary'
    WHEN kpi IN ('avg_first_response_time', 'avg_resolution_time', 'avg_handling_time') THEN 'duration_summary'
    WHEN kpi IN ('median_first_response_time', 'median_resolution_time', 'median_handling_time') THEN 'duration_sketch'
    WHEN kpi IN ('complaint_resolution_cost') THEN 'cost_summary'
    WHEN kpi IN ('escalation_rate', 'complaint_escalation_rate', 'complaint_resolution_rate',
                 'cross_functional_resolution_rate', 'first_contact_resolution_rate',
                 'sla_compliance_rate', 'complaint_resolution_efficiency', 'reopen_rate',
                 'churn_rate') THEN 'share_summary'
END;
-- END additions generated by scripts/generate.py

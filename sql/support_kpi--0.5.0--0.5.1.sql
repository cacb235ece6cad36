-- support_kpi 0.5.0 -> 0.5.1: ALTER EXTENSION support_kpi UPDATE TO '0.5.1'
--
-- 0.5.1 keeps every object and stored value of 0.5.0. Its library makes the 0.5.0 states
-- safer (the README's upgrade notes list it all): duration_sketch values of a few cases
-- take 124 bytes instead of kilobytes (a sparse layout; 0.5.0's dense sketches are read as
-- they are), one validity rule per state type for text, binary and stored values, no
-- negative time in status, and errors that echo at most 64 characters of a user's input.
-- In SQL, only that last point: the errors of the schedule functions show at most 64
-- characters of a schedule or time zone name (and at most 20 known schedules in the hint).
-- The same statements are in sql/business_hours.sql.
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

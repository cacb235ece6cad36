-- support_kpi 0.4.0 -> 0.5.0: ALTER EXTENSION support_kpi UPDATE TO '0.5.0'
--
-- 0.5.0 keeps every object and stored value of 0.4.0 and adds the percentiles of the time
-- KPIs: the state type duration_sketch, the aggregates median_first_response_time,
-- median_resolution_time, median_handling_time, first_response_sketch,
-- resolution_time_sketch, handling_time_sketch, the accessors percentile, median,
-- completed_count, pending_count and the averages of a sketch, rollup(duration_sketch), the
-- median KPIs' catalog rows (a KPI of that name you added yourself is kept as it is) and
-- their verdicts (kpi_value, kpi_cases, kpi_interval, kpi_band of a duration_sketch); and
-- business hours: the tables kpi_schedule, kpi_schedule_hours and kpi_holiday (with the
-- '24/7' schedule), business_time(), and the time KPIs, their summaries, sketches and medians,
-- complaint_resolution_efficiency and sla_compliance_rate with a schedule argument; and the
-- status-history KPIs: the type status_history, time_in_status, reopen_count, reopen_rate
-- (with its summary, accessor, interval and catalog row).
-- A duration_summary stays as it is, a fixed 32 bytes: stored ones keep reading the same.
-- The same statements are in sql/kpi_catalog.sql, sql/kpi_verdict.sql, sql/percentiles.sql,
-- sql/business_hours.sql and sql/status_history.sql.
\echo Use "ALTER EXTENSION support_kpi UPDATE TO '0.5.0'" to load this file. \quit

INSERT INTO @extschema@.kpi_catalog
    (kpi, title, unit, direction, formula, band_labels, band_edges, edge_belongs_to, min_value, max_value, customized)
VALUES
    ('median_first_response_time', 'Median Response Time', 'hours (the aggregate returns an interval)', 'lower_is_better',
     'middle first-response time (percentile_disc 0.5) of cases with a first response, within 1%',
     '{no bands set}', '{}', '{}', 0, NULL, false),
    ('median_resolution_time', 'Median Resolution Time', 'hours (the aggregate returns an interval)', 'lower_is_better',
     'middle resolution time (percentile_disc 0.5) of resolved cases, within 1%',
     '{no bands set}', '{}', '{}', 0, NULL, false),
    ('median_handling_time', 'Median Handling Time', 'hours (the aggregate returns an interval)', 'lower_is_better',
     'middle handling time (percentile_disc 0.5) of handled contacts, within 1%',
     '{no bands set}', '{}', '{}', 0, NULL, false),
    ('reopen_rate', 'Reopen Rate', '% of tickets', 'lower_is_better',
     'tickets that left a solved status for an unsolved one at least once / tickets * 100',
     '{no bands set}', '{}', '{}', 0, 100, false)
ON CONFLICT (kpi) DO NOTHING;

CREATE OR REPLACE FUNCTION _kpi_summary_type(kpi text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN kpi IN ('incident_rate', 'contact_rate', 'interaction_rate') THEN 'customer_rate_summary'
    WHEN kpi IN ('nps', 'csat', 'ces') THEN 'survey_summary'
    WHEN kpi IN ('avg_first_response_time', 'avg_resolution_time', 'avg_handling_time') THEN 'duration_summary'
    WHEN kpi IN ('median_first_response_time', 'median_resolution_time', 'median_handling_time') THEN 'duration_sketch'
    WHEN kpi = 'complaint_resolution_cost' THEN 'cost_summary'
    WHEN kpi IN ('escalation_rate', 'complaint_escalation_rate', 'complaint_resolution_rate',
                 'cross_functional_resolution_rate', 'first_contact_resolution_rate', 'sla_compliance_rate',
                 'complaint_resolution_efficiency', 'churn_rate', 'reopen_rate') THEN 'share_summary'
END;

-- Percentiles of the time KPIs: median first-response, resolution and handling time, and any
-- percentile of a summary, with a guaranteed relative error of 1% (DDSketch-style buckets).
-- State: duration_sketch, the exact counts and sum of a duration_summary plus the smallest
-- and largest span and the spans' buckets (at most 17.5 kB; 4 to 7 kB for spans from a
-- minute or a second to a month or a year). Sketches merge exactly: rollup() of daily
-- sketches answers the month's percentiles as the aggregate over the month does.
-- Support functions: src/percentiles.rs. Math: crates/kpi_core/src/sketch.rs.
--
--   median_first_response_time(opened_at, first_response_at) -> interval
--   median_resolution_time(opened_at, resolved_at)            -> interval
--   median_handling_time(started_at, ended_at) or median_handling_time(handling_time interval)
--   first_response_sketch(...), resolution_time_sketch(...), handling_time_sketch(...)
--                                                   -> duration_sketch, same arguments
--   percentile(sketch, fraction) -> interval, like percentile_disc(fraction): 0 is the smallest
--   span and 1 the largest (both exact); median(sketch) = percentile(sketch, 0.5)
--   avg_first_response_time(sketch), avg_resolution_time(sketch), avg_handling_time(sketch),
--   completed_count(sketch), pending_count(sketch): exact, as from a duration_summary
-- Rows count as in the averages: a NULL start skips the row, a NULL end is a pending case
-- (in pending_count, not in the percentiles), an end before its start is an ERROR.

CREATE TYPE duration_sketch;

CREATE FUNCTION duration_sketch_in(cstring) RETURNS duration_sketch
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION duration_sketch_out(duration_sketch) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION duration_sketch_recv(internal) RETURNS duration_sketch
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION duration_sketch_send(duration_sketch) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE duration_sketch (
    INPUT = duration_sketch_in, OUTPUT = duration_sketch_out,
    RECEIVE = duration_sketch_recv, SEND = duration_sketch_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = extended
);
COMMENT ON TYPE duration_sketch IS
    'support_kpi: state of a time KPI with percentiles, {"relative_accuracy": 0.01, "completed", "pending", "sum_us", "min_us", "max_us", "zeros", "buckets": {bucket: spans}}';

CREATE FUNCTION duration_sketch_combine(duration_sketch, duration_sketch) RETURNS duration_sketch
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION duration_sketch_median(duration_sketch) RETURNS interval
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- One transition function per KPI and timestamp type (the names go into error messages).
CREATE FUNCTION first_response_sketch_trans(duration_sketch, timestamptz, timestamptz) RETURNS duration_sketch
    AS 'MODULE_PATHNAME', 'first_response_sketch_trans_tz' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE median_first_response_time(opened_at timestamptz, first_response_at timestamptz) (
    SFUNC = first_response_sketch_trans, STYPE = duration_sketch, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, FINALFUNC = duration_sketch_median, PARALLEL = SAFE
);
CREATE AGGREGATE first_response_sketch(opened_at timestamptz, first_response_at timestamptz) (
    SFUNC = first_response_sketch_trans, STYPE = duration_sketch, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, PARALLEL = SAFE
);
CREATE FUNCTION first_response_sketch_trans(duration_sketch, timestamp, timestamp) RETURNS duration_sketch
    AS 'MODULE_PATHNAME', 'first_response_sketch_trans_ts' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE median_first_response_time(opened_at timestamp, first_response_at timestamp) (
    SFUNC = first_response_sketch_trans, STYPE = duration_sketch, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, FINALFUNC = duration_sketch_median, PARALLEL = SAFE
);
CREATE AGGREGATE first_response_sketch(opened_at timestamp, first_response_at timestamp) (
    SFUNC = first_response_sketch_trans, STYPE = duration_sketch, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, PARALLEL = SAFE
);
CREATE FUNCTION avg_first_response_time(summary duration_sketch) RETURNS interval
    AS 'MODULE_PATHNAME', 'duration_sketch_average' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION resolution_time_sketch_trans(duration_sketch, timestamptz, timestamptz) RETURNS duration_sketch
    AS 'MODULE_PATHNAME', 'resolution_time_sketch_trans_tz' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE median_resolution_time(opened_at timestamptz, resolved_at timestamptz) (
    SFUNC = resolution_time_sketch_trans, STYPE = duration_sketch, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, FINALFUNC = duration_sketch_median, PARALLEL = SAFE
);
CREATE AGGREGATE resolution_time_sketch(opened_at timestamptz, resolved_at timestamptz) (
    SFUNC = resolution_time_sketch_trans, STYPE = duration_sketch, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, PARALLEL = SAFE
);
CREATE FUNCTION resolution_time_sketch_trans(duration_sketch, timestamp, timestamp) RETURNS duration_sketch
    AS 'MODULE_PATHNAME', 'resolution_time_sketch_trans_ts' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE median_resolution_time(opened_at timestamp, resolved_at timestamp) (
    SFUNC = resolution_time_sketch_trans, STYPE = duration_sketch, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, FINALFUNC = duration_sketch_median, PARALLEL = SAFE
);
CREATE AGGREGATE resolution_time_sketch(opened_at timestamp, resolved_at timestamp) (
    SFUNC = resolution_time_sketch_trans, STYPE = duration_sketch, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, PARALLEL = SAFE
);
CREATE FUNCTION avg_resolution_time(summary duration_sketch) RETURNS interval
    AS 'MODULE_PATHNAME', 'duration_sketch_average' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION handling_time_sketch_trans(duration_sketch, timestamptz, timestamptz) RETURNS duration_sketch
    AS 'MODULE_PATHNAME', 'handling_time_sketch_trans_tz' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE median_handling_time(started_at timestamptz, ended_at timestamptz) (
    SFUNC = handling_time_sketch_trans, STYPE = duration_sketch, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, FINALFUNC = duration_sketch_median, PARALLEL = SAFE
);
CREATE AGGREGATE handling_time_sketch(started_at timestamptz, ended_at timestamptz) (
    SFUNC = handling_time_sketch_trans, STYPE = duration_sketch, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, PARALLEL = SAFE
);
CREATE FUNCTION handling_time_sketch_trans(duration_sketch, timestamp, timestamp) RETURNS duration_sketch
    AS 'MODULE_PATHNAME', 'handling_time_sketch_trans_ts' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE median_handling_time(started_at timestamp, ended_at timestamp) (
    SFUNC = handling_time_sketch_trans, STYPE = duration_sketch, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, FINALFUNC = duration_sketch_median, PARALLEL = SAFE
);
CREATE AGGREGATE handling_time_sketch(started_at timestamp, ended_at timestamp) (
    SFUNC = handling_time_sketch_trans, STYPE = duration_sketch, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, PARALLEL = SAFE
);
-- Handling time given as a duration per contact (e.g. talk + hold + wrap-up).
CREATE FUNCTION handling_time_sketch_trans(duration_sketch, interval) RETURNS duration_sketch
    AS 'MODULE_PATHNAME', 'handling_time_sketch_trans_interval' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE median_handling_time(handling_time interval) (
    SFUNC = handling_time_sketch_trans, STYPE = duration_sketch, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, FINALFUNC = duration_sketch_median, PARALLEL = SAFE
);
CREATE AGGREGATE handling_time_sketch(handling_time interval) (
    SFUNC = handling_time_sketch_trans, STYPE = duration_sketch, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, PARALLEL = SAFE
);
CREATE FUNCTION avg_handling_time(summary duration_sketch) RETURNS interval
    AS 'MODULE_PATHNAME', 'duration_sketch_average' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Accessors of any sketch.
CREATE FUNCTION percentile(summary duration_sketch, fraction float8) RETURNS interval
    AS 'MODULE_PATHNAME', 'duration_sketch_percentile' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION median(summary duration_sketch) RETURNS interval
    AS 'MODULE_PATHNAME', 'duration_sketch_median' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION completed_count(summary duration_sketch) RETURNS bigint
    AS 'MODULE_PATHNAME', 'duration_sketch_completed' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pending_count(summary duration_sketch) RETURNS bigint
    AS 'MODULE_PATHNAME', 'duration_sketch_pending' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE rollup(duration_sketch) (
    SFUNC = duration_sketch_combine, STYPE = duration_sketch, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, PARALLEL = SAFE
);

-- Verdicts of the median KPIs (in hours, from a sketch); no interval is kept for them.
CREATE FUNCTION kpi_value(kpi text, summary duration_sketch) RETURNS numeric
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT extract(epoch FROM @extschema@.duration_sketch_median(summary)) / 3600
    FROM @extschema@._kpi_check_summary(kpi, 'duration_sketch', NULL);
END;
CREATE FUNCTION kpi_cases(summary duration_sketch) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN @extschema@.completed_count(summary);
CREATE FUNCTION kpi_interval(kpi text, summary duration_sketch, confidence float8 DEFAULT 0.95,
                             OUT lower numeric, OUT upper numeric)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT NULL::numeric, NULL::numeric FROM @extschema@._kpi_check_summary(kpi, 'duration_sketch', NULL);
END;
CREATE FUNCTION kpi_band(kpi text, summary duration_sketch, confidence float8 DEFAULT 0.95) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN @extschema@.kpi_band(kpi, @extschema@.kpi_value(kpi, summary));

-- Business hours: schedules of working hours in a time zone with holidays, business_time(),
-- and the time KPIs measured in business time. Support functions: src/business_hours.rs.
-- Math: crates/kpi_core/src/business.rs.
--
--   kpi_schedule(schedule, time_zone)                 a schedule and its IANA time zone
--   kpi_schedule_hours(schedule, iso_weekday, starts, ends)
--       working hours per ISO weekday (1 = Monday ... 7 = Sunday), several rows per day allowed;
--       ends <= starts is a shift that crosses midnight into the next day (starts = ends: 24 hours)
--   kpi_holiday(schedule, day, name)                  a whole day off, in the schedule's zone
--   business_time(start, end, schedule) -> interval   the working time between two instants
--   avg_first_response_time(opened_at, first_response_at, schedule), avg_resolution_time,
--   avg_handling_time, median_first_response_time, median_resolution_time, median_handling_time,
--   their summaries and sketches, complaint_resolution_efficiency(opened_at, resolved_at, target,
--   schedule) and sla_compliance_rate(opened_at, completed_at, target, schedule): the same KPIs
--   with each span (and the target) in business time.
-- The '24/7' schedule is shipped. Schedules you add are kept by pg_dump (the shipped '24/7'
-- rows are made anew by CREATE EXTENSION).

CREATE TABLE kpi_schedule (
    schedule  text PRIMARY KEY,
    time_zone text NOT NULL  -- an IANA time zone, e.g. 'Europe/Berlin'
);
COMMENT ON TABLE kpi_schedule IS 'support_kpi: business-hours schedules and their time zones, for business_time() and the time KPIs';
CREATE TABLE kpi_schedule_hours (
    schedule    text NOT NULL REFERENCES kpi_schedule ON UPDATE CASCADE ON DELETE CASCADE,
    iso_weekday int NOT NULL CHECK (iso_weekday BETWEEN 1 AND 7),  -- 1 = Monday ... 7 = Sunday
    starts      time NOT NULL CHECK (starts < time '24:00'),
    ends        time NOT NULL,  -- at or before starts: the shift ends the next day
    PRIMARY KEY (schedule, iso_weekday, starts)
);
COMMENT ON TABLE kpi_schedule_hours IS 'support_kpi: the weekly working hours of each schedule, in its time zone';
CREATE TABLE kpi_holiday (
    schedule text NOT NULL REFERENCES kpi_schedule ON UPDATE CASCADE ON DELETE CASCADE,
    day      date NOT NULL,
    name     text,
    PRIMARY KEY (schedule, day)
);
COMMENT ON TABLE kpi_holiday IS 'support_kpi: whole days off of a schedule, in its time zone';

-- A time zone PostgreSQL does not know is refused when the schedule is written.
CREATE FUNCTION _kpi_check_time_zone() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_timezone_names WHERE lower(name) = lower(NEW.time_zone)) THEN
        RAISE EXCEPTION 'unknown time zone "%" for schedule "%"', NEW.time_zone, NEW.schedule
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give an IANA time zone name, e.g. ''Europe/Berlin'' or ''America/New_York'' (see pg_timezone_names).';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER kpi_schedule_time_zone BEFORE INSERT OR UPDATE OF time_zone ON kpi_schedule
    FOR EACH ROW EXECUTE FUNCTION _kpi_check_time_zone();

INSERT INTO kpi_schedule VALUES ('24/7', 'UTC');
INSERT INTO kpi_schedule_hours SELECT '24/7', d, '00:00', '00:00' FROM generate_series(1, 7) d;
SELECT pg_catalog.pg_extension_config_dump('kpi_schedule', $$WHERE schedule <> '24/7'$$);
SELECT pg_catalog.pg_extension_config_dump('kpi_schedule_hours', $$WHERE schedule <> '24/7'$$);
SELECT pg_catalog.pg_extension_config_dump('kpi_holiday', '');
-- Every role may read the schedules (business_time and the KPIs read them as the caller);
-- changing them takes the rights the owner grants.
GRANT SELECT ON kpi_schedule, kpi_schedule_hours, kpi_holiday TO PUBLIC;

-- A schedule as the support functions read it (JSON), or an error for an unknown one.
CREATE FUNCTION _kpi_schedule_spec(schedule text) RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE
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
        RAISE EXCEPTION 'unknown schedule "%"', schedule
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Known schedules: ' || (SELECT string_agg(format('%L', s.schedule), ', ' ORDER BY s.schedule)
                                                FROM @extschema@.kpi_schedule s)
                         || '. Add one with INSERT INTO kpi_schedule and kpi_schedule_hours.';
    END IF;
    RETURN spec;
END
$$;

CREATE FUNCTION business_time("start" timestamptz, "end" timestamptz, schedule text) RETURNS interval
    AS 'MODULE_PATHNAME', 'business_time' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION business_time(timestamptz, timestamptz, text) IS
    'support_kpi: the working time between two instants under a schedule of kpi_schedule';


CREATE FUNCTION first_response_business_trans(duration_summary, timestamptz, timestamptz, text) RETURNS duration_summary
    AS 'MODULE_PATHNAME', 'first_response_business_trans' LANGUAGE C STABLE PARALLEL SAFE;
CREATE AGGREGATE avg_first_response_time(opened_at timestamptz, first_response_at timestamptz, schedule text) (
    SFUNC = first_response_business_trans, STYPE = duration_summary, INITCOND = '{"completed":0,"pending":0,"sum_us":0}',
    COMBINEFUNC = duration_combine, FINALFUNC = duration_average, PARALLEL = SAFE
);
CREATE AGGREGATE first_response_summary(opened_at timestamptz, first_response_at timestamptz, schedule text) (
    SFUNC = first_response_business_trans, STYPE = duration_summary, INITCOND = '{"completed":0,"pending":0,"sum_us":0}',
    COMBINEFUNC = duration_combine, PARALLEL = SAFE
);
CREATE FUNCTION first_response_sketch_business_trans(duration_sketch, timestamptz, timestamptz, text) RETURNS duration_sketch
    AS 'MODULE_PATHNAME', 'first_response_sketch_business_trans' LANGUAGE C STABLE PARALLEL SAFE;
CREATE AGGREGATE median_first_response_time(opened_at timestamptz, first_response_at timestamptz, schedule text) (
    SFUNC = first_response_sketch_business_trans, STYPE = duration_sketch, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, FINALFUNC = duration_sketch_median, PARALLEL = SAFE
);
CREATE AGGREGATE first_response_sketch(opened_at timestamptz, first_response_at timestamptz, schedule text) (
    SFUNC = first_response_sketch_business_trans, STYPE = duration_sketch, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, PARALLEL = SAFE
);

CREATE FUNCTION resolution_time_business_trans(duration_summary, timestamptz, timestamptz, text) RETURNS duration_summary
    AS 'MODULE_PATHNAME', 'resolution_time_business_trans' LANGUAGE C STABLE PARALLEL SAFE;
CREATE AGGREGATE avg_resolution_time(opened_at timestamptz, resolved_at timestamptz, schedule text) (
    SFUNC = resolution_time_business_trans, STYPE = duration_summary, INITCOND = '{"completed":0,"pending":0,"sum_us":0}',
    COMBINEFUNC = duration_combine, FINALFUNC = duration_average, PARALLEL = SAFE
);
CREATE AGGREGATE resolution_time_summary(opened_at timestamptz, resolved_at timestamptz, schedule text) (
    SFUNC = resolution_time_business_trans, STYPE = duration_summary, INITCOND = '{"completed":0,"pending":0,"sum_us":0}',
    COMBINEFUNC = duration_combine, PARALLEL = SAFE
);
CREATE FUNCTION resolution_time_sketch_business_trans(duration_sketch, timestamptz, timestamptz, text) RETURNS duration_sketch
    AS 'MODULE_PATHNAME', 'resolution_time_sketch_business_trans' LANGUAGE C STABLE PARALLEL SAFE;
CREATE AGGREGATE median_resolution_time(opened_at timestamptz, resolved_at timestamptz, schedule text) (
    SFUNC = resolution_time_sketch_business_trans, STYPE = duration_sketch, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, FINALFUNC = duration_sketch_median, PARALLEL = SAFE
);
CREATE AGGREGATE resolution_time_sketch(opened_at timestamptz, resolved_at timestamptz, schedule text) (
    SFUNC = resolution_time_sketch_business_trans, STYPE = duration_sketch, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, PARALLEL = SAFE
);

CREATE FUNCTION handling_time_business_trans(duration_summary, timestamptz, timestamptz, text) RETURNS duration_summary
    AS 'MODULE_PATHNAME', 'handling_time_business_trans' LANGUAGE C STABLE PARALLEL SAFE;
CREATE AGGREGATE avg_handling_time(started_at timestamptz, ended_at timestamptz, schedule text) (
    SFUNC = handling_time_business_trans, STYPE = duration_summary, INITCOND = '{"completed":0,"pending":0,"sum_us":0}',
    COMBINEFUNC = duration_combine, FINALFUNC = duration_average, PARALLEL = SAFE
);
CREATE AGGREGATE handling_time_summary(started_at timestamptz, ended_at timestamptz, schedule text) (
    SFUNC = handling_time_business_trans, STYPE = duration_summary, INITCOND = '{"completed":0,"pending":0,"sum_us":0}',
    COMBINEFUNC = duration_combine, PARALLEL = SAFE
);
CREATE FUNCTION handling_time_sketch_business_trans(duration_sketch, timestamptz, timestamptz, text) RETURNS duration_sketch
    AS 'MODULE_PATHNAME', 'handling_time_sketch_business_trans' LANGUAGE C STABLE PARALLEL SAFE;
CREATE AGGREGATE median_handling_time(started_at timestamptz, ended_at timestamptz, schedule text) (
    SFUNC = handling_time_sketch_business_trans, STYPE = duration_sketch, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, FINALFUNC = duration_sketch_median, PARALLEL = SAFE
);
CREATE AGGREGATE handling_time_sketch(started_at timestamptz, ended_at timestamptz, schedule text) (
    SFUNC = handling_time_sketch_business_trans, STYPE = duration_sketch, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, PARALLEL = SAFE
);

CREATE FUNCTION resolution_efficiency_business_trans(share_summary, timestamptz, timestamptz, interval, text) RETURNS share_summary
    AS 'MODULE_PATHNAME', 'resolution_efficiency_business_trans' LANGUAGE C STABLE PARALLEL SAFE;
CREATE AGGREGATE complaint_resolution_efficiency(opened_at timestamptz, resolved_at timestamptz, target interval, schedule text) (
    SFUNC = resolution_efficiency_business_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, FINALFUNC = escalation_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE complaint_resolution_efficiency_summary(opened_at timestamptz, resolved_at timestamptz, target interval, schedule text) (
    SFUNC = resolution_efficiency_business_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, PARALLEL = SAFE
);

CREATE FUNCTION sla_compliance_business_trans(share_summary, timestamptz, timestamptz, interval, text) RETURNS share_summary
    AS 'MODULE_PATHNAME', 'sla_compliance_business_trans' LANGUAGE C STABLE PARALLEL SAFE;
CREATE AGGREGATE sla_compliance_rate(opened_at timestamptz, completed_at timestamptz, target interval, schedule text) (
    SFUNC = sla_compliance_business_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, FINALFUNC = escalation_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE sla_compliance_summary(opened_at timestamptz, completed_at timestamptz, target interval, schedule text) (
    SFUNC = sla_compliance_business_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, PARALLEL = SAFE
);

-- Time in status and reopens, from one ticket's status history: aggregates over a ticket's
-- status changes (rows in any order), grouped by ticket. Support functions:
-- src/status_history.rs. Math: crates/kpi_core/src/status.rs.
--
--   time_in_status(status, changed_at, statuses text[] [, until timestamptz [, schedule text]])
--       -> interval: how long the ticket was in any of the statuses; each status lasts until
--          the next change, the last one until `until` (NULL or left out: the last change)
--   reopen_count(status, changed_at, solved_statuses text[]) -> integer: how many times the
--       ticket left a solved status for an unsolved one
--   reopen_rate(reopened boolean) -> % of tickets reopened at least once (share_summary)
-- Changes at the same instant are ordered by status (bytewise, as COLLATE "C"). Rows with a
-- NULL status or changed_at are skipped; no rows: NULL. Every row of a ticket gives the same
-- until and schedule. With a schedule, each span counts its business time (business_time()).

CREATE TYPE status_history;

CREATE FUNCTION status_history_in(cstring) RETURNS status_history
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION status_history_out(status_history) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION status_history_recv(internal) RETURNS status_history
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION status_history_send(status_history) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE status_history (
    INPUT = status_history_in, OUTPUT = status_history_out,
    RECEIVE = status_history_recv, SEND = status_history_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = extended
);
COMMENT ON TYPE status_history IS
    'support_kpi: state of time_in_status and reopen_count, {"until_us", "schedule", "changes": [[changed_at_us, status, counted], ...]}';

CREATE FUNCTION status_history_combine(status_history, status_history) RETURNS status_history
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION time_in_status_trans(status_history, text, timestamptz, text[]) RETURNS status_history
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION time_in_status_trans(status_history, text, timestamptz, text[], timestamptz) RETURNS status_history
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION time_in_status_trans(status_history, text, timestamptz, text[], timestamptz, text) RETURNS status_history
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- STABLE: with a schedule, it reads kpi_schedule
CREATE FUNCTION time_in_status_final(status_history) RETURNS interval
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE time_in_status(status text, changed_at timestamptz, statuses text[]) (
    SFUNC = time_in_status_trans, STYPE = status_history,
    INITCOND = '{"until_us":null,"schedule":null,"changes":[]}',
    COMBINEFUNC = status_history_combine, FINALFUNC = time_in_status_final, PARALLEL = SAFE
);
CREATE AGGREGATE time_in_status(status text, changed_at timestamptz, statuses text[], until timestamptz) (
    SFUNC = time_in_status_trans, STYPE = status_history,
    INITCOND = '{"until_us":null,"schedule":null,"changes":[]}',
    COMBINEFUNC = status_history_combine, FINALFUNC = time_in_status_final, PARALLEL = SAFE
);
CREATE AGGREGATE time_in_status(status text, changed_at timestamptz, statuses text[], until timestamptz, schedule text) (
    SFUNC = time_in_status_trans, STYPE = status_history,
    INITCOND = '{"until_us":null,"schedule":null,"changes":[]}',
    COMBINEFUNC = status_history_combine, FINALFUNC = time_in_status_final, PARALLEL = SAFE
);

CREATE FUNCTION reopen_count_trans(status_history, text, timestamptz, text[]) RETURNS status_history
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION reopen_count_final(status_history) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE reopen_count(status text, changed_at timestamptz, solved_statuses text[]) (
    SFUNC = reopen_count_trans, STYPE = status_history,
    INITCOND = '{"until_us":null,"schedule":null,"changes":[]}',
    COMBINEFUNC = status_history_combine, FINALFUNC = reopen_count_final, PARALLEL = SAFE
);

-- The share of tickets reopened at least once: reopen_rate(reopen_count(...) > 0) over tickets.
CREATE AGGREGATE reopen_rate(reopened boolean) (
    SFUNC = share_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, FINALFUNC = escalation_rate_final,
    MSFUNC = share_trans, MINVFUNC = share_inv_trans, MSTYPE = share_summary,
    MINITCOND = '{"hits":0,"total":0}', MFINALFUNC = escalation_rate_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE reopen_summary(reopened boolean) (
    SFUNC = share_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, PARALLEL = SAFE
);
CREATE FUNCTION reopen_rate(summary share_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'share_percent' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION reopen_rate_ci(summary share_summary, confidence float8 DEFAULT 0.95,
                          OUT lower numeric, OUT upper numeric)
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    BEGIN ATOMIC
        SELECT @extschema@.share_wilson_bound(summary, confidence, false)::numeric,
               @extschema@.share_wilson_bound(summary, confidence, true)::numeric;
    END;

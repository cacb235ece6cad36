-- Time KPIs: average first-response, resolution and handling time, as intervals.
-- State: duration_summary (completed cases, pending cases, exact sum of spans in
-- microseconds), 32 bytes updated in place. Support functions: src/durations.rs.
-- Math: crates/kpi_core/src/duration.rs.
--
--   avg_first_response_time(opened_at, first_response_at) -> interval
--   avg_resolution_time(opened_at, resolved_at)            -> interval
--   avg_handling_time(started_at, ended_at) or avg_handling_time(handling_time interval)
-- A NULL start skips the row. A NULL end is a pending case: left out of the average and
-- counted separately (pending_count of the summary). An end before its start is an ERROR.
-- The average is exact, rounded to the microsecond, shown as days and hours (justify_hours).

CREATE TYPE duration_summary;

CREATE FUNCTION duration_summary_in(cstring) RETURNS duration_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION duration_summary_out(duration_summary) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION duration_summary_recv(internal) RETURNS duration_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION duration_summary_send(duration_summary) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE duration_summary (
    INPUT = duration_summary_in, OUTPUT = duration_summary_out,
    RECEIVE = duration_summary_recv, SEND = duration_summary_send,
    INTERNALLENGTH = 32, ALIGNMENT = double, STORAGE = plain
);
COMMENT ON TYPE duration_summary IS
    'support_kpi: state of a time KPI, {"completed": cases with both ends, "pending": cases without an end, "sum_us": sum of spans in microseconds}';

CREATE FUNCTION duration_combine(duration_summary, duration_summary) RETURNS duration_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION duration_average(duration_summary) RETURNS interval
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- One transition function per KPI and timestamp type (the names go into error messages).
DO $$
DECLARE
    kpi record;
    ts text;
BEGIN
    FOR kpi IN SELECT * FROM (VALUES
        ('avg_first_response_time', 'first_response_summary', 'first_response_trans', 'opened_at', 'first_response_at'),
        ('avg_resolution_time', 'resolution_time_summary', 'resolution_time_trans', 'opened_at', 'resolved_at'),
        ('avg_handling_time', 'handling_time_summary', 'handling_time_trans', 'started_at', 'ended_at')
    ) AS k(avg, summary, trans, start_arg, end_arg)
    LOOP
        FOREACH ts IN ARRAY ARRAY['timestamptz', 'timestamp'] LOOP
            EXECUTE format(
                'CREATE FUNCTION %1$I(duration_summary, %2$s, %2$s) RETURNS duration_summary
                     AS ''MODULE_PATHNAME'', %3$L LANGUAGE C IMMUTABLE PARALLEL SAFE',
                kpi.trans, ts, kpi.trans || CASE ts WHEN 'timestamptz' THEN '_tz' ELSE '_ts' END);
            EXECUTE format(
                'CREATE AGGREGATE %1$I(%2$I %3$s, %4$I %3$s) (
                     SFUNC = %5$I, STYPE = duration_summary,
                     INITCOND = ''{"completed":0,"pending":0,"sum_us":0}'',
                     COMBINEFUNC = duration_combine, FINALFUNC = duration_average, PARALLEL = SAFE)',
                kpi.avg, kpi.start_arg, ts, kpi.end_arg, kpi.trans);
            EXECUTE format(
                'CREATE AGGREGATE %1$I(%2$I %3$s, %4$I %3$s) (
                     SFUNC = %5$I, STYPE = duration_summary,
                     INITCOND = ''{"completed":0,"pending":0,"sum_us":0}'',
                     COMBINEFUNC = duration_combine, PARALLEL = SAFE)',
                kpi.summary, kpi.start_arg, ts, kpi.end_arg, kpi.trans);
        END LOOP;
        -- the average of a summary
        EXECUTE format(
            'CREATE FUNCTION %1$I(summary duration_summary) RETURNS interval
                 AS ''MODULE_PATHNAME'', ''duration_average'' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE',
            kpi.avg);
    END LOOP;
END
$$;

-- Handling time given as a duration per contact (e.g. talk + hold + wrap-up).
CREATE FUNCTION handling_time_trans(duration_summary, interval) RETURNS duration_summary
    AS 'MODULE_PATHNAME', 'handling_time_trans_interval' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE avg_handling_time(handling_time interval) (
    SFUNC = handling_time_trans, STYPE = duration_summary,
    INITCOND = '{"completed":0,"pending":0,"sum_us":0}',
    COMBINEFUNC = duration_combine, FINALFUNC = duration_average, PARALLEL = SAFE
);
CREATE AGGREGATE handling_time_summary(handling_time interval) (
    SFUNC = handling_time_trans, STYPE = duration_summary,
    INITCOND = '{"completed":0,"pending":0,"sum_us":0}',
    COMBINEFUNC = duration_combine, PARALLEL = SAFE
);

-- The counts of a summary: cases in the average, and cases still waiting for their end.
CREATE FUNCTION completed_count(summary duration_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'duration_completed' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pending_count(summary duration_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'duration_pending' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE rollup(duration_summary) (
    SFUNC = duration_combine, STYPE = duration_summary,
    INITCOND = '{"completed":0,"pending":0,"sum_us":0}',
    COMBINEFUNC = duration_combine, PARALLEL = SAFE
);

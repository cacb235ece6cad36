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
CREATE FUNCTION first_response_trans(duration_summary, timestamptz, timestamptz) RETURNS duration_summary
    AS 'MODULE_PATHNAME', 'first_response_trans_tz' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE avg_first_response_time(opened_at timestamptz, first_response_at timestamptz) (
    SFUNC = first_response_trans, STYPE = duration_summary,
    INITCOND = '{"completed":0,"pending":0,"sum_us":0}',
    COMBINEFUNC = duration_combine, FINALFUNC = duration_average, PARALLEL = SAFE
);
CREATE AGGREGATE first_response_summary(opened_at timestamptz, first_response_at timestamptz) (
    SFUNC = first_response_trans, STYPE = duration_summary,
    INITCOND = '{"completed":0,"pending":0,"sum_us":0}',
    COMBINEFUNC = duration_combine, PARALLEL = SAFE
);
CREATE FUNCTION first_response_trans(duration_summary, timestamp, timestamp) RETURNS duration_summary
    AS 'MODULE_PATHNAME', 'first_response_trans_ts' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE avg_first_response_time(opened_at timestamp, first_response_at timestamp) (
    SFUNC = first_response_trans, STYPE = duration_summary,
    INITCOND = '{"completed":0,"pending":0,"sum_us":0}',
    COMBINEFUNC = duration_combine, FINALFUNC = duration_average, PARALLEL = SAFE
);
CREATE AGGREGATE first_response_summary(opened_at timestamp, first_response_at timestamp) (
    SFUNC = first_response_trans, STYPE = duration_summary,
    INITCOND = '{"completed":0,"pending":0,"sum_us":0}',
    COMBINEFUNC = duration_combine, PARALLEL = SAFE
);
-- the average of a summary
CREATE FUNCTION avg_first_response_time(summary duration_summary) RETURNS interval
    AS 'MODULE_PATHNAME', 'duration_average' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION resolution_time_trans(duration_summary, timestamptz, timestamptz) RETURNS duration_summary
    AS 'MODULE_PATHNAME', 'resolution_time_trans_tz' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE avg_resolution_time(opened_at timestamptz, resolved_at timestamptz) (
    SFUNC = resolution_time_trans, STYPE = duration_summary,
    INITCOND = '{"completed":0,"pending":0,"sum_us":0}',
    COMBINEFUNC = duration_combine, FINALFUNC = duration_average, PARALLEL = SAFE
);
CREATE AGGREGATE resolution_time_summary(opened_at timestamptz, resolved_at timestamptz) (
    SFUNC = resolution_time_trans, STYPE = duration_summary,
    INITCOND = '{"completed":0,"pending":0,"sum_us":0}',
    COMBINEFUNC = duration_combine, PARALLEL = SAFE
);
CREATE FUNCTION resolution_time_trans(duration_summary, timestamp, timestamp) RETURNS duration_summary
    AS 'MODULE_PATHNAME', 'resolution_time_trans_ts' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE avg_resolution_time(opened_at timestamp, resolved_at timestamp) (
    SFUNC = resolution_time_trans, STYPE = duration_summary,
    INITCOND = '{"completed":0,"pending":0,"sum_us":0}',
    COMBINEFUNC = duration_combine, FINALFUNC = duration_average, PARALLEL = SAFE
);
CREATE AGGREGATE resolution_time_summary(opened_at timestamp, resolved_at timestamp) (
    SFUNC = resolution_time_trans, STYPE = duration_summary,
    INITCOND = '{"completed":0,"pending":0,"sum_us":0}',
    COMBINEFUNC = duration_combine, PARALLEL = SAFE
);
-- the average of a summary
CREATE FUNCTION avg_resolution_time(summary duration_summary) RETURNS interval
    AS 'MODULE_PATHNAME', 'duration_average' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION handling_time_trans(duration_summary, timestamptz, timestamptz) RETURNS duration_summary
    AS 'MODULE_PATHNAME', 'handling_time_trans_tz' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE avg_handling_time(started_at timestamptz, ended_at timestamptz) (
    SFUNC = handling_time_trans, STYPE = duration_summary,
    INITCOND = '{"completed":0,"pending":0,"sum_us":0}',
    COMBINEFUNC = duration_combine, FINALFUNC = duration_average, PARALLEL = SAFE
);
CREATE AGGREGATE handling_time_summary(started_at timestamptz, ended_at timestamptz) (
    SFUNC = handling_time_trans, STYPE = duration_summary,
    INITCOND = '{"completed":0,"pending":0,"sum_us":0}',
    COMBINEFUNC = duration_combine, PARALLEL = SAFE
);
CREATE FUNCTION handling_time_trans(duration_summary, timestamp, timestamp) RETURNS duration_summary
    AS 'MODULE_PATHNAME', 'handling_time_trans_ts' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE avg_handling_time(started_at timestamp, ended_at timestamp) (
    SFUNC = handling_time_trans, STYPE = duration_summary,
    INITCOND = '{"completed":0,"pending":0,"sum_us":0}',
    COMBINEFUNC = duration_combine, FINALFUNC = duration_average, PARALLEL = SAFE
);
CREATE AGGREGATE handling_time_summary(started_at timestamp, ended_at timestamp) (
    SFUNC = handling_time_trans, STYPE = duration_summary,
    INITCOND = '{"completed":0,"pending":0,"sum_us":0}',
    COMBINEFUNC = duration_combine, PARALLEL = SAFE
);
-- the average of a summary
CREATE FUNCTION avg_handling_time(summary duration_summary) RETURNS interval
    AS 'MODULE_PATHNAME', 'duration_average' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

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

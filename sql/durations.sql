-- Time KPIs: average first-response, resolution and handling time, as intervals.
-- State: duration_summary (completed cases, pending cases, exact sum of spans in
-- microseconds), 32 bytes updated in place. Support functions: src/durations.rs.
-- Math: crates/kpi_core/src/durations.rs.
--
--   avg_first_response_time(opened_at, first_response_at) -> interval
--   avg_resolution_time(opened_at, resolved_at)            -> interval
--   avg_handling_time(started_at, ended_at) or avg_handling_time(handling_time interval)
-- A NULL start skips the row. A NULL end is a pending case: left out of the average and
-- counted separately (pending_count of the summary). An end before its start is an ERROR.
-- The average is exact, rounded to the microsecond, shown as days and hours (justify_hours).

CREATE FUNCTION duration_average(duration_summary) RETURNS interval
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The KPIs (avg_first_response_time, avg_resolution_time, avg_handling_time), their
-- transition functions, *_summary aggregates and accessors are generated from the KPI
-- registry: sql/durations_kpis.sql.

-- The counts of a summary: cases in the average, and cases still waiting for their end.
CREATE FUNCTION completed_count(summary duration_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'duration_completed' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pending_count(summary duration_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'duration_pending' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;


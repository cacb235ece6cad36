-- Percentiles of the time KPIs: median first-response, resolution and handling time, and any
-- percentile of a summary, with a guaranteed relative error of 1% (DDSketch-style buckets).
-- State: duration_sketch, the exact counts and sum of a duration_summary plus the smallest
-- and largest span and the spans' buckets (124 bytes for a group of a few cases, at most
-- 17.5 kB). Sketches merge exactly: rollup() of daily sketches answers the month's
-- percentiles as the aggregate over the month does.
-- Support functions: src/percentiles.rs. Math: crates/kpi_core/src/percentiles.rs.
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

CREATE FUNCTION duration_sketch_median(duration_sketch) RETURNS interval
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The KPIs (median_first_response_time, median_resolution_time, median_handling_time),
-- their transition functions, *_sketch aggregates and the accessors of their average are
-- generated from the KPI registry: sql/percentiles_kpis.sql.

-- Accessors of any sketch.
CREATE FUNCTION percentile(summary duration_sketch, fraction float8) RETURNS interval
    AS 'MODULE_PATHNAME', 'duration_sketch_percentile' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION median(summary duration_sketch) RETURNS interval
    AS 'MODULE_PATHNAME', 'duration_sketch_median' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION completed_count(summary duration_sketch) RETURNS bigint
    AS 'MODULE_PATHNAME', 'duration_sketch_completed' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pending_count(summary duration_sketch) RETURNS bigint
    AS 'MODULE_PATHNAME', 'duration_sketch_pending' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

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

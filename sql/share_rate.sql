-- Share KPIs: % of TRUE among non-NULL booleans. State: share_summary, two int8 counters.
-- Support functions: src/share_rate.rs. Math: crates/kpi_core/src/share_rate.rs.

CREATE FUNCTION share_trans(share_summary, boolean) RETURNS share_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION share_inv_trans(share_summary, boolean) RETURNS share_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION escalation_rate_final(share_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'share_percent' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The share KPIs themselves (escalation_rate(escalated boolean), escalation_summary, the
-- accessors escalation_rate(share_summary) and escalation_rate_ci, and the same for every
-- other share KPI) are generated from the KPI registry: sql/share_rate_kpis.sql.

-- Summaries: the state as a value, to store (e.g. per day) and combine later (per month) with
-- rollup(share_summary), or to compute on several servers and combine on one. The type, its
-- combine function and rollup: sql/state_types.sql (generated from the registry).
-- The cases behind a share (its denominator).
CREATE FUNCTION case_count(summary share_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'share_total' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- A bound of the Wilson score interval with continuity correction (since 0.5.1) of the rate
-- of a summary, in percent: how noisy the rate is. escalation_rate_ci(escalation_summary(
-- escalated)) -> (lower, upper) reads both; 1 of 12 gives 0.44 to 40.25.
CREATE FUNCTION share_wilson_bound(share_summary, float8, boolean) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

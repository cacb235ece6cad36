-- The cost KPIs: complaint_resolution_cost (total cost / resolved complaints) and
-- cost_per_complaint (total cost / complaints with a cost, resolved or not).
-- State: cost_summary (resolved count, cost count and the exact total, with the largest scale of the
-- costs, as sum(numeric) keeps it), 32 bytes updated in place. Support functions:
-- src/resolution_cost.rs. Math: crates/kpi_core/src/resolution_cost.rs.
--
--   complaint_resolution_cost(cost numeric, resolved boolean) -> numeric
-- equals sum(cost) / nullif(count(*) FILTER (WHERE resolved), 0): every non-NULL cost given counts in
-- the total (include unresolved complaints' costs or not, with FILTER), and only resolved
-- complaints count in the denominator. No resolved complaint, or no cost at all: NULL.
-- A negative, NaN or infinite cost is an ERROR.

-- The KPIs' transition functions, aggregates and accessors are generated from the KPI
-- registry: sql/resolution_cost_kpis.sql. Any cost summary answers every cost KPI, e.g.
-- cost_per_complaint(complaint_resolution_cost_summary(cost, resolved)).

-- The counts and total of a summary.
CREATE FUNCTION resolved_count(summary cost_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'cost_resolved' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION total_cost(summary cost_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'cost_total' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cost_count(summary cost_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'cost_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;


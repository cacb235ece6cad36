-- Per-customer rates over customers LEFT JOIN events: events / distinct customers * scale.
-- State: customer_rate_summary (distinct customer keys + event count), a flat value updated
-- in place while aggregating. Support functions: src/customer_rate.rs. Math:
-- crates/kpi_core/src/flat.rs (in memory) and crates/kpi_core/src/customer_rate.rs (text, binary).

-- The counts behind a per-customer rate, and its exact Poisson (Garwood) interval: how noisy
-- the rate is. incident_rate_ci(incident_summary(c.id, t.id)) -> (lower, upper), per 1,000
-- customers; 0 incidents among 100 customers gives 0 to 36.9. The KPIs' own aggregates,
-- accessors and *_ci functions (incident_rate, contact_rate, interaction_rate) are generated
-- from the KPI registry: sql/customer_rate_kpis.sql.
CREATE FUNCTION customer_count(summary customer_rate_summary) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION event_count(summary customer_rate_summary) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION poisson_rate_bound(events bigint, exposure bigint, scale float8, confidence float8, upper boolean)
    RETURNS float8 AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- The interval of events per customer times scale (1000: incident_rate; 100: the others).
CREATE FUNCTION _customer_rate_ci(summary customer_rate_summary, scale float8, confidence float8,
                                  OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.poisson_rate_bound(@extschema@.event_count(summary), @extschema@.customer_count(summary),
                                          scale, confidence, false)::numeric,
           @extschema@.poisson_rate_bound(@extschema@.event_count(summary), @extschema@.customer_count(summary),
                                          scale, confidence, true)::numeric;
END;

-- The summary with every customer listed, at any size, as jsonb; the type's text form packs
-- more than 64 integer or uuid customers ("packed": base64), e.g.
-- summary_json(incident_summary(c.id, t.id)) -> 'customers'.
CREATE FUNCTION summary_json(summary customer_rate_summary) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'customer_rate_summary_listed' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

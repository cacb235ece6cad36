-- Customer churn rate: customers lost in a period / customers at its start * 100.
-- State: share_summary (hits = lost, total = customers at the start). Support function:
-- src/churn.rs, which says which customers count.
--   churn_rate(active_from, churned_at, period_start, period_end)    -> numeric %
--   churn_summary(active_from, churned_at, period_start, period_end) -> share_summary
-- One row per customer; the period is [period_start, period_end).

CREATE FUNCTION churn_trans(share_summary, timestamptz, timestamptz, timestamptz, timestamptz)
    RETURNS share_summary AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE churn_rate(active_from timestamptz, churned_at timestamptz,
                            period_start timestamptz, period_end timestamptz) (
    SFUNC = churn_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, FINALFUNC = escalation_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE churn_summary(active_from timestamptz, churned_at timestamptz,
                               period_start timestamptz, period_end timestamptz) (
    SFUNC = churn_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, PARALLEL = SAFE
);

CREATE FUNCTION churn_rate(summary share_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'share_percent' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION churn_rate_ci(summary share_summary, confidence float8 DEFAULT 0.95,
                              OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT @extschema@.share_wilson_bound(summary, confidence, false)::numeric,
           @extschema@.share_wilson_bound(summary, confidence, true)::numeric
$$;

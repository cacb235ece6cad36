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

-- churn_rate(share_summary) and churn_rate_ci(share_summary, confidence), the accessors of
-- churn_summary, are generated from the KPI registry with the other share accessors:
-- sql/share_rate_kpis.sql.

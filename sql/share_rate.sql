-- Share KPIs: % of TRUE among non-NULL booleans. State: share_summary, two int8 counters.
-- Support functions: src/share_rate.rs. Math: crates/kpi_core/src/share.rs.

CREATE TYPE share_summary;

CREATE FUNCTION share_summary_in(cstring) RETURNS share_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION share_summary_out(share_summary) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION share_summary_recv(internal) RETURNS share_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION share_summary_send(share_summary) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE share_summary (
    INPUT = share_summary_in, OUTPUT = share_summary_out,
    RECEIVE = share_summary_recv, SEND = share_summary_send,
    INTERNALLENGTH = 16, ALIGNMENT = double, STORAGE = plain
);
COMMENT ON TYPE share_summary IS
    'support_kpi: state of a share KPI, {"hits": TRUE inputs, "total": non-NULL inputs}';

CREATE FUNCTION share_trans(share_summary, boolean) RETURNS share_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION share_inv_trans(share_summary, boolean) RETURNS share_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION share_combine(share_summary, share_summary) RETURNS share_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION escalation_rate_final(share_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'share_percent' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE escalation_rate(escalated boolean) (
    SFUNC = share_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, FINALFUNC = escalation_rate_final,
    MSFUNC = share_trans, MINVFUNC = share_inv_trans, MSTYPE = share_summary,
    MINITCOND = '{"hits":0,"total":0}', MFINALFUNC = escalation_rate_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE escalation_rate(boolean) IS
    'support_kpi: % of TRUE among non-NULL inputs (escalated cases / cases * 100), numeric 0-100';

-- Summaries: the state as a value, to store (e.g. per day) and combine later (per month),
-- or to compute on several servers and combine on one.
--   escalation_summary(escalated) -> share_summary
--   rollup(share_summary)         -> share_summary (combines summaries)
--   escalation_rate(share_summary) -> numeric      (the rate of a summary)
CREATE AGGREGATE escalation_summary(escalated boolean) (
    SFUNC = share_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, PARALLEL = SAFE
);
CREATE AGGREGATE rollup(share_summary) (
    SFUNC = share_combine, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, PARALLEL = SAFE
);
CREATE FUNCTION escalation_rate(summary share_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'share_percent' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- The cases behind a share (its denominator).
CREATE FUNCTION case_count(summary share_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'share_total' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The Wilson score interval of the rate of a summary, in percent: how noisy the rate is.
-- escalation_rate_ci(escalation_summary(escalated)) -> (lower, upper); 1 of 12 gives 1.49 to 35.39.
CREATE FUNCTION share_wilson_bound(share_summary, float8, boolean) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION escalation_rate_ci(summary share_summary, confidence float8 DEFAULT 0.95,
                                   OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.share_wilson_bound(summary, confidence, false)::numeric,
           @extschema@.share_wilson_bound(summary, confidence, true)::numeric;
END;

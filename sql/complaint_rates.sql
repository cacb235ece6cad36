-- The share KPIs of complaint handling (ISO 10002 set) and of case quality: % of cases that
-- were escalated, resolved, resolved cross-functionally, resolved at first contact, or met
-- their SLA; and % of cases done within a target time. All keep a share_summary
-- (sql/share_rate.sql). Support functions: src/share_rate.rs, src/durations.rs.

-- For each boolean share KPI:
--   <kpi>_rate(boolean)                  aggregate -> numeric %, NULL inputs skipped
--   <kpi>_summary(boolean)               aggregate -> share_summary
--   <kpi>_rate(share_summary)            the rate of a summary
--   <kpi>_rate_ci(share_summary [, confidence]) its Wilson score interval
CREATE AGGREGATE complaint_escalation_rate(escalated boolean) (
    SFUNC = share_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, FINALFUNC = escalation_rate_final,
    MSFUNC = share_trans, MINVFUNC = share_inv_trans, MSTYPE = share_summary,
    MINITCOND = '{"hits":0,"total":0}', MFINALFUNC = escalation_rate_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE complaint_escalation_summary(escalated boolean) (
    SFUNC = share_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, PARALLEL = SAFE
);
CREATE AGGREGATE complaint_resolution_rate(resolved boolean) (
    SFUNC = share_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, FINALFUNC = escalation_rate_final,
    MSFUNC = share_trans, MINVFUNC = share_inv_trans, MSTYPE = share_summary,
    MINITCOND = '{"hits":0,"total":0}', MFINALFUNC = escalation_rate_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE complaint_resolution_summary(resolved boolean) (
    SFUNC = share_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, PARALLEL = SAFE
);
CREATE AGGREGATE cross_functional_resolution_rate(resolved_cross_functionally boolean) (
    SFUNC = share_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, FINALFUNC = escalation_rate_final,
    MSFUNC = share_trans, MINVFUNC = share_inv_trans, MSTYPE = share_summary,
    MINITCOND = '{"hits":0,"total":0}', MFINALFUNC = escalation_rate_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE cross_functional_resolution_summary(resolved_cross_functionally boolean) (
    SFUNC = share_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, PARALLEL = SAFE
);
CREATE AGGREGATE first_contact_resolution_rate(resolved_at_first_contact boolean) (
    SFUNC = share_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, FINALFUNC = escalation_rate_final,
    MSFUNC = share_trans, MINVFUNC = share_inv_trans, MSTYPE = share_summary,
    MINITCOND = '{"hits":0,"total":0}', MFINALFUNC = escalation_rate_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE first_contact_resolution_summary(resolved_at_first_contact boolean) (
    SFUNC = share_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, PARALLEL = SAFE
);
CREATE AGGREGATE sla_compliance_rate(met_sla boolean) (
    SFUNC = share_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, FINALFUNC = escalation_rate_final,
    MSFUNC = share_trans, MINVFUNC = share_inv_trans, MSTYPE = share_summary,
    MINITCOND = '{"hits":0,"total":0}', MFINALFUNC = escalation_rate_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE sla_compliance_summary(met_sla boolean) (
    SFUNC = share_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, PARALLEL = SAFE
);

-- % of cases done within a target time of their start:
--   sla_compliance_rate(opened_at, completed_at, target interval)
--   complaint_resolution_efficiency(opened_at, resolved_at, target interval)
-- A NULL start skips the row; a NULL end (not done yet) counts as not within target; an end
-- before its start is an ERROR. Overloads for timestamptz and timestamp.
CREATE FUNCTION sla_compliance_trans(share_summary, timestamptz, timestamptz, interval) RETURNS share_summary
    AS 'MODULE_PATHNAME', 'sla_compliance_trans_tz' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION sla_compliance_trans(share_summary, timestamp, timestamp, interval) RETURNS share_summary
    AS 'MODULE_PATHNAME', 'sla_compliance_trans_ts' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION resolution_efficiency_trans(share_summary, timestamptz, timestamptz, interval) RETURNS share_summary
    AS 'MODULE_PATHNAME', 'resolution_efficiency_trans_tz' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION resolution_efficiency_trans(share_summary, timestamp, timestamp, interval) RETURNS share_summary
    AS 'MODULE_PATHNAME', 'resolution_efficiency_trans_ts' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE sla_compliance_rate(opened_at timestamptz, completed_at timestamptz, target interval) (
    SFUNC = sla_compliance_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, FINALFUNC = escalation_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE sla_compliance_summary(opened_at timestamptz, completed_at timestamptz, target interval) (
    SFUNC = sla_compliance_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, PARALLEL = SAFE
);
CREATE AGGREGATE complaint_resolution_efficiency(opened_at timestamptz, resolved_at timestamptz, target interval) (
    SFUNC = resolution_efficiency_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, FINALFUNC = escalation_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE complaint_resolution_efficiency_summary(opened_at timestamptz, resolved_at timestamptz, target interval) (
    SFUNC = resolution_efficiency_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, PARALLEL = SAFE
);
CREATE AGGREGATE sla_compliance_rate(opened_at timestamp, completed_at timestamp, target interval) (
    SFUNC = sla_compliance_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, FINALFUNC = escalation_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE sla_compliance_summary(opened_at timestamp, completed_at timestamp, target interval) (
    SFUNC = sla_compliance_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, PARALLEL = SAFE
);
CREATE AGGREGATE complaint_resolution_efficiency(opened_at timestamp, resolved_at timestamp, target interval) (
    SFUNC = resolution_efficiency_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, FINALFUNC = escalation_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE complaint_resolution_efficiency_summary(opened_at timestamp, resolved_at timestamp, target interval) (
    SFUNC = resolution_efficiency_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, PARALLEL = SAFE
);

-- The rate of a summary and its Wilson score interval, as for escalation_rate; churn_rate's
-- too (its aggregates are in sql/churn.sql).
CREATE FUNCTION complaint_escalation_rate(summary share_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'share_percent' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION complaint_escalation_rate_ci(summary share_summary, confidence float8 DEFAULT 0.95,
                          OUT lower numeric, OUT upper numeric)
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    BEGIN ATOMIC
        SELECT @extschema@.share_wilson_bound(summary, confidence, false)::numeric,
               @extschema@.share_wilson_bound(summary, confidence, true)::numeric;
    END;

CREATE FUNCTION complaint_resolution_rate(summary share_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'share_percent' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION complaint_resolution_rate_ci(summary share_summary, confidence float8 DEFAULT 0.95,
                          OUT lower numeric, OUT upper numeric)
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    BEGIN ATOMIC
        SELECT @extschema@.share_wilson_bound(summary, confidence, false)::numeric,
               @extschema@.share_wilson_bound(summary, confidence, true)::numeric;
    END;

CREATE FUNCTION cross_functional_resolution_rate(summary share_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'share_percent' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cross_functional_resolution_rate_ci(summary share_summary, confidence float8 DEFAULT 0.95,
                          OUT lower numeric, OUT upper numeric)
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    BEGIN ATOMIC
        SELECT @extschema@.share_wilson_bound(summary, confidence, false)::numeric,
               @extschema@.share_wilson_bound(summary, confidence, true)::numeric;
    END;

CREATE FUNCTION first_contact_resolution_rate(summary share_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'share_percent' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION first_contact_resolution_rate_ci(summary share_summary, confidence float8 DEFAULT 0.95,
                          OUT lower numeric, OUT upper numeric)
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    BEGIN ATOMIC
        SELECT @extschema@.share_wilson_bound(summary, confidence, false)::numeric,
               @extschema@.share_wilson_bound(summary, confidence, true)::numeric;
    END;

CREATE FUNCTION sla_compliance_rate(summary share_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'share_percent' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sla_compliance_rate_ci(summary share_summary, confidence float8 DEFAULT 0.95,
                          OUT lower numeric, OUT upper numeric)
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    BEGIN ATOMIC
        SELECT @extschema@.share_wilson_bound(summary, confidence, false)::numeric,
               @extschema@.share_wilson_bound(summary, confidence, true)::numeric;
    END;

CREATE FUNCTION complaint_resolution_efficiency(summary share_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'share_percent' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION complaint_resolution_efficiency_ci(summary share_summary, confidence float8 DEFAULT 0.95,
                          OUT lower numeric, OUT upper numeric)
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    BEGIN ATOMIC
        SELECT @extschema@.share_wilson_bound(summary, confidence, false)::numeric,
               @extschema@.share_wilson_bound(summary, confidence, true)::numeric;
    END;

CREATE FUNCTION churn_rate(summary share_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'share_percent' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION churn_rate_ci(summary share_summary, confidence float8 DEFAULT 0.95,
                          OUT lower numeric, OUT upper numeric)
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    BEGIN ATOMIC
        SELECT @extschema@.share_wilson_bound(summary, confidence, false)::numeric,
               @extschema@.share_wilson_bound(summary, confidence, true)::numeric;
    END;

-- The share KPIs of complaint handling (ISO 10002 set) and of case quality: % of cases that
-- were escalated, resolved, resolved cross-functionally, resolved at first contact, or met
-- their SLA; and % of cases done within a target time. All keep a share_summary
-- (sql/share_rate.sql). Support functions: src/share_rate.rs, src/durations.rs.

-- For each boolean share KPI:
--   <kpi>_rate(boolean)                  aggregate -> numeric %, NULL inputs skipped
--   <kpi>_summary(boolean)               aggregate -> share_summary
--   <kpi>_rate(share_summary)            the rate of a summary
--   <kpi>_rate_ci(share_summary [, confidence]) its Wilson score interval
DO $$
DECLARE
    kpi record;
BEGIN
    FOR kpi IN SELECT * FROM (VALUES
        ('complaint_escalation', 'escalated'),
        ('complaint_resolution', 'resolved'),
        ('cross_functional_resolution', 'resolved_cross_functionally'),
        ('first_contact_resolution', 'resolved_at_first_contact'),
        ('sla_compliance', 'met_sla')
    ) AS k(name, arg)
    LOOP
        EXECUTE format(
            'CREATE AGGREGATE %1$I(%2$I boolean) (
                 SFUNC = share_trans, STYPE = share_summary, INITCOND = ''{"hits":0,"total":0}'',
                 COMBINEFUNC = share_combine, FINALFUNC = escalation_rate_final,
                 MSFUNC = share_trans, MINVFUNC = share_inv_trans, MSTYPE = share_summary,
                 MINITCOND = ''{"hits":0,"total":0}'', MFINALFUNC = escalation_rate_final,
                 PARALLEL = SAFE)',
            kpi.name || '_rate', kpi.arg);
        EXECUTE format(
            'CREATE AGGREGATE %1$I(%2$I boolean) (
                 SFUNC = share_trans, STYPE = share_summary, INITCOND = ''{"hits":0,"total":0}'',
                 COMBINEFUNC = share_combine, PARALLEL = SAFE)',
            kpi.name || '_summary', kpi.arg);
    END LOOP;
END
$$;

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

DO $$
DECLARE
    ts text;
    kpi record;
BEGIN
    FOREACH ts IN ARRAY ARRAY['timestamptz', 'timestamp'] LOOP
        FOR kpi IN SELECT * FROM (VALUES
            ('sla_compliance_rate', 'sla_compliance_summary', 'completed_at', 'sla_compliance_trans'),
            ('complaint_resolution_efficiency', 'complaint_resolution_efficiency_summary', 'resolved_at', 'resolution_efficiency_trans')
        ) AS k(rate, summary, end_arg, trans)
        LOOP
            EXECUTE format(
                'CREATE AGGREGATE %1$I(opened_at %2$s, %3$I %2$s, target interval) (
                     SFUNC = %4$I, STYPE = share_summary, INITCOND = ''{"hits":0,"total":0}'',
                     COMBINEFUNC = share_combine, FINALFUNC = escalation_rate_final, PARALLEL = SAFE)',
                kpi.rate, ts, kpi.end_arg, kpi.trans);
            EXECUTE format(
                'CREATE AGGREGATE %1$I(opened_at %2$s, %3$I %2$s, target interval) (
                     SFUNC = %4$I, STYPE = share_summary, INITCOND = ''{"hits":0,"total":0}'',
                     COMBINEFUNC = share_combine, PARALLEL = SAFE)',
                kpi.summary, ts, kpi.end_arg, kpi.trans);
        END LOOP;
    END LOOP;
END
$$;

-- The rate of a summary and its Wilson score interval, as for escalation_rate; churn_rate's
-- too (its aggregates are in sql/churn.sql).
DO $$
DECLARE
    rate text;
BEGIN
    FOREACH rate IN ARRAY ARRAY['complaint_escalation_rate', 'complaint_resolution_rate',
        'cross_functional_resolution_rate', 'first_contact_resolution_rate',
        'sla_compliance_rate', 'complaint_resolution_efficiency', 'churn_rate']
    LOOP
        EXECUTE format(
            'CREATE FUNCTION %1$I(summary share_summary) RETURNS numeric
                 AS ''MODULE_PATHNAME'', ''share_percent'' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE',
            rate);
        EXECUTE format(
            'CREATE FUNCTION %1$I(summary share_summary, confidence float8 DEFAULT 0.95,
                                  OUT lower numeric, OUT upper numeric)
             LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
             BEGIN ATOMIC
                 SELECT @extschema@.share_wilson_bound(summary, confidence, false)::numeric,
                        @extschema@.share_wilson_bound(summary, confidence, true)::numeric;
             END',
            rate || '_ci');
    END LOOP;
END
$$;

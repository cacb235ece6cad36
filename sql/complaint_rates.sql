-- The share KPIs of complaint handling (ISO 10002 set) and of case quality: % of cases that
-- were escalated, resolved, resolved cross-functionally, resolved at first contact, or met
-- their SLA; and % of cases done within a target time. All keep a share_summary
-- (sql/share_rate.sql). Support functions: src/share_rate.rs, src/durations.rs.

-- Their boolean aggregates (complaint_escalation_rate(escalated boolean), ...), *_summary
-- twins, accessors and *_ci intervals are generated from the KPI registry:
-- sql/share_rate_kpis.sql. Here: the aggregates over a start, an end and a target.

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

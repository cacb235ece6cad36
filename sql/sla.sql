-- SLA policies: targets per metric and priority, one ticket's events as an aggregate, and the
-- ticket's SLA instances with their breach instants and outcomes. Support functions:
-- src/sla.rs. Math: crates/kpi_core/src/timeline.rs, crates/kpi_core/src/sla.rs. The rules,
-- metric by metric: docs/sla-policies.md.
--
--   kpi_sla_policy(policy, metric, priority, target, schedule)   targets; schedule NULL:
--       calendar time, else the business time of that kpi_schedule
--   kpi_sla_status(status, requester_wait, agent_work, solved)   what each status means for
--       the SLAs (Zendesk's statuses shipped)
--   ticket_timeline(kind, value, at) -> ticket_timeline   aggregate over one ticket's events:
--       ('status', new status), ('priority', new priority or NULL), ('message', 'customer' or
--       'agent'), rows in any order, grouped by ticket
--   sla_instances(timeline, policy, as_of => now()) -> one row per SLA of the ticket
--   sla_achievement_rate(achieved boolean): achieved / (achieved + breached) * 100 (generated
--       from the KPI registry, sql/share_rate_kpis.sql)
--   kpi_sla_at_risk(source, as_of => now()) -> the active SLAs of the tickets of a view of
--       events, soonest breach first

CREATE TABLE kpi_sla_status (
    status         text PRIMARY KEY,
    requester_wait boolean NOT NULL,  -- requester_wait_time counts the time in this status
    agent_work     boolean NOT NULL,  -- agent_work_time counts the time in this status
    solved         boolean NOT NULL,  -- entering it fulfils the awaited replies and the wait metrics
    customized     boolean NOT NULL DEFAULT true -- false only for rows as the extension shipped them
);
COMMENT ON TABLE kpi_sla_status IS
    'support_kpi: what each ticket status means for the SLA metrics (Zendesk''s statuses shipped)';
CREATE TRIGGER kpi_sla_status_customized BEFORE UPDATE ON kpi_sla_status
    FOR EACH ROW EXECUTE FUNCTION _kpi_mark_customized();
CREATE TRIGGER kpi_sla_status_replace_shipped BEFORE INSERT ON kpi_sla_status
    FOR EACH ROW EXECUTE FUNCTION _kpi_replace_shipped('status');
INSERT INTO kpi_sla_status (status, requester_wait, agent_work, solved, customized) VALUES
    ('new', true, true, false, false),
    ('open', true, true, false, false),
    ('pending', false, false, false, false),
    ('hold', true, false, false, false),
    ('solved', false, false, true, false),
    ('closed', false, false, true, false);

CREATE TABLE kpi_sla_policy (
    policy   text NOT NULL,
    metric   text NOT NULL,      -- first_reply_time, next_reply_time, periodic_update,
                                 -- requester_wait_time or agent_work_time
    priority text NOT NULL,      -- as the ticket's priority changes give it
    target   interval NOT NULL,  -- a positive time; days count 24 hours
    -- NULL: calendar time; else the business hours of this schedule, renamed with it; a
    -- schedule a policy uses cannot be deleted
    schedule text REFERENCES kpi_schedule ON UPDATE CASCADE,
    PRIMARY KEY (policy, metric, priority)
);
COMMENT ON TABLE kpi_sla_policy IS
    'support_kpi: SLA targets per policy, metric and priority, in calendar time or a schedule''s business hours';

-- A policy row is checked when written: a known metric, a positive target of fixed length,
-- a schedule that exists.
CREATE FUNCTION _kpi_check_sla_policy() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.metric NOT IN ('first_reply_time', 'next_reply_time', 'periodic_update', 'requester_wait_time',
                          'agent_work_time') THEN
        RAISE EXCEPTION 'unknown SLA metric "%" in policy "%"',
                        @extschema@._kpi_excerpt(NEW.metric), @extschema@._kpi_excerpt(NEW.policy)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Metrics are first_reply_time, next_reply_time, periodic_update, requester_wait_time and agent_work_time.';
    END IF;
    IF NEW.target <= interval '0' OR extract(year FROM NEW.target) <> 0 OR extract(month FROM NEW.target) <> 0 THEN
        RAISE EXCEPTION 'the % target of policy "%" for priority "%" is %, not a positive time',
                        NEW.metric, @extschema@._kpi_excerpt(NEW.policy), @extschema@._kpi_excerpt(NEW.priority), NEW.target
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give a positive interval of days, hours, minutes or seconds, e.g. interval ''4 hours'' (months and years have no fixed length).';
    END IF;
    IF NEW.schedule IS NOT NULL THEN
        PERFORM @extschema@._kpi_schedule_spec(NEW.schedule);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER kpi_sla_policy_check BEFORE INSERT OR UPDATE ON kpi_sla_policy
    FOR EACH ROW EXECUTE FUNCTION _kpi_check_sla_policy();

-- Once distributed on Citus (kpi_distribute_schedules()), the local tables refuse changes.
CREATE TRIGGER kpi_sla_policy_local_write BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON kpi_sla_policy
    FOR EACH STATEMENT EXECUTE FUNCTION _kpi_schedule_local_write();
CREATE TRIGGER kpi_sla_status_local_write BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON kpi_sla_status
    FOR EACH STATEMENT EXECUTE FUNCTION _kpi_schedule_local_write();

SELECT pg_catalog.pg_extension_config_dump('kpi_sla_policy', '');
SELECT pg_catalog.pg_extension_config_dump('kpi_sla_status', 'WHERE customized');
-- Every role may read them (sla_instances reads them as the caller); changing them takes the
-- rights the owner grants.
GRANT SELECT ON kpi_sla_policy, kpi_sla_status TO PUBLIC;

-- A policy as the support functions read it (JSON), or an error for an unknown one:
-- {"targets": [[metric, priority, target_us, schedule], ...], "statuses": [[status,
-- requester_wait, agent_work, solved], ...]}. In a database with Citus, from the reference
-- tables kpi_distribute_schedules() makes (kpi_sla_policy_cluster, kpi_sla_status_cluster),
-- and until then not at all: each node would read its own tables.
CREATE FUNCTION _kpi_sla_policy_spec(policy text) RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    spec text;
    known text;
    suffix text := '';
    rels text[] := ARRAY['@extschema@.kpi_sla_policy', '@extschema@.kpi_sla_status'];
BEGIN
    IF EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') THEN
        suffix := '_cluster';
        rels := @extschema@._kpi_cluster_copies(rels, 'SLA policies');
    END IF;
    EXECUTE format($q$
        SELECT json_build_object(
                   'targets', json_agg(json_build_array(p.metric, p.priority,
                                                        (extract(epoch FROM p.target) * 1000000)::bigint, p.schedule)
                                       ORDER BY p.metric, p.priority),
                   'statuses', (SELECT coalesce(json_agg(json_build_array(s.status, s.requester_wait, s.agent_work,
                                                                          s.solved)
                                                         ORDER BY s.status), '[]')
                                FROM %2$s s))::text
        FROM %1$s p WHERE p.policy = $1
        HAVING count(*) > 0$q$, rels[1], rels[2])
    INTO spec USING policy;
    IF spec IS NULL THEN
        EXECUTE format($q$
            SELECT string_agg(format('%%L', @extschema@._kpi_excerpt(k.policy)), ', ' ORDER BY k.policy)
            FROM (SELECT DISTINCT p.policy FROM %1$s p ORDER BY p.policy LIMIT 20) k$q$, rels[1])
        INTO known;
        RAISE EXCEPTION 'unknown SLA policy "%"', @extschema@._kpi_excerpt(policy)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Known policies: ' || coalesce(known, 'none')
                         || format('. Add one with INSERT INTO kpi_sla_policy%s (policy, metric, priority, target, schedule).',
                                   suffix);
    END IF;
    RETURN spec;
END
$$;

CREATE FUNCTION ticket_timeline_trans(ticket_timeline, text, text, timestamptz) RETURNS ticket_timeline
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE ticket_timeline(kind text, value text, at timestamptz) (
    SFUNC = ticket_timeline_trans, STYPE = ticket_timeline, SSPACE = 256,
    INITCOND = '{"events":[]}',
    COMBINEFUNC = ticket_timeline_combine, PARALLEL = SAFE
);
COMMENT ON AGGREGATE ticket_timeline(text, text, timestamptz) IS
    'support_kpi: one ticket''s status changes, priority changes and public messages, for sla_instances()';

-- STABLE: reads kpi_sla_policy, kpi_sla_status and the schedules
CREATE FUNCTION sla_instances(timeline ticket_timeline, policy text, as_of timestamptz DEFAULT now())
RETURNS TABLE (metric text, cycle integer, priority text, target interval, schedule text,
               applied_at timestamptz, fulfilled_at timestamptz, breach_at timestamptz,
               elapsed interval, status text, achieved boolean, paused boolean)
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE ROWS 4;
COMMENT ON FUNCTION sla_instances(ticket_timeline, text, timestamptz) IS
    'support_kpi: the SLAs of one ticket under a policy as of an instant: applied, target, elapsed, breach instant, outcome';

-- The active SLAs of the tickets of `source` (a table or view with columns ticket_id, policy,
-- kind, value and at: the events of each ticket, the same policy on every row of a ticket),
-- soonest breach first; paused ones (no breach instant) last.
CREATE FUNCTION kpi_sla_at_risk(source regclass, as_of timestamptz DEFAULT now())
RETURNS TABLE (ticket_id text, policy text, metric text, cycle integer, priority text, target interval,
               applied_at timestamptz, breach_at timestamptz, time_to_breach interval, elapsed interval,
               paused boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        SELECT t.ticket_id::text, t.policy, s.metric, s.cycle, s.priority, s.target, s.applied_at,
               s.breach_at, s.breach_at - $1, s.elapsed, s.paused
        FROM (SELECT e.ticket_id, e.policy, @extschema@.ticket_timeline(e.kind, e.value, e.at) AS timeline
              FROM %s e GROUP BY e.ticket_id, e.policy) t
        CROSS JOIN LATERAL @extschema@.sla_instances(t.timeline, t.policy, $1) s
        WHERE s.status = 'active'
        ORDER BY s.breach_at NULLS LAST, t.ticket_id, s.metric, s.cycle$q$, source)
    USING as_of;
END
$$;
COMMENT ON FUNCTION kpi_sla_at_risk(regclass, timestamptz) IS
    'support_kpi: the active SLAs of the tickets of a view of events, soonest breach first';

-- Schedules on a Citus cluster (since 0.5.1). The tables, and _kpi_schedule_spec, which reads
-- the distributed copies in a Citus database: sql/business_hours.sql.
--
-- The kpi_schedule tables and the SLA policies are the extension's own, one set per node, and
-- Citus cannot make them reference tables; kpi_distribute_schedules() copies them into
-- reference tables of the same columns, kpi_schedule_cluster, kpi_schedule_hours_cluster,
-- kpi_holiday_cluster, kpi_sla_policy_cluster and kpi_sla_status_cluster (yours: pg_dump keeps
-- them, DROP EXTENSION leaves them), that every node then reads, and returns the number of
-- schedules. The local schedules go back to the shipped '24/7', kpi_sla_policy is emptied
-- (kpi_sla_status is left as it was, read no more), and all refuse changes from then on. A policy
-- row of the reference table is checked by its constraints (a known metric, a positive target
-- of fixed length, a schedule of kpi_schedule_cluster).
CREATE FUNCTION kpi_distribute_schedules() RETURNS bigint LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n bigint;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') THEN
        RAISE EXCEPTION 'kpi_distribute_schedules() is for Citus, which is not installed in this database'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Without Citus every query reads this server''s kpi_schedule tables: there is nothing to distribute.';
    END IF;
    IF to_regclass('@extschema@.kpi_schedule_cluster') IS NOT NULL THEN
        RAISE EXCEPTION 'the schedules are distributed already'
            USING ERRCODE = 'duplicate_table',
                  HINT = 'Change them in kpi_schedule_cluster, kpi_schedule_hours_cluster and kpi_holiday_cluster.';
    END IF;
    CREATE TABLE @extschema@.kpi_schedule_cluster (
        schedule  text PRIMARY KEY,
        time_zone text NOT NULL
    );
    CREATE TABLE @extschema@.kpi_schedule_hours_cluster (
        schedule    text NOT NULL,
        iso_weekday int NOT NULL CHECK (iso_weekday BETWEEN 1 AND 7),
        starts      time NOT NULL CHECK (starts < time '24:00'),
        ends        time NOT NULL,
        valid_from  date NOT NULL DEFAULT '-infinity',
        valid_until date NOT NULL DEFAULT 'infinity',
        CHECK (valid_from < valid_until),
        PRIMARY KEY (schedule, iso_weekday, starts, valid_from)
    );
    CREATE TABLE @extschema@.kpi_holiday_cluster (
        schedule text NOT NULL,
        day      date NOT NULL,
        name     text,
        last_day date,
        CHECK (last_day IS NULL OR (last_day >= day AND last_day - day < 36525)),
        PRIMARY KEY (schedule, day)
    );
    CREATE TABLE @extschema@.kpi_sla_status_cluster (
        status         text PRIMARY KEY,
        requester_wait boolean NOT NULL,
        agent_work     boolean NOT NULL,
        solved         boolean NOT NULL
    );
    CREATE TABLE @extschema@.kpi_sla_policy_cluster (
        policy   text NOT NULL,
        metric   text NOT NULL CHECK (metric IN ('first_reply_time', 'next_reply_time', 'periodic_update',
                                                 'requester_wait_time', 'agent_work_time')),
        priority text NOT NULL,
        target   interval NOT NULL CHECK (target > interval '0' AND extract(year FROM target) = 0
                                          AND extract(month FROM target) = 0),
        schedule text,
        PRIMARY KEY (policy, metric, priority)
    );
    PERFORM create_reference_table('@extschema@.kpi_schedule_cluster'::regclass);
    PERFORM create_reference_table('@extschema@.kpi_schedule_hours_cluster'::regclass);
    PERFORM create_reference_table('@extschema@.kpi_holiday_cluster'::regclass);
    PERFORM create_reference_table('@extschema@.kpi_sla_status_cluster'::regclass);
    PERFORM create_reference_table('@extschema@.kpi_sla_policy_cluster'::regclass);
    ALTER TABLE @extschema@.kpi_schedule_hours_cluster ADD FOREIGN KEY (schedule)
        REFERENCES @extschema@.kpi_schedule_cluster ON UPDATE CASCADE ON DELETE CASCADE;
    ALTER TABLE @extschema@.kpi_holiday_cluster ADD FOREIGN KEY (schedule)
        REFERENCES @extschema@.kpi_schedule_cluster ON UPDATE CASCADE ON DELETE CASCADE;
    ALTER TABLE @extschema@.kpi_sla_policy_cluster ADD FOREIGN KEY (schedule)
        REFERENCES @extschema@.kpi_schedule_cluster ON UPDATE CASCADE;
    INSERT INTO @extschema@.kpi_schedule_cluster SELECT s.schedule, s.time_zone FROM @extschema@.kpi_schedule s;
    INSERT INTO @extschema@.kpi_schedule_hours_cluster
        SELECT h.schedule, h.iso_weekday, h.starts, h.ends, h.valid_from, h.valid_until
        FROM @extschema@.kpi_schedule_hours h;
    INSERT INTO @extschema@.kpi_holiday_cluster SELECT h.schedule, h.day, h.name, h.last_day FROM @extschema@.kpi_holiday h;
    INSERT INTO @extschema@.kpi_sla_status_cluster
        SELECT s.status, s.requester_wait, s.agent_work, s.solved FROM @extschema@.kpi_sla_status s;
    INSERT INTO @extschema@.kpi_sla_policy_cluster
        SELECT p.policy, p.metric, p.priority, p.target, p.schedule FROM @extschema@.kpi_sla_policy p;
    GRANT SELECT ON @extschema@.kpi_schedule_cluster, @extschema@.kpi_schedule_hours_cluster,
                    @extschema@.kpi_holiday_cluster, @extschema@.kpi_sla_status_cluster,
                    @extschema@.kpi_sla_policy_cluster TO PUBLIC;
    -- the local tables as shipped
    PERFORM set_config('support_kpi.distributing_schedules', 'on', true);
    -- the policies first: they refer to the schedules
    DELETE FROM @extschema@.kpi_sla_policy;
    DELETE FROM @extschema@.kpi_schedule WHERE schedule <> '24/7';
    DELETE FROM @extschema@.kpi_holiday;
    DELETE FROM @extschema@.kpi_schedule_hours;
    UPDATE @extschema@.kpi_schedule SET time_zone = 'UTC' WHERE schedule = '24/7';
    INSERT INTO @extschema@.kpi_schedule_hours SELECT '24/7', d, '00:00', '00:00' FROM generate_series(1, 7) d;
    PERFORM set_config('support_kpi.distributing_schedules', '', true);
    SELECT count(*) INTO n FROM @extschema@.kpi_schedule_cluster;
    RETURN n;
END
$$;
COMMENT ON FUNCTION kpi_distribute_schedules() IS
    'support_kpi: on a Citus cluster, copies the schedules and SLA policies into reference tables that every node reads';

-- Once the schedules are distributed, a change to the local tables would be read by no one.
CREATE FUNCTION _kpi_schedule_local_write() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF to_regclass('@extschema@.kpi_schedule_cluster') IS NOT NULL
       AND current_setting('support_kpi.distributing_schedules', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'the schedules of this Citus database are in %_cluster, not in %', TG_TABLE_NAME, TG_TABLE_NAME
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Write %I.%I instead: a reference table, the same on every node.',
                                TG_TABLE_SCHEMA, TG_TABLE_NAME || '_cluster');
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER kpi_schedule_local_write BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON kpi_schedule
    FOR EACH STATEMENT EXECUTE FUNCTION _kpi_schedule_local_write();
CREATE TRIGGER kpi_schedule_hours_local_write BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON kpi_schedule_hours
    FOR EACH STATEMENT EXECUTE FUNCTION _kpi_schedule_local_write();
CREATE TRIGGER kpi_holiday_local_write BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON kpi_holiday
    FOR EACH STATEMENT EXECUTE FUNCTION _kpi_schedule_local_write();

-- Business hours: schedules of working hours in a time zone with holidays, business_time(),
-- and the time KPIs measured in business time. Support functions: src/business_hours.rs.
-- Math: crates/kpi_core/src/business_hours.rs.
--
--   kpi_schedule(schedule, time_zone)                 a schedule and its IANA time zone
--   kpi_schedule_hours(schedule, iso_weekday, starts, ends [, valid_from, valid_until])
--       working hours per ISO weekday (1 = Monday ... 7 = Sunday), several rows per day allowed;
--       ends <= starts is a shift that crosses midnight into the next day (starts = ends: 24
--       hours); a row is valid on the days from valid_from up to (not including) valid_until,
--       by the day it starts on (since 0.5.1; without them: always)
--   kpi_holiday(schedule, day, name [, last_day])     whole days off, in the schedule's zone:
--       day, or day to last_day (since 0.5.1)
--   business_time(start, end, schedule) -> interval   the working time between two instants
--   avg_first_response_time(opened_at, first_response_at, schedule), avg_resolution_time,
--   avg_handling_time, median_first_response_time, median_resolution_time, median_handling_time,
--   their summaries and sketches, complaint_resolution_efficiency(opened_at, resolved_at, target,
--   schedule) and sla_compliance_rate(opened_at, completed_at, target, schedule): the same KPIs
--   with each span (and the target) in business time.
-- On Citus: kpi_distribute_schedules(), sql/citus_schedules.sql.
-- The '24/7' schedule is shipped. Schedules you add are kept by pg_dump (the shipped '24/7'
-- rows are made anew by CREATE EXTENSION).

CREATE TABLE kpi_schedule (
    schedule  text PRIMARY KEY,
    time_zone text NOT NULL  -- an IANA time zone, e.g. 'Europe/Berlin'
);
COMMENT ON TABLE kpi_schedule IS 'support_kpi: business-hours schedules and their time zones, for business_time() and the time KPIs';
CREATE TABLE kpi_schedule_hours (
    schedule    text NOT NULL REFERENCES kpi_schedule ON UPDATE CASCADE ON DELETE CASCADE,
    iso_weekday int NOT NULL CHECK (iso_weekday BETWEEN 1 AND 7),  -- 1 = Monday ... 7 = Sunday
    starts      time NOT NULL CHECK (starts < time '24:00'),
    ends        time NOT NULL,  -- at or before starts: the shift ends the next day
    valid_from  date NOT NULL DEFAULT '-infinity',  -- the first day the row is valid on
    valid_until date NOT NULL DEFAULT 'infinity',   -- the day after its last
    CONSTRAINT kpi_schedule_hours_valid_days CHECK (valid_from < valid_until),
    PRIMARY KEY (schedule, iso_weekday, starts, valid_from)
);
COMMENT ON TABLE kpi_schedule_hours IS 'support_kpi: the weekly working hours of each schedule, in its time zone';
CREATE TABLE kpi_holiday (
    schedule text NOT NULL REFERENCES kpi_schedule ON UPDATE CASCADE ON DELETE CASCADE,
    day      date NOT NULL,
    name     text,
    last_day date,  -- a holiday of several days: its last; NULL: day only
    CONSTRAINT kpi_holiday_days CHECK (last_day IS NULL OR (last_day >= day AND last_day - day < 36525)),
    PRIMARY KEY (schedule, day)
);
COMMENT ON TABLE kpi_holiday IS 'support_kpi: whole days off of a schedule, in its time zone';

-- At most 64 characters of a name a user gave, for error messages: a 100 kB name is never
-- echoed whole.
CREATE FUNCTION _kpi_excerpt(name text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN pg_catalog.length(name) > 64 THEN pg_catalog.left(name, 64) OPERATOR(pg_catalog.||) '...' ELSE name END;

-- A time zone PostgreSQL does not know is refused when the schedule is written.
CREATE FUNCTION _kpi_check_time_zone() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_timezone_names WHERE lower(name) = lower(NEW.time_zone)) THEN
        RAISE EXCEPTION 'unknown time zone "%" for schedule "%"',
                        @extschema@._kpi_excerpt(NEW.time_zone), @extschema@._kpi_excerpt(NEW.schedule)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give an IANA time zone name, e.g. ''Europe/Berlin'' or ''America/New_York'' (see pg_timezone_names).';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER kpi_schedule_time_zone BEFORE INSERT OR UPDATE OF time_zone ON kpi_schedule
    FOR EACH ROW EXECUTE FUNCTION _kpi_check_time_zone();

INSERT INTO kpi_schedule VALUES ('24/7', 'UTC');
INSERT INTO kpi_schedule_hours SELECT '24/7', d, '00:00', '00:00' FROM generate_series(1, 7) d;
SELECT pg_catalog.pg_extension_config_dump('kpi_schedule', $$WHERE schedule <> '24/7'$$);
SELECT pg_catalog.pg_extension_config_dump('kpi_schedule_hours', $$WHERE schedule <> '24/7'$$);
SELECT pg_catalog.pg_extension_config_dump('kpi_holiday', '');
-- Every role may read the schedules (business_time and the KPIs read them as the caller);
-- changing them takes the rights the owner grants.
GRANT SELECT ON kpi_schedule, kpi_schedule_hours, kpi_holiday TO PUBLIC;

-- In a Citus database: the reference tables kpi_distribute_schedules() made in place of the
-- extension's tables `rels` (their names with _cluster), as this node reads them. A reference
-- table has one shard, with a copy on every node: this node's copy (a query on a worker's
-- shard may not start a distributed query of its own), or the table itself where this node
-- holds none. An error, saying what to do, until the tables are distributed.
CREATE FUNCTION _kpi_cluster_copies(rels text[], what text) RETURNS text[] LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    copies text[];
BEGIN
    IF to_regclass('@extschema@.kpi_schedule_cluster') IS NULL THEN
        RAISE EXCEPTION 'the % of this Citus database are not distributed', what
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Run SELECT kpi_distribute_schedules() once, on the coordinator: it copies kpi_schedule, '
                         || 'kpi_schedule_hours, kpi_holiday, kpi_sla_policy and kpi_sla_status into reference '
                         || 'tables that every node reads alike.';
    END IF;
    SELECT array_agg(coalesce(to_regclass(format('%I.%I', n.nspname, c.relname || '_' || d.shardid))::text,
                              d.logicalrelid::text)
                     ORDER BY array_position(rels, r))
    INTO copies
    FROM unnest(rels) r
    JOIN pg_dist_shard d ON d.logicalrelid = (r || '_cluster')::regclass
    JOIN pg_class c ON c.oid = d.logicalrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace;
    RETURN copies;
END
$$;

-- A schedule as the support functions read it (JSON), or an error for an unknown one. In a
-- database with Citus, schedules are read from the reference tables kpi_distribute_schedules()
-- makes (the same rows on every node), and until then not at all: each node has its own
-- kpi_schedule tables, and a query would silently use each worker's.
CREATE FUNCTION _kpi_schedule_spec(schedule text) RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    spec text;
    known text;
    suffix text := '';
    rels text[] := ARRAY['@extschema@.kpi_schedule', '@extschema@.kpi_schedule_hours', '@extschema@.kpi_holiday'];
BEGIN
    IF EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') THEN
        suffix := '_cluster';
        rels := @extschema@._kpi_cluster_copies(rels, 'schedules');
    END IF;
    EXECUTE format($q$
        SELECT json_build_object(
            'time_zone', s.time_zone,
            'hours', (SELECT coalesce(json_agg(json_build_array(h.iso_weekday,
                                                              (extract(epoch FROM h.starts) * 1000000)::bigint,
                                                              (extract(epoch FROM h.ends) * 1000000)::bigint,
                                                              CASE WHEN isfinite(h.valid_from)
                                                                   THEN h.valid_from - date '2000-01-01' END,
                                                              CASE WHEN isfinite(h.valid_until)
                                                                   THEN h.valid_until - date '2000-01-01' END)
                                               ORDER BY h.iso_weekday, h.starts, h.valid_from), '[]')
                      FROM %2$s h WHERE h.schedule = s.schedule),
            'holidays', (SELECT coalesce(json_agg(d.d - date '2000-01-01' ORDER BY d.d), '[]')
                         FROM %3$s h
                         CROSS JOIN LATERAL (SELECT (h.day + g)::date AS d
                                             FROM generate_series(0, coalesce(h.last_day - h.day, 0)) g) d
                         WHERE h.schedule = s.schedule AND isfinite(h.day)))::text
        FROM %1$s s WHERE s.schedule = $1$q$, rels[1], rels[2], rels[3])
    INTO spec USING schedule;
    IF spec IS NULL THEN
        EXECUTE format($q$
            SELECT (SELECT string_agg(format('%%L', @extschema@._kpi_excerpt(s.schedule)), ', ' ORDER BY s.schedule)
                    FROM (SELECT k.schedule FROM %1$s k ORDER BY k.schedule LIMIT 20) s)
                || (SELECT CASE WHEN count(*) > 20 THEN format(' and %%s more', count(*) - 20) ELSE '' END
                    FROM %1$s)$q$, rels[1])
        INTO known;
        RAISE EXCEPTION 'unknown schedule "%"', @extschema@._kpi_excerpt(schedule)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Known schedules: ' || coalesce(known, 'none')
                         || format('. Add one with INSERT INTO kpi_schedule%1$s and kpi_schedule_hours%1$s.', suffix);
    END IF;
    RETURN spec;
END
$$;

CREATE FUNCTION business_time("start" timestamptz, "end" timestamptz, schedule text) RETURNS interval
    AS 'MODULE_PATHNAME', 'business_time' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION business_time(timestamptz, timestamptz, text) IS
    'support_kpi: the working time between two instants under a schedule of kpi_schedule';

-- A ticket that moves between schedules: its timeline's 'schedule' events (ticket_timeline(),
-- sql/sla.sql) say the schedule in force from each instant on; `schedule` is in force before
-- the first and after a change to NULL (NULL: calendar time there). Other events are ignored.
CREATE FUNCTION business_time("start" timestamptz, "end" timestamptz, schedule text, timeline ticket_timeline) RETURNS interval
    AS 'MODULE_PATHNAME', 'business_time_timeline' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION business_time(timestamptz, timestamptz, text, ticket_timeline) IS
    'support_kpi: the working time between two instants, piece by piece in the schedule in force of a ticket''s timeline';

-- The KPIs over a schedule (avg_first_response_time(opened_at, first_response_at, schedule),
-- its summary, the medians and their sketches, sla_compliance_rate(opened_at, completed_at,
-- target, schedule) and complaint_resolution_efficiency(...) with their summaries, and their
-- transition functions) are generated from the KPI registry: sql/durations_kpis.sql,
-- sql/percentiles_kpis.sql, sql/share_rate_kpis.sql.

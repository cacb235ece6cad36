-- support_kpi 0.5.0 -> 0.5.1: ALTER EXTENSION support_kpi UPDATE TO '0.5.1'
--
-- 0.5.1 keeps every object and stored value of 0.5.0. Its library makes the 0.5.0 states
-- safer (the README's upgrade notes list it all): duration_sketch values of a few cases
-- take 124 bytes instead of kilobytes (a sparse layout; 0.5.0's dense sketches are read as
-- they are), one validity rule per state type for text, binary and stored values, no
-- negative time in status, and errors that echo at most 64 characters of a user's input.
-- In SQL:
-- - the aggregates of the growing states tell the planner the memory a group's state takes
--   (SSPACE): for customer_rate_summary 64 bytes with bigint, integer or uuid customer keys
--   (a list of up to five or two customers, one 64-byte allocation since 0.5.1) and 256 with
--   text keys (128 for its rollup); 128 for duration_sketch and status_history, 512 for
--   segment_rate_summary, where 0.5.0 let it assume 32; hash aggregation sizes its groups
--   by it. ALTER AGGREGATE cannot change it, so the catalog rows of the extension's own
--   aggregates are updated (as contrib's delta scripts once updated proparallel), at the end
--   of this script: scripts/generate.py writes those UPDATEs from the CREATE AGGREGATE
--   statements of the install script, aggregate by aggregate;
-- - the errors of the schedule functions show at most 64 characters of a schedule or time
--   zone name (and at most 20 known schedules in the hint); the same statements are in
--   sql/business_hours.sql;
-- - schedules on Citus: kpi_distribute_schedules() copies them into reference tables
--   (kpi_schedule_cluster, kpi_schedule_hours_cluster, kpi_holiday_cluster) that every node
--   reads; in a database with Citus, schedules are read from there and, until then, refused
--   (each node would read its own); the local tables then refuse changes (a statement
--   trigger on each);
-- - kpi_band(kpi, NULL) and kpi_band(kpi, '4.2') work again (they did in 0.1.0; the summary
--   overloads made an untyped literal ambiguous): a new overload kpi_band(text, text) reads
--   the value as a number; the same statements are in sql/kpi_catalog.sql;
-- - a new KPI, cost_per_complaint (total cost / complaints with a cost, resolved or not),
--   with cost_count(cost_summary), and kpi_cases(kpi, summary), the cases behind one KPI's
--   value, which kpi_record now records;
-- - two new KPIs, quality_score and service_audit_score (the mean of audit scores on 0-100,
--   with a Student's t interval of the scores and one score more at 0 and at 100), and their
--   state type score_summary;
-- - the hint of an unknown KPI names the catalog KPI most like it (_kpi_unknown_hint) instead
--   of listing every KPI;
-- - kpi_record_range and kpi_record_due report each period they record with a NOTICE: rows
--   written and time taken (kpi_record_range: the period's number of all), or the failure;
-- - a trusted extension: a kpi_tracked row's SQL runs with the rights of the role that
--   wrote it (the column written_by and its trigger; kpi_record passes the caller's
--   search_path to _kpi_record, which pins its own; the procedures call only qualified
--   functions with exact argument types), the database owner may change the tables, and
--   the script ends with the check that nothing is bound to an object another role made
--   (sql/trusted.sql);
-- - alerts that mean something: a change test per recorded row against the previous period
--   (kpi_change_stats, kpi_change_test: Fisher's exact test for shares, the exact Poisson
--   rate test for per-customer rates, an adjusted-Wald z test for NPS, Welch's t test for
--   means; none for times and costs), kept in kpi_recorded, and an alert rule per tracking
--   ('band' for 0.5.0's trackings, 'significant' by default), control charts
--   (kpi_control_chart), the history's revisions (kpi_recorded_revision; 0.5.0's rows are
--   the first) and restatements (kpi_restatements), a lookback per tracking (1 for 0.5.0's,
--   which kpi_record_due() recorded so, 2 by default) and a revision retention;
-- - schedules whose hours change at a date (kpi_schedule_hours.valid_from and valid_until)
--   and holidays of several days (kpi_holiday.last_day);
-- - SLA policies: kpi_sla_policy (targets per policy, metric and priority, in calendar or
--   business time) and kpi_sla_status (what each status means for the SLAs), the aggregate
--   ticket_timeline over a ticket's events, sla_instances(timeline, policy, as_of) with each
--   SLA's breach instant and outcome, the KPI sla_achievement_rate and kpi_sla_at_risk;
-- - the rest, at the end of this script, is generated (scripts/generate.py) from what the
--   install script makes that 0.5.0 lacked or made differently, in the install script's
--   order: the SQL of the KPI registry (registry/kpis.toml; _kpi_summary_type now lists the
--   share KPIs in catalog order, the same answers), and the functions of the hand-written
--   sql/ files (the new and changed functions named above). By hand here: what must come
--   first (the new type, the Citus triggers and their function, kpi_tracked's new column) and
--   last (the written_by trigger, the grants, the reference check), and nothing else.
\echo Use "ALTER EXTENSION support_kpi UPDATE TO '0.5.1'" to load this file. \quit

-- Schedules on a Citus cluster: once kpi_distribute_schedules() has copied them into reference
-- tables, a change to the local tables would be read by no one, so they refuse it (a statement
-- trigger on each; the function and triggers as in sql/business_hours.sql).
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

-- A kpi_tracked row's SQL runs with the rights of the role that wrote it (written_by, set by
-- a trigger made at the end of this script). The rows of 0.5.0, which only the table's owner
-- or a role it granted could write, are the owner's.
ALTER TABLE kpi_tracked ADD COLUMN written_by name;
UPDATE kpi_tracked SET written_by = (SELECT r.rolname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) c.relowner
                                     WHERE c.oid OPERATOR(pg_catalog.=) '@extschema@.kpi_tracked'::pg_catalog.regclass);
ALTER TABLE kpi_tracked ALTER COLUMN written_by SET NOT NULL, ALTER COLUMN written_by SET DEFAULT CURRENT_USER;

-- Alerts that mean something: each recorded row keeps its counts (stats) and its change test
-- against the previous period (p_value, change_test, significant); each tracking has an alert
-- rule and a control-chart baseline (the view kpi_control_chart, sql/control_chart.sql, is
-- made at the end of this script). Trackings of 0.5.0 keep today's rule, 'band' (every band change is sent); new ones
-- default to 'significant'. The views gain the test's columns at their end.
ALTER TABLE kpi_tracked
    ADD COLUMN alert_rule text NOT NULL DEFAULT 'band' CHECK (alert_rule IN ('band', 'significant', 'control')),
    ADD COLUMN significance_level numeric NOT NULL DEFAULT 0.05 CHECK (significance_level > 0 AND significance_level < 1),
    ADD COLUMN control_baseline integer NOT NULL DEFAULT 12 CHECK (control_baseline BETWEEN 2 AND 1000),
    ADD COLUMN lookback integer NOT NULL DEFAULT 1 CHECK (lookback BETWEEN 0 AND 120),
    ADD COLUMN revision_retention integer CHECK (revision_retention >= 0);
-- trackings of 0.5.0 keep what kpi_record_due() recorded for them (the previous period and the
-- current one); new ones look back 2 periods
ALTER TABLE kpi_tracked ALTER COLUMN alert_rule SET DEFAULT 'significant', ALTER COLUMN lookback SET DEFAULT 2;
ALTER TABLE kpi_recorded ADD COLUMN stats jsonb, ADD COLUMN p_value float8, ADD COLUMN change_test text,
    ADD COLUMN significant boolean;
-- The revisions of the history (as in sql/restatements.sql): what 0.5.0 recorded is each
-- row's first revision.
CREATE TABLE kpi_recorded_revision (
    tracking        text NOT NULL,
    kpi             text NOT NULL,
    period_start    timestamptz NOT NULL,
    dimension       text NOT NULL,
    dimension_value text NOT NULL,
    revision        integer NOT NULL,  -- 1, 2, ... in the order recorded
    recorded_at     timestamptz NOT NULL,
    value           numeric,
    band            text,
    verdict         text,
    cases           bigint,
    ci_lower        numeric,
    ci_upper        numeric,
    PRIMARY KEY (tracking, kpi, period_start, dimension, dimension_value, revision)
);
COMMENT ON TABLE kpi_recorded_revision IS
    'support_kpi: every recorded value of a period and slice that differed from the one before, written by kpi_record()';
SELECT pg_catalog.pg_extension_config_dump('kpi_recorded_revision', '');
INSERT INTO kpi_recorded_revision
SELECT tracking, kpi, period_start, dimension, dimension_value, 1, recorded_at, value, band, verdict, cases,
       ci_lower, ci_upper
FROM kpi_recorded;
CREATE OR REPLACE VIEW kpi_band_changes AS
SELECT tracking, kpi, period, period_start, dimension, dimension_value,
       previous_band, band, verdict, previous_value, value, change, cases,
       p_value, change_test, significant
FROM kpi_recorded
WHERE previous_band IS NOT NULL AND band IS NOT NULL AND band <> previous_band;
CREATE OR REPLACE VIEW kpi_recorded_bi AS
SELECT h.period_start AS "time", h.tracking, h.kpi, c.title, c.unit, h.period, h.dimension, h.dimension_value,
       h.value::float8 AS value, h.ci_lower::float8 AS ci_lower, h.ci_upper::float8 AS ci_upper, h.cases,
       h.band, h.verdict, h.previous_value::float8 AS previous_value, h.change::float8 AS change, h.previous_band,
       h.p_value, h.significant
FROM kpi_recorded h LEFT JOIN kpi_catalog c ON c.kpi = h.kpi;

-- The audit-score KPIs' state type, score_summary (as in sql/state_types.sql, generated from
-- the registry): its support functions, verdict functions and KPIs are generated below.
CREATE TYPE score_summary;

CREATE FUNCTION score_summary_in(cstring) RETURNS score_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION score_summary_out(score_summary) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION score_summary_recv(internal) RETURNS score_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION score_summary_send(score_summary) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE score_summary (
    INPUT = score_summary_in, OUTPUT = score_summary_out,
    RECEIVE = score_summary_recv, SEND = score_summary_send,
    INTERNALLENGTH = 32, ALIGNMENT = double, STORAGE = plain
);
COMMENT ON TYPE score_summary IS
    'support_kpi: state of an audit-score KPI, {"scores": n, "sum": s, "sum_of_squares": q} of scores on 0-100';

-- Schedules that change: a row of kpi_schedule_hours is valid from a day up to another (its
-- rows so far: always), a holiday may last several days (as in sql/business_hours.sql).
ALTER TABLE kpi_schedule_hours
    ADD COLUMN valid_from date NOT NULL DEFAULT '-infinity',
    ADD COLUMN valid_until date NOT NULL DEFAULT 'infinity',
    ADD CONSTRAINT kpi_schedule_hours_valid_days CHECK (valid_from < valid_until),
    DROP CONSTRAINT kpi_schedule_hours_pkey;
ALTER TABLE kpi_schedule_hours
    ADD CONSTRAINT kpi_schedule_hours_pkey PRIMARY KEY (schedule, iso_weekday, starts, valid_from);
ALTER TABLE kpi_holiday
    ADD COLUMN last_day date,
    ADD CONSTRAINT kpi_holiday_days CHECK (last_day IS NULL OR (last_day >= day AND last_day - day < 36525));

-- SLA policies: the state type ticket_timeline (as in sql/state_types.sql, generated from the
-- registry); its aggregate, sla_instances and the rest are generated below, the tables come
-- after them (sql/sla.sql).
CREATE TYPE ticket_timeline;

CREATE FUNCTION ticket_timeline_in(cstring) RETURNS ticket_timeline
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ticket_timeline_out(ticket_timeline) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ticket_timeline_recv(internal) RETURNS ticket_timeline
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ticket_timeline_send(ticket_timeline) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE ticket_timeline (
    INPUT = ticket_timeline_in, OUTPUT = ticket_timeline_out,
    RECEIVE = ticket_timeline_recv, SEND = ticket_timeline_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = extended
);

-- BEGIN additions generated by scripts/generate.py from registry/kpis.toml (do not edit)
-- What the install script makes that 0.5.0 lacked, or makes differently: functions,
-- procedures and aggregates, in the install script's order, from the registry and from
-- the hand-written sql/ files (except what the hand-written part above creates).
CREATE FUNCTION _kpi_unknown_hint(kpi text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    WITH given AS (SELECT DISTINCT substr(lower(_kpi_unknown_hint.kpi), i, 3) AS piece
                   FROM pg_catalog.generate_series(1, length(_kpi_unknown_hint.kpi) - 2) i),
         known AS (SELECT c.kpi AS name, substr(lower(c.kpi), i, 3) AS piece
                   FROM @extschema@.kpi_catalog c, pg_catalog.generate_series(1, length(c.kpi) - 2) i),
         alike AS (SELECT k.name, count(DISTINCT k.piece) FILTER (WHERE k.piece IN (SELECT piece FROM given)) AS common,
                          count(DISTINCT k.piece) AS pieces
                   FROM known k GROUP BY k.name)
    SELECT coalesce('Did you mean "' || (
               SELECT a.name FROM alike a, (SELECT count(*) AS pieces FROM given) g
               WHERE g.pieces > 0 AND a.common * 2 >= g.pieces
               ORDER BY a.common DESC, a.pieces - a.common, a.name LIMIT 1) || '"? ', '')
           || 'The known KPIs are the rows of kpi_catalog (SELECT kpi FROM kpi_catalog); add your own there.';
END;
CREATE OR REPLACE FUNCTION kpi_band(kpi text, value numeric) RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d @extschema@.kpi_catalog;
BEGIN
    SELECT * INTO d FROM @extschema@.kpi_catalog c WHERE c.kpi = kpi_band.kpi;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown KPI "%"', kpi
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = @extschema@._kpi_unknown_hint(kpi);
    END IF;
    IF value IN ('NaN', 'Infinity', '-Infinity') THEN
        RAISE EXCEPTION 'cannot classify % as a value of KPI "%"', value, kpi
            USING ERRCODE = 'invalid_parameter_value', HINT = 'A KPI value is a finite number.';
    END IF;
    IF value < d.min_value OR value > d.max_value THEN
        RAISE EXCEPTION '% is outside the range of KPI "%" (% to %)',
            value, kpi, coalesce(d.min_value::text, '-infinity'), coalesce(d.max_value::text, 'infinity')
            USING ERRCODE = 'numeric_value_out_of_range', HINT = 'Check the unit: ' || d.unit || '.';
    END IF;
    FOR i IN 1 .. cardinality(d.band_edges) LOOP
        IF value < d.band_edges[i] OR (value = d.band_edges[i] AND d.edge_belongs_to[i] = 'lower') THEN
            RETURN d.band_labels[i];
        END IF;
    END LOOP;
    RETURN d.band_labels[cardinality(d.band_labels)];
END
$$;
CREATE FUNCTION kpi_band(kpi text, value text) RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF value !~ '^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$'
       AND lower(btrim(value)) NOT IN ('nan', 'infinity', '+infinity', '-infinity', 'inf', '+inf', '-inf') THEN
        RAISE EXCEPTION 'cannot classify "%" as a value of KPI "%": it is not a number',
            @extschema@._kpi_excerpt(value), kpi
            USING ERRCODE = 'invalid_text_representation',
                  HINT = 'Pass the value as a number (e.g. 4.2), or a summary with its type, e.g. '
                         || '''{"hits":1,"total":12}''::share_summary or escalation_summary(escalated).';
    END IF;
    RETURN @extschema@.kpi_band(kpi, value::numeric);
END
$$;
COMMENT ON FUNCTION kpi_band(text, text) IS
    'support_kpi: the band of a KPI value given as text or as an untyped literal (kpi_band(kpi, NULL) is NULL)';
CREATE OR REPLACE FUNCTION _kpi_rate_scale(kpi text) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE kpi WHEN 'incident_rate' THEN 1000 WHEN 'contact_rate' THEN 100 WHEN 'interaction_rate' THEN 100 END;
CREATE OR REPLACE FUNCTION _kpi_summary_type(kpi text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN kpi IN ('incident_rate', 'contact_rate', 'interaction_rate') THEN 'customer_rate_summary'
    WHEN kpi IN ('nps', 'csat', 'ces') THEN 'survey_summary'
    WHEN kpi IN ('avg_first_response_time', 'avg_resolution_time', 'avg_handling_time') THEN 'duration_summary'
    WHEN kpi IN ('median_first_response_time', 'median_resolution_time', 'median_handling_time',
                 'median_next_reply_time') THEN 'duration_sketch'
    WHEN kpi IN ('complaint_resolution_cost', 'cost_per_complaint') THEN 'cost_summary'
    WHEN kpi IN ('escalation_rate', 'complaint_escalation_rate', 'complaint_resolution_rate',
                 'cross_functional_resolution_rate', 'first_contact_resolution_rate',
                 'sla_compliance_rate', 'complaint_resolution_efficiency', 'reopen_rate',
                 'churn_rate', 'repeat_purchase_rate', 'sla_achievement_rate') THEN 'share_summary'
    WHEN kpi IN ('quality_score', 'service_audit_score') THEN 'score_summary'
END;
CREATE FUNCTION ticket_timeline_combine(ticket_timeline, ticket_timeline) RETURNS ticket_timeline
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION score_combine(score_summary, score_summary) RETURNS score_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE rollup(score_summary) (
    SFUNC = score_combine, STYPE = score_summary, INITCOND = '{"scores":0,"sum":0,"sum_of_squares":0}',
    COMBINEFUNC = score_combine, PARALLEL = SAFE
);
COMMENT ON TYPE customer_rate_summary IS
    'support_kpi: state of a per-customer rate, {"key_type", "events", "customers": [distinct keys]} (beyond 64 integer or uuid keys "packed": base64 instead of "customers")';
COMMENT ON TYPE segment_rate_summary IS
    'support_kpi: state of a per-segment rate, {"key_type", "segments": {name: {"events", "customers"}}} (beyond 64 integer or uuid keys "packed" instead of "customers")';
COMMENT ON TYPE ticket_timeline IS
    'support_kpi: state of ticket_timeline(), the events of one ticket for sla_instances(), {"events": [[at_us, "status"|"priority"|"schedule"|"message", value], ...]}';
CREATE AGGREGATE repeat_purchase_rate(purchased_again boolean) (
    SFUNC = share_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, FINALFUNC = escalation_rate_final,
    MSFUNC = share_trans, MINVFUNC = share_inv_trans, MSTYPE = share_summary,
    MINITCOND = '{"hits":0,"total":0}', MFINALFUNC = escalation_rate_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE repeat_purchase_summary(purchased_again boolean) (
    SFUNC = share_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, PARALLEL = SAFE
);
CREATE FUNCTION repeat_purchase_rate(summary share_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'share_percent' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION repeat_purchase_rate_ci(summary share_summary, confidence float8 DEFAULT 0.95,
                                        OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.share_wilson_bound(summary, confidence, false)::numeric,
           @extschema@.share_wilson_bound(summary, confidence, true)::numeric;
END;
CREATE AGGREGATE sla_achievement_rate(achieved boolean) (
    SFUNC = share_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, FINALFUNC = escalation_rate_final,
    MSFUNC = share_trans, MINVFUNC = share_inv_trans, MSTYPE = share_summary,
    MINITCOND = '{"hits":0,"total":0}', MFINALFUNC = escalation_rate_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE sla_achievement_summary(achieved boolean) (
    SFUNC = share_trans, STYPE = share_summary, INITCOND = '{"hits":0,"total":0}',
    COMBINEFUNC = share_combine, PARALLEL = SAFE
);
CREATE FUNCTION sla_achievement_rate(summary share_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'share_percent' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sla_achievement_rate_ci(summary share_summary, confidence float8 DEFAULT 0.95,
                                        OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.share_wilson_bound(summary, confidence, false)::numeric,
           @extschema@.share_wilson_bound(summary, confidence, true)::numeric;
END;
CREATE FUNCTION summary_json(summary customer_rate_summary) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'customer_rate_summary_listed' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION summary_json(summary segment_rate_summary) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'segment_rate_summary_listed' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cost_count(summary cost_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'cost_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cost_trans(cost_summary, numeric) RETURNS cost_summary
    AS 'MODULE_PATHNAME', 'cost_trans_cost' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cost_per_complaint(summary cost_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'cost_per_complaint' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE cost_per_complaint(cost numeric) (
    SFUNC = cost_trans, STYPE = cost_summary, INITCOND = '{"resolved":0,"costs":0,"total_cost":"0"}',
    COMBINEFUNC = cost_combine, FINALFUNC = cost_per_complaint, PARALLEL = SAFE
);
CREATE AGGREGATE cost_per_complaint_summary(cost numeric) (
    SFUNC = cost_trans, STYPE = cost_summary, INITCOND = '{"resolved":0,"costs":0,"total_cost":"0"}',
    COMBINEFUNC = cost_combine, PARALLEL = SAFE
);
CREATE OR REPLACE FUNCTION _kpi_check_summary(kpi text, summary_type text, known_kpis text) RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    expected text := CASE WHEN summary_type = 'segment_rate_summary' AND kpi = 'contact_rate'
                          THEN summary_type ELSE @extschema@._kpi_summary_type(kpi) END;
BEGIN
    IF NOT EXISTS (SELECT FROM @extschema@.kpi_catalog c WHERE c.kpi = _kpi_check_summary.kpi) THEN
        RAISE EXCEPTION 'unknown KPI "%"', kpi
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = @extschema@._kpi_unknown_hint(kpi);
    END IF;
    IF expected IS DISTINCT FROM summary_type AND (expected IS NOT NULL OR known_kpis IS NOT NULL) THEN
        RAISE EXCEPTION 'KPI "%" is not computed from a %', kpi, summary_type
            USING ERRCODE = 'datatype_mismatch',
                  HINT = 'A ' || summary_type || ' is the summary of '
                         || coalesce(known_kpis, 'the KPIs of its type and of KPIs you added to kpi_catalog')
                         || coalesce('; "' || kpi || '" takes a ' || expected, '') || '.';
    END IF;
END
$$;
CREATE FUNCTION _kpi_tracked_written_by() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    NEW.written_by := current_user;
    RETURN NEW;
END
$$;
CREATE FUNCTION _kpi_tracking_period(tracking text) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    periods text[];
BEGIN
    SELECT array_agg(DISTINCT k.period) INTO periods FROM @extschema@.kpi_tracked k WHERE k.tracking = _kpi_tracking_period.tracking;
    IF periods IS NULL THEN
        RAISE EXCEPTION 'no KPI is tracked as "%"', tracking
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Add rows to kpi_tracked first: tracking, kpi, source, time_column, summary, period, dimensions.';
    END IF;
    IF cardinality(periods) > 1 THEN
        RAISE EXCEPTION 'tracking "%" mixes periods %', tracking, periods
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Give every KPI of one tracking the same period.';
    END IF;
    RETURN periods[1];
END
$$;
CREATE FUNCTION _kpi_record(tracking text, period_start timestamptz, source_path text) RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t @extschema@.kpi_tracked;
    period text;
    start_at timestamptz;
    step interval;
    old_bands jsonb;
    old_rules jsonb;
    grouping_sets text;
    dimension_name text;
    dimension_value text;
    caller_role text := current_setting('role');
    recorded @extschema@.kpi_recorded[];
    written integer := 0;
    n integer;
BEGIN
    period := @extschema@._kpi_tracking_period(tracking);
    -- one recording of a tracking at a time (two overlapping jobs would both delete, then
    -- both insert): the second waits for the first to commit, then replaces its rows
    PERFORM pg_advisory_xact_lock(hashtext('support_kpi.kpi_record'), hashtext(tracking));
    step := @extschema@._kpi_period_interval(period);
    start_at := date_trunc(period, period_start);
    IF start_at <> period_start THEN
        RAISE EXCEPTION '% is not the start of a %', period_start, period
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass date_trunc(''' || period || ''', <time>).';
    END IF;

    -- the bands recorded for this period so far, to notify only of new band changes
    SELECT coalesce(jsonb_object_agg(h.kpi || '|' || h.dimension || '|' || h.dimension_value, h.band), '{}')
    INTO old_bands
    FROM @extschema@.kpi_recorded h WHERE h.tracking = _kpi_record.tracking AND h.period_start = start_at;
    -- and the control-chart rules they fired, to notify only of new ones
    SELECT coalesce(jsonb_object_agg(c.kpi || '|' || c.dimension || '|' || c.dimension_value, c.rules_fired), '{}')
    INTO old_rules
    FROM @extschema@.kpi_control_chart c
    WHERE c.tracking = _kpi_record.tracking AND c."time" = start_at AND c.rules_fired IS NOT NULL;
    DELETE FROM @extschema@.kpi_recorded h WHERE h.tracking = _kpi_record.tracking AND h.period_start = start_at;

    FOR t IN SELECT * FROM @extschema@.kpi_tracked k WHERE k.tracking = _kpi_record.tracking ORDER BY k.kpi LOOP
        IF NOT EXISTS (SELECT FROM @extschema@.kpi_catalog c WHERE c.kpi = t.kpi) THEN
            RAISE EXCEPTION 'tracking "%" names the unknown KPI "%"', tracking, t.kpi
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Track a KPI of kpi_catalog, or add yours there.';
        END IF;
        grouping_sets := '()';
        dimension_name := '''all''';
        dimension_value := '''all''';
        FOR i IN REVERSE cardinality(t.dimensions) .. 1 LOOP
            dimension_name := format('CASE WHEN GROUPING(%I) OPERATOR(pg_catalog.=) 0 THEN %L ELSE %s END',
                                     t.dimensions[i], t.dimensions[i], dimension_name);
            dimension_value := format('CASE WHEN GROUPING(%1$I) OPERATOR(pg_catalog.=) 0 '
                                      'THEN coalesce(%1$I::pg_catalog.text, ''(none)'') ELSE %2$s END',
                                      t.dimensions[i], dimension_value);
        END LOOP;
        FOR i IN 1 .. cardinality(t.dimensions) LOOP
            grouping_sets := grouping_sets || format(', (%I)', t.dimensions[i]);
        END LOOP;
        -- the row's SQL runs with the rights of the role that wrote it, never the caller's
        IF t.written_by <> current_user THEN
            IF NOT EXISTS (SELECT FROM pg_roles r WHERE r.rolname = t.written_by) THEN
                RAISE EXCEPTION 'the kpi_tracked row of % in tracking "%" was written by role "%", which no longer exists',
                                t.kpi, tracking, t.written_by
                    USING ERRCODE = 'insufficient_privilege',
                          HINT = 'Write the row again (UPDATE it): its SQL then runs with your rights.';
            END IF;
            IF NOT pg_has_role(session_user, t.written_by, 'MEMBER') THEN
                RAISE EXCEPTION 'the kpi_tracked row of % in tracking "%" was written by role "%", and "%" may not act as that role',
                                t.kpi, tracking, t.written_by, session_user
                    USING ERRCODE = 'insufficient_privilege',
                          HINT = 'A kpi_tracked row''s SQL runs with the rights of the role that wrote it: record it as '
                                 'that role (or a role that is a member of it), or write the row again yourself.';
            END IF;
        END IF;
        BEGIN
            IF t.written_by <> current_user THEN
                PERFORM set_config('role', t.written_by, true);
            END IF;
            PERFORM set_config('search_path', source_path, true);
            EXECUTE format($q$
                SELECT pg_catalog.array_agg(ROW($1, $2, $3, $4, x.dimension, x.dimension_value, x.value, x.band,
                       -- kpi_band(kpi, summary), from the interval already at hand: the bands it
                       -- touches, or the point band where no interval is kept
                       coalesce(@extschema@.kpi_band($2, (x.ci).lower, (x.ci).upper), x.band),
                       @extschema@.kpi_cases($2, x.s), (x.ci).lower, (x.ci).upper,
                       NULL, NULL, NULL, pg_catalog.now(), @extschema@.kpi_change_stats(x.s),
                       NULL, NULL, NULL)::@extschema@.kpi_recorded)
                FROM (SELECT z.*, @extschema@.kpi_band($2, z.value) AS band
                      FROM (SELECT y.*, @extschema@.kpi_value($2, y.s) AS value, @extschema@.kpi_interval($2, y.s) AS ci
                            FROM (SELECT %s AS dimension, %s AS dimension_value, %s AS s
                                  FROM %s WHERE %I OPERATOR(pg_catalog.>=) $4 AND %I OPERATOR(pg_catalog.<) $5
                                  GROUP BY GROUPING SETS (%s)) y) z) x
                $q$, dimension_name, dimension_value, t.summary, t.source::regclass, t.time_column, t.time_column,
                     grouping_sets)
            INTO recorded
            USING tracking, t.kpi, t.period, start_at, start_at + step;
            PERFORM set_config('search_path', 'pg_catalog, pg_temp', true);
            PERFORM set_config('role', caller_role, true);
        EXCEPTION WHEN OTHERS THEN
            RAISE EXCEPTION 'recording % of tracking "%" for the % of % failed: %', t.kpi, tracking, t.period, start_at, SQLERRM
                USING ERRCODE = SQLSTATE,
                      HINT = 'Check the kpi_tracked row (source, time_column, summary, dimensions); the history kept its previous rows.';
        END;
        INSERT INTO @extschema@.kpi_recorded SELECT * FROM unnest(recorded);
        GET DIAGNOSTICS n = ROW_COUNT;
        written := written + n;
    END LOOP;

    -- a revision for each slice whose value, band or cases changed (or that is gone)
    INSERT INTO @extschema@.kpi_recorded_revision
    SELECT x.tracking, x.kpi, start_at, x.dimension, x.dimension_value, coalesce(x.last, 0) + 1, now(),
           x.value, x.band, x.verdict, x.cases, x.ci_lower, x.ci_upper
    FROM (SELECT coalesce(h.tracking, r.tracking) AS tracking, coalesce(h.kpi, r.kpi) AS kpi,
                 coalesce(h.dimension, r.dimension) AS dimension, coalesce(h.dimension_value, r.dimension_value) AS dimension_value,
                 r.revision AS last, h.value, h.band, h.verdict, h.cases, h.ci_lower, h.ci_upper,
                 r.value AS last_value, r.band AS last_band, r.cases AS last_cases
          FROM (SELECT * FROM @extschema@.kpi_recorded h
                WHERE h.tracking = _kpi_record.tracking AND h.period_start = start_at) h
          FULL JOIN (SELECT DISTINCT ON (r.kpi, r.dimension, r.dimension_value) r.*
                     FROM @extschema@.kpi_recorded_revision r
                     WHERE r.tracking = _kpi_record.tracking AND r.period_start = start_at
                     ORDER BY r.kpi, r.dimension, r.dimension_value, r.revision DESC) r
            ON r.kpi = h.kpi AND r.dimension = h.dimension AND r.dimension_value = h.dimension_value) x
    WHERE x.last IS NULL
       OR (x.value, x.band, x.cases) IS DISTINCT FROM (x.last_value, x.last_band, x.last_cases);
    -- revisions of periods older than the retention: the latest only
    DELETE FROM @extschema@.kpi_recorded_revision r
    USING @extschema@.kpi_tracked k
    WHERE r.tracking = _kpi_record.tracking AND k.tracking = r.tracking AND k.kpi = r.kpi
      AND k.revision_retention IS NOT NULL
      AND r.period_start < start_at - k.revision_retention * step
      AND r.revision < (SELECT max(l.revision) FROM @extschema@.kpi_recorded_revision l
                        WHERE l.tracking = r.tracking AND l.kpi = r.kpi AND l.period_start = r.period_start
                          AND l.dimension = r.dimension AND l.dimension_value = r.dimension_value);

    -- the previous period's value and band, and the change test against it, for this period
    -- and the next one
    UPDATE @extschema@.kpi_recorded h SET previous_value = NULL, previous_band = NULL, change = NULL,
                                         p_value = NULL, change_test = NULL, significant = NULL
    WHERE h.tracking = _kpi_record.tracking AND h.period_start = start_at + step;
    UPDATE @extschema@.kpi_recorded h
    SET previous_value = p.value, previous_band = p.band, change = h.value - p.value,
        (p_value, change_test, significant) =
            (SELECT r.p_value, r.test, r.p_value < k.significance_level
             FROM @extschema@.kpi_change_test(h.kpi, h.stats, p.stats) r)
    FROM @extschema@.kpi_recorded p, @extschema@.kpi_tracked k
    WHERE h.tracking = _kpi_record.tracking AND h.period_start IN (start_at, start_at + step)
      AND p.tracking = h.tracking AND p.kpi = h.kpi AND p.dimension = h.dimension
      AND p.dimension_value = h.dimension_value AND p.period_start = h.period_start - step
      AND k.tracking = h.tracking AND k.kpi = h.kpi;

    -- a band that differs from the previous period's, and was not already so, where the
    -- tracking's alert rule says so: NOTIFY (sent on commit), with the rule and why it fired
    PERFORM pg_notify('support_kpi_band_change', json_build_object(
                'tracking', h.tracking, 'kpi', h.kpi, 'period', h.period, 'period_start', h.period_start,
                'dimension', h.dimension, 'dimension_value', h.dimension_value,
                'previous_band', h.previous_band, 'band', h.band, 'verdict', h.verdict,
                'previous_value', h.previous_value, 'value', h.value, 'cases', h.cases,
                'rule', k.alert_rule, 'p_value', h.p_value, 'change_test', h.change_test,
                'why', CASE WHEN k.alert_rule = 'band' THEN 'the band changed'
                            WHEN h.significant THEN format('the band changed, and the change is significant (%s: p %s < %s)',
                                                           h.change_test,
                                                           CASE WHEN h.p_value < 0.0001 THEN '< 0.0001'
                                                                ELSE '= ' || round(h.p_value::numeric, 4) END,
                                                           k.significance_level)
                            ELSE 'the band changed, and the interval lies wholly in the new band' END)::text)
    FROM @extschema@.kpi_recorded h JOIN @extschema@.kpi_tracked k ON k.tracking = h.tracking AND k.kpi = h.kpi
    WHERE h.tracking = _kpi_record.tracking AND h.period_start = start_at
      AND h.previous_band IS NOT NULL AND h.band IS NOT NULL AND h.band <> h.previous_band
      AND old_bands ->> (h.kpi || '|' || h.dimension || '|' || h.dimension_value) IS DISTINCT FROM h.band
      AND (k.alert_rule = 'band' OR (k.alert_rule = 'significant' AND (h.significant OR h.verdict = h.band)));

    -- under the rule 'control': a point that newly fires a rule of its control chart
    PERFORM pg_notify('support_kpi_band_change', json_build_object(
                'tracking', c.tracking, 'kpi', c.kpi, 'period', c.period, 'period_start', c."time",
                'dimension', c.dimension, 'dimension_value', c.dimension_value,
                'previous_band', h.previous_band, 'band', h.band, 'verdict', h.verdict,
                'previous_value', h.previous_value, 'value', h.value, 'cases', h.cases,
                'rule', 'control', 'p_value', h.p_value, 'change_test', h.change_test,
                'chart', c.chart, 'centre', c.centre, 'lower_limit', c.lower_limit, 'upper_limit', c.upper_limit,
                'why', format('%s-chart rule %s (centre %s, limits %s to %s, from %s periods)', c.chart, c.rules_fired,
                              round(c.centre, 4), round(c.lower_limit, 4), round(c.upper_limit, 4), c.baseline))::text)
    FROM @extschema@.kpi_control_chart c
    JOIN @extschema@.kpi_tracked k ON k.tracking = c.tracking AND k.kpi = c.kpi
    JOIN @extschema@.kpi_recorded h ON h.tracking = c.tracking AND h.kpi = c.kpi AND h.period_start = c."time"
                                   AND h.dimension = c.dimension AND h.dimension_value = c.dimension_value
    WHERE c.tracking = _kpi_record.tracking AND c."time" = start_at AND k.alert_rule = 'control'
      AND c.rules_fired IS NOT NULL
      AND old_rules ->> (c.kpi || '|' || c.dimension || '|' || c.dimension_value) IS DISTINCT FROM c.rules_fired;

    -- a restatement that changes a band (kpi_restatements): sent like a band change where the
    -- tracking's rule says so, marked as a restatement
    PERFORM pg_notify('support_kpi_band_change', json_build_object(
                'tracking', x.tracking, 'kpi', x.kpi, 'period', x.period, 'period_start', x.period_start,
                'dimension', x.dimension, 'dimension_value', x.dimension_value,
                'previous_band', x.previous_band, 'band', x.band, 'previous_value', x.previous_value,
                'value', x.value, 'revision', x.revision, 'restatement', true, 'rule', k.alert_rule,
                'why', format('restated: the %s of %s, recorded at %s as %s, is now %s', x.period, x.period_start,
                              x.previous_recorded_at, coalesce(x.previous_band, 'no band'), coalesce(x.band, 'no band')))::text)
    FROM @extschema@.kpi_restatements x
    JOIN @extschema@.kpi_tracked k ON k.tracking = x.tracking AND k.kpi = x.kpi
    WHERE x.tracking = _kpi_record.tracking AND x.period_start = start_at AND x.band_changed
      AND x.recorded_at = now()
      AND (k.alert_rule = 'band' OR (k.alert_rule = 'significant' AND (x.beyond_interval OR x.verdict = x.band)));
    RETURN written;
END
$$;
CREATE OR REPLACE FUNCTION kpi_record(tracking text, period_start timestamptz) RETURNS integer
LANGUAGE sql VOLATILE
RETURN @extschema@._kpi_record(tracking, period_start, pg_catalog.current_setting('search_path'));
CREATE FUNCTION _kpi_record_reported(
    caller text, tracking text, period text, period_start timestamptz, source_path text, ordinal integer,
    total integer, raise_failure boolean, OUT failure_state text, OUT failure text
) LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    started timestamptz := clock_timestamp();
    n integer;
BEGIN
    IF raise_failure THEN
        n := @extschema@._kpi_record(tracking, period_start, source_path);
    ELSE
        BEGIN
            n := @extschema@._kpi_record(tracking, period_start, source_path);
        EXCEPTION WHEN OTHERS THEN
            failure_state := SQLSTATE;
            failure := SQLERRM;
            RAISE NOTICE '%: tracking "%", % of %: failed after % ms: %', caller, tracking, period, period_start,
                round(extract(epoch FROM clock_timestamp() - started) * 1000), SQLERRM;
            RETURN;
        END;
    END IF;
    RAISE NOTICE '%: tracking "%", % of %: % rows in % ms%', caller, tracking, period, period_start, n,
        round(extract(epoch FROM clock_timestamp() - started) * 1000),
        CASE WHEN ordinal IS NOT NULL THEN format(' (%s of %s)', ordinal, total) ELSE '' END;
END
$$;
CREATE FUNCTION _kpi_range_periods(tracking text, from_time timestamptz, to_time timestamptz)
RETURNS TABLE (period text, period_start timestamptz, ordinal integer, total integer)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p text := @extschema@._kpi_tracking_period(tracking);
BEGIN
    RETURN QUERY
    SELECT p, g, (row_number() OVER (ORDER BY g))::integer, (count(*) OVER ())::integer
    FROM generate_series(date_trunc(p, from_time), to_time, @extschema@._kpi_period_interval(p)) g
    WHERE g < to_time ORDER BY g;
END
$$;
CREATE FUNCTION _kpi_due_periods(tracking text) RETURNS TABLE (tracked text, period text, period_start timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF _kpi_due_periods.tracking IS NOT NULL THEN
        PERFORM @extschema@._kpi_tracking_period(_kpi_due_periods.tracking);  -- the error for an unknown tracking
    END IF;
    RETURN QUERY
    SELECT k.tracking, k.period, s.at
    FROM (SELECT k.tracking, min(k.period) AS period, max(k.lookback) AS lookback FROM @extschema@.kpi_tracked k
          WHERE _kpi_due_periods.tracking IS NULL OR k.tracking = _kpi_due_periods.tracking
          GROUP BY k.tracking) k,
         LATERAL (SELECT date_trunc(k.period, now()) AS current_start) c,
         LATERAL (SELECT c.current_start - g * @extschema@._kpi_period_interval(k.period) AS at
                  FROM generate_series(k.lookback, 0, -1) g) s
    ORDER BY k.tracking, s.at;
END
$$;
CREATE OR REPLACE PROCEDURE kpi_record_range(tracking text, from_time timestamptz, to_time timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    caller_path text := pg_catalog.current_setting('search_path'::pg_catalog.text);
    p record;
BEGIN
    FOR p IN SELECT * FROM @extschema@._kpi_range_periods(tracking, from_time, to_time) LOOP
        PERFORM @extschema@._kpi_record_reported('kpi_record_range'::pg_catalog.text, tracking, p.period, p.period_start,
                                                 caller_path, p.ordinal, p.total, true);
        COMMIT;
    END LOOP;
END
$$;
CREATE OR REPLACE PROCEDURE kpi_record_due(tracking text DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    caller_path text := pg_catalog.current_setting('search_path'::pg_catalog.text);
    r record;
    f record;
    failure_state text;
    failures text[] := '{}';
BEGIN
    FOR r IN SELECT * FROM @extschema@._kpi_due_periods(tracking) LOOP
        f := @extschema@._kpi_record_reported('kpi_record_due'::pg_catalog.text, r.tracked, r.period, r.period_start,
                                              caller_path, NULL::pg_catalog.int4, NULL::pg_catalog.int4, false);
        IF f.failure IS NOT NULL THEN
            failures := pg_catalog.array_append(failures, f.failure);
            failure_state := f.failure_state;
        END IF;
        COMMIT;
    END LOOP;
    IF failure_state IS NOT NULL THEN
        RAISE EXCEPTION '% of the recordings failed: %', pg_catalog.cardinality(failures),
                        pg_catalog.array_to_string(failures, '; '::pg_catalog.text)
            USING ERRCODE = failure_state,
                  HINT = 'The other trackings were recorded. Fix the kpi_tracked rows named; the history kept their previous rows.';
    END IF;
END
$$;
CREATE FUNCTION next_reply_sketch_trans(duration_sketch, timestamptz, timestamptz) RETURNS duration_sketch
    AS 'MODULE_PATHNAME', 'next_reply_sketch_trans_tz' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE median_next_reply_time(waiting_since timestamptz, replied_at timestamptz) (
    SFUNC = next_reply_sketch_trans, STYPE = duration_sketch, SSPACE = 128, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, FINALFUNC = duration_sketch_median, PARALLEL = SAFE
);
CREATE AGGREGATE next_reply_sketch(waiting_since timestamptz, replied_at timestamptz) (
    SFUNC = next_reply_sketch_trans, STYPE = duration_sketch, SSPACE = 128, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, PARALLEL = SAFE
);
CREATE FUNCTION next_reply_sketch_trans(duration_sketch, timestamp, timestamp) RETURNS duration_sketch
    AS 'MODULE_PATHNAME', 'next_reply_sketch_trans_ts' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE median_next_reply_time(waiting_since timestamp, replied_at timestamp) (
    SFUNC = next_reply_sketch_trans, STYPE = duration_sketch, SSPACE = 128, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, FINALFUNC = duration_sketch_median, PARALLEL = SAFE
);
CREATE AGGREGATE next_reply_sketch(waiting_since timestamp, replied_at timestamp) (
    SFUNC = next_reply_sketch_trans, STYPE = duration_sketch, SSPACE = 128, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, PARALLEL = SAFE
);
CREATE FUNCTION next_reply_sketch_trans(duration_sketch, interval) RETURNS duration_sketch
    AS 'MODULE_PATHNAME', 'next_reply_sketch_trans_interval' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE median_next_reply_time(next_reply_time interval) (
    SFUNC = next_reply_sketch_trans, STYPE = duration_sketch, SSPACE = 128, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, FINALFUNC = duration_sketch_median, PARALLEL = SAFE
);
CREATE AGGREGATE next_reply_sketch(next_reply_time interval) (
    SFUNC = next_reply_sketch_trans, STYPE = duration_sketch, SSPACE = 128, INITCOND = '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
    COMBINEFUNC = duration_sketch_combine, PARALLEL = SAFE
);
CREATE FUNCTION avg_next_reply_time(summary duration_sketch) RETURNS interval
    AS 'MODULE_PATHNAME', 'duration_sketch_average' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION score_trans(score_summary, integer) RETURNS score_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION score_inv_trans(score_summary, integer) RETURNS score_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION score_mean(score_summary) RETURNS numeric
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION score_count(summary score_summary) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION score_bound(score_summary, float8, boolean) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION kpi_value(kpi text, summary score_summary) RETURNS numeric
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.score_mean(summary) FROM @extschema@._kpi_check_summary(kpi, 'score_summary', NULL);
END;
CREATE FUNCTION kpi_cases(summary score_summary) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN @extschema@.score_count(summary);
CREATE FUNCTION kpi_interval(kpi text, summary score_summary, confidence float8 DEFAULT 0.95,
                             OUT lower numeric, OUT upper numeric)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT coalesce(@extschema@.score_bound(summary, confidence, false),
                    CASE WHEN @extschema@.score_count(summary) > 0 THEN 0 END)::numeric,
           coalesce(@extschema@.score_bound(summary, confidence, true),
                    CASE WHEN @extschema@.score_count(summary) > 0 THEN 100 END)::numeric
    FROM @extschema@._kpi_check_summary(kpi, 'score_summary', NULL);
END;
CREATE FUNCTION kpi_band(kpi text, summary score_summary, confidence float8 DEFAULT 0.95) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.kpi_band(kpi, ci.lower, ci.upper) FROM @extschema@.kpi_interval(kpi, summary, confidence) ci;
END;
CREATE AGGREGATE quality_score(score integer) (
    SFUNC = score_trans, STYPE = score_summary, INITCOND = '{"scores":0,"sum":0,"sum_of_squares":0}',
    COMBINEFUNC = score_combine, FINALFUNC = score_mean,
    MSFUNC = score_trans, MINVFUNC = score_inv_trans, MSTYPE = score_summary,
    MINITCOND = '{"scores":0,"sum":0,"sum_of_squares":0}', MFINALFUNC = score_mean,
    PARALLEL = SAFE
);
CREATE AGGREGATE quality_score_summary(score integer) (
    SFUNC = score_trans, STYPE = score_summary, INITCOND = '{"scores":0,"sum":0,"sum_of_squares":0}',
    COMBINEFUNC = score_combine, PARALLEL = SAFE
);
CREATE FUNCTION quality_score(summary score_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'score_mean' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION quality_score_ci(summary score_summary, confidence float8 DEFAULT 0.95,
                                 OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.score_bound(summary, confidence, false)::numeric,
           @extschema@.score_bound(summary, confidence, true)::numeric;
END;
CREATE AGGREGATE service_audit_score(score integer) (
    SFUNC = score_trans, STYPE = score_summary, INITCOND = '{"scores":0,"sum":0,"sum_of_squares":0}',
    COMBINEFUNC = score_combine, FINALFUNC = score_mean,
    MSFUNC = score_trans, MINVFUNC = score_inv_trans, MSTYPE = score_summary,
    MINITCOND = '{"scores":0,"sum":0,"sum_of_squares":0}', MFINALFUNC = score_mean,
    PARALLEL = SAFE
);
CREATE AGGREGATE service_audit_score_summary(score integer) (
    SFUNC = score_trans, STYPE = score_summary, INITCOND = '{"scores":0,"sum":0,"sum_of_squares":0}',
    COMBINEFUNC = score_combine, PARALLEL = SAFE
);
CREATE FUNCTION service_audit_score(summary score_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'score_mean' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION service_audit_score_ci(summary score_summary, confidence float8 DEFAULT 0.95,
                                       OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.score_bound(summary, confidence, false)::numeric,
           @extschema@.score_bound(summary, confidence, true)::numeric;
END;
CREATE FUNCTION kpi_cases(kpi text, summary customer_rate_summary) RETURNS bigint
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.kpi_cases(summary) FROM @extschema@._kpi_check_summary(kpi, 'customer_rate_summary', NULL);
END;
CREATE FUNCTION kpi_cases(kpi text, summary survey_summary) RETURNS bigint
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.kpi_cases(summary) FROM @extschema@._kpi_check_summary(kpi, 'survey_summary', NULL);
END;
CREATE FUNCTION kpi_cases(kpi text, summary duration_summary) RETURNS bigint
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.kpi_cases(summary) FROM @extschema@._kpi_check_summary(kpi, 'duration_summary', NULL);
END;
CREATE FUNCTION kpi_cases(kpi text, summary duration_sketch) RETURNS bigint
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.kpi_cases(summary) FROM @extschema@._kpi_check_summary(kpi, 'duration_sketch', NULL);
END;
CREATE FUNCTION kpi_cases(kpi text, summary cost_summary) RETURNS bigint
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE kpi WHEN 'cost_per_complaint' THEN @extschema@.cost_count(summary) ELSE @extschema@.kpi_cases(summary) END FROM @extschema@._kpi_check_summary(kpi, 'cost_summary', NULL);
END;
CREATE FUNCTION kpi_cases(kpi text, summary share_summary) RETURNS bigint
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.kpi_cases(summary) FROM @extschema@._kpi_check_summary(kpi, 'share_summary', NULL);
END;
CREATE FUNCTION kpi_cases(kpi text, summary score_summary) RETURNS bigint
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.kpi_cases(summary) FROM @extschema@._kpi_check_summary(kpi, 'score_summary', NULL);
END;
CREATE OR REPLACE FUNCTION kpi_value(kpi text, summary customer_rate_summary) RETURNS numeric
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE kpi
                    WHEN 'incident_rate' THEN @extschema@.incident_rate(summary)
                    WHEN 'contact_rate' THEN @extschema@.contact_rate(summary)
                    WHEN 'interaction_rate' THEN @extschema@.interaction_rate(summary) END
    FROM @extschema@._kpi_check_summary(kpi, 'customer_rate_summary', 'incident_rate, contact_rate and interaction_rate');
END;
CREATE OR REPLACE FUNCTION kpi_value(kpi text, summary cost_summary) RETURNS numeric
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE kpi
                    WHEN 'complaint_resolution_cost' THEN @extschema@.complaint_resolution_cost(summary)
                    WHEN 'cost_per_complaint' THEN @extschema@.cost_per_complaint(summary) END
    FROM @extschema@._kpi_check_summary(kpi, 'cost_summary', NULL);
END;
CREATE FUNCTION _kpi_excerpt(name text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN pg_catalog.length(name) > 64 THEN pg_catalog.left(name, 64) OPERATOR(pg_catalog.||) '...' ELSE name END;
CREATE OR REPLACE FUNCTION _kpi_check_time_zone() RETURNS trigger LANGUAGE plpgsql
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
CREATE OR REPLACE FUNCTION _kpi_schedule_spec(schedule text) RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE
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
CREATE FUNCTION business_time("start" timestamptz, "end" timestamptz, schedule text, timeline ticket_timeline) RETURNS interval
    AS 'MODULE_PATHNAME', 'business_time_timeline' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION business_time(timestamptz, timestamptz, text, ticket_timeline) IS
    'support_kpi: the working time between two instants, piece by piece in the schedule in force of a ticket''s timeline';
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
CREATE FUNCTION time_in_status(timeline ticket_timeline, statuses text[], until timestamptz DEFAULT now(), schedule text DEFAULT NULL) RETURNS interval
    AS 'MODULE_PATHNAME', 'time_in_status_timeline' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION time_in_status(ticket_timeline, text[], timestamptz, text) IS
    'support_kpi: how long a ticket was in any of the statuses as known at an instant, in the schedule in force of its timeline';
CREATE FUNCTION _kpi_fisher_exact(a bigint, b bigint, c bigint, d bigint) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION _kpi_poisson_rate_test(events1 bigint, customers1 bigint, events2 bigint, customers2 bigint)
    RETURNS float8 AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION _kpi_nps_test(promoters1 bigint, detractors1 bigint, answers1 bigint,
                              promoters2 bigint, detractors2 bigint, answers2 bigint)
    RETURNS float8 AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION _kpi_welch_t_test(n1 float8, sum1 float8, squares1 float8, n2 float8, sum2 float8, squares2 float8)
    RETURNS float8 AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION _kpi_answers(stats jsonb, lo integer, hi integer) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT coalesce(sum(c::bigint), 0)::bigint
        FROM jsonb_array_elements_text(stats -> 'counts') WITH ORDINALITY a(c, i) WHERE i BETWEEN lo AND hi);
CREATE FUNCTION kpi_change_stats(summary share_summary) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN (summary::pg_catalog.text)::pg_catalog.jsonb;
CREATE FUNCTION kpi_change_stats(summary customer_rate_summary) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN pg_catalog.jsonb_build_object('customers', @extschema@.customer_count(summary),
                                     'events', @extschema@.event_count(summary));
CREATE FUNCTION kpi_change_stats(summary survey_summary) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN (summary::pg_catalog.text)::pg_catalog.jsonb;
CREATE FUNCTION kpi_change_stats(summary score_summary) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN (summary::pg_catalog.text)::pg_catalog.jsonb;
CREATE FUNCTION kpi_change_stats(summary duration_summary) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN NULL::pg_catalog.jsonb;
CREATE FUNCTION kpi_change_stats(summary duration_sketch) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN NULL::pg_catalog.jsonb;
CREATE FUNCTION kpi_change_stats(summary cost_summary) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN NULL::pg_catalog.jsonb;
CREATE FUNCTION kpi_change_test(kpi text, stats jsonb, previous_stats jsonb, OUT p_value float8, OUT test text)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    -- the summary type: from the counts' shape (KPIs users added have none in the registry)
    kind text := CASE WHEN stats ? 'hits' THEN 'share_summary' WHEN stats ? 'customers' THEN 'customer_rate_summary'
                      WHEN stats ? 'survey' THEN 'survey_summary' WHEN stats ? 'scores' THEN 'score_summary'
                      ELSE @extschema@._kpi_summary_type(kpi) END;
    survey text;
    n1 bigint;
    n2 bigint;
BEGIN
    IF kind IN ('duration_summary', 'duration_sketch', 'cost_summary') THEN
        test := format('none: %s keeps no spread', kind);
        RETURN;
    END IF;
    IF jsonb_typeof(stats) IS DISTINCT FROM 'object' OR jsonb_typeof(previous_stats) IS DISTINCT FROM 'object' THEN
        RETURN;  -- no counts (SQL or JSON null): nothing to compare
    END IF;
    IF kind = 'share_summary' THEN
        n1 := (stats ->> 'total')::bigint;
        n2 := (previous_stats ->> 'total')::bigint;
        IF n1 = 0 OR n2 = 0 THEN
            test := 'none: a period without cases';
            RETURN;
        END IF;
        p_value := @extschema@._kpi_fisher_exact((stats ->> 'hits')::bigint, n1 - (stats ->> 'hits')::bigint,
                                                 (previous_stats ->> 'hits')::bigint, n2 - (previous_stats ->> 'hits')::bigint);
        test := 'Fisher''s exact test';
    ELSIF kind = 'customer_rate_summary' THEN
        p_value := @extschema@._kpi_poisson_rate_test((stats ->> 'events')::bigint, (stats ->> 'customers')::bigint,
                                                      (previous_stats ->> 'events')::bigint, (previous_stats ->> 'customers')::bigint);
        test := CASE WHEN p_value IS NULL THEN 'none: a period without customers' ELSE 'exact Poisson rate test' END;
    ELSIF kind = 'score_summary' THEN
        p_value := @extschema@._kpi_welch_t_test((stats ->> 'scores')::float8, (stats ->> 'sum')::float8,
                                                 (stats ->> 'sum_of_squares')::float8, (previous_stats ->> 'scores')::float8,
                                                 (previous_stats ->> 'sum')::float8, (previous_stats ->> 'sum_of_squares')::float8);
        test := CASE WHEN p_value IS NULL THEN 'none: fewer than 2 scores in a period, or no spread' ELSE 'Welch''s t test' END;
    ELSIF kind = 'survey_summary' THEN
        survey := stats ->> 'survey';
        IF survey IS DISTINCT FROM previous_stats ->> 'survey' THEN
            RAISE EXCEPTION 'the counts of two different surveys (% and %) cannot be compared', survey, previous_stats ->> 'survey'
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Compare two periods of one survey.';
        END IF;
        IF survey = 'nps' THEN
            -- counts of the answers 0..10: promoters 9-10, detractors 0-6
            p_value := @extschema@._kpi_nps_test(
                @extschema@._kpi_answers(stats, 10, 11), @extschema@._kpi_answers(stats, 1, 7),
                @extschema@._kpi_answers(stats, 1, 11),
                @extschema@._kpi_answers(previous_stats, 10, 11), @extschema@._kpi_answers(previous_stats, 1, 7),
                @extschema@._kpi_answers(previous_stats, 1, 11));
            test := CASE WHEN p_value IS NULL THEN 'none: a period without answers' ELSE 'adjusted-Wald z test' END;
        ELSIF survey = 'csat' THEN
            -- counts of the answers 1..5: satisfied 4-5
            n1 := @extschema@._kpi_answers(stats, 1, 5);
            n2 := @extschema@._kpi_answers(previous_stats, 1, 5);
            IF n1 = 0 OR n2 = 0 THEN
                test := 'none: a period without answers';
                RETURN;
            END IF;
            p_value := @extschema@._kpi_fisher_exact(@extschema@._kpi_answers(stats, 4, 5), n1 - @extschema@._kpi_answers(stats, 4, 5),
                                                     @extschema@._kpi_answers(previous_stats, 4, 5),
                                                     n2 - @extschema@._kpi_answers(previous_stats, 4, 5));
            test := 'Fisher''s exact test';
        ELSE
            -- ces: counts of the answers 1..7
            SELECT @extschema@._kpi_welch_t_test(a.n, a.s, a.q, b.n, b.s, b.q) INTO p_value
            FROM (SELECT sum(c::float8) AS n, sum(c::float8 * i) AS s, sum(c::float8 * i * i) AS q
                  FROM jsonb_array_elements_text(stats -> 'counts') WITH ORDINALITY e(c, i)) a,
                 (SELECT sum(c::float8) AS n, sum(c::float8 * i) AS s, sum(c::float8 * i * i) AS q
                  FROM jsonb_array_elements_text(previous_stats -> 'counts') WITH ORDINALITY e(c, i)) b;
            test := CASE WHEN p_value IS NULL THEN 'none: fewer than 2 answers in a period, or no spread' ELSE 'Welch''s t test' END;
        END IF;
    ELSIF kind IS NOT NULL THEN
        test := format('none: no test for %s', kind);
    END IF;
END
$$;
COMMENT ON FUNCTION kpi_change_test(text, jsonb, jsonb) IS
    'support_kpi: the two-sided p-value and test of the change of a KPI between two periods'' counts (kpi_change_stats)';
CREATE FUNCTION _kpi_chart_sample(stats jsonb, OUT chart text, OUT x numeric, OUT n numeric)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN stats ? 'hits' OR stats ->> 'survey' = 'csat' THEN 'p'
                WHEN stats ? 'customers' THEN 'u'
                ELSE 'individuals' END AS chart,
           CASE WHEN stats ? 'hits' THEN (stats ->> 'hits')::numeric
                WHEN stats ? 'customers' THEN (stats ->> 'events')::numeric
                WHEN stats ->> 'survey' = 'csat' THEN _kpi_answers(stats, 4, 5)
           END AS x,
           CASE WHEN stats ? 'hits' THEN (stats ->> 'total')::numeric
                WHEN stats ? 'customers' THEN (stats ->> 'customers')::numeric
                WHEN stats ->> 'survey' = 'csat' THEN _kpi_answers(stats, 1, 5)
           END AS n;
END;
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
CREATE FUNCTION sla_instances(timeline ticket_timeline, policy text, as_of timestamptz DEFAULT now())
RETURNS TABLE (metric text, cycle integer, priority text, target interval, schedule text,
               applied_at timestamptz, fulfilled_at timestamptz, breach_at timestamptz,
               elapsed interval, status text, achieved boolean, paused boolean)
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE ROWS 4;
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
COMMENT ON AGGREGATE ticket_timeline(text, text, timestamptz) IS
    'support_kpi: one ticket''s status changes, priority changes and public messages, for sla_instances()';
COMMENT ON FUNCTION sla_instances(ticket_timeline, text, timestamptz) IS
    'support_kpi: the SLAs of one ticket under a policy as of an instant: applied, target, elapsed, breach instant, outcome';
COMMENT ON FUNCTION kpi_sla_at_risk(regclass, timestamptz) IS
    'support_kpi: the active SLAs of the tickets of a view of events, soonest breach first';
CREATE FUNCTION _kpi_check_references() RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found text;
BEGIN
    WITH member AS (
        SELECT d.classid, d.objid FROM pg_depend d JOIN pg_extension x ON x.oid = d.refobjid
        WHERE d.refclassid = 'pg_extension'::regclass AND x.extname = 'support_kpi' AND d.deptype = 'e'
    ), parsed AS (
        SELECT m.classid, m.objid FROM member m
        UNION ALL
        SELECT 'pg_rewrite'::regclass, r.oid FROM pg_rewrite r JOIN member m ON m.classid = 'pg_class'::regclass AND r.ev_class = m.objid
        UNION ALL
        SELECT 'pg_attrdef'::regclass, a.oid FROM pg_attrdef a JOIN member m ON m.classid = 'pg_class'::regclass AND a.adrelid = m.objid
        UNION ALL
        SELECT 'pg_constraint'::regclass, c.oid FROM pg_constraint c JOIN member m ON m.classid = 'pg_class'::regclass AND c.conrelid = m.objid
        UNION ALL
        SELECT 'pg_trigger'::regclass, t.oid FROM pg_trigger t JOIN member m ON m.classid = 'pg_class'::regclass AND t.tgrelid = m.objid
        UNION ALL
        SELECT 'pg_class'::regclass, i.indexrelid FROM pg_index i JOIN member m ON m.classid = 'pg_class'::regclass AND i.indrelid = m.objid
    ), referenced AS (
        SELECT DISTINCT d.refclassid, d.refobjid
        FROM pg_depend d JOIN parsed p ON d.classid = p.classid AND d.objid = p.objid
    ), owned AS (
        SELECT r.refclassid, r.refobjid,
               coalesce(f.proowner, o.oprowner, t.typowner, c.relowner, l.collowner) AS owner
        FROM referenced r
        LEFT JOIN pg_proc f ON r.refclassid = 'pg_proc'::regclass AND f.oid = r.refobjid
        LEFT JOIN pg_operator o ON r.refclassid = 'pg_operator'::regclass AND o.oid = r.refobjid
        LEFT JOIN pg_type t ON r.refclassid = 'pg_type'::regclass AND t.oid = r.refobjid
        LEFT JOIN pg_class c ON r.refclassid = 'pg_class'::regclass AND c.oid = r.refobjid
        LEFT JOIN pg_collation l ON r.refclassid = 'pg_collation'::regclass AND l.oid = r.refobjid
    )
    SELECT string_agg(format('%s (owned by %s)', pg_describe_object(w.refclassid, w.refobjid, 0), a.rolname), ', '
                      ORDER BY pg_describe_object(w.refclassid, w.refobjid, 0))
    INTO found
    FROM owned w JOIN pg_roles a ON a.oid = w.owner
    WHERE NOT a.rolsuper;
    IF found IS NOT NULL THEN
        RAISE EXCEPTION 'support_kpi would call objects that another role made: %', found
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'They are better matches than the built-in or support_kpi objects its SQL means. Drop them, or '
                         'install support_kpi into a schema in which only trusted roles may create objects.';
    END IF;
END
$$;
-- The state size the planner assumes (SSPACE) of the aggregates whose size changed since
-- 0.5.0: ALTER AGGREGATE cannot set it, so their pg_aggregate rows are updated.
UPDATE pg_catalog.pg_aggregate SET aggtransspace = 64
 WHERE aggfnoid IN (
    '@extschema@.incident_rate(bigint, "any")'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(bigint, "any")'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(integer, "any")'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(integer, "any")'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(uuid, "any")'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(uuid, "any")'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(bigint, bigint)'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(bigint, bigint)'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(integer, bigint)'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(integer, bigint)'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(uuid, bigint)'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(uuid, bigint)'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(bigint, integer)'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(bigint, integer)'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(integer, integer)'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(integer, integer)'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(uuid, integer)'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(uuid, integer)'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(bigint, text)'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(bigint, text)'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(integer, text)'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(integer, text)'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(uuid, text)'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(uuid, text)'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(bigint, uuid)'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(bigint, uuid)'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(integer, uuid)'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(integer, uuid)'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(uuid, uuid)'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(uuid, uuid)'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(bigint, boolean)'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(bigint, boolean)'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(integer, boolean)'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(integer, boolean)'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(uuid, boolean)'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(uuid, boolean)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(bigint, "any")'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(bigint, "any")'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(integer, "any")'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(integer, "any")'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(uuid, "any")'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(uuid, "any")'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(bigint, bigint)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(bigint, bigint)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(integer, bigint)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(integer, bigint)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(uuid, bigint)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(uuid, bigint)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(bigint, integer)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(bigint, integer)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(integer, integer)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(integer, integer)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(uuid, integer)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(uuid, integer)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(bigint, text)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(bigint, text)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(integer, text)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(integer, text)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(uuid, text)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(uuid, text)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(bigint, uuid)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(bigint, uuid)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(integer, uuid)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(integer, uuid)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(uuid, uuid)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(uuid, uuid)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(bigint, boolean)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(bigint, boolean)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(integer, boolean)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(integer, boolean)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(uuid, boolean)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(uuid, boolean)'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(bigint, "any")'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(bigint, "any")'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(integer, "any")'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(integer, "any")'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(uuid, "any")'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(uuid, "any")'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(bigint, bigint)'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(bigint, bigint)'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(integer, bigint)'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(integer, bigint)'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(uuid, bigint)'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(uuid, bigint)'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(bigint, integer)'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(bigint, integer)'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(integer, integer)'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(integer, integer)'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(uuid, integer)'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(uuid, integer)'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(bigint, text)'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(bigint, text)'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(integer, text)'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(integer, text)'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(uuid, text)'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(uuid, text)'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(bigint, uuid)'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(bigint, uuid)'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(integer, uuid)'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(integer, uuid)'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(uuid, uuid)'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(uuid, uuid)'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(bigint, boolean)'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(bigint, boolean)'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(integer, boolean)'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(integer, boolean)'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(uuid, boolean)'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(uuid, boolean)'::pg_catalog.regprocedure);
UPDATE pg_catalog.pg_aggregate SET aggtransspace = 128
 WHERE aggfnoid IN (
    '@extschema@.rollup(customer_rate_summary)'::pg_catalog.regprocedure,
    '@extschema@.rollup(duration_sketch)'::pg_catalog.regprocedure,
    '@extschema@.median_first_response_time(timestamptz, timestamptz)'::pg_catalog.regprocedure,
    '@extschema@.first_response_sketch(timestamptz, timestamptz)'::pg_catalog.regprocedure,
    '@extschema@.median_first_response_time(timestamp, timestamp)'::pg_catalog.regprocedure,
    '@extschema@.first_response_sketch(timestamp, timestamp)'::pg_catalog.regprocedure,
    '@extschema@.median_first_response_time(timestamptz, timestamptz, text)'::pg_catalog.regprocedure,
    '@extschema@.first_response_sketch(timestamptz, timestamptz, text)'::pg_catalog.regprocedure,
    '@extschema@.median_resolution_time(timestamptz, timestamptz)'::pg_catalog.regprocedure,
    '@extschema@.resolution_time_sketch(timestamptz, timestamptz)'::pg_catalog.regprocedure,
    '@extschema@.median_resolution_time(timestamp, timestamp)'::pg_catalog.regprocedure,
    '@extschema@.resolution_time_sketch(timestamp, timestamp)'::pg_catalog.regprocedure,
    '@extschema@.median_resolution_time(timestamptz, timestamptz, text)'::pg_catalog.regprocedure,
    '@extschema@.resolution_time_sketch(timestamptz, timestamptz, text)'::pg_catalog.regprocedure,
    '@extschema@.median_handling_time(timestamptz, timestamptz)'::pg_catalog.regprocedure,
    '@extschema@.handling_time_sketch(timestamptz, timestamptz)'::pg_catalog.regprocedure,
    '@extschema@.median_handling_time(timestamp, timestamp)'::pg_catalog.regprocedure,
    '@extschema@.handling_time_sketch(timestamp, timestamp)'::pg_catalog.regprocedure,
    '@extschema@.median_handling_time(timestamptz, timestamptz, text)'::pg_catalog.regprocedure,
    '@extschema@.handling_time_sketch(timestamptz, timestamptz, text)'::pg_catalog.regprocedure,
    '@extschema@.median_handling_time(interval)'::pg_catalog.regprocedure,
    '@extschema@.handling_time_sketch(interval)'::pg_catalog.regprocedure,
    '@extschema@.time_in_status(text, timestamptz, text[])'::pg_catalog.regprocedure,
    '@extschema@.time_in_status(text, timestamptz, text[], timestamptz)'::pg_catalog.regprocedure,
    '@extschema@.time_in_status(text, timestamptz, text[], timestamptz, text)'::pg_catalog.regprocedure,
    '@extschema@.reopen_count(text, timestamptz, text[])'::pg_catalog.regprocedure);
UPDATE pg_catalog.pg_aggregate SET aggtransspace = 256
 WHERE aggfnoid IN (
    '@extschema@.incident_rate(text, "any")'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(text, "any")'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(text, bigint)'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(text, bigint)'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(text, integer)'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(text, integer)'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(text, text)'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(text, text)'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(text, uuid)'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(text, uuid)'::pg_catalog.regprocedure,
    '@extschema@.incident_rate(text, boolean)'::pg_catalog.regprocedure,
    '@extschema@.incident_summary(text, boolean)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(text, "any")'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(text, "any")'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(text, bigint)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(text, bigint)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(text, integer)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(text, integer)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(text, text)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(text, text)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(text, uuid)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(text, uuid)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate(text, boolean)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary(text, boolean)'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(text, "any")'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(text, "any")'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(text, bigint)'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(text, bigint)'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(text, integer)'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(text, integer)'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(text, text)'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(text, text)'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(text, uuid)'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(text, uuid)'::pg_catalog.regprocedure,
    '@extschema@.interaction_rate(text, boolean)'::pg_catalog.regprocedure,
    '@extschema@.interaction_summary(text, boolean)'::pg_catalog.regprocedure);
UPDATE pg_catalog.pg_aggregate SET aggtransspace = 512
 WHERE aggfnoid IN (
    '@extschema@.rollup(segment_rate_summary)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, bigint, "any")'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, bigint, "any")'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, integer, "any")'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, integer, "any")'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, text, "any")'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, text, "any")'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, uuid, "any")'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, uuid, "any")'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, bigint, bigint)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, bigint, bigint)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, integer, bigint)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, integer, bigint)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, text, bigint)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, text, bigint)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, uuid, bigint)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, uuid, bigint)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, bigint, integer)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, bigint, integer)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, integer, integer)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, integer, integer)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, text, integer)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, text, integer)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, uuid, integer)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, uuid, integer)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, bigint, text)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, bigint, text)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, integer, text)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, integer, text)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, text, text)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, text, text)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, uuid, text)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, uuid, text)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, bigint, uuid)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, bigint, uuid)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, integer, uuid)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, integer, uuid)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, text, uuid)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, text, uuid)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, uuid, uuid)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, uuid, uuid)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, bigint, boolean)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, bigint, boolean)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, integer, boolean)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, integer, boolean)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, text, boolean)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, text, boolean)'::pg_catalog.regprocedure,
    '@extschema@.contact_rate_by_segment(text, uuid, boolean)'::pg_catalog.regprocedure,
    '@extschema@.contact_summary_by_segment(text, uuid, boolean)'::pg_catalog.regprocedure);
-- The catalog rows of the KPIs new in this release; a row a user already added under
-- such a name is kept.
INSERT INTO kpi_catalog
    (kpi, title, unit, direction, formula, band_labels, band_edges, edge_belongs_to, min_value, max_value, customized)
VALUES
    ('cost_per_complaint', 'Cost per Complaint', 'currency of the cost column per complaint', 'lower_is_better',
     'total cost / complaints with a cost, resolved or not',
     '{no bands set}', '{}', '{}', 0, NULL, false),
    ('quality_score', 'Quality Score', 'mean score on 0-100', 'higher_is_better',
     'sum of quality review scores / reviews, scores on 0-100',
     '{no bands set}', '{}', '{}', 0, 100, false),
    ('service_audit_score', 'Service Audit Score', 'mean score on 0-100', 'higher_is_better',
     'sum of service audit scores / audits, scores on 0-100',
     '{no bands set}', '{}', '{}', 0, 100, false),
    ('repeat_purchase_rate', 'Repeat Purchase Rate', '% of customers who purchased', 'higher_is_better',
     'customers who purchased more than once in the period / customers who purchased in it * 100',
     '{no bands set}', '{}', '{}', 0, 100, false),
    ('sla_achievement_rate', 'SLA Achievement Rate', '% of SLAs with an outcome', 'higher_is_better',
     'SLAs achieved / (SLAs achieved + SLAs breached) * 100; active SLAs left out',
     '{no bands set}', '{}', '{}', 0, 100, false),
    ('median_next_reply_time', 'Median Next Reply Time', 'hours (the aggregate returns an interval)', 'lower_is_better',
     'middle time from a customer''s message to the agent''s reply (percentile_disc 0.5) of answered reply cycles, within 1%',
     '{no bands set}', '{}', '{}', 0, NULL, false)
ON CONFLICT (kpi) DO NOTHING;
-- END additions generated by scripts/generate.py

-- After the generated functions: the trigger that sets written_by (sql/kpi_recording.sql),
-- who may change the tables (sql/trusted.sql: the database owner, since 0.5.1), and last the
-- check that no SQL of the extension was bound to an object another role made.
CREATE TRIGGER kpi_tracked_written_by BEFORE INSERT OR UPDATE ON kpi_tracked
    FOR EACH ROW EXECUTE FUNCTION _kpi_tracked_written_by();
-- The control charts (as in sql/control_chart.sql; its function is generated above).
CREATE VIEW _kpi_control_points AS
SELECT h.tracking, h.kpi, h.period, h.period_start, h.dimension, h.dimension_value, h.value,
       k.control_baseline, s.chart, s.x, s.n,
       coalesce(_kpi_rate_scale(h.kpi), 100)::numeric AS scale
FROM kpi_recorded h
JOIN kpi_tracked k ON k.tracking = h.tracking AND k.kpi = h.kpi
CROSS JOIN LATERAL _kpi_chart_sample(h.stats) s
WHERE h.value IS NOT NULL;
CREATE VIEW kpi_control_chart AS
WITH limits AS (
    SELECT p.*, b.baseline,
           CASE WHEN b.baseline < 2 THEN NULL
                WHEN p.chart = 'p' THEN 100 * b.sum_x / nullif(b.sum_n, 0)
                WHEN p.chart = 'u' THEN p.scale * b.sum_x / nullif(b.sum_n, 0)
                ELSE b.mean END AS centre,
           CASE WHEN b.baseline < 2 OR p.n = 0 THEN NULL
                WHEN p.chart = 'p' THEN 100 * sqrt((b.sum_x / nullif(b.sum_n, 0)) * (1 - b.sum_x / nullif(b.sum_n, 0)) / p.n)
                WHEN p.chart = 'u' THEN p.scale * sqrt(b.sum_x / nullif(b.sum_n, 0) / p.n)
                ELSE b.mean_moving_range / 1.128 END AS sigma
    FROM _kpi_control_points p
    CROSS JOIN LATERAL (
        SELECT count(*) AS baseline, sum(r.x) AS sum_x, sum(r.n) AS sum_n, avg(r.value) AS mean,
               avg(r.moving_range) AS mean_moving_range
        FROM (SELECT q.x, q.n, q.value, abs(q.value - lag(q.value) OVER (ORDER BY q.period_start)) AS moving_range
              FROM (SELECT q.x, q.n, q.value, q.period_start FROM _kpi_control_points q
                    WHERE q.tracking = p.tracking AND q.kpi = p.kpi AND q.dimension = p.dimension
                      AND q.dimension_value = p.dimension_value AND q.period_start < p.period_start
                      AND (p.chart = 'individuals' OR q.n > 0)
                    ORDER BY q.period_start DESC LIMIT p.control_baseline) q) r
    ) b
), scored AS (
    SELECT l.*, (l.value - l.centre) / nullif(l.sigma, 0) AS z
    FROM limits l
), runs AS (
    SELECT s.*,
           count(*) FILTER (WHERE s.z > 2) OVER w3 AS above_2, count(*) FILTER (WHERE s.z < -2) OVER w3 AS below_2,
           count(*) FILTER (WHERE s.z > 1) OVER w5 AS above_1, count(*) FILTER (WHERE s.z < -1) OVER w5 AS below_1,
           count(*) FILTER (WHERE s.z > 0) OVER w8 AS above_0, count(*) FILTER (WHERE s.z < 0) OVER w8 AS below_0
    FROM scored s
    WINDOW w3 AS (PARTITION BY s.tracking, s.kpi, s.dimension, s.dimension_value ORDER BY s.period_start ROWS 2 PRECEDING),
           w5 AS (PARTITION BY s.tracking, s.kpi, s.dimension, s.dimension_value ORDER BY s.period_start ROWS 4 PRECEDING),
           w8 AS (PARTITION BY s.tracking, s.kpi, s.dimension, s.dimension_value ORDER BY s.period_start ROWS 7 PRECEDING)
), flagged AS (
    -- no limits (z NULL): no rule can be judged, all four NULL
    SELECT r.*, abs(r.z) > 3 AS rule_1,
           CASE WHEN r.z IS NOT NULL THEN (r.z > 2 AND r.above_2 >= 2) OR (r.z < -2 AND r.below_2 >= 2) END AS rule_2,
           CASE WHEN r.z IS NOT NULL THEN (r.z > 1 AND r.above_1 >= 4) OR (r.z < -1 AND r.below_1 >= 4) END AS rule_3,
           CASE WHEN r.z IS NOT NULL THEN r.above_0 = 8 OR r.below_0 = 8 END AS rule_4
    FROM runs r
)
SELECT tracking, kpi, period, period_start AS "time", dimension, dimension_value, chart, baseline,
       value, centre, sigma, centre - 3 * sigma AS lower_limit, centre + 3 * sigma AS upper_limit, z,
       rule_1, rule_2, rule_3, rule_4,
       nullif(concat_ws(', ', CASE WHEN rule_1 THEN '1: beyond 3 sigma' END,
                        CASE WHEN rule_2 THEN '2: 2 of 3 beyond 2 sigma' END,
                        CASE WHEN rule_3 THEN '3: 4 of 5 beyond 1 sigma' END,
                        CASE WHEN rule_4 THEN '4: 8 on one side' END), '') AS rules_fired
FROM flagged;
COMMENT ON VIEW kpi_control_chart IS
    'support_kpi: each recorded KPI point against control limits from its previous periods, with the Western Electric rules';
GRANT SELECT ON kpi_control_chart TO PUBLIC;
-- Restatements (as in sql/restatements.sql).
CREATE VIEW kpi_restatements AS
SELECT r.tracking, r.kpi, k.period, r.period_start, r.dimension, r.dimension_value, r.revision,
       p.recorded_at AS previous_recorded_at, r.recorded_at, p.value AS previous_value, r.value,
       p.band AS previous_band, r.band, r.verdict, (p.ci_upper - p.ci_lower) / 2 AS previous_half_width,
       r.band IS DISTINCT FROM p.band AS band_changed,
       -- moved by more than the earlier revision's interval (NULL where there is none)
       abs(r.value - p.value) > (p.ci_upper - p.ci_lower) / 2 AS beyond_interval
FROM kpi_recorded_revision r
JOIN kpi_recorded_revision p ON p.tracking = r.tracking AND p.kpi = r.kpi AND p.period_start = r.period_start
                            AND p.dimension = r.dimension AND p.dimension_value = r.dimension_value
                            AND p.revision = r.revision - 1
JOIN kpi_tracked k ON k.tracking = r.tracking AND k.kpi = r.kpi
WHERE p.recorded_at >= r.period_start + _kpi_period_interval(k.period)
  AND (r.band IS DISTINCT FROM p.band
       OR CASE WHEN p.ci_lower IS NULL OR p.ci_upper IS NULL THEN r.value IS DISTINCT FROM p.value
               ELSE r.value IS NULL OR p.value IS NULL OR abs(r.value - p.value) > (p.ci_upper - p.ci_lower) / 2 END);

GRANT SELECT ON kpi_recorded_revision, kpi_restatements TO PUBLIC;
-- SLA policies (as in sql/sla.sql; their functions are generated above).
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

CREATE TRIGGER kpi_sla_policy_check BEFORE INSERT OR UPDATE ON kpi_sla_policy
    FOR EACH ROW EXECUTE FUNCTION _kpi_check_sla_policy();

CREATE TRIGGER kpi_sla_policy_local_write BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON kpi_sla_policy
    FOR EACH STATEMENT EXECUTE FUNCTION _kpi_schedule_local_write();
CREATE TRIGGER kpi_sla_status_local_write BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON kpi_sla_status
    FOR EACH STATEMENT EXECUTE FUNCTION _kpi_schedule_local_write();

SELECT pg_catalog.pg_extension_config_dump('kpi_sla_policy', '');
SELECT pg_catalog.pg_extension_config_dump('kpi_sla_status', 'WHERE customized');
-- Every role may read them (sla_instances reads them as the caller); changing them takes the
-- rights the owner grants.
GRANT SELECT ON kpi_sla_policy, kpi_sla_status TO PUBLIC;
GRANT INSERT, UPDATE, DELETE
    ON kpi_catalog, kpi_benchmark, kpi_schedule, kpi_schedule_hours, kpi_holiday, kpi_tracked, kpi_recorded,
       kpi_recorded_revision, kpi_sla_policy, kpi_sla_status
    TO pg_database_owner WITH GRANT OPTION;
SELECT @extschema@._kpi_check_references();

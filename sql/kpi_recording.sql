-- KPI history, recorded on a schedule: users declare once what to track (kpi_tracked), and
-- kpi_record / kpi_record_range / kpi_record_due write each period into kpi_recorded with its
-- value, band, sample-aware verdict, cases, confidence interval, and the previous period's
-- value and band, and the change test against it (sql/change_test.sql). pg_cron drives it:
-- SELECT cron.schedule('kpi-history', '5 0 * * *', 'CALL kpi_record_due()'). A band that
-- changes against the previous period is listed by kpi_band_changes, and sent with NOTIFY on
-- the channel support_kpi_band_change (JSON payload) when the tracking's alert rule says so:
-- 'band', every change; 'significant' (the default), a change whose test is significant or
-- whose interval lies wholly in the new band.
-- BI tools read kpi_recorded_bi (a time column, float8 values) and kpi_recorded_band_edges.
--
-- Periods are date_trunc(period, time column) in the session's TimeZone (for pg_cron: the
-- server's). Recording a period again replaces its rows. The SQL of a kpi_tracked row (its
-- source, time column, summary and dimensions) is read in the caller's search_path (schema-
-- qualify it for pg_cron jobs) and runs with the rights of the role that wrote the row
-- (written_by, set by a trigger): a role that may write kpi_tracked cannot make another role
-- run its SQL. The caller must be able to act as that role (SET ROLE); a superuser can act as
-- any. The recorded rows are written with the caller's rights.

CREATE TABLE kpi_tracked (
    tracking    text NOT NULL,  -- a name for the report, e.g. 'support_monthly'
    kpi         text NOT NULL,  -- a KPI of kpi_catalog, e.g. 'escalation_rate'
    source      text NOT NULL,  -- the table or view to read, e.g. 'support.tickets'
    time_column text NOT NULL,  -- its timestamptz, timestamp or date column that places a row in a period
    summary     text NOT NULL,  -- the summary aggregate over the source, e.g. 'escalation_summary(escalated)'
    period      text NOT NULL DEFAULT 'month' CHECK (period IN ('day', 'week', 'month', 'quarter')),
    dimensions  text[] NOT NULL DEFAULT '{}',  -- columns to slice by; each is recorded alone, beside the total
    PRIMARY KEY (tracking, kpi),
    CHECK (array_position(dimensions, NULL) IS NULL AND array_position(dimensions, 'all') IS NULL),
    written_by  name NOT NULL DEFAULT CURRENT_USER,  -- set by a trigger: whose rights the row's SQL runs with
    -- what is sent with NOTIFY: 'band' (every band change), 'significant' (a band change whose
    -- change test is significant at significance_level, or whose interval lies wholly in the
    -- new band), 'control' (a point that fires a rule of its control chart, kpi_control_chart)
    alert_rule  text NOT NULL DEFAULT 'significant' CHECK (alert_rule IN ('band', 'significant', 'control')),
    significance_level numeric NOT NULL DEFAULT 0.05 CHECK (significance_level > 0 AND significance_level < 1),
    control_baseline integer NOT NULL DEFAULT 12 CHECK (control_baseline BETWEEN 2 AND 1000),  -- periods the chart's limits come from
    -- how many periods before the current one kpi_record_due() records again (late data):
    -- each costs one recording per run
    lookback    integer NOT NULL DEFAULT 2 CHECK (lookback BETWEEN 0 AND 120),
    -- revisions of periods more than this many periods before the recorded one are thinned to
    -- their latest (NULL: every revision is kept)
    revision_retention integer CHECK (revision_retention >= 0)
);
COMMENT ON TABLE kpi_tracked IS
    'support_kpi: which KPIs kpi_record() records into kpi_recorded, from which table, by which period and dimensions';

CREATE TABLE kpi_recorded (
    tracking        text NOT NULL,
    kpi             text NOT NULL,
    period          text NOT NULL,
    period_start    timestamptz NOT NULL,
    dimension       text NOT NULL,  -- 'all' for the total, else the column sliced by
    dimension_value text NOT NULL,  -- 'all' for the total; '(none)' for a NULL value
    value           numeric,        -- in the catalog's unit (time KPIs in hours); NULL when nothing was counted
    band            text,           -- kpi_band(kpi, value)
    verdict         text,           -- kpi_band(kpi, summary): the bands the confidence interval touches
    cases           bigint,         -- kpi_cases(kpi, summary)
    ci_lower        numeric,        -- the 95% interval (kpi_interval); NULL for durations and costs
    ci_upper        numeric,
    previous_value  numeric,        -- the same KPI and slice one period earlier, if recorded
    previous_band   text,
    change          numeric,        -- value - previous_value
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    stats           jsonb,          -- the counts the change test needs (kpi_change_stats); NULL for times and costs
    p_value         float8,         -- the change test against the previous period (kpi_change_test), two-sided
    change_test     text,           -- which test, or 'none: ...' and why
    significant     boolean,        -- p_value < the tracking's significance_level
    PRIMARY KEY (tracking, kpi, period_start, dimension, dimension_value)
);
COMMENT ON TABLE kpi_recorded IS
    'support_kpi: one row per tracking, KPI, period and slice, written by kpi_record()';

-- Whoever writes a kpi_tracked row is the role its SQL runs as: the trigger sets written_by
-- on every INSERT and UPDATE (pg_restore included: the restoring role then owns the rows).
CREATE FUNCTION _kpi_tracked_written_by() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    NEW.written_by := current_user;
    RETURN NEW;
END
$$;
CREATE TRIGGER kpi_tracked_written_by BEFORE INSERT OR UPDATE ON kpi_tracked
    FOR EACH ROW EXECUTE FUNCTION _kpi_tracked_written_by();

-- Both tables hold the user's data: pg_dump keeps them.
SELECT pg_catalog.pg_extension_config_dump('kpi_tracked', '');
SELECT pg_catalog.pg_extension_config_dump('kpi_recorded', '');

CREATE FUNCTION _kpi_period_interval(period text) RETURNS interval
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE period WHEN 'day' THEN interval '1 day' WHEN 'week' THEN interval '7 days'
                   WHEN 'month' THEN interval '1 month' WHEN 'quarter' THEN interval '3 months' END;

-- The period of a tracking, or an error for an unknown tracking or one that mixes periods.
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

-- Records one period of a tracking (every KPI of it) and returns the rows written. Runs in the
-- caller's transaction: on an error nothing of the period changes. The source and summary of
-- a kpi_tracked row are read in the caller's search_path (kpi_record passes it on) and run with the
-- rights of the role that wrote the row (written_by); everything else runs in a pinned
-- search_path.
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

CREATE FUNCTION kpi_record(tracking text, period_start timestamptz) RETURNS integer
LANGUAGE sql VOLATILE
RETURN @extschema@._kpi_record(tracking, period_start, pg_catalog.current_setting('search_path'));
COMMENT ON FUNCTION kpi_record(text, timestamptz) IS
    'support_kpi: records one period of a tracking into kpi_recorded (replacing it), returns the rows written';

-- One recording of kpi_record_range or kpi_record_due, reported with a NOTICE: rows written
-- and time taken (with the period's number of all, when given), or the failure. A failure is
-- raised again when raise_failure, else returned (its SQLSTATE and message; NULLs when the
-- recording worked).
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

-- The periods kpi_record_range records: each start in [from_time, to_time), numbered.
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

-- The recordings kpi_record_due makes: for every tracking (or the one named), its lookback
-- periods before the current one, and the current one.
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

-- Records every period of a tracking that starts in [from_time, to_time), one transaction per
-- period (a failure keeps the periods recorded before it). For back-filling. Reports each
-- period with a NOTICE: which period, how many of how many, rows and time taken. (A
-- procedure that commits cannot pin its search_path: its body calls only schema-qualified
-- functions with exactly their argument types.)
CREATE PROCEDURE kpi_record_range(tracking text, from_time timestamptz, to_time timestamptz)
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

-- What a schedule calls: for every tracking (or the one named), records its lookback periods
-- before the current one (complete, with late data; default 2) and the current one (so far),
-- one transaction each.
-- A tracking that fails does not stop the others; the call then fails naming it (pg_cron
-- shows that message in cron.job_run_details). Each recording is reported with a NOTICE
-- (rows and time taken, or the failure).
CREATE PROCEDURE kpi_record_due(tracking text DEFAULT NULL)
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

-- Every recorded (period, KPI, slice) whose band differs from the previous period's.
CREATE VIEW kpi_band_changes AS
SELECT tracking, kpi, period, period_start, dimension, dimension_value,
       previous_band, band, verdict, previous_value, value, change, cases,
       p_value, change_test, significant
FROM kpi_recorded
WHERE previous_band IS NOT NULL AND band IS NOT NULL AND band <> previous_band;

-- For BI tools: a timestamptz "time" column and float8 numbers (Grafana and Metabase take no
-- interval and not every numeric), one row per period x KPI x slice.
CREATE VIEW kpi_recorded_bi AS
SELECT h.period_start AS "time", h.tracking, h.kpi, c.title, c.unit, h.period, h.dimension, h.dimension_value,
       h.value::float8 AS value, h.ci_lower::float8 AS ci_lower, h.ci_upper::float8 AS ci_upper, h.cases,
       h.band, h.verdict, h.previous_value::float8 AS previous_value, h.change::float8 AS change, h.previous_band,
       h.p_value, h.significant
FROM kpi_recorded h LEFT JOIN kpi_catalog c ON c.kpi = h.kpi;

-- The band edges of each recorded KPI at each recorded period: reference lines for the charts.
CREATE VIEW kpi_recorded_band_edges AS
SELECT p.period_start AS "time", e.kpi, e.edge::float8 AS edge, e.band_below, e.band_above
FROM (SELECT DISTINCT kpi, period_start FROM kpi_recorded) p
JOIN kpi_band_edges e ON e.kpi = p.kpi;

GRANT SELECT ON kpi_tracked, kpi_recorded, kpi_band_changes, kpi_recorded_bi, kpi_recorded_band_edges TO PUBLIC;

-- KPI history, recorded on a schedule: users declare once what to track (kpi_tracked), and
-- kpi_record / kpi_record_range / kpi_record_due write each period into kpi_recorded with its
-- value, band, sample-aware verdict, cases, confidence interval, and the previous period's
-- value and band. pg_cron drives it: SELECT cron.schedule('kpi-history', '5 0 * * *',
-- 'CALL kpi_record_due()'). A band that changes against the previous period is sent with
-- NOTIFY on the channel support_kpi_band_change (JSON payload) and listed by kpi_band_changes.
-- BI tools read kpi_recorded_bi (a time column, float8 values) and kpi_recorded_band_edges.
--
-- Periods are date_trunc(period, time column) in the session's TimeZone (for pg_cron: the
-- server's). Recording a period again replaces its rows. The recording functions run with the
-- caller's rights and search_path (a source and a summary are read as the caller would write
-- them: schema-qualify them for pg_cron jobs); they cannot set their own, because a procedure
-- that commits per period may not.

CREATE TABLE kpi_tracked (
    tracking    text NOT NULL,  -- a name for the report, e.g. 'support_monthly'
    kpi         text NOT NULL,  -- a KPI of kpi_catalog, e.g. 'escalation_rate'
    source      text NOT NULL,  -- the table or view to read, e.g. 'support.tickets'
    time_column text NOT NULL,  -- its timestamptz, timestamp or date column that places a row in a period
    summary     text NOT NULL,  -- the summary aggregate over the source, e.g. 'escalation_summary(escalated)'
    period      text NOT NULL DEFAULT 'month' CHECK (period IN ('day', 'week', 'month', 'quarter')),
    dimensions  text[] NOT NULL DEFAULT '{}',  -- columns to slice by; each is recorded alone, beside the total
    PRIMARY KEY (tracking, kpi),
    CHECK (array_position(dimensions, NULL) IS NULL AND array_position(dimensions, 'all') IS NULL)
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
    PRIMARY KEY (tracking, kpi, period_start, dimension, dimension_value)
);
COMMENT ON TABLE kpi_recorded IS
    'support_kpi: one row per tracking, KPI, period and slice, written by kpi_record()';

-- Both tables hold the user's data: pg_dump keeps them.
SELECT pg_catalog.pg_extension_config_dump('kpi_tracked', '');
SELECT pg_catalog.pg_extension_config_dump('kpi_recorded', '');

CREATE FUNCTION _kpi_period_interval(period text) RETURNS interval
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE period WHEN 'day' THEN interval '1 day' WHEN 'week' THEN interval '7 days'
                   WHEN 'month' THEN interval '1 month' WHEN 'quarter' THEN interval '3 months' END;

-- Records one period of a tracking (every KPI of it) and returns the rows written. Runs in the
-- caller's transaction: on an error nothing of the period changes.
CREATE FUNCTION kpi_record(tracking text, period_start timestamptz) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    t @extschema@.kpi_tracked;
    periods text[];
    start_at timestamptz;
    step interval;
    old_bands jsonb;
    grouping_sets text;
    dimension_name text;
    dimension_value text;
    written integer := 0;
    n integer;
BEGIN
    SELECT array_agg(DISTINCT k.period) INTO periods FROM @extschema@.kpi_tracked k WHERE k.tracking = kpi_record.tracking;
    IF periods IS NULL THEN
        RAISE EXCEPTION 'no KPI is tracked as "%"', tracking
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Add rows to kpi_tracked first: tracking, kpi, source, time_column, summary, period, dimensions.';
    END IF;
    IF cardinality(periods) > 1 THEN
        RAISE EXCEPTION 'tracking "%" mixes periods %', tracking, periods
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Give every KPI of one tracking the same period.';
    END IF;
    -- one recording of a tracking at a time (two overlapping jobs would both delete, then
    -- both insert): the second waits for the first to commit, then replaces its rows
    PERFORM pg_advisory_xact_lock(hashtext('support_kpi.kpi_record'), hashtext(tracking));
    step := @extschema@._kpi_period_interval(periods[1]);
    start_at := date_trunc(periods[1], period_start);
    IF start_at <> period_start THEN
        RAISE EXCEPTION '% is not the start of a %', period_start, periods[1]
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass date_trunc(''' || periods[1] || ''', <time>).';
    END IF;

    -- the bands recorded for this period so far, to notify only of new band changes
    SELECT coalesce(jsonb_object_agg(h.kpi || '|' || h.dimension || '|' || h.dimension_value, h.band), '{}')
    INTO old_bands
    FROM @extschema@.kpi_recorded h WHERE h.tracking = kpi_record.tracking AND h.period_start = start_at;
    DELETE FROM @extschema@.kpi_recorded h WHERE h.tracking = kpi_record.tracking AND h.period_start = start_at;

    FOR t IN SELECT * FROM @extschema@.kpi_tracked k WHERE k.tracking = kpi_record.tracking ORDER BY k.kpi LOOP
        IF NOT EXISTS (SELECT FROM @extschema@.kpi_catalog c WHERE c.kpi = t.kpi) THEN
            RAISE EXCEPTION 'tracking "%" names the unknown KPI "%"', tracking, t.kpi
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Track a KPI of kpi_catalog, or add yours there.';
        END IF;
        grouping_sets := '()';
        dimension_name := '''all''';
        dimension_value := '''all''';
        FOR i IN REVERSE cardinality(t.dimensions) .. 1 LOOP
            dimension_name := format('CASE WHEN GROUPING(%I) = 0 THEN %L ELSE %s END', t.dimensions[i], t.dimensions[i], dimension_name);
            dimension_value := format('CASE WHEN GROUPING(%1$I) = 0 THEN coalesce(%1$I::text, ''(none)'') ELSE %2$s END',
                                      t.dimensions[i], dimension_value);
        END LOOP;
        FOR i IN 1 .. cardinality(t.dimensions) LOOP
            grouping_sets := grouping_sets || format(', (%I)', t.dimensions[i]);
        END LOOP;
        BEGIN
            EXECUTE format($q$
                INSERT INTO @extschema@.kpi_recorded (tracking, kpi, period, period_start, dimension, dimension_value,
                                                     value, band, verdict, cases, ci_lower, ci_upper)
                SELECT $1, $2, $3, $4, x.dimension, x.dimension_value, x.value, x.band,
                       -- kpi_band(kpi, summary), from the interval already at hand: the bands it
                       -- touches, or the point band where no interval is kept
                       coalesce(@extschema@.kpi_band($2, (x.ci).lower, (x.ci).upper), x.band),
                       @extschema@.kpi_cases($2, x.s), (x.ci).lower, (x.ci).upper
                FROM (SELECT z.*, @extschema@.kpi_band($2, z.value) AS band
                      FROM (SELECT y.*, @extschema@.kpi_value($2, y.s) AS value, @extschema@.kpi_interval($2, y.s) AS ci
                            FROM (SELECT %s AS dimension, %s AS dimension_value, %s AS s
                                  FROM %s WHERE %I >= $4 AND %I < $4 + $5
                                  GROUP BY GROUPING SETS (%s)) y) z) x
                $q$, dimension_name, dimension_value, t.summary, t.source::regclass, t.time_column, t.time_column,
                     grouping_sets)
            USING tracking, t.kpi, t.period, start_at, step;
            GET DIAGNOSTICS n = ROW_COUNT;
        EXCEPTION WHEN OTHERS THEN
            RAISE EXCEPTION 'recording % of tracking "%" for the % of % failed: %', t.kpi, tracking, t.period, start_at, SQLERRM
                USING ERRCODE = SQLSTATE,
                      HINT = 'Check the kpi_tracked row (source, time_column, summary, dimensions); the history kept its previous rows.';
        END;
        written := written + n;
    END LOOP;

    -- the previous period's value and band, for this period and the next one
    UPDATE @extschema@.kpi_recorded h SET previous_value = NULL, previous_band = NULL, change = NULL
    WHERE h.tracking = kpi_record.tracking AND h.period_start = start_at + step;
    UPDATE @extschema@.kpi_recorded h
    SET previous_value = p.value, previous_band = p.band, change = h.value - p.value
    FROM @extschema@.kpi_recorded p
    WHERE h.tracking = kpi_record.tracking AND h.period_start IN (start_at, start_at + step)
      AND p.tracking = h.tracking AND p.kpi = h.kpi AND p.dimension = h.dimension
      AND p.dimension_value = h.dimension_value AND p.period_start = h.period_start - step;

    -- a band that differs from the previous period's, and was not already so: NOTIFY (sent on commit)
    PERFORM pg_notify('support_kpi_band_change', json_build_object(
                'tracking', h.tracking, 'kpi', h.kpi, 'period', h.period, 'period_start', h.period_start,
                'dimension', h.dimension, 'dimension_value', h.dimension_value,
                'previous_band', h.previous_band, 'band', h.band, 'verdict', h.verdict,
                'previous_value', h.previous_value, 'value', h.value, 'cases', h.cases)::text)
    FROM @extschema@.kpi_recorded h
    WHERE h.tracking = kpi_record.tracking AND h.period_start = start_at
      AND h.previous_band IS NOT NULL AND h.band IS NOT NULL AND h.band <> h.previous_band
      AND old_bands ->> (h.kpi || '|' || h.dimension || '|' || h.dimension_value) IS DISTINCT FROM h.band;
    RETURN written;
END
$$;
COMMENT ON FUNCTION kpi_record(text, timestamptz) IS
    'support_kpi: records one period of a tracking into kpi_recorded (replacing it), returns the rows written';

-- Records every period of a tracking that starts in [from_time, to_time), one transaction per
-- period (a failure keeps the periods recorded before it). For back-filling. Reports each
-- period with a NOTICE when it commits: which period, how many of how many, rows and time taken.
CREATE PROCEDURE kpi_record_range(tracking text, from_time timestamptz, to_time timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    p text;
    at timestamptz;
    step interval;
    total integer;
    done integer := 0;
    n integer;
    started timestamptz;
BEGIN
    SELECT min(k.period) INTO p FROM @extschema@.kpi_tracked k WHERE k.tracking = kpi_record_range.tracking;
    IF p IS NULL THEN
        PERFORM @extschema@.kpi_record(tracking, from_time);  -- raises the error for an unknown tracking
    END IF;
    step := @extschema@._kpi_period_interval(p);
    at := date_trunc(p, from_time);
    SELECT pg_catalog.count(*) INTO total FROM pg_catalog.generate_series(at, to_time, step) g WHERE g < to_time;
    WHILE at < to_time LOOP
        started := pg_catalog.clock_timestamp();
        n := @extschema@.kpi_record(tracking, at);
        COMMIT;
        done := done + 1;
        RAISE NOTICE 'kpi_record_range: tracking "%", % of %: % rows in % ms (% of %)', tracking, p, at, n,
            pg_catalog.round(extract(epoch FROM pg_catalog.clock_timestamp() - started) * 1000), done, total;
        at := at + step;
    END LOOP;
END
$$;

-- What a schedule calls: for every tracking (or the one named), records the period before the
-- current one (complete, with late data) and the current one (so far), one transaction each.
-- A tracking that fails does not stop the others; the call then fails naming it (pg_cron
-- shows that message in cron.job_run_details). Each recording is reported with a NOTICE
-- (rows and time taken, or the failure).
CREATE PROCEDURE kpi_record_due(tracking text DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    t record;
    current_start timestamptz;
    at timestamptz;
    failure_state text;
    failures text[] := '{}';
    n integer;
    started timestamptz;
BEGIN
    IF tracking IS NOT NULL AND NOT EXISTS (SELECT FROM @extschema@.kpi_tracked k WHERE k.tracking = kpi_record_due.tracking) THEN
        PERFORM @extschema@.kpi_record(tracking, now());  -- raises the error for an unknown tracking
    END IF;
    FOR t IN SELECT k.tracking, min(k.period) AS period FROM @extschema@.kpi_tracked k
             WHERE kpi_record_due.tracking IS NULL OR k.tracking = kpi_record_due.tracking
             GROUP BY k.tracking ORDER BY k.tracking LOOP
        current_start := date_trunc(t.period, now());
        FOREACH at IN ARRAY ARRAY[current_start - @extschema@._kpi_period_interval(t.period), current_start] LOOP
            started := pg_catalog.clock_timestamp();
            BEGIN
                n := @extschema@.kpi_record(t.tracking, at);
                RAISE NOTICE 'kpi_record_due: tracking "%", % of %: % rows in % ms', t.tracking, t.period, at, n,
                    pg_catalog.round(extract(epoch FROM pg_catalog.clock_timestamp() - started) * 1000);
            EXCEPTION WHEN OTHERS THEN
                failures := failures || SQLERRM;
                failure_state := SQLSTATE;
                RAISE NOTICE 'kpi_record_due: tracking "%", % of %: failed after % ms: %', t.tracking, t.period, at,
                    pg_catalog.round(extract(epoch FROM pg_catalog.clock_timestamp() - started) * 1000), SQLERRM;
            END;
            COMMIT;
        END LOOP;
    END LOOP;
    IF cardinality(failures) > 0 THEN
        RAISE EXCEPTION '% of the recordings failed: %', cardinality(failures), array_to_string(failures, '; ')
            USING ERRCODE = failure_state,
                  HINT = 'The other trackings were recorded. Fix the kpi_tracked rows named; the history kept their previous rows.';
    END IF;
END
$$;

-- Every recorded (period, KPI, slice) whose band differs from the previous period's.
CREATE VIEW kpi_band_changes AS
SELECT tracking, kpi, period, period_start, dimension, dimension_value,
       previous_band, band, verdict, previous_value, value, change, cases
FROM kpi_recorded
WHERE previous_band IS NOT NULL AND band IS NOT NULL AND band <> previous_band;

-- For BI tools: a timestamptz "time" column and float8 numbers (Grafana and Metabase take no
-- interval and not every numeric), one row per period x KPI x slice.
CREATE VIEW kpi_recorded_bi AS
SELECT h.period_start AS "time", h.tracking, h.kpi, c.title, c.unit, h.period, h.dimension, h.dimension_value,
       h.value::float8 AS value, h.ci_lower::float8 AS ci_lower, h.ci_upper::float8 AS ci_upper, h.cases,
       h.band, h.verdict, h.previous_value::float8 AS previous_value, h.change::float8 AS change, h.previous_band
FROM kpi_recorded h LEFT JOIN kpi_catalog c ON c.kpi = h.kpi;

-- The band edges of each recorded KPI at each recorded period: reference lines for the charts.
CREATE VIEW kpi_recorded_band_edges AS
SELECT p.period_start AS "time", e.kpi, e.edge::float8 AS edge, e.band_below, e.band_above
FROM (SELECT DISTINCT kpi, period_start FROM kpi_recorded) p
JOIN kpi_band_edges e ON e.kpi = p.kpi;

GRANT SELECT ON kpi_tracked, kpi_recorded, kpi_band_changes, kpi_recorded_bi, kpi_recorded_band_edges TO PUBLIC;

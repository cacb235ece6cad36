-- The history's revisions and restatements: kpi_record (sql/kpi_recording.sql) adds a
-- revision whenever a recording changes a period's value, band or cases, and sends a
-- restatement that changes a band like a band change, marked as a restatement.

-- What each recording said: a new revision of a (tracking, KPI, period, slice) whenever a
-- recording changes its value, band or cases (recording again unchanged adds none; a slice
-- that a recording no longer finds gets a revision of NULLs). kpi_recorded holds the latest.
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
-- The user's data: pg_dump keeps it.
SELECT pg_catalog.pg_extension_config_dump('kpi_recorded_revision', '');

-- Restatements: a revision of a period that was already over when the revision before it was
-- recorded (late data, not a period still filling), whose band changed, or whose value moved
-- by more than the half-width of the earlier revision's interval (any change, where no
-- interval is kept). One that changes a band is sent like a band change: under the rule
-- 'band' always, under 'significant' when it moved beyond the earlier interval or its
-- verdict lies wholly in its band, under 'control' never.
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

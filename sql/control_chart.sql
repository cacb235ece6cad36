-- Control charts of the KPI history (Shewhart): each recorded point against limits set by the
-- process's own previous periods, and the four Western Electric run rules. One row per
-- recorded (tracking, KPI, slice, period):
--   p-chart (shares, CSAT)        centre 100 * sum(hits) / sum(cases) of the baseline;
--                                 sigma 100 * sqrt(p (1 - p) / this period's cases)
--   u-chart (per-customer rates)  centre scale * sum(events) / sum(customers) of the baseline;
--                                 sigma scale * sqrt(u / this period's customers)
--   individuals chart (XmR: NPS, CES, scores, times, costs)
--                                 centre the mean of the baseline's values; sigma the mean
--                                 moving range of the baseline / 1.128
-- The baseline: the tracking's control_baseline periods (default 12) before the point, of the
-- same slice, recorded with a value (and counts, for p and u); no limits with fewer than 2.
-- z = (value - centre) / sigma, and the rules on the z of consecutive points:
--   rule 1: the point beyond 3 sigma;
--   rule 2: 2 of 3 consecutive points beyond 2 sigma on one side (the point among them);
--   rule 3: 4 of 5 consecutive points beyond 1 sigma on one side (the point among them);
--   rule 4: 8 consecutive points on one side of the centre.
-- (NIST/SEMATECH e-Handbook of Statistical Methods, 6.3.2 and 6.3.3; Western Electric
-- Statistical Quality Control Handbook, 1956.)

-- A recorded point's sample for the p- and u-charts: (successes or events, cases or
-- customers); NULL for the individuals chart.
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

-- The points of the charts (a view of its own, so that a query on one tracking reads only its
-- rows).
CREATE VIEW _kpi_control_points AS
SELECT h.tracking, h.kpi, h.period, h.period_start, h.dimension, h.dimension_value, h.value,
       k.control_baseline, s.chart, s.x, s.n,
       -- a per-customer rate's unit: per 1,000 (incident_rate) or per 100 customers
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

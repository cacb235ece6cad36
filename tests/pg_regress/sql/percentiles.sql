-- Percentiles of the time KPIs: medians, percentile(sketch, fraction), rollup.
CREATE SCHEMA percentiles;
SET search_path = percentiles, public;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
-- NULL and empty input: no median, an empty sketch
SELECT median_first_response_time(o, r), median_resolution_time(o, r), median_handling_time(o, r),
       first_response_sketch(o, r)
FROM (SELECT NULL::timestamptz, NULL::timestamptz WHERE false) v(o, r);
SELECT median_handling_time(d) FROM (VALUES (NULL::interval)) v(d);
-- pending cases (no end yet) are left out and counted; rows without a start are skipped
CREATE TABLE cases (id int, opened_at timestamptz, first_response_at timestamptz);
INSERT INTO cases VALUES
    (1, '2026-05-01 09:00', '2026-05-01 10:00'),
    (2, '2026-05-01 09:00', '2026-05-02 11:00'),
    (3, '2026-05-01 09:00', '2026-05-01 09:20'),
    (4, '2026-05-01 09:00', NULL),
    (5, NULL, '2026-05-01 10:00');
SELECT median_first_response_time(opened_at, first_response_at),
       percentile_disc(0.5) WITHIN GROUP (ORDER BY first_response_at - opened_at) AS reference,
       pending_count(first_response_sketch(opened_at, first_response_at)),
       completed_count(first_response_sketch(opened_at, first_response_at)),
       avg_first_response_time(first_response_sketch(opened_at, first_response_at)) =
           avg_first_response_time(opened_at, first_response_at) AS same_average
FROM cases;
-- the smallest and largest span (fractions 0 and 1) are exact; others within 1%
SELECT f, percentile(s, f), (SELECT percentile_disc(f) WITHIN GROUP (ORDER BY first_response_at - opened_at) FROM cases) AS reference
FROM (SELECT first_response_sketch(opened_at, first_response_at) FROM cases) v(s),
     unnest('{0, 0.25, 0.34, 0.5, 0.67, 0.9, 1}'::float8[]) f;
-- the text form
SELECT first_response_sketch(opened_at, first_response_at) FROM cases;
-- a 61-second span: within 1% of the truth
SELECT median_resolution_time(o, r), median(resolution_time_sketch(o, r))
FROM (VALUES ('2026-01-01'::timestamp, '2026-01-01 00:01:01'::timestamp),
             ('2026-01-01', '2026-01-01 00:00:30'), ('2026-01-01', '2026-01-01 00:02:00')) v(o, r);
-- spans of zero, and handling time from an interval column
SELECT median_handling_time(d), percentile(handling_time_sketch(d), 0.6)
FROM (VALUES ('0'::interval), ('0'), ('15 minutes'), (NULL)) v(d);
-- sketches roll up exactly: daily sketches give the month's percentiles and average
CREATE TABLE spans AS
SELECT g, timestamptz '2026-05-01' + (g % 30) * interval '1 day' AS opened_at,
       timestamptz '2026-05-01' + (g % 30) * interval '1 day' + (g * g % 9973) * interval '37 seconds' AS resolved_at
FROM generate_series(1, 3000) g;
CREATE TABLE daily AS
SELECT date_trunc('day', opened_at) AS day, resolution_time_sketch(opened_at, resolved_at) AS s
FROM spans GROUP BY 1;
SELECT (SELECT rollup(s)::text FROM daily) = (SELECT resolution_time_sketch(opened_at, resolved_at)::text FROM spans) AS same_sketch,
       (SELECT percentile(rollup(s), 0.9) FROM daily) AS rolled_up_p90,
       (SELECT percentile_disc(0.9) WITHIN GROUP (ORDER BY resolved_at - opened_at) FROM spans) AS reference_p90,
       (SELECT avg_resolution_time(rollup(s)) FROM daily) = (SELECT avg_resolution_time(opened_at, resolved_at) FROM spans) AS same_average;
-- verdicts of the median KPIs, in hours
SELECT kpi, unit, band_labels FROM kpi_catalog WHERE kpi LIKE 'median%' ORDER BY kpi;
SELECT kpi_value('median_resolution_time', s), kpi_cases(s), kpi_band('median_resolution_time', s)
FROM (SELECT resolution_time_sketch(opened_at, resolved_at) FROM spans) v(s);
SELECT kpi_value('avg_resolution_time', resolution_time_sketch(opened_at, resolved_at)) FROM spans;
-- errors: a fraction outside 0..1, an end before its start, a negative handling time, bad text
SELECT percentile(first_response_sketch(opened_at, first_response_at), 1.5) FROM cases;
SELECT percentile(first_response_sketch(opened_at, first_response_at), 'NaN') FROM cases;
SELECT median_first_response_time(o, r)
FROM (VALUES ('2026-05-01 10:00'::timestamptz, '2026-05-01 09:59'::timestamptz)) v(o, r);
SELECT median_handling_time(d) FROM (VALUES ('-5 minutes'::interval)) v(d);
SELECT '{"relative_accuracy":0.02,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}'::duration_sketch;
SELECT '{"relative_accuracy":0.01,"completed":2,"pending":0,"sum_us":7200000000,"min_us":3600000000,"max_us":3600000000,"zeros":0,"buckets":{"1101":1}}'::duration_sketch;
SELECT '{"completed":1}'::duration_sketch;
RESET search_path;
DROP SCHEMA percentiles CASCADE;

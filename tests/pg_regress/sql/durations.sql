-- Time KPIs: average first-response, resolution and handling time, as intervals.
CREATE SCHEMA durations;
SET search_path = durations, public;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
-- NULL and empty input
SELECT avg_first_response_time(o, r), avg_resolution_time(o, r), avg_handling_time(o, r)
FROM (SELECT NULL::timestamptz, NULL::timestamptz WHERE false) v(o, r);
SELECT avg_handling_time(d) FROM (VALUES (NULL::interval)) v(d);
-- pending cases (no end yet) are left out of the average and counted separately;
-- rows without a start are skipped
CREATE TABLE cases (id int, opened_at timestamptz, first_response_at timestamptz);
INSERT INTO cases VALUES
    (1, '2026-05-01 09:00', '2026-05-01 10:00'),
    (2, '2026-05-01 09:00', '2026-05-02 11:00'),
    (3, '2026-05-01 09:00', NULL),
    (4, NULL, '2026-05-01 10:00');
SELECT avg_first_response_time(opened_at, first_response_at),
       avg(first_response_at - opened_at) AS reference,
       first_response_summary(opened_at, first_response_at),
       pending_count(first_response_summary(opened_at, first_response_at)),
       completed_count(first_response_summary(opened_at, first_response_at))
FROM cases;
-- only pending cases: no average, but the count
SELECT avg_resolution_time(opened_at, NULL::timestamptz), pending_count(resolution_time_summary(opened_at, NULL::timestamptz))
FROM cases;
-- exact to the microsecond, rounded half away from zero; shown as days and hours
SELECT avg_resolution_time(o, r) FROM (VALUES ('2026-01-01'::timestamp, '2026-01-01 00:00:00.000001'::timestamp),
                                               ('2026-01-01', '2026-01-01')) v(o, r);
SELECT avg_resolution_time(o, r) FROM (VALUES ('2026-01-01'::timestamptz, '2026-01-03 12:00'::timestamptz),
                                               ('2026-01-01', '2026-01-02')) v(o, r);
-- handling time from an interval column; a month counts as 30 days, as interval comparison has it
SELECT avg_handling_time(d) FROM (VALUES ('5 minutes'::interval), ('15 minutes'), (NULL)) v(d);
SELECT avg_handling_time(d) FROM (VALUES ('1 mon'::interval)) v(d);
-- summaries: text form, rollup, accessors
SELECT avg_first_response_time(rollup(s)), pending_count(rollup(s))
FROM (VALUES ('{"completed":2,"pending":1,"sum_us":7200000000}'::duration_summary),
             ('{"completed":1,"pending":0,"sum_us":0}')) v(s);
SELECT avg_handling_time('{"completed":0,"pending":4,"sum_us":0}'::duration_summary);
SELECT '{"completed":0,"pending":0,"sum_us":5}'::duration_summary;
SELECT '{"completed":1,"pending":0,"sum_us":-5}'::duration_summary;
SELECT '{"completed":1}'::duration_summary;
-- errors: an end before its start, an infinite timestamp, a negative handling time
SELECT avg_first_response_time(o, r)
FROM (VALUES ('2026-05-01 10:00'::timestamptz, '2026-05-01 09:59'::timestamptz)) v(o, r);
SELECT avg_resolution_time(o, r)
FROM (VALUES ('2026-05-01 10:00'::timestamp, '2026-05-01 09:59'::timestamp)) v(o, r);
SELECT avg_handling_time(s, e) FROM (VALUES ('2026-05-01'::timestamptz, 'infinity'::timestamptz)) v(s, e);
SELECT avg_handling_time(d) FROM (VALUES ('-5 minutes'::interval)) v(d);
-- the support functions are safe to call directly: no input is modified
SELECT first_response_trans(s, '2026-01-01'::timestamptz, '2026-01-01 00:01'::timestamptz), s
FROM (SELECT '{"completed":0,"pending":0,"sum_us":0}'::duration_summary) v(s);
SELECT duration_combine('{"completed":1,"pending":0,"sum_us":10}', '{"completed":1,"pending":2,"sum_us":20}');
-- the catalog: units in hours
SELECT kpi, unit, direction FROM kpi_catalog WHERE kpi LIKE 'avg\_%' ORDER BY kpi;
SELECT kpi_band('avg_first_response_time', extract(epoch FROM interval '3 hours') / 3600);

-- Survey KPIs: nps (0-10), csat (1-5, % of 4 and 5), ces (1-7, mean).
CREATE SCHEMA surveys;
SET search_path = surveys, public;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
-- NULL and empty input
SELECT nps(s), csat(s), ces(s) FROM (SELECT NULL::int WHERE false) v(s);
SELECT nps(s), csat(s), ces(s) FROM (VALUES (NULL::int)) v(s);
-- NPS: % promoters (9-10) - % detractors (0-6); passives (7-8) count in the total only
SELECT nps(s) FROM (VALUES (10), (9), (8), (7), (6), (0), (NULL)) v(s);
SELECT nps(s) FROM (VALUES (10), (10)) v(s);
SELECT nps(s) FROM (VALUES (0), (6)) v(s);
SELECT nps(s) FROM (VALUES (7), (8)) v(s);
-- CSAT: top-2-box; CES: the mean, as avg() computes it
SELECT csat(s), count(*) FILTER (WHERE s >= 4) * 100.0 / count(s) AS reference
FROM (VALUES (5), (4), (3), (2), (1), (NULL)) v(s);
SELECT ces(s), avg(s) AS reference FROM (VALUES (7), (6), (2), (NULL)) v(s);
-- smallint columns work; a moving window uses the inverse transition
SELECT ces(s) FROM (VALUES (7::smallint), (5::smallint)) v(s);
SELECT i, nps(s) OVER (ORDER BY i ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
FROM (VALUES (1, 10), (2, 0), (3, 8), (4, 9)) v(i, s) ORDER BY i;
-- scores off the scale are errors, with the value and the scale
SELECT nps(s) FROM (VALUES (10), (11)) v(s);
SELECT nps(-1);
SELECT csat(0);
SELECT csat(6);
SELECT ces(0);
SELECT ces(8);
-- summaries: text form, rollup, accessors; a summary remembers its survey
SELECT csat_summary(s), csat(csat_summary(s)), survey_responses(csat_summary(s))
FROM (VALUES (5), (4), (1)) v(s);
SELECT nps(rollup(s)) FROM (VALUES ('{"survey":"nps","counts":[1,0,0,0,0,0,0,0,0,0,3]}'::survey_summary),
                                   ('{"survey":"nps","counts":[0,0,0,0,0,0,0,0,2,0,0]}')) v(s);
SELECT rollup(s) FROM (SELECT NULL::survey_summary WHERE false) v(s);
SELECT nps(csat_summary(5));
SELECT rollup(s) FROM (SELECT nps_summary(10) UNION ALL SELECT csat_summary(5)) v(s);
SELECT '{"survey":"csat","counts":[1,2,3]}'::survey_summary;
SELECT '{"survey":"csat","counts":[1,2,3,4,-5]}'::survey_summary;
SELECT '{"survey":"stars","counts":[]}'::survey_summary;
-- the catalog
SELECT kpi, unit, direction, min_value, max_value FROM kpi_catalog WHERE kpi IN ('nps', 'csat', 'ces') ORDER BY kpi;
SELECT kpi_band('nps', -100), kpi_band('nps', 100);
SELECT kpi_band('nps', 101);

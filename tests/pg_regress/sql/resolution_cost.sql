-- complaint_resolution_cost(cost, resolved) = sum(cost) / count(*) FILTER (WHERE resolved)
CREATE SCHEMA resolution_cost;
SET search_path = resolution_cost, public;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
-- NULL and empty input; no resolved complaint or no cost at all: NULL
SELECT complaint_resolution_cost(c, r) FROM (SELECT NULL::numeric, NULL::boolean WHERE false) v(c, r);
SELECT complaint_resolution_cost(c, r) FROM (VALUES (100.00, false), (50, NULL)) v(c, r);
SELECT complaint_resolution_cost(c, r) FROM (VALUES (NULL::numeric, true)) v(c, r);
-- every cost given counts in the total; only resolved complaints in the denominator
CREATE TABLE complaints (id int, cost numeric, resolved boolean);
INSERT INTO complaints VALUES (1, 120.00, true), (2, 80.5, true), (3, 40.125, false), (4, NULL, true), (5, 0, NULL);
SELECT complaint_resolution_cost(cost, resolved),
       sum(cost) / count(*) FILTER (WHERE resolved) AS reference,
       complaint_resolution_cost_summary(cost, resolved)
FROM complaints;
-- leave unresolved complaints' costs out with FILTER
SELECT complaint_resolution_cost(cost, resolved) FILTER (WHERE resolved),
       sum(cost) FILTER (WHERE resolved) / count(*) FILTER (WHERE resolved) AS reference
FROM complaints;
-- integer costs work (implicit cast); large costs and many decimals stay exact
SELECT complaint_resolution_cost(c, true) FROM (VALUES (3), (4)) v(c);
SELECT complaint_resolution_cost(c, true), sum(c) / count(*) AS reference
FROM (VALUES (12345678901234567890.123456::numeric), (0.000001)) v(c);
-- errors: negative, NaN and infinite costs
SELECT complaint_resolution_cost(c, true) FROM (VALUES (10), (-0.01)) v(c);
SELECT complaint_resolution_cost('NaN', true);
SELECT complaint_resolution_cost('Infinity', true);
-- summaries: text form, rollup, accessors
SELECT complaint_resolution_cost(rollup(s)), total_cost(rollup(s)), resolved_count(rollup(s))
FROM (VALUES ('{"resolved":2,"costs":2,"total_cost":"100.50"}'::cost_summary),
             ('{"resolved":1,"costs":3,"total_cost":"9.125"}')) v(s);
SELECT total_cost('{"resolved":1,"costs":0,"total_cost":"0"}');
SELECT '{"resolved":1,"costs":0,"total_cost":"5"}'::cost_summary;
SELECT '{"resolved":1,"costs":1,"total_cost":"-5"}'::cost_summary;
SELECT '{"resolved":1,"costs":1,"total_cost":"1e3"}'::cost_summary;
-- the support functions are safe to call directly: no input is modified
SELECT cost_trans(s, 2.5, true), s FROM (SELECT '{"resolved":0,"costs":0,"total_cost":"0"}'::cost_summary) v(s);
SELECT kpi, unit, direction FROM kpi_catalog WHERE kpi = 'complaint_resolution_cost';
-- cost_per_complaint(cost) = sum(cost) / count(cost) = avg(cost): every complaint with a cost,
-- resolved or not; a NULL cost is skipped; no cost at all: NULL
SELECT cost_per_complaint(cost), sum(cost) / count(cost) AS reference, avg(cost) AS avg,
       cost_per_complaint_summary(cost)
FROM complaints;
SELECT cost_per_complaint(c) FROM (VALUES (NULL::numeric)) v(c);
SELECT cost_per_complaint(c) FROM (SELECT 1.0 WHERE false) v(c);
-- one summary answers both cost KPIs
SELECT complaint_resolution_cost(s), cost_per_complaint(s), resolved_count(s), cost_count(s), total_cost(s)
FROM (SELECT complaint_resolution_cost_summary(cost, resolved) AS s FROM complaints) x;
SELECT cost_per_complaint(rollup(s)), cost_count(rollup(s))
FROM (VALUES ('{"resolved":2,"costs":2,"total_cost":"100.50"}'::cost_summary),
             ('{"resolved":1,"costs":3,"total_cost":"9.125"}')) v(s);
-- its value, cases and verdict per KPI: kpi_cases counts the costs for cost_per_complaint
SELECT kpi_value('cost_per_complaint', s), kpi_cases('cost_per_complaint', s),
       kpi_value('complaint_resolution_cost', s), kpi_cases('complaint_resolution_cost', s), kpi_cases(s),
       kpi_band('cost_per_complaint', s)
FROM (SELECT complaint_resolution_cost_summary(cost, resolved) AS s FROM complaints) x;
SELECT kpi_cases('nps', complaint_resolution_cost_summary(1, true));
-- errors as for complaint_resolution_cost
SELECT cost_per_complaint(c) FROM (VALUES (10), (-0.01)) v(c);
SELECT cost_per_complaint('NaN'::numeric);
SELECT kpi, unit, direction, formula FROM kpi_catalog WHERE kpi = 'cost_per_complaint';

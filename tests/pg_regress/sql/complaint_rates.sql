-- The complaint share KPIs over booleans, and the % of cases done within a target time.
CREATE SCHEMA complaint_rates;
SET search_path = complaint_rates, public;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
-- NULL and empty input, for every boolean share KPI
SELECT complaint_escalation_rate(b), complaint_resolution_rate(b), cross_functional_resolution_rate(b),
       first_contact_resolution_rate(b), sla_compliance_rate(b)
FROM (SELECT NULL::boolean WHERE false) v(b);
SELECT complaint_escalation_rate(b), complaint_resolution_rate(b), cross_functional_resolution_rate(b),
       first_contact_resolution_rate(b), sla_compliance_rate(b)
FROM (VALUES (NULL::boolean), (NULL)) v(b);
-- NULLs are skipped, not counted as FALSE
SELECT complaint_resolution_rate(b), first_contact_resolution_rate(b)
FROM (VALUES (true), (false), (NULL), (true)) v(b);
-- a summary, its rate and its confidence interval; rollup of summaries
SELECT complaint_resolution_summary(b),
       complaint_resolution_rate(complaint_resolution_summary(b)),
       complaint_resolution_rate_ci(complaint_resolution_summary(b))
FROM (VALUES (true), (false), (NULL), (true)) v(b);
SELECT complaint_escalation_rate(rollup(s)) FROM (VALUES ('{"hits":1,"total":12}'::share_summary),
                                                         ('{"hits":0,"total":8}')) v(s);
SELECT * FROM complaint_escalation_rate_ci('{"hits":1,"total":12}');
-- the complaint escalation rate uses the escalation bands of the spec
SELECT kpi_band('complaint_escalation_rate', 3), kpi_band('complaint_escalation_rate', 5.01);
-- done within a target time: a pending case (NULL end) counts as not done in time,
-- a NULL start skips the row, the edge (exactly the target) counts as within
CREATE TABLE complaints (id int, opened_at timestamptz, resolved_at timestamptz, target interval);
INSERT INTO complaints VALUES
    (1, '2026-05-01 09:00+00', '2026-05-03 09:00+00', '2 days'),   -- exactly at target
    (2, '2026-05-01 09:00+00', '2026-05-03 09:00:00.000001+00', '2 days'), -- 1 microsecond late
    (3, '2026-05-01 09:00+00', NULL, '2 days'),                    -- not resolved yet
    (4, NULL, '2026-05-02 09:00+00', '2 days'),                    -- no opening time: skipped
    (5, '2026-05-01 09:00+00', '2026-05-25 09:00+00', '1 mon');    -- a month is 30 days
SELECT complaint_resolution_efficiency(opened_at, resolved_at, target),
       count(*) FILTER (WHERE resolved_at - opened_at <= target) * 100.0 / count(opened_at) AS reference,
       complaint_resolution_efficiency_summary(opened_at, resolved_at, target)
FROM complaints;
SELECT sla_compliance_rate(opened_at, resolved_at, interval '36 hours') FROM complaints;
SELECT sla_compliance_rate(opened_at::timestamp, resolved_at::timestamp, interval '2 days') FROM complaints;
SELECT complaint_resolution_efficiency(opened_at, resolved_at, target) FROM complaints WHERE false;
-- errors: resolved before opened, NULL or non-positive target
SELECT complaint_resolution_efficiency(o, r, '1 day')
FROM (VALUES ('2026-05-02 00:00+00'::timestamptz, '2026-05-01 00:00+00'::timestamptz)) v(o, r);
SELECT sla_compliance_rate(o, r, NULL) FROM (VALUES ('2026-05-01 09:00'::timestamptz, '2026-05-01 10:00'::timestamptz)) v(o, r);
SELECT sla_compliance_rate(o, r, '-1 hour') FROM (VALUES ('2026-05-01 09:00'::timestamptz, '2026-05-01 10:00'::timestamptz)) v(o, r);
SELECT sla_compliance_rate(o, r, '0') FROM (VALUES ('2026-05-01 09:00'::timestamptz, '2026-05-01 10:00'::timestamptz)) v(o, r);
SELECT sla_compliance_rate(o, r, '1 day') FROM (VALUES ('-infinity'::timestamptz, '2026-05-01 10:00'::timestamptz)) v(o, r);
-- the catalog knows every KPI
SELECT kpi, unit, direction, band_labels FROM kpi_catalog
WHERE kpi IN ('complaint_escalation_rate', 'complaint_resolution_rate', 'cross_functional_resolution_rate',
              'first_contact_resolution_rate', 'sla_compliance_rate', 'complaint_resolution_efficiency')
ORDER BY kpi;

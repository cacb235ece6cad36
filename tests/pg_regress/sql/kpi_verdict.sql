-- Intervals of the rate-like KPIs and the verdicts that know the sample size.
-- (kpi_band.sql customized incident_rate's bands: back to the shipped 5 and 10)
UPDATE kpi_catalog SET band_edges = '{5,10}' WHERE kpi = 'incident_rate';
-- escalation: 1 of 12 is 8.3%, 'concern' as a point, but its interval touches every band
SELECT escalation_rate(s), kpi_band('escalation_rate', escalation_rate(s)) AS point_band,
       kpi_band('escalation_rate', s) AS verdict, kpi_cases(s), round((escalation_rate_ci(s)).lower, 2) AS lower,
       round((escalation_rate_ci(s)).upper, 2) AS upper
FROM (SELECT escalation_summary(g = 1) s FROM generate_series(1, 12) g) x;
-- 1% of 10,000 cases is plainly excellent
SELECT kpi_band('escalation_rate', escalation_summary(g <= 100)) FROM generate_series(1, 10000) g;
-- incident_rate: exact Poisson interval of the events, per 1,000 customers
SELECT incident_rate(s), customer_count(s), event_count(s), round((incident_rate_ci(s)).lower, 4) AS lower,
       round((incident_rate_ci(s)).upper, 4) AS upper, kpi_band('incident_rate', s) AS verdict
FROM (SELECT incident_summary(g, CASE WHEN g <= 3 THEN g END) s FROM generate_series(1, 1000) g) x;
-- no events: the interval starts at 0; 99% is wider than 95%
SELECT (contact_rate_ci(s)).*, (contact_rate_ci(s, 0.99)).upper AS upper_99, (interaction_rate_ci(s)).upper AS interaction_upper
FROM (SELECT contact_summary(g, NULL::bigint) s FROM generate_series(1, 100) g) x;
-- per segment
SELECT (contact_rate_by_segment_ci(s)).*, kpi_band('contact_rate', s) AS verdicts
FROM (SELECT contact_summary_by_segment(CASE WHEN g % 4 = 0 THEN 'north' ELSE 'south' END, g,
                                        CASE WHEN g % 9 = 0 THEN g END) s
      FROM generate_series(1, 200) g) x;
-- surveys: NPS adjusted Wald, CSAT Wilson with continuity correction, CES Student's t with one answer more at each end (NULL without answers)
SELECT nps(s), (nps_ci(s)).* FROM (SELECT nps_summary(g % 11) s FROM generate_series(1, 50) g) x;
SELECT nps(s), (nps_ci(s)).* FROM (SELECT nps_summary(10) s FROM generate_series(1, 3) g) x;
SELECT csat(s), (csat_ci(s)).* FROM (SELECT csat_summary(1 + g % 5) s FROM generate_series(1, 50) g) x;
SELECT ces(s), (ces_ci(s)).* FROM (SELECT ces_summary(1 + g % 7) s FROM generate_series(1, 50) g) x;
SELECT ces(s), (ces_ci(s)).*, kpi_interval('ces', s) FROM (SELECT ces_summary(6) s) x;
-- the value, cases and interval of every summary type, in the catalog's unit
SELECT kpi_value('avg_resolution_time', s), kpi_cases(s), kpi_interval('avg_resolution_time', s),
       kpi_band('avg_resolution_time', s)
FROM (SELECT resolution_time_summary(timestamptz '2026-01-01', timestamptz '2026-01-01' + g * interval '30 minutes') s
      FROM generate_series(1, 4) g) x;
SELECT kpi_value('complaint_resolution_cost', s), kpi_cases(s), kpi_band('complaint_resolution_cost', s)
FROM (SELECT complaint_resolution_cost_summary(10.50, true) s) x;
-- a verdict from an interval given directly; empty summaries give NULL
SELECT kpi_band('incident_rate', 4, 12), kpi_band('incident_rate', 5, 5), kpi_band('interaction_rate', 50, 90);
SELECT kpi_band('escalation_rate', escalation_summary(x > 0)), kpi_band('incident_rate', incident_summary(x, x)),
       kpi_band('nps', nps_summary(x::int))
FROM (SELECT 1::bigint WHERE false) v(x);

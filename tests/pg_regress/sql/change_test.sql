-- Change tests of the KPI history: each family tested in its own terms, two-sided.
-- Shares: Fisher's exact test. Fisher's tea-tasting table (3 of 4 right, 1 of 4 by chance):
-- p = 0.4857 (= 34/70), as every textbook gives it.
SELECT round(p_value::numeric, 6) AS p_value, test
FROM kpi_change_test('escalation_rate', '{"hits": 3, "total": 4}', '{"hits": 1, "total": 4}');
-- the issue's case: 16 of 478 escalated after 11 of 478 (3.35% after 2.30%) is noise
SELECT round(p_value::numeric, 4) AS p_value, test
FROM kpi_change_test('escalation_rate', '{"hits": 16, "total": 478}', '{"hits": 11, "total": 478}');
-- from real summaries: 10% of 1,000 after 5% of 1,000
SELECT round(p_value::numeric, 8) AS p_value, test
FROM kpi_change_test('escalation_rate',
                     (SELECT kpi_change_stats(escalation_summary(g <= 100)) FROM generate_series(1, 1000) g),
                     (SELECT kpi_change_stats(escalation_summary(g <= 50)) FROM generate_series(1, 1000) g));
-- per-customer rates: the exact Poisson rate test; 2 events on 10 customers after 8 on 10:
-- given 10 events, 2 or fewer (or 8 or more) of them on half the customers: p = 112/1024
SELECT kpi_change_stats(incident_summary(c, e)) FROM (VALUES (1, 1), (2, 2), (3, NULL)) v(c, e);
SELECT round(p_value::numeric, 6) AS p_value, test FROM kpi_change_test('incident_rate', '{"customers": 10, "events": 2}', '{"customers": 10, "events": 8}');
-- surveys: NPS (adjusted-Wald z), CSAT (Fisher on 4 and 5), CES (Welch's t)
SELECT round(p_value::numeric, 12) AS p_value, test
FROM kpi_change_test('nps', '{"survey": "nps", "counts": [5, 0, 0, 0, 0, 0, 5, 10, 10, 20, 30]}',
                             '{"survey": "nps", "counts": [10, 5, 5, 5, 5, 5, 5, 10, 10, 10, 10]}');
SELECT round(p_value::numeric, 6) AS p_value, test
FROM kpi_change_test('csat', '{"survey": "csat", "counts": [1, 1, 2, 10, 6]}', '{"survey": "csat", "counts": [4, 4, 4, 4, 4]}');
SELECT round(p_value::numeric, 6) AS p_value, test
FROM kpi_change_test('ces', '{"survey": "ces", "counts": [1, 1, 1, 1, 1, 0, 0]}', '{"survey": "ces", "counts": [0, 0, 1, 1, 1, 1, 1]}');
-- audit scores: Welch's t; fewer than 2 scores: no test
SELECT round(p_value::numeric, 6) AS p_value, test
FROM kpi_change_test('quality_score', (SELECT kpi_change_stats(quality_score_summary(x)) FROM unnest('{80,85,90,95}'::int[]) x),
                                      (SELECT kpi_change_stats(quality_score_summary(x)) FROM unnest('{60,70,75,65}'::int[]) x));
SELECT * FROM kpi_change_test('quality_score', '{"scores": 1, "sum": 90, "sum_of_squares": 8100}',
                                               '{"scores": 4, "sum": 270, "sum_of_squares": 18950}');
-- times and costs keep no spread: no test, and it says so; no previous counts: nothing
SELECT * FROM kpi_change_test('avg_resolution_time', NULL, NULL);
SELECT * FROM kpi_change_test('escalation_rate', '{"hits": 1, "total": 2}', NULL);
-- a period without cases cannot be tested
SELECT * FROM kpi_change_test('escalation_rate', '{"hits": 0, "total": 0}', '{"hits": 1, "total": 2}');
-- errors
SELECT _kpi_fisher_exact(-1, 2, 3, 4);
SELECT * FROM kpi_change_test('nps', '{"survey": "nps", "counts": [1,1,1,1,1,1,1,1,1,1,1]}', '{"survey": "csat", "counts": [1,1,1,1,1]}');
SELECT _kpi_fisher_exact(1, 9007199254740993, 1, 1);
-- any counts up to 2^53 end at once: far in a tail the p-value is 0
SELECT * FROM kpi_change_test('incident_rate', '{"customers": 1000000000, "events": 9000000000000000}',
                                               '{"customers": 1, "events": 0}');

-- quality_score(score) and service_audit_score(score) = avg(score) of integer scores on
-- 0-100, with a Student's t interval; NULL and empty input give NULL
CREATE SCHEMA scores;
SET search_path = scores, public;
SELECT quality_score(s), service_audit_score(s), quality_score_summary(s)
FROM (SELECT NULL::int WHERE false) v(s);
SELECT quality_score(s) FROM (VALUES (NULL::int)) v(s);
CREATE TABLE audits (agent text, score int);
INSERT INTO audits VALUES ('ana', 80), ('ana', 90), ('ana', 85), ('ana', NULL),
                          ('ben', 100), ('ben', 100), ('cy', 42);
SELECT agent, quality_score(score), avg(score) AS reference, quality_score_summary(score),
       (quality_score_ci(quality_score_summary(score))).*
FROM audits GROUP BY agent ORDER BY agent;
-- a window, with the moving-window mode
SELECT score, round(quality_score(score) OVER (ORDER BY agent, score ROWS 1 PRECEDING), 4) AS last_two
FROM audits WHERE score IS NOT NULL ORDER BY agent, score;
-- summaries roll up; either KPI reads either summary
SELECT quality_score(rollup(s)), service_audit_score(rollup(s)), score_count(rollup(s))
FROM (SELECT quality_score_summary(score) AS s FROM audits GROUP BY agent) x;
-- verdicts: the mean, the scores, the interval (a single score: the whole scale)
SELECT kpi_value('quality_score', s), kpi_cases('quality_score', s), kpi_cases(s),
       (kpi_interval('quality_score', s)).*, kpi_band('quality_score', s)
FROM (SELECT quality_score_summary(score) AS s FROM audits WHERE agent = 'ana') x;
SELECT (kpi_interval('service_audit_score', quality_score_summary(42))).*;
SELECT kpi_value('nps', quality_score_summary(42));
-- scores off the scale, and states no scores make
SELECT quality_score(s) FROM (VALUES (100), (101)) v(s);
SELECT service_audit_score(-1);
SELECT '{"scores":2,"sum":100,"sum_of_squares":4000}'::score_summary;
SELECT '{"scores":1,"sum":5}'::score_summary;
-- the support functions are safe to call directly: no input is modified
SELECT score_trans(s, 50), s FROM (SELECT '{"scores":0,"sum":0,"sum_of_squares":0}'::score_summary) v(s);
SELECT kpi, unit, direction, min_value, max_value FROM kpi_catalog WHERE kpi IN ('quality_score', 'service_audit_score');

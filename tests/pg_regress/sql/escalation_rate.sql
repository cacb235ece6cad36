-- escalation_rate(boolean): % of TRUE among non-NULL inputs, numeric 0-100.
CREATE SCHEMA escalation_rate;
SET search_path = escalation_rate, public;
-- NULL and empty input
SELECT escalation_rate(e) FROM (SELECT NULL::boolean WHERE false) v(e);
SELECT escalation_rate(e) FROM (VALUES (NULL::boolean), (NULL)) v(e);
SELECT escalation_rate(NULL::boolean);
-- NULLs are skipped, not counted as "not escalated"
SELECT escalation_rate(e) FROM (VALUES (true), (false), (NULL), (false)) v(e);
SELECT escalation_rate(e) FROM (VALUES (true), (true)) v(e);
SELECT escalation_rate(e) FROM (VALUES (false)) v(e);
-- numeric result: round() works; equals the plain SQL formula exactly
SELECT round(escalation_rate(e), 2) AS rate,
       escalation_rate(e) = count(*) FILTER (WHERE e) * 100.0 / count(e) AS equals_reference
FROM (SELECT g % 12 = 0 FROM generate_series(1, 1000) g) v(e);
-- GROUP BY, FILTER, views
CREATE TABLE cases (id int, team text, escalated boolean);
INSERT INTO cases VALUES (1, 'a', true), (2, 'a', false), (3, 'a', false), (4, 'b', NULL),
                         (5, 'b', false), (6, 'c', NULL);
SELECT team, escalation_rate(escalated) FROM cases GROUP BY team ORDER BY team;
SELECT escalation_rate(escalated) FILTER (WHERE id > 1) FROM cases;
CREATE VIEW team_escalation AS SELECT team, escalation_rate(escalated) AS rate FROM cases GROUP BY team;
SELECT * FROM team_escalation ORDER BY team;
-- moving window (inverse transition): same as the plain formula over the same frame
SELECT id, escalation_rate(escalated) OVER w AS rate,
       count(*) FILTER (WHERE escalated) OVER w * 100.0 / nullif(count(escalated) OVER w, 0) AS reference
FROM cases WINDOW w AS (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) ORDER BY id;
-- the state type: text form, and what is rejected
SELECT '{"hits": 3, "total": 120}'::share_summary;
SELECT escalation_rate_final('{"hits": 3, "total": 120}');
SELECT escalation_rate_final('{"hits": 0, "total": 0}');
SELECT '{"hits": 5, "total": 4}'::share_summary;
SELECT '{"hits": -1, "total": 4}'::share_summary;
SELECT '(1,2)'::share_summary;
-- the support functions are safe to call directly: no input is modified
SELECT share_trans(s, true), s FROM (SELECT '{"hits":1,"total":1}'::share_summary) v(s);
SELECT share_combine('{"hits":1,"total":2}', '{"hits":3,"total":4}');
SELECT share_combine('{"hits":0,"total":72057594037927935}', '{"hits":0,"total":1}');

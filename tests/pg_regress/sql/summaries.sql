-- Summaries: <kpi>_summary(...) returns the aggregate's state as a value; rollup() combines
-- summaries; <kpi>_rate(summary) is the rate of a summary. Daily summaries rolled up into a
-- month give exactly the monthly aggregate.
CREATE SCHEMA summaries;
SET search_path = summaries, public;
CREATE TABLE customers AS SELECT g AS id, CASE WHEN g % 3 = 0 THEN 'smb' ELSE 'retail' END AS segment
FROM generate_series(1, 30) g;
CREATE TABLE tickets AS
SELECT g AS id, 1 + (g * 7) % 30 AS customer_id, date '2026-10-01' + (g % 5) AS day, g % 9 = 0 AS escalated
FROM generate_series(1, 40) g;
CREATE TABLE daily AS
SELECT t.day, escalation_summary(t.escalated) AS escalations, incident_summary(t.customer_id, t.id) AS incidents,
       contact_summary_by_segment(c.segment, c.id, t.id) AS contacts
FROM tickets t JOIN customers c ON c.id = t.customer_id GROUP BY t.day;
SELECT day, escalations, incidents FROM daily ORDER BY day LIMIT 2;
-- the month from the daily summaries equals the month from the rows
SELECT escalation_rate(rollup(escalations)) AS from_summaries,
       (SELECT escalation_rate(escalated) FROM tickets) AS from_rows
FROM daily;
SELECT incident_rate(rollup(incidents)) AS from_summaries,
       (SELECT incident_rate(customer_id, id) FROM tickets) AS from_rows,
       contact_rate(rollup(incidents)), interaction_rate(rollup(incidents))
FROM daily;
SELECT contact_rate_by_segment(rollup(contacts)) =
       (SELECT contact_rate_by_segment(c.segment, c.id, t.id) FROM tickets t JOIN customers c ON c.id = t.customer_id)
       AS same
FROM daily;
-- NULL summaries are skipped; no summaries give NULL
SELECT escalation_rate(rollup(s)) FROM (VALUES (NULL::share_summary), ('{"hits":1,"total":4}')) v(s);
SELECT incident_rate(rollup(s)), contact_rate_by_segment(rollup(t))
FROM (SELECT NULL::customer_rate_summary, NULL::segment_rate_summary WHERE false) v(s, t);
-- summaries over different customer key types do not combine
SELECT incident_rate(rollup(s)) FROM (VALUES ('{"key_type":"bigint","events":2,"customers":[2,3]}'::customer_rate_summary),
                                             ('{"key_type":"text","events":2,"customers":["2"]}')) v(s);
-- an untyped literal matches both escalation_rate(boolean) and escalation_rate(share_summary)
SELECT escalation_rate(NULL);
SELECT escalation_rate(NULL::boolean), escalation_rate(NULL::share_summary);
-- the Wilson interval (with continuity correction) of an escalation rate, in percent: 1 of 12
-- is 8.33%, but could be 0.4% to 40%
SELECT round(escalation_rate(s), 2) AS rate, round(lower, 2) AS lower, round(upper, 2) AS upper
FROM (SELECT '{"hits":1,"total":12}'::share_summary) v(s), escalation_rate_ci(s);
SELECT round(lower, 2), round(upper, 2) FROM escalation_rate_ci('{"hits":1,"total":12}', 0.99);
SELECT round(lower, 2), round(upper, 2) FROM escalation_rate_ci('{"hits":0,"total":100}');
SELECT * FROM escalation_rate_ci('{"hits":0,"total":0}');
SELECT team, round(escalation_rate(rollup(s)), 2) AS rate, round((escalation_rate_ci(rollup(s))).lower, 4) AS lower
FROM (VALUES ('a', '{"hits":3,"total":40}'::share_summary), ('a', '{"hits":1,"total":60}')) v(team, s) GROUP BY team;
SELECT escalation_rate_ci('{"hits":1,"total":12}', 1.5);
SELECT escalation_rate_ci('{"hits":1,"total":12}', 'NaN');

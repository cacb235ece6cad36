-- incident_rate (per 1,000), contact_rate and interaction_rate (per 100) over
CREATE SCHEMA customer_rates;
SET search_path = customer_rates, public;
-- customers LEFT JOIN events: events / distinct customers.
CREATE TABLE customers (id bigint, segment text);
CREATE TABLE incidents (id int, customer_id bigint);
INSERT INTO customers VALUES (1, 'retail'), (2, 'retail'), (3, 'retail'), (4, 'telecom'), (NULL, 'telecom');
INSERT INTO incidents VALUES (10, 1), (11, 1), (12, 1), (13, 3), (14, NULL), (15, 99);
-- customer 1 has three incidents and counts once; 2 and 4 have none and still count
SELECT incident_rate(c.id, i.id), contact_rate(c.id, i.id), interaction_rate(c.id, i.id),
       count(i.id) * 1000.0 / count(DISTINCT c.id) AS reference
FROM customers c LEFT JOIN incidents i ON i.customer_id = c.id;
SELECT c.segment, incident_rate(c.id, i.id)
FROM customers c LEFT JOIN incidents i ON i.customer_id = c.id GROUP BY 1 ORDER BY 1;
SELECT incident_rate(c.id, i.id) FILTER (WHERE c.segment = 'telecom')
FROM customers c LEFT JOIN incidents i ON i.customer_id = c.id;
-- NULL customer key: the row is skipped (its event too); no customers: NULL
SELECT incident_rate(c, i) FROM (VALUES (NULL::bigint, 1), (NULL, 2)) v(c, i);
SELECT incident_rate(c, i) FROM (VALUES (1::bigint, NULL::int)) v(c, i);
SELECT incident_rate(c, i) FROM (SELECT 1::bigint, 1 WHERE false) v(c, i);
SELECT incident_rate(NULL::bigint, NULL::int);
-- every customer key type; the event key may be of any type
SELECT incident_rate(c::integer, i) AS int4, incident_rate(c::text, i) AS text,
       incident_rate(('00000000-0000-0000-0000-00000000000' || c)::uuid, i) AS uuid,
       incident_rate(c, i::text) AS text_event, incident_rate(c, i::numeric) AS numeric_event
FROM (VALUES (1::bigint, 10), (1, 11), (2, NULL), (3, 12)) v(c, i);
-- event keys of the types with a concrete signature (bigint, integer, text, uuid: what Citus
-- pushes down), of any other type ("any"), and an untyped NULL all give the same rate
SELECT incident_rate(c, i::bigint) AS bigint_event, incident_rate(c, i) AS int_event,
       incident_rate(c, md5(i::text)::uuid) AS uuid_event, incident_rate(c, date '2026-01-01' + i) AS date_event,
       incident_rate(c, CASE WHEN i IS NOT NULL THEN NULL END) AS untyped_null
FROM (VALUES (1::bigint, 10), (1, 11), (2, NULL), (3, 12)) v(c, i);
SELECT incident_rate(1, NULL), contact_rate_by_segment('a', 1, NULL);
-- a boolean "has an event": true counts an event, false and NULL the customer only
-- (customer 1: two events; 2, 3: none): 2 / 3 customers
SELECT incident_rate(c, flag), contact_rate(c::text, flag), interaction_summary(c, flag),
       contact_rate_by_segment('all', c, flag) ->> 'all' AS by_segment
FROM (VALUES (1::bigint, true), (1, true), (1, false), (2, false), (3, NULL)) v(c, flag);
SELECT p.oid::regprocedure AS aggregate FROM pg_proc p
WHERE p.proname IN ('incident_rate', 'contact_rate_by_segment') AND p.prokind = 'a'
ORDER BY p.oid::regprocedure::text;
-- numeric result with round()
SELECT round(contact_rate(g % 7, CASE WHEN g % 3 = 0 THEN g END), 2)
FROM generate_series(1, 100) g;
-- the state type: text form (keys sorted), and what is rejected
SELECT '{"key_type": "bigint", "events": 3, "customers": [3, 1, 2, 1]}'::customer_rate_summary;
SELECT incident_rate_final('{"key_type": "text", "events": 3, "customers": ["a", "b"]}');
SELECT contact_rate_final('{"key_type": "uuid", "events": 1, "customers": []}');
SELECT '{"key_type": "date", "events": 3, "customers": []}'::customer_rate_summary;
SELECT '{"key_type": "bigint", "events": -3, "customers": []}'::customer_rate_summary;
SELECT '{"key_type": "uuid", "events": 3, "customers": [7]}'::customer_rate_summary;
SELECT 'not json'::customer_rate_summary;
-- support functions are not for direct calls
SELECT customer_rate_trans(NULL, 1::bigint, 1);

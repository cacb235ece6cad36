-- contact_rate_by_segment(segment, customer_id, contact_id): every segment's rate in one jsonb.
CREATE SCHEMA contact_rate_by_segment;
SET search_path = contact_rate_by_segment, public;
CREATE TABLE customers (id int, segment text);
CREATE TABLE contacts (id bigint, customer_id int);
INSERT INTO customers SELECT g, CASE WHEN g <= 20 THEN 'retail' WHEN g <= 30 THEN 'smb' ELSE 'enterprise' END
FROM generate_series(1, 40) g;
INSERT INTO customers VALUES (41, NULL), (NULL, 'smb');
-- retail: 1 contact / 20 customers = 5% (optimal: the edge belongs to it);
-- smb: 1 / 10 = 10% (acceptable: edge); enterprise: 2 / 10 = 20% from one customer (concern)
INSERT INTO contacts VALUES (1, 1), (100, 22), (200, 31), (201, 31);
INSERT INTO contacts VALUES (300, 41), (301, NULL);                             -- NULL segment, NULL customer
SELECT jsonb_pretty(contact_rate_by_segment(c.segment, c.id, k.id))
FROM customers c LEFT JOIN contacts k ON k.customer_id = c.id;
-- each segment's figures equal contact_rate per GROUP BY group
SELECT s.key AS segment, (s.value ->> 'rate')::numeric = g.rate AS equals_group_by
FROM (SELECT contact_rate_by_segment(c.segment, c.id, k.id) AS r
      FROM customers c LEFT JOIN contacts k ON k.customer_id = c.id) a,
     jsonb_each(a.r) s,
     LATERAL (SELECT contact_rate(c.id, k.id) AS rate FROM customers c LEFT JOIN contacts k ON k.customer_id = c.id
              WHERE c.segment = s.key) g
ORDER BY 1;
-- empty and all-NULL input
SELECT contact_rate_by_segment(s, c, k) FROM (SELECT 'a', 1, 1 WHERE false) v(s, c, k);
SELECT contact_rate_by_segment(NULL::text, 1, 1);
-- text customer keys, GROUP BY
SELECT month, contact_rate_by_segment(seg, cust, contact)
FROM (VALUES (1, 'a', 'x', 1), (1, 'a', 'x', 2), (1, 'b', 'y', NULL), (2, 'a', 'z', NULL)) v(month, seg, cust, contact)
GROUP BY month ORDER BY month;
-- the state type
SELECT '{"key_type": "bigint", "segments": {"b": {"events": 1, "customers": [2]}, "a": {"events": 0, "customers": [1]}}}'::segment_rate_summary;
SELECT contact_rate_by_segment_final('{"key_type": "bigint", "segments": {"a": {"events": 3, "customers": [1, 2]}}}');
SELECT '{"key_type": "bigint", "segments": []}'::segment_rate_summary;

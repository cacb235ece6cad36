-- Fills the demo schema. Deterministic: every random draw is a hash of (stream, row), so the
-- data is the same on every machine and in every plan.
--
-- Each segment has its own profile, and every rate improves a little each month, so the
-- report shows bands that differ by segment and change over time.

CREATE FUNCTION pg_temp.draw(stream int, i bigint) RETURNS float8
LANGUAGE sql IMMUTABLE AS $$ SELECT (hashint8extended(i, stream) & 16777215)::float8 / 16777216 $$;

CREATE TEMP TABLE profile (segment, customers, incident_p, question_p, escalation_p, contact_p, interaction_p) AS
VALUES
    -- per customer and month: P(incident), P(other ticket); per ticket: P(escalated);
    -- per customer and month: P(contact) (up to 2), P(interaction) (up to 3)
    ('consumer',       12000, 0.0075, 0.060, 0.022, 0.040, 0.55),
    ('small_business',  5000, 0.0095, 0.080, 0.038, 0.072, 0.70),
    ('enterprise',      1500, 0.0130, 0.120, 0.060, 0.115, 0.86),
    ('public_sector',   1500, 0.0045, 0.090, 0.030, 0.058, 0.66);

CREATE TEMP TABLE months AS
SELECT m::date AS month, row_number() OVER (ORDER BY m) - 1 AS n
FROM generate_series('2026-05-01'::date, '2026-10-01'::date, interval '1 month') m;

INSERT INTO customers (id, segment, signed_up)
SELECT row_number() OVER (ORDER BY p.segment, g), p.segment,
       '2024-01-01'::date + (pg_temp.draw(1, g) * 800)::int
FROM profile p, generate_series(1, p.customers) g;

-- Improvement over time: month n scales every probability by (1 - 0.04 n).
CREATE TEMP TABLE customer_months AS
SELECT c.id AS customer_id, m.month, c.id * 100 + m.n AS cm, 1 - 0.04 * m.n AS trend,
       p.incident_p, p.question_p, p.escalation_p, p.contact_p, p.interaction_p
FROM customers c JOIN profile p USING (segment) CROSS JOIN months m;

INSERT INTO tickets (id, customer_id, opened_at, kind, channel, escalated)
SELECT row_number() OVER (ORDER BY cm, k), customer_id,
       month + pg_temp.draw(2, cm * 10 + k) * (month + interval '1 month' - month),
       kind,
       (ARRAY['email', 'phone', 'chat', 'portal'])[1 + (pg_temp.draw(3, cm * 10 + k) * 4)::int % 4],
       CASE WHEN pg_temp.draw(4, cm * 10 + k) < 0.01 THEN NULL
            ELSE pg_temp.draw(5, cm * 10 + k) < escalation_p * trend END
FROM customer_months,
     LATERAL (VALUES (1, 'incident', incident_p), (2, 'question', question_p), (3, 'request', question_p / 2)) t(k, kind, p)
WHERE pg_temp.draw(6, cm * 10 + k) < p * trend;

INSERT INTO contacts (id, customer_id, contacted_at, channel)
SELECT row_number() OVER (ORDER BY cm, k), customer_id,
       month + pg_temp.draw(7, cm * 10 + k) * (month + interval '1 month' - month),
       (ARRAY['email', 'phone', 'chat'])[1 + (pg_temp.draw(8, cm * 10 + k) * 3)::int % 3]
FROM customer_months, generate_series(1, 2) k
WHERE pg_temp.draw(9, cm * 10 + k) < contact_p * trend / 2;

INSERT INTO interactions (id, customer_id, occurred_at, touchpoint)
SELECT row_number() OVER (ORDER BY cm, k), customer_id,
       month + pg_temp.draw(10, cm * 10 + k) * (month + interval '1 month' - month),
       (ARRAY['app', 'web', 'newsletter', 'store'])[1 + (pg_temp.draw(11, cm * 10 + k) * 4)::int % 4]
FROM customer_months, generate_series(1, 3) k
WHERE pg_temp.draw(12, cm * 10 + k) < interaction_p * (2 - trend) / 3;

ANALYZE customers, tickets, contacts, interactions;

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

INSERT INTO contacts (id, customer_id, contacted_at, channel, handle_time)
SELECT row_number() OVER (ORDER BY cm, k), customer_id,
       month + pg_temp.draw(7, cm * 10 + k) * (month + interval '1 month' - month),
       (ARRAY['email', 'phone', 'chat'])[1 + (pg_temp.draw(8, cm * 10 + k) * 3)::int % 3],
       make_interval(secs => round(120 + 1080 * pg_temp.draw(15, cm * 10 + k) ^ 2))
FROM customer_months, generate_series(1, 2) k
WHERE pg_temp.draw(9, cm * 10 + k) < contact_p * trend / 2;

INSERT INTO interactions (id, customer_id, occurred_at, touchpoint)
SELECT row_number() OVER (ORDER BY cm, k), customer_id,
       month + pg_temp.draw(10, cm * 10 + k) * (month + interval '1 month' - month),
       (ARRAY['app', 'web', 'newsletter', 'store'])[1 + (pg_temp.draw(11, cm * 10 + k) * 4)::int % 4]
FROM customer_months, generate_series(1, 3) k
WHERE pg_temp.draw(12, cm * 10 + k) < interaction_p * (2 - trend) / 3;

-- Complaint handling, surveys and churn: a second profile per segment.
--   churn_p: P(leaving) per month; complaint_p: P(complaint) per customer and month;
--   response_hours, resolution_days: typical times; cross_p: P(several departments);
--   fcr_p: P(resolved at first contact) when neither escalated nor cross-functional;
--   cost_base: typical resolution cost; effort: survey answers are lowest..highest with
--   P(score >= x) shaped by draw ^ effort (smaller: happier customers).
CREATE TEMP TABLE complaint_profile (segment, churn_p, complaint_p, response_hours, resolution_days, cross_p, fcr_p, cost_base, effort) AS
VALUES
    ('consumer',       0.010, 0.020, 20.0, 4.0, 0.08, 0.70,  40.0, 0.45),
    ('small_business', 0.015, 0.030, 14.0, 5.0, 0.12, 0.60,  70.0, 0.55),
    ('enterprise',     0.007, 0.045,  6.0, 7.0, 0.25, 0.45, 180.0, 0.40),
    ('public_sector',  0.005, 0.025, 30.0, 9.0, 0.18, 0.50, 120.0, 0.65);

-- The data is as of 2026-11-01: a response or resolution not due by then is still pending.
UPDATE customers c SET churned_at = '2026-05-01'::timestamptz
                                    + pg_temp.draw(14, c.id) * ('2026-11-01'::timestamptz - '2026-05-01')
FROM complaint_profile p
WHERE p.segment = c.segment AND pg_temp.draw(13, c.id) < p.churn_p * 6;

CREATE TEMP TABLE complaint_draws AS
SELECT cm.cm, cm.customer_id, cm.trend,
       cm.month + pg_temp.draw(17, cm.cm) * (cm.month + interval '1 month' - cm.month) AS opened_at,
       p.response_hours * (0.1 + 2 * pg_temp.draw(18, cm.cm) ^ 2) * cm.trend * interval '1 hour' AS response,
       p.resolution_days * (0.2 + 1.8 * pg_temp.draw(19, cm.cm)) * cm.trend * interval '1 day' AS resolution,
       pg_temp.draw(20, cm.cm) < 0.02 AS never_resolved,
       pg_temp.draw(21, cm.cm) < cm.escalation_p * 1.5 * cm.trend AS escalated,
       pg_temp.draw(22, cm.cm) < p.cross_p AS cross_functional,
       pg_temp.draw(23, cm.cm) < p.fcr_p AS first_contact,
       p.cost_base * (0.5 + pg_temp.draw(24, cm.cm)) AS cost
FROM customer_months cm JOIN customers c ON c.id = cm.customer_id JOIN complaint_profile p USING (segment)
WHERE pg_temp.draw(16, cm.cm) < p.complaint_p * cm.trend;

INSERT INTO complaints (id, customer_id, opened_at, first_response_at, resolved_at, escalated, cross_functional,
                        resolved_at_first_contact, resolution_cost)
SELECT row_number() OVER (ORDER BY cm), customer_id, opened_at,
       CASE WHEN opened_at + response < '2026-11-01' THEN opened_at + response END,
       resolved_at, escalated, cross_functional,
       resolved_at IS NOT NULL AND first_contact AND NOT escalated AND NOT cross_functional,
       CASE WHEN resolved_at IS NOT NULL
            THEN round((cost * (1 + 1.5 * escalated::int + cross_functional::int))::numeric, 2) END
FROM (SELECT *, CASE WHEN NOT never_resolved
                      AND opened_at + resolution * (1 + 0.8 * escalated::int) < '2026-11-01'
                     THEN opened_at + resolution * (1 + 0.8 * escalated::int) END AS resolved_at
      FROM complaint_draws) d;

INSERT INTO survey_answers (id, customer_id, answered_at, survey, score)
SELECT row_number() OVER (ORDER BY cm.cm, s.k), cm.customer_id,
       cm.month + pg_temp.draw(25, cm.cm * 10 + s.k) * (cm.month + interval '1 month' - cm.month),
       s.survey,
       least(s.hi, s.lo + floor((s.hi - s.lo + 1) * pg_temp.draw(26, cm.cm * 10 + s.k) ^ (p.effort * cm.trend)))::int
FROM customer_months cm JOIN customers c ON c.id = cm.customer_id JOIN complaint_profile p USING (segment)
CROSS JOIN (VALUES (1, 'nps', 0, 10), (2, 'csat', 1, 5), (3, 'ces', 1, 7)) s(k, survey, lo, hi)
WHERE pg_temp.draw(27, cm.cm * 10 + s.k) < 0.08;

-- The support desk's business hours (New York): weekdays 08:00-18:00, Saturday 10:00-14:00,
-- closed on US federal holidays. demo/business_hours_report.sql measures complaints with it.
INSERT INTO kpi_schedule VALUES ('support_desk', 'America/New_York');
INSERT INTO kpi_schedule_hours
SELECT 'support_desk', d, time '08:00', time '18:00' FROM generate_series(1, 5) d
UNION ALL SELECT 'support_desk', 6, '10:00', '14:00';
INSERT INTO kpi_holiday VALUES
    ('support_desk', '2026-05-25', 'Memorial Day'), ('support_desk', '2026-06-19', 'Juneteenth'),
    ('support_desk', '2026-07-03', 'Independence Day (observed)'), ('support_desk', '2026-09-07', 'Labor Day'),
    ('support_desk', '2026-10-12', 'Columbus Day'), ('support_desk', '2026-11-11', 'Veterans Day');

-- SLAs: the desk's policy (urgent tickets in calendar time, the rest in its business hours)
-- and each ticket's events: opened by the customer (priority by kind: incidents high,
-- questions normal, requests low; escalated tickets raised to urgent before the first reply),
-- the agent's reply (then pending), in 45% of tickets a second exchange, then solved. As of
-- 2026-11-01, like the complaints: later events have not happened yet.
INSERT INTO kpi_sla_policy (policy, metric, priority, target, schedule) VALUES
    ('support_desk', 'first_reply_time', 'urgent', '1 hour', NULL),
    ('support_desk', 'first_reply_time', 'high', '4 hours', 'support_desk'),
    ('support_desk', 'first_reply_time', 'normal', '8 hours', 'support_desk'),
    ('support_desk', 'first_reply_time', 'low', '16 hours', 'support_desk'),
    ('support_desk', 'next_reply_time', 'urgent', '2 hours', NULL),
    ('support_desk', 'next_reply_time', 'high', '4 hours', 'support_desk'),
    ('support_desk', 'next_reply_time', 'normal', '8 hours', 'support_desk'),
    ('support_desk', 'next_reply_time', 'low', '16 hours', 'support_desk'),
    ('support_desk', 'requester_wait_time', 'urgent', '8 hours', NULL),
    ('support_desk', 'requester_wait_time', 'high', '16 hours', 'support_desk'),
    ('support_desk', 'requester_wait_time', 'normal', '24 hours', 'support_desk'),
    ('support_desk', 'requester_wait_time', 'low', '40 hours', 'support_desk');

INSERT INTO ticket_events (ticket_id, kind, value, at)
SELECT t.id, e.kind, e.value, t.opened_at + e.after
FROM (SELECT id, opened_at, escalated,
             CASE kind WHEN 'incident' THEN 'high' WHEN 'question' THEN 'normal' ELSE 'low' END AS priority,
             interval '1 hour' * (0.05 + 30 * pg_temp.draw(30, id) ^ 3) AS reply,
             interval '1 hour' * (0.1 + 48 * pg_temp.draw(31, id)) AS answer,
             interval '1 hour' * (0.05 + 20 * pg_temp.draw(32, id) ^ 2) AS reply2,
             pg_temp.draw(33, id) < 0.45 AS exchange
      FROM tickets) t
CROSS JOIN LATERAL (
    VALUES ('status', 'new', interval '0', true), ('priority', t.priority, interval '0', true),
           ('message', 'customer', interval '0', true),
           ('priority', 'urgent', t.reply / 2, coalesce(t.escalated, false)),
           ('message', 'agent', t.reply, true), ('status', 'pending', t.reply, true),
           ('message', 'customer', t.reply + t.answer, t.exchange), ('status', 'open', t.reply + t.answer, t.exchange),
           ('message', 'agent', t.reply + t.answer + t.reply2, t.exchange),
           ('status', 'solved', t.reply + t.answer + CASE WHEN t.exchange THEN t.reply2 ELSE interval '0' END, true)
) e(kind, value, after, happens)
WHERE e.happens AND t.opened_at + e.after < '2026-11-01';

ANALYZE customers, tickets, contacts, interactions, complaints, survey_answers, ticket_events;

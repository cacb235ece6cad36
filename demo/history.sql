-- The demo's KPI history: what to track (kpi_tracked), recorded for the demo months with
-- kpi_record_range, as a pg_cron job would record it month by month:
--   SELECT cron.schedule('kpi-history', '5 0 * * *', 'CALL kpi_record_due()');
-- demo/chart.py then draws it from kpi_recorded_bi.

-- The per-customer rates count every customer of a month, with or without events: one row per
-- customer and month, with that month's events (customers LEFT JOIN events).
CREATE VIEW monthly_incidents AS
SELECT m.month, c.id AS customer_id, c.segment, t.id AS ticket_id
FROM generate_series('2026-05-01'::timestamptz, '2026-10-01', interval '1 month') m(month)
CROSS JOIN customers c
LEFT JOIN tickets t ON t.customer_id = c.id AND t.kind = 'incident'
                   AND t.opened_at >= m.month AND t.opened_at < m.month + interval '1 month';
CREATE VIEW monthly_contacts AS
SELECT m.month, c.id AS customer_id, c.segment, k.id AS contact_id
FROM generate_series('2026-05-01'::timestamptz, '2026-10-01', interval '1 month') m(month)
CROSS JOIN customers c
LEFT JOIN contacts k ON k.customer_id = c.id AND k.contacted_at >= m.month AND k.contacted_at < m.month + interval '1 month';
CREATE VIEW monthly_interactions AS
SELECT m.month, c.id AS customer_id, c.segment, i.id AS interaction_id
FROM generate_series('2026-05-01'::timestamptz, '2026-10-01', interval '1 month') m(month)
CROSS JOIN customers c
LEFT JOIN interactions i ON i.customer_id = c.id AND i.occurred_at >= m.month AND i.occurred_at < m.month + interval '1 month';
CREATE VIEW tickets_by_segment AS
SELECT t.*, c.segment FROM tickets t JOIN customers c ON c.id = t.customer_id;
CREATE VIEW survey_answers_by_segment AS
SELECT a.*, c.segment FROM survey_answers a JOIN customers c ON c.id = a.customer_id;

INSERT INTO kpi_tracked (tracking, kpi, source, time_column, summary, period, dimensions) VALUES
    ('demo_monthly', 'incident_rate', 'public.monthly_incidents', 'month',
     'incident_summary(customer_id, ticket_id)', 'month', '{segment}'),
    ('demo_monthly', 'contact_rate', 'public.monthly_contacts', 'month',
     'contact_summary(customer_id, contact_id)', 'month', '{segment}'),
    ('demo_monthly', 'interaction_rate', 'public.monthly_interactions', 'month',
     'interaction_summary(customer_id, interaction_id)', 'month', '{segment}'),
    ('demo_monthly', 'escalation_rate', 'public.tickets_by_segment', 'opened_at',
     'escalation_summary(escalated)', 'month', '{segment,channel}'),
    ('demo_monthly', 'csat', 'public.survey_answers_by_segment', 'answered_at',
     'csat_summary(score) FILTER (WHERE survey = ''csat'')', 'month', '{segment}');

CALL kpi_record_range('demo_monthly', '2026-05-01', '2026-11-01');

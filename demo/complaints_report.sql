-- The complaint-handling dashboard per month and segment (ISO 10002 set, surveys, churn),
-- written with support_kpi's functions alone. Times are averages over the cases that have
-- both ends; "awaiting" counts the complaints still without a first response.

WITH months AS (
    SELECT generate_series('2026-05-01'::timestamptz, '2026-10-01', interval '1 month') AS month
),
handling AS (
    SELECT date_trunc('month', k.opened_at) AS month, c.segment,
           count(*) AS complaints,
           first_response_summary(k.opened_at, k.first_response_at) AS first_response,
           complaint_resolution_rate(k.resolved_at IS NOT NULL) AS resolved,
           complaint_resolution_efficiency(k.opened_at, k.resolved_at, interval '5 days') AS within_5_days,
           complaint_escalation_rate(k.escalated) AS escalated,
           cross_functional_resolution_rate(k.cross_functional) AS cross_functional,
           first_contact_resolution_rate(k.resolved_at_first_contact) AS first_contact,
           complaint_resolution_cost(k.resolution_cost, k.resolved_at IS NOT NULL) AS cost
    FROM complaints k JOIN customers c ON c.id = k.customer_id
    GROUP BY 1, 2
),
surveys AS (
    SELECT date_trunc('month', a.answered_at) AS month, c.segment,
           csat(a.score) FILTER (WHERE a.survey = 'csat') AS csat,
           nps(a.score) FILTER (WHERE a.survey = 'nps') AS nps,
           ces(a.score) FILTER (WHERE a.survey = 'ces') AS ces
    FROM survey_answers a JOIN customers c ON c.id = a.customer_id
    GROUP BY 1, 2
),
churn AS (
    SELECT m.month, c.segment, churn_rate(c.signed_up, c.churned_at, m.month, m.month + interval '1 month') AS churn
    FROM months m CROSS JOIN customers c
    GROUP BY 1, 2
)
SELECT to_char(h.month, 'YYYY-MM') AS month,
       h.segment,
       h.complaints,
       date_trunc('minute', avg_first_response_time(h.first_response)) AS "first response",
       pending_count(h.first_response) AS awaiting,
       round(h.resolved, 1) AS "resolved %",
       round(h.within_5_days, 1) AS "in 5 days %",
       round(h.escalated, 1) AS "escalated %",
       kpi_band('complaint_escalation_rate', h.escalated) AS escalation_band,
       round(h.cross_functional, 1) AS "cross-dept %",
       round(h.first_contact, 1) AS "FCR %",
       round(h.cost, 2) AS "cost/resolved",
       round(s.csat, 1) AS "CSAT %",
       round(s.nps, 1) AS "NPS",
       round(s.ces, 2) AS "CES",
       round(ch.churn, 2) AS "churn %"
FROM handling h
JOIN surveys s USING (month, segment)
JOIN churn ch USING (month, segment)
ORDER BY 1, 2;

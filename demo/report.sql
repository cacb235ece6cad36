-- The monthly KPI report per segment, with bands: what an analyst schedules at month end.
-- Every customer of a segment is in the denominator of its per-customer rates, whether or
-- not they had an incident, contact or interaction that month (customers LEFT JOIN events).

WITH months AS (
    SELECT generate_series('2026-05-01'::timestamptz, '2026-10-01', interval '1 month') AS month
),
incidents AS (
    SELECT m.month, c.segment, incident_rate(c.id, t.id) AS rate
    FROM months m CROSS JOIN customers c
    LEFT JOIN tickets t ON t.customer_id = c.id AND t.kind = 'incident'
                       AND t.opened_at >= m.month AND t.opened_at < m.month + interval '1 month'
    GROUP BY 1, 2
),
contacted AS (
    SELECT m.month, c.segment, contact_rate(c.id, k.id) AS rate
    FROM months m CROSS JOIN customers c
    LEFT JOIN contacts k ON k.customer_id = c.id
                        AND k.contacted_at >= m.month AND k.contacted_at < m.month + interval '1 month'
    GROUP BY 1, 2
),
interacted AS (
    SELECT m.month, c.segment, interaction_rate(c.id, i.id) AS rate
    FROM months m CROSS JOIN customers c
    LEFT JOIN interactions i ON i.customer_id = c.id
                            AND i.occurred_at >= m.month AND i.occurred_at < m.month + interval '1 month'
    GROUP BY 1, 2
),
escalations AS (
    SELECT date_trunc('month', t.opened_at) AS month, c.segment, escalation_rate(t.escalated) AS rate
    FROM tickets t JOIN customers c ON c.id = t.customer_id
    GROUP BY 1, 2
)
SELECT to_char(i.month, 'YYYY-MM') AS month,
       i.segment,
       round(i.rate, 2) AS "incidents/1000", kpi_band('incident_rate', i.rate) AS incident_band,
       round(k.rate, 2) AS "contact %",      kpi_band('contact_rate', k.rate) AS contact_band,
       round(e.rate, 2) AS "escalation %",   kpi_band('escalation_rate', e.rate) AS escalation_band,
       round(x.rate, 2) AS "interaction %",  kpi_band('interaction_rate', x.rate) AS interaction_band
FROM incidents i
JOIN contacted k USING (month, segment)
JOIN interacted x USING (month, segment)
LEFT JOIN escalations e USING (month, segment)
ORDER BY 1, 2;

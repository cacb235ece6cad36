-- SLAs of the support desk (policy 'support_desk' of kpi_sla_policy, generate.sql) as of
-- 2026-11-01, per month the ticket was opened and metric: the SLAs decided and the share
-- achieved with its 95% interval, those still running, and the median time to a next reply
-- in hours. Then the queue of tickets about to breach, soonest first.

WITH slas AS (
    SELECT t.opened_at, s.*
    FROM (SELECT ticket_id, ticket_timeline(kind, value, at) AS timeline FROM ticket_events GROUP BY ticket_id) e
    JOIN tickets t ON t.id = e.ticket_id
    CROSS JOIN LATERAL sla_instances(e.timeline, 'support_desk', '2026-11-01') s
)
SELECT to_char(date_trunc('month', opened_at), 'YYYY-MM') AS month,
       metric,
       count(achieved) AS decided,
       round(sla_achievement_rate(achieved), 1) AS "achieved %",
       round((sla_achievement_rate_ci(sla_achievement_summary(achieved))).lower, 1) AS "95% from",
       round((sla_achievement_rate_ci(sla_achievement_summary(achieved))).upper, 1) AS "95% to",
       count(*) FILTER (WHERE status = 'active') AS running,
       round(extract(epoch FROM median_next_reply_time(elapsed)
                                FILTER (WHERE metric = 'next_reply_time' AND fulfilled_at IS NOT NULL)) / 3600, 2)
           AS "median reply h"
FROM slas
GROUP BY 1, 2
ORDER BY 1, 2;

-- The at-risk queue: every active SLA, soonest breach first (paused ones last), top 10.
CREATE TEMP VIEW desk_events AS
SELECT ticket_id, 'support_desk' AS policy, kind, value, at FROM ticket_events;
SELECT ticket_id, metric, priority, date_trunc('minute', breach_at) AS breach_at,
       date_trunc('minute', time_to_breach) AS time_to_breach, date_trunc('minute', elapsed) AS elapsed
FROM kpi_sla_at_risk('desk_events', '2026-11-01')
LIMIT 10;

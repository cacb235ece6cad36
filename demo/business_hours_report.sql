-- Complaint handling in business hours (the support_desk schedule: New York, weekdays
-- 08:00-18:00, Saturday 10:00-14:00, US holidays off) beside calendar time, per month and
-- segment: the calendar means most dashboards show, and the medians and 90th percentile in
-- hours the desk was open, which say what a typical complaint waited. Business medians are
-- within 1% (duration sketches); "in 20 business h %" is the share of complaints resolved
-- within 20 open hours (two working days), open complaints counting as not in time.

SELECT to_char(date_trunc('month', k.opened_at), 'YYYY-MM') AS month,
       c.segment,
       count(*) AS complaints,
       date_trunc('minute', avg_first_response_time(k.opened_at, k.first_response_at)) AS "reply mean",
       round(extract(epoch FROM median_first_response_time(k.opened_at, k.first_response_at, 'support_desk'))
             / 3600, 1) AS "reply median, business h",
       date_trunc('minute', avg_resolution_time(k.opened_at, k.resolved_at)) AS "resolution mean",
       round(extract(epoch FROM median_resolution_time(k.opened_at, k.resolved_at, 'support_desk')) / 3600, 1)
           AS "resolution median, business h",
       round(extract(epoch FROM percentile(resolution_time_sketch(k.opened_at, k.resolved_at, 'support_desk'), 0.9))
             / 3600, 1) AS "p90, business h",
       round(complaint_resolution_efficiency(k.opened_at, k.resolved_at, interval '20 hours', 'support_desk'), 1)
           AS "in 20 business h %"
FROM complaints k JOIN customers c ON c.id = k.customer_id
GROUP BY 1, 2
ORDER BY 1, 2;

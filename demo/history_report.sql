-- The recorded history of the headline KPIs per segment: value, band, the verdict that knows the
-- sample size, the 95% interval and the change against the previous month.
SELECT to_char(period_start, 'YYYY-MM') AS month, kpi, dimension_value AS segment,
       round(value, 2) AS value, band, verdict, cases,
       round(ci_lower, 2) || ' - ' || round(ci_upper, 2) AS "95% interval", round(change, 2) AS change
FROM kpi_recorded
WHERE tracking = 'demo_monthly' AND dimension = 'segment' AND kpi IN ('incident_rate', 'escalation_rate')
ORDER BY kpi, segment, period_start;

-- Band changes against the previous month (what support_kpi_band_change notifies).
SELECT to_char(period_start, 'YYYY-MM') AS month, kpi, dimension, dimension_value,
       previous_band || ' -> ' || band AS change, verdict, cases
FROM kpi_band_changes WHERE tracking = 'demo_monthly'
ORDER BY period_start, kpi, dimension, dimension_value;

-- churn_rate(active_from, churned_at, period_start, period_end): customers lost in
-- [period_start, period_end) / customers at period_start * 100.
CREATE SCHEMA churn;
SET search_path = churn, public;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
CREATE TABLE customers (id int, active_from timestamptz, churned_at timestamptz);
INSERT INTO customers VALUES
    (1, '2026-01-10', NULL),            -- a customer throughout
    (2, '2026-01-10', '2026-02-14'),    -- lost in February
    (3, '2026-02-05', '2026-02-20'),    -- joined in February: not in February's base
    (4, '2025-12-01', '2026-02-01'),    -- lost at the very start of February: February's churn
    (5, '2025-12-01', '2026-03-01'),    -- lost at the start of March: March's churn
    (6, NULL, NULL),                    -- no start: skipped
    (7, '2026-02-01', NULL);            -- a customer from the first instant of February
-- each churn is counted in exactly one month
SELECT to_char(p, 'YYYY-MM') AS month, churn_rate(active_from, churned_at, p, p + interval '1 month'),
       churn_summary(active_from, churned_at, p, p + interval '1 month')
FROM customers, generate_series('2026-01-01'::timestamptz, '2026-03-01', interval '1 month') p
GROUP BY p ORDER BY p;
-- no customers at the start: NULL
SELECT churn_rate(active_from, churned_at, '2020-01-01', '2020-02-01') FROM customers;
SELECT churn_rate(a, c, '2026-01-01', '2026-02-01') FROM (SELECT NULL::timestamptz, NULL::timestamptz WHERE false) v(a, c);
-- dates work (implicit cast)
SELECT churn_rate(a, c, '2026-01-01'::date, '2026-07-01'::date)
FROM (VALUES ('2025-06-01'::date, '2026-03-15'::date), ('2025-06-01', NULL)) v(a, c);
-- summaries roll up; the rate has a confidence interval
SELECT churn_rate(rollup(s)), churn_rate_ci(rollup(s))
FROM (VALUES ('{"hits":1,"total":40}'::share_summary), ('{"hits":2,"total":60}')) v(s);
-- errors: churned before becoming a customer, NULL or empty period
SELECT churn_rate(a, c, '2026-01-01', '2026-02-01')
FROM (VALUES ('2026-01-10'::timestamptz, '2026-01-09'::timestamptz)) v(a, c);
SELECT churn_rate(active_from, churned_at, NULL, '2026-02-01') FROM customers;
SELECT churn_rate(active_from, churned_at, '2026-02-01', '2026-02-01') FROM customers;
SELECT churn_rate(active_from, churned_at, '2026-02-01', 'infinity') FROM customers;
SELECT kpi, unit, direction FROM kpi_catalog WHERE kpi = 'churn_rate';

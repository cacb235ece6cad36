-- Business hours: schedules, business_time(), the time KPIs with a schedule.
CREATE SCHEMA business_hours;
SET search_path = business_hours, public;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
-- the shipped schedule
SELECT * FROM kpi_schedule ORDER BY 1;
SELECT * FROM kpi_schedule_hours WHERE schedule = '24/7' ORDER BY iso_weekday;
-- an office in Berlin, 9 to 17 on weekdays with a lunch break on Wednesday; Christmas off
INSERT INTO kpi_schedule VALUES ('berlin', 'Europe/Berlin');
INSERT INTO kpi_schedule_hours SELECT 'berlin', d, '09:00', '17:00' FROM generate_series(1, 5) d WHERE d <> 3;
INSERT INTO kpi_schedule_hours VALUES ('berlin', 3, '09:00', '12:00'), ('berlin', 3, '13:00', '17:00');
INSERT INTO kpi_holiday VALUES ('berlin', '2026-12-25', 'Christmas Day');
-- Thursday 09:00-17:00 (8 h), Friday a holiday, Monday 09:00-11:00 local (2 h)
SELECT business_time('2026-12-24 07:00+00', '2026-12-28 10:00+00', 'berlin');
-- Wednesday: 7 hours; NULL in, NULL out; zero-length spans
SELECT business_time('2026-12-23 00:00+00', '2026-12-24 00:00+00', 'berlin'),
       business_time('2026-12-23 00:00+00', NULL, 'berlin'),
       business_time('2026-12-23 12:00+00', '2026-12-23 12:00+00', 'berlin');
-- a night desk in New York, Saturday 22:00 to Sunday 06:00, across both DST changes of 2026
INSERT INTO kpi_schedule VALUES ('ny_nights', 'America/New_York');
INSERT INTO kpi_schedule_hours VALUES ('ny_nights', 6, '22:00', '06:00');
SELECT business_time('2026-03-07 00:00+00', '2026-03-10 00:00+00', 'ny_nights') AS spring_forward,
       business_time('2026-10-31 00:00+00', '2026-11-03 00:00+00', 'ny_nights') AS fall_back,
       business_time('2026-10-10 00:00+00', '2026-10-13 00:00+00', 'ny_nights') AS ordinary;
-- Lord Howe Island moves its clocks by 30 minutes (2026-04-05 and 2026-10-04)
INSERT INTO kpi_schedule VALUES ('lord_howe', 'Australia/Lord_Howe');
INSERT INTO kpi_schedule_hours VALUES ('lord_howe', 7, '00:00', '06:00');
SELECT business_time('2026-04-03', '2026-04-07', 'lord_howe') AS autumn,
       business_time('2026-10-02', '2026-10-06', 'lord_howe') AS spring;
-- the time KPIs with a schedule
CREATE TABLE tickets (id int, opened_at timestamptz, first_response_at timestamptz, resolved_at timestamptz);
INSERT INTO tickets VALUES
    (1, '2026-12-21 08:00+00', '2026-12-21 08:30+00', '2026-12-22 08:00+00'),
    (2, '2026-12-23 15:30+00', '2026-12-28 08:15+00', '2026-12-29 09:00+00'),
    (3, '2026-12-24 20:00+00', NULL, NULL),
    (4, '2026-12-26 10:00+00', '2026-12-26 11:00+00', '2026-12-28 09:00+00');
SELECT avg_first_response_time(opened_at, first_response_at, 'berlin') AS business,
       avg_first_response_time(opened_at, first_response_at) AS calendar,
       median_first_response_time(opened_at, first_response_at, 'berlin') AS business_median,
       avg_resolution_time(opened_at, resolved_at, 'berlin') AS resolution,
       pending_count(resolution_time_summary(opened_at, resolved_at, 'berlin')) AS open,
       sla_compliance_rate(opened_at, resolved_at, interval '8 hours', 'berlin') AS within_8_business_hours,
       complaint_resolution_efficiency(opened_at, resolved_at, interval '1 day', 'berlin') AS within_24_business_hours
FROM tickets;
SELECT id, business_time(opened_at, first_response_at, 'berlin'), business_time(opened_at, resolved_at, 'berlin')
FROM tickets ORDER BY id;
-- timestamps without time zone are read in the session's TimeZone
SELECT avg_handling_time(o, e, 'berlin') FROM (VALUES (timestamp '2026-12-21 08:00', timestamp '2026-12-21 09:00')) v(o, e);
-- hours that change at a date: an overnight Friday shift 22:00-02:00 until Friday 4
-- December 2026 (its part after midnight counts with the day it starts on), then 20:00-24:00;
-- Mondays 09:00-10:00 always; a holiday of three days, Monday 7 to Wednesday 9 December.
INSERT INTO kpi_schedule VALUES ('nights', 'Europe/Berlin');
INSERT INTO kpi_schedule_hours (schedule, iso_weekday, starts, ends, valid_until) VALUES ('nights', 5, '22:00', '02:00', '2026-12-05');
INSERT INTO kpi_schedule_hours (schedule, iso_weekday, starts, ends, valid_from) VALUES ('nights', 5, '20:00', '00:00', '2026-12-05');
INSERT INTO kpi_schedule_hours (schedule, iso_weekday, starts, ends) VALUES ('nights', 1, '09:00', '10:00');
INSERT INTO kpi_holiday (schedule, day, name, last_day) VALUES ('nights', '2026-12-07', 'closed', '2026-12-09');
-- 27 Nov to 10 Dec 00:00 (Berlin, UTC+1): the night shifts of 27 Nov and 4 Dec, 4 hours
-- each, and Monday 30 Nov, 1 hour; 7 Dec is in the holiday. By hand: 9 hours.
SELECT business_time('2026-11-27 00:00+01', '2026-12-10 00:00+01', 'nights');
-- Friday 11 December: the new 20:00-24:00 shift, and Monday 14 December 09:00-10:00. By
-- hand: 5 hours.
SELECT business_time('2026-12-10 00:00+01', '2026-12-15 00:00+01', 'nights');
-- a row valid on no day, a holiday that ends before it starts
INSERT INTO kpi_schedule_hours VALUES ('nights', 2, '09:00', '10:00', '2026-12-01', '2026-12-01');
INSERT INTO kpi_holiday VALUES ('nights', '2026-12-24', 'backwards', '2026-12-23');
-- errors
SELECT business_time('2026-12-24', '2026-12-23', 'berlin');
SELECT business_time('2026-12-24', 'infinity', 'berlin');
SELECT business_time('2026-12-24', '2026-12-25', 'paris');
SELECT avg_first_response_time(opened_at, first_response_at, NULL::text) FROM tickets;
INSERT INTO kpi_schedule VALUES ('mars', 'Mars/Olympus_Mons');
INSERT INTO kpi_schedule VALUES ('overlap', 'UTC'), ('empty', 'UTC');
INSERT INTO kpi_schedule_hours VALUES ('overlap', 5, '20:00', '02:00'), ('overlap', 6, '01:00', '03:00');
SELECT business_time('2026-12-24', '2026-12-25', 'overlap');
SELECT business_time('2026-12-24', '2026-12-25', 'empty');
INSERT INTO kpi_schedule_hours VALUES ('empty', 8, '09:00', '17:00');
SELECT business_time('1990-01-01', '2150-01-01', '24/7');
DELETE FROM kpi_schedule WHERE schedule <> '24/7';
RESET search_path;
DROP SCHEMA business_hours CASCADE;

-- SLA policies: one worked example per metric, each breach instant checked by hand in the
-- comments (docs/sla-policies.md gives the rules).
CREATE SCHEMA sla;
SET search_path = sla, public;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
-- Berlin office hours, Monday to Friday 09:00-17:00 (CET until 29 March 2026, then CEST)
INSERT INTO kpi_schedule VALUES ('berlin office', 'Europe/Berlin');
INSERT INTO kpi_schedule_hours SELECT 'berlin office', d, '09:00', '17:00' FROM generate_series(1, 5) d;
INSERT INTO kpi_schedule VALUES ('new york office', 'America/New_York');
INSERT INTO kpi_schedule_hours SELECT 'new york office', d, '09:00', '17:00' FROM generate_series(1, 5) d;
INSERT INTO kpi_sla_policy (policy, metric, priority, target, schedule) VALUES
    ('first reply',  'first_reply_time',    'normal', '8 hours',  'berlin office'),
    ('replies',      'next_reply_time',     'normal', '4 hours',  NULL),
    ('replies',      'next_reply_time',     'urgent', '1 hour',   NULL),
    ('updates',      'periodic_update',     'normal', '1 day',    NULL),
    ('waits',        'requester_wait_time', 'normal', '16 hours', 'berlin office'),
    ('waits',        'agent_work_time',     'normal', '8 hours',  'berlin office');
CREATE TABLE events (ticket int, policy text, kind text, value text, at timestamptz);
-- rows in any order
INSERT INTO events VALUES
    -- 1: first reply in business hours across a weekend and the DST change
    (1, 'first reply', 'message',  'agent',    '2026-03-30 12:00+02'),
    (1, 'first reply', 'status',   'new',      '2026-03-27 16:00+01'),
    (1, 'first reply', 'priority', 'normal',   '2026-03-27 16:00+01'),
    (1, 'first reply', 'message',  'customer', '2026-03-27 16:00+01'),
    -- 2: three reply cycles, a priority raised to urgent during the first
    (2, 'replies', 'status',   'new',      '2026-03-02 09:00+00'),
    (2, 'replies', 'priority', 'normal',   '2026-03-02 09:00+00'),
    (2, 'replies', 'message',  'customer', '2026-03-02 09:00+00'),
    (2, 'replies', 'message',  'agent',    '2026-03-02 09:30+00'),
    (2, 'replies', 'message',  'customer', '2026-03-02 10:00+00'),
    (2, 'replies', 'message',  'customer', '2026-03-02 10:20+00'),
    (2, 'replies', 'priority', 'urgent',   '2026-03-02 11:30+00'),
    (2, 'replies', 'message',  'agent',    '2026-03-02 12:00+00'),
    (2, 'replies', 'message',  'customer', '2026-03-02 13:00+00'),
    (2, 'replies', 'message',  'agent',    '2026-03-02 14:00+00'),
    (2, 'replies', 'message',  'customer', '2026-03-02 15:00+00'),
    -- 3: periodic updates, the last reply sent with the solve
    (3, 'updates', 'status',   'new',      '2026-03-03 08:00+00'),
    (3, 'updates', 'priority', 'normal',   '2026-03-03 08:00+00'),
    (3, 'updates', 'message',  'customer', '2026-03-03 08:00+00'),
    (3, 'updates', 'message',  'agent',    '2026-03-03 09:00+00'),
    (3, 'updates', 'message',  'agent',    '2026-03-04 08:00+00'),
    (3, 'updates', 'message',  'agent',    '2026-03-05 10:00+00'),
    (3, 'updates', 'status',   'solved',   '2026-03-05 10:00+00'),
    -- 4: requester wait and agent work time through pending and on-hold
    (4, 'waits', 'status',   'new',     '2026-03-09 10:00+01'),
    (4, 'waits', 'priority', 'normal',  '2026-03-09 10:00+01'),
    (4, 'waits', 'status',   'open',    '2026-03-09 12:00+01'),
    (4, 'waits', 'status',   'pending', '2026-03-09 14:00+01'),
    (4, 'waits', 'status',   'open',    '2026-03-10 10:00+01'),
    (4, 'waits', 'status',   'hold',    '2026-03-10 15:00+01'),
    (4, 'waits', 'status',   'open',    '2026-03-11 11:00+01'),
    (4, 'waits', 'status',   'solved',  '2026-03-11 13:00+01'),
    -- 5: still open, pending
    (5, 'waits', 'status',   'new',     '2026-03-12 09:00+01'),
    (5, 'waits', 'priority', 'normal',  '2026-03-12 09:00+01'),
    (5, 'waits', 'status',   'pending', '2026-03-12 10:00+01'),
    -- 6: handed from the Berlin desk to the New York desk an hour after it was opened
    (6, 'first reply', 'status',   'new',             '2026-03-02 15:00+01'),
    (6, 'first reply', 'priority', 'normal',          '2026-03-02 15:00+01'),
    (6, 'first reply', 'message',  'customer',        '2026-03-02 15:00+01'),
    (6, 'first reply', 'schedule', 'new york office', '2026-03-02 16:00+01'),
    (6, 'first reply', 'message',  'agent',           '2026-03-03 10:00-05');
CREATE VIEW slas AS
SELECT t.ticket, s.*
FROM (SELECT ticket, policy, ticket_timeline(kind, value, at) AS timeline FROM events GROUP BY ticket, policy) t
CROSS JOIN LATERAL sla_instances(t.timeline, t.policy, '2026-03-02 15:45+00') s
WHERE t.ticket = 2
UNION ALL
SELECT t.ticket, s.*
FROM (SELECT ticket, policy, ticket_timeline(kind, value, at) AS timeline FROM events GROUP BY ticket, policy) t
CROSS JOIN LATERAL sla_instances(t.timeline, t.policy, '2026-04-30 00:00+00') s
WHERE t.ticket <> 2;
-- 1. first_reply_time, 8 business hours from Friday 16:00 CET: Friday 16-17 and Monday 9-12 (CEST)
--    make 4 hours by the reply at 12:00 CEST (10:00 UTC): achieved. 8 hours would have been
--    reached Monday 16:00 CEST (14:00 UTC).
-- 2. next_reply_time: cycle 1 starts at the customer's 10:00 message (the one at 10:20 waits with
--    it); at 11:30 the priority becomes urgent (1 hour) with 1h30 elapsed: breached at 11:30.
--    Cycle 2, 13:00-14:00 under urgent: exactly 1 hour, achieved. Cycle 3 from 15:00, as of
--    15:45: active, 45 minutes elapsed, breaches at 16:00.
-- 3. periodic_update, 1 day: 09:00 to Wednesday 08:00 is 23 hours, achieved (deadline Wednesday
--    09:00); Wednesday 08:00 to Thursday 10:00 is 26 hours, breached Thursday 08:00. The update
--    sent with the solve starts no cycle.
-- 4. requester_wait_time counts new, open and hold: Monday 10-14, Tuesday 10-17, Wednesday 9-13
--    (CET) = 4 + 7 + 4 = 15 of 16 hours by the solve: achieved; the 16th would have ended
--    Wednesday 14:00 CET (13:00 UTC). agent_work_time counts new and open: Monday 10-14 and
--    Tuesday 10-15, Wednesday 11-13 = 11 hours; its 8 hours were up Tuesday 14:00 CET (13:00 UTC).
-- 5. pending since 10:00: both wait metrics paused at 1 hour, no breach instant.
-- 6. first_reply_time, 8 business hours: Berlin's hours from 15:00 to 16:00 CET (1 hour), then
--    New York's from 10:00 EST (16:00 CET) to 17:00 EST (7 hours): used up Monday at 17:00 EST,
--    so breached when New York opens again, Tuesday 09:00 EST (14:00 UTC); the reply at 10:00
--    EST comes after 9 hours.
SELECT ticket, metric, cycle, priority, target, schedule, applied_at, fulfilled_at, breach_at, elapsed, status,
       achieved, paused
FROM slas ORDER BY ticket, metric, cycle;
-- the achievement rate per policy and metric (active SLAs left out), with its interval
SELECT policy, metric, sla_achievement_rate(achieved) AS rate, sla_achievement_rate_ci(sla_achievement_summary(achieved)) AS ci
FROM (SELECT e.policy, s.metric, s.achieved
      FROM (SELECT ticket, policy, ticket_timeline(kind, value, at) AS timeline FROM events GROUP BY ticket, policy) e
      CROSS JOIN LATERAL sla_instances(e.timeline, e.policy, '2026-04-30 00:00+00') s) x
GROUP BY policy, metric ORDER BY policy, metric;
-- the at-risk queue on Monday 2 March at 15:45: ticket 2's third cycle breaches at 16:00,
-- ticket 6's first reply (1 hour 45 so far) when New York opens on Tuesday
CREATE VIEW ticket_events AS SELECT ticket AS ticket_id, policy, kind, value, at FROM events;
SELECT * FROM kpi_sla_at_risk('ticket_events', '2026-03-02 15:45+00');
-- as of Thursday 12 March 12:00: ticket 5 waits (paused), ticket 4 is done
SELECT ticket_id, metric, breach_at, time_to_breach, elapsed, paused
FROM kpi_sla_at_risk('ticket_events', '2026-03-12 12:00+01');
-- ticket 6 outside the SLAs (business_time and time_in_status over its timeline), to Tuesday
-- 12:00 EST: from Monday 07:00 CET in the Berlin office's hours until the move at 16:00 CET
-- (09:00-16:00, 7 hours), then New York's (Monday 10:00-17:00 EST and Tuesday 09:00-12:00 EST,
-- 10 hours) = 17 hours; the Berlin office's alone: Monday and Tuesday 9-17 = 16 hours; calendar
-- time until the move (9 hours), then New York's = 19 hours. It was new from Monday 15:00 CET:
-- 1 hour in Berlin and 10 in New York = 11 hours; as known at 15:30 CET: 30 minutes; before it
-- was created: NULL.
SELECT business_time('2026-03-02 07:00+01', '2026-03-03 12:00-05', 'berlin office', timeline) AS moved,
       business_time('2026-03-02 07:00+01', '2026-03-03 12:00-05', 'berlin office') AS berlin_only,
       business_time('2026-03-02 07:00+01', '2026-03-03 12:00-05', NULL, timeline) AS calendar_then_new_york,
       time_in_status(timeline, '{new}', '2026-03-03 12:00-05', 'berlin office') AS new,
       time_in_status(timeline, '{new}', '2026-03-02 15:30+01', 'berlin office') AS new_at_15_30,
       time_in_status(timeline, '{new}', '2026-03-02 14:00+01', 'berlin office') AS before_creation
FROM (SELECT ticket_timeline(kind, value, at) AS timeline FROM events WHERE ticket = 6) t;
-- the state: one ticket's events, as text
SELECT ticket_timeline(kind, value, at) FROM events WHERE ticket = 3;
-- bad input is an error that names the row
SELECT ticket_timeline(kind, value, at) FROM (VALUES ('message', NULL, timestamptz '2026-03-02 09:00+00')) e(kind, value, at);
SELECT * FROM sla_instances((SELECT ticket_timeline(kind, value, at) FROM (VALUES
    ('status', 'new', timestamptz '2026-03-02 09:00+00'), ('message', 'customer', '2026-03-02 08:00+00')) e(kind, value, at)),
    'replies');
INSERT INTO kpi_sla_policy VALUES ('replies', 'resolution_time', 'normal', '1 day', NULL);
INSERT INTO kpi_sla_policy VALUES ('replies', 'next_reply_time', 'low', '0', NULL);
INSERT INTO kpi_sla_policy VALUES ('replies', 'next_reply_time', 'normal', '2 hours', NULL);
SELECT * FROM sla_instances(NULL, 'no such policy');
SELECT * FROM sla_instances('{"events": []}', 'no such policy');
DROP SCHEMA sla CASCADE;
DELETE FROM kpi_sla_policy;
DELETE FROM kpi_schedule WHERE schedule IN ('berlin office', 'new york office');

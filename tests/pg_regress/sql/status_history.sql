-- Time in status and reopens from a ticket's status history.
CREATE SCHEMA status_history;
SET search_path = status_history, public;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
CREATE TABLE audits (ticket int, status text, changed_at timestamptz, solved_at timestamptz);
-- rows in any order
INSERT INTO audits VALUES
    (1, 'pending', '2026-05-04 12:00', '2026-05-06 09:00'),
    (1, 'new',     '2026-05-04 08:00', '2026-05-06 09:00'),
    (1, 'solved',  '2026-05-05 10:00', '2026-05-06 09:00'),
    (1, 'open',    '2026-05-04 09:30', '2026-05-06 09:00'),
    (1, 'open',    '2026-05-05 16:00', '2026-05-06 09:00'),
    (1, 'solved',  '2026-05-06 09:00', '2026-05-06 09:00'),
    (2, 'new',     '2026-05-04 10:00', NULL),
    (2, 'hold',    '2026-05-04 11:00', NULL),
    (3, NULL,      '2026-05-04 10:00', NULL);
-- requester wait (new, open, hold), agent wait (pending), on hold; reopens
SELECT ticket,
       time_in_status(status, changed_at, ARRAY['new', 'open', 'hold'], solved_at) AS requester_wait,
       time_in_status(status, changed_at, ARRAY['pending'], solved_at) AS agent_wait,
       time_in_status(status, changed_at, ARRAY['hold'], solved_at) AS on_hold,
       time_in_status(status, changed_at, ARRAY['new', 'open', 'hold']) AS without_until,
       reopen_count(status, changed_at, ARRAY['solved', 'closed']) AS reopens
FROM audits GROUP BY ticket ORDER BY ticket;
-- the same as lead() over the ordered changes
SELECT ticket, sum(coalesce(next_at, solved_at, changed_at) - changed_at) FILTER (WHERE status IN ('new', 'open', 'hold'))
FROM (SELECT *, lead(changed_at) OVER (PARTITION BY ticket ORDER BY changed_at) AS next_at FROM audits
      WHERE status IS NOT NULL) o
GROUP BY ticket ORDER BY ticket;
-- in business hours, with a schedule
INSERT INTO kpi_schedule VALUES ('office', 'Europe/Berlin');
INSERT INTO kpi_schedule_hours SELECT 'office', d, time '09:00', time '17:00' FROM generate_series(1, 5) d;
SELECT ticket, time_in_status(status, changed_at, ARRAY['new', 'open', 'hold'], solved_at, 'office') AS business_requester_wait
FROM audits WHERE ticket = 1 GROUP BY ticket;
-- the reopen rate over tickets
SELECT reopen_rate(n > 0), kpi_band('reopen_rate', reopen_rate(n > 0))
FROM (SELECT reopen_count(status, changed_at, ARRAY['solved']) n FROM audits GROUP BY ticket) t;
-- the state
SELECT time_in_status_trans(NULL, 'open', '2026-01-01 10:00', ARRAY['open', 'new'], '2026-01-02');
-- errors
SELECT time_in_status(status, changed_at, NULL::text[]) FROM audits;
SELECT time_in_status(status, changed_at, ARRAY['open'], u)
FROM (VALUES ('open', timestamptz '2026-05-04', timestamptz '2026-05-05'), ('new', '2026-05-04', '2026-05-06')) v(status, changed_at, u);
SELECT time_in_status(status, changed_at, ARRAY['open'], timestamptz '2026-05-01') FROM audits WHERE ticket = 1;
DELETE FROM kpi_schedule WHERE schedule = 'office';
RESET search_path;
DROP SCHEMA status_history CASCADE;

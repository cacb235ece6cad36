-- Time in status and reopens, from one ticket's status history: aggregates over a ticket's
-- status changes (rows in any order), grouped by ticket. Support functions:
-- src/status_history.rs. Math: crates/kpi_core/src/status_history.rs.
--
--   time_in_status(status, changed_at, statuses text[] [, until timestamptz [, schedule text]])
--       -> interval: how long the ticket was in any of the statuses; each status lasts until
--          the next change, the last one until `until` (NULL or left out: the last change)
--   reopen_count(status, changed_at, solved_statuses text[]) -> integer: how many times the
--       ticket left a solved status for an unsolved one
--   reopen_rate(reopened boolean) -> % of tickets reopened at least once (share_summary)
-- Changes at the same instant are ordered by status (bytewise, as COLLATE "C"). Rows with a
-- NULL status or changed_at are skipped; no rows: NULL. Every row of a ticket gives the same
-- until and schedule. With a schedule, each span counts its business time (business_time()).

CREATE FUNCTION time_in_status_trans(status_history, text, timestamptz, text[]) RETURNS status_history
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION time_in_status_trans(status_history, text, timestamptz, text[], timestamptz) RETURNS status_history
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION time_in_status_trans(status_history, text, timestamptz, text[], timestamptz, text) RETURNS status_history
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- STABLE: with a schedule, it reads kpi_schedule
CREATE FUNCTION time_in_status_final(status_history) RETURNS interval
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE time_in_status(status text, changed_at timestamptz, statuses text[]) (
    SFUNC = time_in_status_trans, STYPE = status_history, SSPACE = 128,
    INITCOND = '{"until_us":null,"schedule":null,"changes":[]}',
    COMBINEFUNC = status_history_combine, FINALFUNC = time_in_status_final, PARALLEL = SAFE
);
CREATE AGGREGATE time_in_status(status text, changed_at timestamptz, statuses text[], until timestamptz) (
    SFUNC = time_in_status_trans, STYPE = status_history, SSPACE = 128,
    INITCOND = '{"until_us":null,"schedule":null,"changes":[]}',
    COMBINEFUNC = status_history_combine, FINALFUNC = time_in_status_final, PARALLEL = SAFE
);
CREATE AGGREGATE time_in_status(status text, changed_at timestamptz, statuses text[], until timestamptz, schedule text) (
    SFUNC = time_in_status_trans, STYPE = status_history, SSPACE = 128,
    INITCOND = '{"until_us":null,"schedule":null,"changes":[]}',
    COMBINEFUNC = status_history_combine, FINALFUNC = time_in_status_final, PARALLEL = SAFE
);

-- The same over a ticket's timeline (ticket_timeline(kind, value, at), sql/sla.sql), as known
-- at `until` (default now(): an open ticket's current status counts until now; later events
-- are not seen), piece by piece in the schedule in force: the timeline's 'schedule' events over
-- `schedule` (NULL: calendar time where none is in force). NULL without a status change by then.
CREATE FUNCTION time_in_status(timeline ticket_timeline, statuses text[], until timestamptz DEFAULT now(), schedule text DEFAULT NULL) RETURNS interval
    AS 'MODULE_PATHNAME', 'time_in_status_timeline' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION time_in_status(ticket_timeline, text[], timestamptz, text) IS
    'support_kpi: how long a ticket was in any of the statuses as known at an instant, in the schedule in force of its timeline';

CREATE FUNCTION reopen_count_trans(status_history, text, timestamptz, text[]) RETURNS status_history
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION reopen_count_final(status_history) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE reopen_count(status text, changed_at timestamptz, solved_statuses text[]) (
    SFUNC = reopen_count_trans, STYPE = status_history, SSPACE = 128,
    INITCOND = '{"until_us":null,"schedule":null,"changes":[]}',
    COMBINEFUNC = status_history_combine, FINALFUNC = reopen_count_final, PARALLEL = SAFE
);

-- The share of tickets reopened at least once, reopen_rate(reopen_count(...) > 0) over
-- tickets, with reopen_summary, reopen_rate(share_summary) and reopen_rate_ci: generated
-- from the KPI registry, sql/share_rate_kpis.sql.

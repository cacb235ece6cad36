-- Survey KPIs: nps(score) on 0-10, csat(score) on 1-5 (% of 4 and 5), ces(score) on 1-7
-- (mean). State: survey_summary, a count per score tagged with its survey, 96 bytes updated
-- in place. Support functions: src/surveys.rs. Math: crates/kpi_core/src/surveys.rs.
-- NULL answers are skipped; a score off the scale is an ERROR.

CREATE TYPE survey_summary;

CREATE FUNCTION survey_summary_in(cstring) RETURNS survey_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION survey_summary_out(survey_summary) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION survey_summary_recv(internal) RETURNS survey_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION survey_summary_send(survey_summary) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE survey_summary (
    INPUT = survey_summary_in, OUTPUT = survey_summary_out,
    RECEIVE = survey_summary_recv, SEND = survey_summary_send,
    INTERNALLENGTH = 96, ALIGNMENT = double, STORAGE = plain
);
COMMENT ON TYPE survey_summary IS
    'support_kpi: state of a survey KPI, {"survey": "nps"|"csat"|"ces", "counts": [answers per score, lowest score first]}';

CREATE FUNCTION survey_trans(survey_summary, integer) RETURNS survey_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION survey_inv_trans(survey_summary, integer) RETURNS survey_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION survey_combine(survey_summary, survey_summary) RETURNS survey_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- nps(score), csat(score), ces(score), their *_summary twins, accessors, interval bounds
-- and *_ci functions are generated from the KPI registry: sql/surveys_kpis.sql.

CREATE FUNCTION survey_responses(summary survey_summary) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Combines summaries of one survey (mixing surveys is an ERROR). No rows: NULL.
CREATE AGGREGATE rollup(survey_summary) (
    SFUNC = survey_combine, STYPE = survey_summary,
    COMBINEFUNC = survey_combine, PARALLEL = SAFE
);

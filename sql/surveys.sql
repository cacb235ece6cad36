-- Survey KPIs: nps(score) on 0-10, csat(score) on 1-5 (% of 4 and 5), ces(score) on 1-7
-- (mean). State: survey_summary, a count per score tagged with its survey, 96 bytes updated
-- in place. Support functions: src/surveys.rs. Math: crates/kpi_core/src/survey.rs.
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

-- nps(score), csat(score), ces(score); <survey>_summary(score); <survey>(survey_summary).
-- The initial state names the survey, so one transition function checks every scale.
CREATE FUNCTION nps(summary survey_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'survey_nps' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE nps(score integer) (
    SFUNC = survey_trans, STYPE = survey_summary, INITCOND = '{"survey":"nps","counts":[0,0,0,0,0,0,0,0,0,0,0]}',
    COMBINEFUNC = survey_combine, FINALFUNC = nps,
    MSFUNC = survey_trans, MINVFUNC = survey_inv_trans, MSTYPE = survey_summary,
    MINITCOND = '{"survey":"nps","counts":[0,0,0,0,0,0,0,0,0,0,0]}', MFINALFUNC = nps, PARALLEL = SAFE
);
CREATE AGGREGATE nps_summary(score integer) (
    SFUNC = survey_trans, STYPE = survey_summary, INITCOND = '{"survey":"nps","counts":[0,0,0,0,0,0,0,0,0,0,0]}',
    COMBINEFUNC = survey_combine, PARALLEL = SAFE
);

CREATE FUNCTION csat(summary survey_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'survey_csat' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE csat(score integer) (
    SFUNC = survey_trans, STYPE = survey_summary, INITCOND = '{"survey":"csat","counts":[0,0,0,0,0]}',
    COMBINEFUNC = survey_combine, FINALFUNC = csat,
    MSFUNC = survey_trans, MINVFUNC = survey_inv_trans, MSTYPE = survey_summary,
    MINITCOND = '{"survey":"csat","counts":[0,0,0,0,0]}', MFINALFUNC = csat, PARALLEL = SAFE
);
CREATE AGGREGATE csat_summary(score integer) (
    SFUNC = survey_trans, STYPE = survey_summary, INITCOND = '{"survey":"csat","counts":[0,0,0,0,0]}',
    COMBINEFUNC = survey_combine, PARALLEL = SAFE
);

CREATE FUNCTION ces(summary survey_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'survey_ces' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE ces(score integer) (
    SFUNC = survey_trans, STYPE = survey_summary, INITCOND = '{"survey":"ces","counts":[0,0,0,0,0,0,0]}',
    COMBINEFUNC = survey_combine, FINALFUNC = ces,
    MSFUNC = survey_trans, MINVFUNC = survey_inv_trans, MSTYPE = survey_summary,
    MINITCOND = '{"survey":"ces","counts":[0,0,0,0,0,0,0]}', MFINALFUNC = ces, PARALLEL = SAFE
);
CREATE AGGREGATE ces_summary(score integer) (
    SFUNC = survey_trans, STYPE = survey_summary, INITCOND = '{"survey":"ces","counts":[0,0,0,0,0,0,0]}',
    COMBINEFUNC = survey_combine, PARALLEL = SAFE
);

CREATE FUNCTION survey_responses(summary survey_summary) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Combines summaries of one survey (mixing surveys is an ERROR). No rows: NULL.
CREATE AGGREGATE rollup(survey_summary) (
    SFUNC = survey_combine, STYPE = survey_summary,
    COMBINEFUNC = survey_combine, PARALLEL = SAFE
);

-- Intervals of the survey scores, in each score's unit: nps_ci (adjusted Wald, -100 to 100),
-- csat_ci (Wilson, %), ces_ci (Student's t of the mean, within 1-7; NULL below two answers).
CREATE FUNCTION survey_nps_bound(survey_summary, float8, boolean) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION survey_csat_bound(survey_summary, float8, boolean) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION survey_ces_bound(survey_summary, float8, boolean) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_ci(summary survey_summary, confidence float8 DEFAULT 0.95, OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.survey_nps_bound(summary, confidence, false)::numeric,
           @extschema@.survey_nps_bound(summary, confidence, true)::numeric;
END;
CREATE FUNCTION csat_ci(summary survey_summary, confidence float8 DEFAULT 0.95, OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.survey_csat_bound(summary, confidence, false)::numeric,
           @extschema@.survey_csat_bound(summary, confidence, true)::numeric;
END;
CREATE FUNCTION ces_ci(summary survey_summary, confidence float8 DEFAULT 0.95, OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.survey_ces_bound(summary, confidence, false)::numeric,
           @extschema@.survey_ces_bound(summary, confidence, true)::numeric;
END;

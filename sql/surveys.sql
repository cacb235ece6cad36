-- Survey KPIs: nps(score) on 0-10, csat(score) on 1-5 (% of 4 and 5), ces(score) on 1-7
-- (mean). State: survey_summary, a count per score tagged with its survey, 96 bytes updated
-- in place. Support functions: src/surveys.rs. Math: crates/kpi_core/src/surveys.rs.
-- NULL answers are skipped; a score off the scale is an ERROR.

CREATE FUNCTION survey_trans(survey_summary, integer) RETURNS survey_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION survey_inv_trans(survey_summary, integer) RETURNS survey_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- nps(score), csat(score), ces(score), their *_summary twins, accessors, interval bounds
-- and *_ci functions are generated from the KPI registry: sql/surveys_kpis.sql.

CREATE FUNCTION survey_responses(summary survey_summary) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

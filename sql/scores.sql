-- Audit-score KPIs (quality_score, service_audit_score): the mean of scores on 0-100, with a
-- Student's t interval. State: score_summary (count, sum and sum of squares of the scores),
-- 32 bytes updated in place. Support functions: src/scores.rs. Math:
-- crates/kpi_core/src/scores.rs. The KPIs' aggregates, accessors and *_ci functions are
-- generated from the KPI registry: sql/scores_kpis.sql.
-- NULL scores are skipped; a score outside 0-100 is an ERROR.

CREATE FUNCTION score_trans(score_summary, integer) RETURNS score_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION score_inv_trans(score_summary, integer) RETURNS score_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- the mean score (sum / scores, as avg(integer) divides), the final function of every
-- audit-score KPI; NULL without scores
CREATE FUNCTION score_mean(score_summary) RETURNS numeric
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION score_count(summary score_summary) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- a bound of the interval of the mean (Student's t of the scores with one score more at 0 and
-- one at 100), within 0-100; NULL without scores
CREATE FUNCTION score_bound(score_summary, float8, boolean) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Verdicts (sql/kpi_verdict.sql): the mean, the scores counted, the t interval (a single
-- score is given the whole scale, as a single CES answer is), the bands the interval touches.
CREATE FUNCTION kpi_value(kpi text, summary score_summary) RETURNS numeric
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.score_mean(summary) FROM @extschema@._kpi_check_summary(kpi, 'score_summary', NULL);
END;
CREATE FUNCTION kpi_cases(summary score_summary) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN @extschema@.score_count(summary);
CREATE FUNCTION kpi_interval(kpi text, summary score_summary, confidence float8 DEFAULT 0.95,
                             OUT lower numeric, OUT upper numeric)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT coalesce(@extschema@.score_bound(summary, confidence, false),
                    CASE WHEN @extschema@.score_count(summary) > 0 THEN 0 END)::numeric,
           coalesce(@extschema@.score_bound(summary, confidence, true),
                    CASE WHEN @extschema@.score_count(summary) > 0 THEN 100 END)::numeric
    FROM @extschema@._kpi_check_summary(kpi, 'score_summary', NULL);
END;
CREATE FUNCTION kpi_band(kpi text, summary score_summary, confidence float8 DEFAULT 0.95) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.kpi_band(kpi, ci.lower, ci.upper) FROM @extschema@.kpi_interval(kpi, summary, confidence) ci;
END;

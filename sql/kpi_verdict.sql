-- Band verdicts that know the sample size: kpi_band(kpi, summary [, confidence]).
-- The KPI's confidence interval (its *_ci function) is classified at both ends. When the
-- interval lies in one band, the verdict is that band; when it straddles edges, it names every
-- band it touches, from the lowest values to the highest: 1 escalation in 12 cases is
-- 'excellent, acceptable or concern' (8.3%, interval 1.5% to 35.4%), never a bare 'concern';
-- 1% of 10,000 cases is plainly 'excellent'.
-- Durations and costs carry no spread in their summaries yet: their verdict is the band of the
-- average (as kpi_band(kpi, value) gives it).
--
-- Per summary type, for any KPI computed from it (a summary of another KPI's type is an ERROR):
--   kpi_value(kpi, summary)                the KPI in its catalog unit (time KPIs in hours), numeric
--   kpi_cases(summary)                     the cases behind it: cases of a share, customers of a
--                                          per-customer rate, answers, completed durations, resolved costs
--   kpi_cases(kpi, summary)                the cases behind that KPI's value (the same, but costs given
--                                          for cost_per_complaint); generated, sql/kpi_verdict_kpis.sql
--   kpi_interval(kpi, summary [, conf])    its confidence interval (lower, upper); NULL for durations and costs
--   kpi_band(kpi, summary [, conf])        the verdict
-- The recorded KPI history (sql/kpi_recording.sql) stores all four.

-- The verdict of an interval [lower, upper] of a KPI's values.
CREATE FUNCTION kpi_band(kpi text, lower numeric, upper numeric) RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    labels text[];
    lo int;
    hi int;
BEGIN
    IF lower > upper THEN
        RAISE EXCEPTION 'the interval of KPI "%" runs from % down to %', kpi, lower, upper
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass the lower bound, then the upper bound.';
    END IF;
    SELECT c.band_labels INTO labels FROM @extschema@.kpi_catalog c WHERE c.kpi = kpi_band.kpi;
    lo := array_position(labels, @extschema@.kpi_band(kpi, lower));  -- raises for an unknown KPI
    hi := array_position(labels, @extschema@.kpi_band(kpi, upper));
    IF lo = hi THEN
        RETURN labels[lo];
    END IF;
    RETURN array_to_string(labels[lo:hi - 1], ', ') || ' or ' || labels[hi];
END
$$;
COMMENT ON FUNCTION kpi_band(text, numeric, numeric) IS
    'support_kpi: the verdict for a KPI value known to lie between lower and upper: one band, or every band the interval touches (e.g. acceptable or concern)';

-- _kpi_summary_type(kpi), which summary type each shipped KPI is computed from, is generated
-- from the KPI registry: sql/kpi_registry.sql.

-- Refuses an unknown KPI, and a summary of another type than the KPI's.
CREATE FUNCTION _kpi_check_summary(kpi text, summary_type text, known_kpis text) RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    expected text := CASE WHEN summary_type = 'segment_rate_summary' AND kpi = 'contact_rate'
                          THEN summary_type ELSE @extschema@._kpi_summary_type(kpi) END;
BEGIN
    IF NOT EXISTS (SELECT FROM @extschema@.kpi_catalog c WHERE c.kpi = _kpi_check_summary.kpi) THEN
        RAISE EXCEPTION 'unknown KPI "%"', kpi
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = @extschema@._kpi_unknown_hint(kpi);
    END IF;
    IF expected IS DISTINCT FROM summary_type AND (expected IS NOT NULL OR known_kpis IS NOT NULL) THEN
        RAISE EXCEPTION 'KPI "%" is not computed from a %', kpi, summary_type
            USING ERRCODE = 'datatype_mismatch',
                  HINT = 'A ' || summary_type || ' is the summary of '
                         || coalesce(known_kpis, 'the KPIs of its type and of KPIs you added to kpi_catalog')
                         || coalesce('; "' || kpi || '" takes a ' || expected, '') || '.';
    END IF;
END
$$;

-- Shares (escalation_rate and the other % of cases): the Wilson interval with continuity
-- correction.
CREATE FUNCTION kpi_value(kpi text, summary share_summary) RETURNS numeric
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.escalation_rate(summary) FROM @extschema@._kpi_check_summary(kpi, 'share_summary', NULL);
END;
CREATE FUNCTION kpi_cases(summary share_summary) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN @extschema@.case_count(summary);
CREATE FUNCTION kpi_interval(kpi text, summary share_summary, confidence float8 DEFAULT 0.95,
                             OUT lower numeric, OUT upper numeric)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT ci.lower, ci.upper
    FROM @extschema@._kpi_check_summary(kpi, 'share_summary', NULL), @extschema@.escalation_rate_ci(summary, confidence) ci;
END;

-- Per-customer rates: the exact Poisson interval, per 1,000 (incident_rate) or per 100, the
-- scale of _kpi_rate_scale(kpi) (generated, sql/kpi_registry.sql). kpi_value: generated,
-- sql/kpi_verdict_kpis.sql.
CREATE FUNCTION kpi_cases(summary customer_rate_summary) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN @extschema@.customer_count(summary);
CREATE FUNCTION kpi_interval(kpi text, summary customer_rate_summary, confidence float8 DEFAULT 0.95,
                             OUT lower numeric, OUT upper numeric)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT ci.lower, ci.upper
    FROM @extschema@._kpi_check_summary(kpi, 'customer_rate_summary', 'incident_rate, contact_rate and interaction_rate'),
         @extschema@._customer_rate_ci(summary, @extschema@._kpi_rate_scale(kpi), confidence) ci;
END;

-- Surveys: nps_ci, csat_ci, ces_ci. A single CES answer: the whole scale (what ces_ci says too
-- since 0.5.1).
-- Each branch names its KPI (no ELSE): PostgreSQL may evaluate a branch with constant
-- arguments while planning, and only the KPI's own accessor may see the summary before the
-- check has refused an unknown KPI.
CREATE FUNCTION kpi_value(kpi text, summary survey_summary) RETURNS numeric
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE kpi WHEN 'nps' THEN @extschema@.nps(summary) WHEN 'csat' THEN @extschema@.csat(summary)
                    WHEN 'ces' THEN @extschema@.ces(summary) END
    FROM @extschema@._kpi_check_summary(kpi, 'survey_summary', 'nps, csat and ces');
END;
CREATE FUNCTION kpi_cases(summary survey_summary) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN @extschema@.survey_responses(summary);
CREATE FUNCTION kpi_interval(kpi text, summary survey_summary, confidence float8 DEFAULT 0.95,
                             OUT lower numeric, OUT upper numeric)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE kpi WHEN 'nps' THEN @extschema@.survey_nps_bound(summary, confidence, false)
                    WHEN 'csat' THEN @extschema@.survey_csat_bound(summary, confidence, false)
                    WHEN 'ces' THEN coalesce(@extschema@.survey_ces_bound(summary, confidence, false),
                                             CASE WHEN @extschema@.survey_responses(summary) > 0 THEN 1 END) END::numeric,
           CASE kpi WHEN 'nps' THEN @extschema@.survey_nps_bound(summary, confidence, true)
                    WHEN 'csat' THEN @extschema@.survey_csat_bound(summary, confidence, true)
                    WHEN 'ces' THEN coalesce(@extschema@.survey_ces_bound(summary, confidence, true),
                                             CASE WHEN @extschema@.survey_responses(summary) > 0 THEN 7 END) END::numeric
    FROM @extschema@._kpi_check_summary(kpi, 'survey_summary', 'nps, csat and ces');
END;

-- Durations (in hours) and costs: the average; no spread is kept, so no interval.
CREATE FUNCTION kpi_value(kpi text, summary duration_summary) RETURNS numeric
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT extract(epoch FROM @extschema@.duration_average(summary)) / 3600
    FROM @extschema@._kpi_check_summary(kpi, 'duration_summary', NULL);
END;
CREATE FUNCTION kpi_cases(summary duration_summary) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN @extschema@.completed_count(summary);
CREATE FUNCTION kpi_interval(kpi text, summary duration_summary, confidence float8 DEFAULT 0.95,
                             OUT lower numeric, OUT upper numeric)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT NULL::numeric, NULL::numeric FROM @extschema@._kpi_check_summary(kpi, 'duration_summary', NULL);
END;
CREATE FUNCTION kpi_cases(summary cost_summary) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN @extschema@.resolved_count(summary);
CREATE FUNCTION kpi_interval(kpi text, summary cost_summary, confidence float8 DEFAULT 0.95,
                             OUT lower numeric, OUT upper numeric)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT NULL::numeric, NULL::numeric FROM @extschema@._kpi_check_summary(kpi, 'cost_summary', NULL);
END;

-- The verdict: the bands the interval touches; where no interval is kept, the band of the value.
CREATE FUNCTION kpi_band(kpi text, summary share_summary, confidence float8 DEFAULT 0.95) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.kpi_band(kpi, ci.lower, ci.upper) FROM @extschema@.kpi_interval(kpi, summary, confidence) ci;
END;
CREATE FUNCTION kpi_band(kpi text, summary customer_rate_summary, confidence float8 DEFAULT 0.95) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.kpi_band(kpi, ci.lower, ci.upper) FROM @extschema@.kpi_interval(kpi, summary, confidence) ci;
END;
CREATE FUNCTION kpi_band(kpi text, summary survey_summary, confidence float8 DEFAULT 0.95) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.kpi_band(kpi, ci.lower, ci.upper) FROM @extschema@.kpi_interval(kpi, summary, confidence) ci;
END;
CREATE FUNCTION kpi_band(kpi text, summary duration_summary, confidence float8 DEFAULT 0.95) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN @extschema@.kpi_band(kpi, @extschema@.kpi_value(kpi, summary));
-- kpi_value and kpi_band of the cost KPIs: generated, sql/kpi_verdict_kpis.sql.

-- contact_rate per segment: {"<segment>": "<verdict>", ...}.
CREATE FUNCTION kpi_band(kpi text, summary segment_rate_summary, confidence float8 DEFAULT 0.95) RETURNS jsonb
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT coalesce(jsonb_object_agg(ci.segment, @extschema@.kpi_band(kpi, ci.lower, ci.upper)), '{}')
    FROM @extschema@._kpi_check_summary(kpi, 'segment_rate_summary', 'contact_rate'),
         @extschema@.contact_rate_by_segment_ci(summary, confidence) ci;
END;

-- support_kpi 0.3.0 -> 0.4.0: ALTER EXTENSION support_kpi UPDATE TO '0.4.0'
--
-- 0.4.0 keeps every object and stored value of 0.3.0 and adds:
-- - the per-customer rates and contact_rate_by_segment with a boolean "has an event" (e.g.
--   incident_rate(customer_id, is_incident)): true counts an event, false and NULL count the
--   customer only. Like the other concrete signatures, Citus pushes these down to its workers;
-- - intervals for every rate-like KPI (incident_rate_ci, contact_rate_ci, interaction_rate_ci,
--   contact_rate_by_segment_ci, nps_ci, csat_ci, ces_ci) and the counts behind them
--   (case_count, customer_count, event_count);
-- - sample-aware verdicts, kpi_band(kpi, summary), with kpi_value, kpi_cases, kpi_interval;
-- - the recorded KPI history: kpi_tracked, kpi_recorded, kpi_record, kpi_record_range,
--   kpi_record_due, kpi_band_changes and the BI views.
--
-- Changed behaviour: before 0.4.0 a boolean went to the "any" signature and every non-NULL
-- value, false included, counted as an event. From 0.4.0 a boolean counts as an event only
-- when true, whichever signature a query or view resolves to, so a view made before the
-- update, its dump and a new query give one answer. Stored summaries are unchanged.
-- The same statements are in sql/customer_rate.sql, sql/segment_rate.sql, sql/share_rate.sql,
-- sql/surveys.sql, sql/kpi_verdict.sql and sql/kpi_recorded.sql.
\echo Use "ALTER EXTENSION support_kpi UPDATE TO '0.4.0'" to load this file. \quit

-- The same aggregates with a boolean "has an event" (e.g. is_incident): true counts an
-- event, false and NULL count the customer only. Concrete types, so Citus pushes them down.
-- (A boolean given to the "any" signatures of views made before 0.4.0 counts the same way.)
CREATE FUNCTION customer_rate_trans(customer_rate_summary, bigint, boolean) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_int8_bool' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_trans(customer_rate_summary, integer, boolean) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_int4_bool' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_trans(customer_rate_summary, text, boolean) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_text_bool' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_trans(customer_rate_summary, uuid, boolean) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_uuid_bool' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE incident_rate(customer_id bigint, has_incident boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id bigint, has_incident boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id integer, has_incident boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id integer, has_incident boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id text, has_incident boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id text, has_incident boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id uuid, has_incident boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id uuid, has_incident boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id bigint, has_contact boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id bigint, has_contact boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id integer, has_contact boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id integer, has_contact boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id text, has_contact boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id text, has_contact boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id uuid, has_contact boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id uuid, has_contact boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id bigint, has_interaction boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id bigint, has_interaction boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id integer, has_interaction boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id integer, has_interaction boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id text, has_interaction boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id text, has_interaction boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id uuid, has_interaction boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id uuid, has_interaction boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);

-- The same with a boolean "has a contact": true counts a contact, false and NULL the
-- customer only.
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, bigint, boolean) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_int8_bool' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, integer, boolean) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_int4_bool' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, text, boolean) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_text_bool' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, uuid, boolean) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_uuid_bool' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id bigint, has_contact boolean) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id bigint, has_contact boolean) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id integer, has_contact boolean) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id integer, has_contact boolean) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id text, has_contact boolean) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id text, has_contact boolean) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id uuid, has_contact boolean) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id uuid, has_contact boolean) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);

-- The cases behind a share (its denominator).
CREATE FUNCTION case_count(summary share_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'share_total' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The counts behind a per-customer rate, and its exact Poisson (Garwood) interval: how noisy
-- the rate is. incident_rate_ci(incident_summary(c.id, t.id)) -> (lower, upper), per 1,000
-- customers; 0 incidents among 100 customers gives 0 to 36.9.
CREATE FUNCTION customer_count(summary customer_rate_summary) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION event_count(summary customer_rate_summary) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION poisson_rate_bound(events bigint, exposure bigint, scale float8, confidence float8, upper boolean)
    RETURNS float8 AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- The interval of events per customer times scale (1000: incident_rate; 100: the others).
CREATE FUNCTION _customer_rate_ci(summary customer_rate_summary, scale float8, confidence float8,
                                  OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.poisson_rate_bound(@extschema@.event_count(summary), @extschema@.customer_count(summary),
                                          scale, confidence, false)::numeric,
           @extschema@.poisson_rate_bound(@extschema@.event_count(summary), @extschema@.customer_count(summary),
                                          scale, confidence, true)::numeric;
END;
CREATE FUNCTION incident_rate_ci(summary customer_rate_summary, confidence float8 DEFAULT 0.95,
                                 OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT ci.lower, ci.upper FROM @extschema@._customer_rate_ci(summary, 1000, confidence) ci;
END;
CREATE FUNCTION contact_rate_ci(summary customer_rate_summary, confidence float8 DEFAULT 0.95,
                                OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT ci.lower, ci.upper FROM @extschema@._customer_rate_ci(summary, 100, confidence) ci;
END;
CREATE FUNCTION interaction_rate_ci(summary customer_rate_summary, confidence float8 DEFAULT 0.95,
                                    OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT ci.lower, ci.upper FROM @extschema@._customer_rate_ci(summary, 100, confidence) ci;
END;

-- Each segment's contact rate interval (exact Poisson, like contact_rate_ci), one row per
-- segment in name order.
CREATE FUNCTION contact_rate_by_segment_ci(summary segment_rate_summary, confidence float8 DEFAULT 0.95)
RETURNS TABLE (segment text, lower numeric, upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT s.key,
           @extschema@.poisson_rate_bound((s.value ->> 'events')::bigint, (s.value ->> 'customers')::bigint,
                                          100, confidence, false)::numeric,
           @extschema@.poisson_rate_bound((s.value ->> 'events')::bigint, (s.value ->> 'customers')::bigint,
                                          100, confidence, true)::numeric
    FROM jsonb_each(@extschema@.segment_rate_counts(summary)) s
    ORDER BY s.key;
END;

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
--   kpi_interval(kpi, summary [, conf])    its confidence interval (lower, upper); NULL for durations and costs
--   kpi_band(kpi, summary [, conf])        the verdict
-- The recorded KPI history (sql/kpi_recorded.sql) stores all four.

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

-- Which summary type each shipped KPI is computed from; NULL for KPIs users added.
CREATE FUNCTION _kpi_summary_type(kpi text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN kpi IN ('incident_rate', 'contact_rate', 'interaction_rate') THEN 'customer_rate_summary'
    WHEN kpi IN ('nps', 'csat', 'ces') THEN 'survey_summary'
    WHEN kpi IN ('avg_first_response_time', 'avg_resolution_time', 'avg_handling_time') THEN 'duration_summary'
    WHEN kpi = 'complaint_resolution_cost' THEN 'cost_summary'
    WHEN kpi IN ('escalation_rate', 'complaint_escalation_rate', 'complaint_resolution_rate',
                 'cross_functional_resolution_rate', 'first_contact_resolution_rate', 'sla_compliance_rate',
                 'complaint_resolution_efficiency', 'churn_rate') THEN 'share_summary'
END;

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
                  HINT = 'Known KPIs: ' || (SELECT string_agg(c.kpi, ', ' ORDER BY c.kpi) FROM @extschema@.kpi_catalog c)
                         || '. Add your own to kpi_catalog.';
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

-- Shares (escalation_rate and the other % of cases): the Wilson interval.
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

-- Per-customer rates: the exact Poisson interval, per 1,000 (incident_rate) or per 100.
CREATE FUNCTION _kpi_rate_scale(kpi text) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE kpi WHEN 'incident_rate' THEN 1000 ELSE 100 END;
CREATE FUNCTION kpi_value(kpi text, summary customer_rate_summary) RETURNS numeric
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE kpi WHEN 'incident_rate' THEN @extschema@.incident_rate(summary) ELSE @extschema@.contact_rate(summary) END
    FROM @extschema@._kpi_check_summary(kpi, 'customer_rate_summary', 'incident_rate, contact_rate and interaction_rate');
END;
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

-- Surveys: nps_ci, csat_ci, ces_ci. A single CES answer has no interval: the whole scale.
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
CREATE FUNCTION kpi_value(kpi text, summary cost_summary) RETURNS numeric
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.complaint_resolution_cost(summary) FROM @extschema@._kpi_check_summary(kpi, 'cost_summary', NULL);
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
CREATE FUNCTION kpi_band(kpi text, summary cost_summary, confidence float8 DEFAULT 0.95) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN @extschema@.kpi_band(kpi, @extschema@.kpi_value(kpi, summary));

-- contact_rate per segment: {"<segment>": "<verdict>", ...}.
CREATE FUNCTION kpi_band(kpi text, summary segment_rate_summary, confidence float8 DEFAULT 0.95) RETURNS jsonb
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT coalesce(jsonb_object_agg(ci.segment, @extschema@.kpi_band(kpi, ci.lower, ci.upper)), '{}')
    FROM @extschema@._kpi_check_summary(kpi, 'segment_rate_summary', 'contact_rate'),
         @extschema@.contact_rate_by_segment_ci(summary, confidence) ci;
END;

-- KPI history, recorded on a schedule: users declare once what to track (kpi_tracked), and
-- kpi_record / kpi_record_range / kpi_record_due write each period into kpi_recorded with its
-- value, band, sample-aware verdict, cases, confidence interval, and the previous period's
-- value and band. pg_cron drives it: SELECT cron.schedule('kpi-history', '5 0 * * *',
-- 'CALL kpi_record_due()'). A band that changes against the previous period is sent with
-- NOTIFY on the channel support_kpi_band_change (JSON payload) and listed by kpi_band_changes.
-- BI tools read kpi_recorded_bi (a time column, float8 values) and kpi_recorded_band_edges.
--
-- Periods are date_trunc(period, time column) in the session's TimeZone (for pg_cron: the
-- server's). Recording a period again replaces its rows. The recording functions run with the
-- caller's rights and search_path (a source and a summary are read as the caller would write
-- them: schema-qualify them for pg_cron jobs); they cannot set their own, because a procedure
-- that commits per period may not.

CREATE TABLE kpi_tracked (
    tracking    text NOT NULL,  -- a name for the report, e.g. 'support_monthly'
    kpi         text NOT NULL,  -- a KPI of kpi_catalog, e.g. 'escalation_rate'
    source      text NOT NULL,  -- the table or view to read, e.g. 'support.tickets'
    time_column text NOT NULL,  -- its timestamptz, timestamp or date column that places a row in a period
    summary     text NOT NULL,  -- the summary aggregate over the source, e.g. 'escalation_summary(escalated)'
    period      text NOT NULL DEFAULT 'month' CHECK (period IN ('day', 'week', 'month', 'quarter')),
    dimensions  text[] NOT NULL DEFAULT '{}',  -- columns to slice by; each is recorded alone, beside the total
    PRIMARY KEY (tracking, kpi),
    CHECK (array_position(dimensions, NULL) IS NULL AND array_position(dimensions, 'all') IS NULL)
);
COMMENT ON TABLE kpi_tracked IS
    'support_kpi: which KPIs kpi_record() records into kpi_recorded, from which table, by which period and dimensions';

CREATE TABLE kpi_recorded (
    tracking        text NOT NULL,
    kpi             text NOT NULL,
    period          text NOT NULL,
    period_start    timestamptz NOT NULL,
    dimension       text NOT NULL,  -- 'all' for the total, else the column sliced by
    dimension_value text NOT NULL,  -- 'all' for the total; '(none)' for a NULL value
    value           numeric,        -- in the catalog's unit (time KPIs in hours); NULL when nothing was counted
    band            text,           -- kpi_band(kpi, value)
    verdict         text,           -- kpi_band(kpi, summary): the bands the confidence interval touches
    cases           bigint,         -- kpi_cases(summary)
    ci_lower        numeric,        -- the 95% interval (kpi_interval); NULL for durations and costs
    ci_upper        numeric,
    previous_value  numeric,        -- the same KPI and slice one period earlier, if recorded
    previous_band   text,
    change          numeric,        -- value - previous_value
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tracking, kpi, period_start, dimension, dimension_value)
);
COMMENT ON TABLE kpi_recorded IS
    'support_kpi: one row per tracking, KPI, period and slice, written by kpi_record()';

-- Both tables hold the user's data: pg_dump keeps them.
SELECT pg_catalog.pg_extension_config_dump('kpi_tracked', '');
SELECT pg_catalog.pg_extension_config_dump('kpi_recorded', '');

CREATE FUNCTION _kpi_period_interval(period text) RETURNS interval
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE period WHEN 'day' THEN interval '1 day' WHEN 'week' THEN interval '7 days'
                   WHEN 'month' THEN interval '1 month' WHEN 'quarter' THEN interval '3 months' END;

-- Records one period of a tracking (every KPI of it) and returns the rows written. Runs in the
-- caller's transaction: on an error nothing of the period changes.
CREATE FUNCTION kpi_record(tracking text, period_start timestamptz) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    t @extschema@.kpi_tracked;
    periods text[];
    start_at timestamptz;
    step interval;
    old_bands jsonb;
    grouping_sets text;
    dimension_name text;
    dimension_value text;
    written integer := 0;
    n integer;
BEGIN
    SELECT array_agg(DISTINCT k.period) INTO periods FROM @extschema@.kpi_tracked k WHERE k.tracking = kpi_record.tracking;
    IF periods IS NULL THEN
        RAISE EXCEPTION 'no KPI is tracked as "%"', tracking
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Add rows to kpi_tracked first: tracking, kpi, source, time_column, summary, period, dimensions.';
    END IF;
    IF cardinality(periods) > 1 THEN
        RAISE EXCEPTION 'tracking "%" mixes periods %', tracking, periods
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Give every KPI of one tracking the same period.';
    END IF;
    -- one recording of a tracking at a time (two overlapping jobs would both delete, then
    -- both insert): the second waits for the first to commit, then replaces its rows
    PERFORM pg_advisory_xact_lock(hashtext('support_kpi.kpi_record'), hashtext(tracking));
    step := @extschema@._kpi_period_interval(periods[1]);
    start_at := date_trunc(periods[1], period_start);
    IF start_at <> period_start THEN
        RAISE EXCEPTION '% is not the start of a %', period_start, periods[1]
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass date_trunc(''' || periods[1] || ''', <time>).';
    END IF;

    -- the bands recorded for this period so far, to notify only of new band changes
    SELECT coalesce(jsonb_object_agg(h.kpi || '|' || h.dimension || '|' || h.dimension_value, h.band), '{}')
    INTO old_bands
    FROM @extschema@.kpi_recorded h WHERE h.tracking = kpi_record.tracking AND h.period_start = start_at;
    DELETE FROM @extschema@.kpi_recorded h WHERE h.tracking = kpi_record.tracking AND h.period_start = start_at;

    FOR t IN SELECT * FROM @extschema@.kpi_tracked k WHERE k.tracking = kpi_record.tracking ORDER BY k.kpi LOOP
        IF NOT EXISTS (SELECT FROM @extschema@.kpi_catalog c WHERE c.kpi = t.kpi) THEN
            RAISE EXCEPTION 'tracking "%" names the unknown KPI "%"', tracking, t.kpi
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Track a KPI of kpi_catalog, or add yours there.';
        END IF;
        grouping_sets := '()';
        dimension_name := '''all''';
        dimension_value := '''all''';
        FOR i IN REVERSE cardinality(t.dimensions) .. 1 LOOP
            dimension_name := format('CASE WHEN GROUPING(%I) = 0 THEN %L ELSE %s END', t.dimensions[i], t.dimensions[i], dimension_name);
            dimension_value := format('CASE WHEN GROUPING(%1$I) = 0 THEN coalesce(%1$I::text, ''(none)'') ELSE %2$s END',
                                      t.dimensions[i], dimension_value);
        END LOOP;
        FOR i IN 1 .. cardinality(t.dimensions) LOOP
            grouping_sets := grouping_sets || format(', (%I)', t.dimensions[i]);
        END LOOP;
        BEGIN
            EXECUTE format($q$
                INSERT INTO @extschema@.kpi_recorded (tracking, kpi, period, period_start, dimension, dimension_value,
                                                     value, band, verdict, cases, ci_lower, ci_upper)
                SELECT $1, $2, $3, $4, x.dimension, x.dimension_value, x.value, x.band,
                       -- kpi_band(kpi, summary), from the interval already at hand: the bands it
                       -- touches, or the point band where no interval is kept
                       coalesce(@extschema@.kpi_band($2, (x.ci).lower, (x.ci).upper), x.band),
                       @extschema@.kpi_cases(x.s), (x.ci).lower, (x.ci).upper
                FROM (SELECT z.*, @extschema@.kpi_band($2, z.value) AS band
                      FROM (SELECT y.*, @extschema@.kpi_value($2, y.s) AS value, @extschema@.kpi_interval($2, y.s) AS ci
                            FROM (SELECT %s AS dimension, %s AS dimension_value, %s AS s
                                  FROM %s WHERE %I >= $4 AND %I < $4 + $5
                                  GROUP BY GROUPING SETS (%s)) y) z) x
                $q$, dimension_name, dimension_value, t.summary, t.source::regclass, t.time_column, t.time_column,
                     grouping_sets)
            USING tracking, t.kpi, t.period, start_at, step;
            GET DIAGNOSTICS n = ROW_COUNT;
        EXCEPTION WHEN OTHERS THEN
            RAISE EXCEPTION 'recording % of tracking "%" for the % of % failed: %', t.kpi, tracking, t.period, start_at, SQLERRM
                USING ERRCODE = SQLSTATE,
                      HINT = 'Check the kpi_tracked row (source, time_column, summary, dimensions); the history kept its previous rows.';
        END;
        written := written + n;
    END LOOP;

    -- the previous period's value and band, for this period and the next one
    UPDATE @extschema@.kpi_recorded h SET previous_value = NULL, previous_band = NULL, change = NULL
    WHERE h.tracking = kpi_record.tracking AND h.period_start = start_at + step;
    UPDATE @extschema@.kpi_recorded h
    SET previous_value = p.value, previous_band = p.band, change = h.value - p.value
    FROM @extschema@.kpi_recorded p
    WHERE h.tracking = kpi_record.tracking AND h.period_start IN (start_at, start_at + step)
      AND p.tracking = h.tracking AND p.kpi = h.kpi AND p.dimension = h.dimension
      AND p.dimension_value = h.dimension_value AND p.period_start = h.period_start - step;

    -- a band that differs from the previous period's, and was not already so: NOTIFY (sent on commit)
    PERFORM pg_notify('support_kpi_band_change', json_build_object(
                'tracking', h.tracking, 'kpi', h.kpi, 'period', h.period, 'period_start', h.period_start,
                'dimension', h.dimension, 'dimension_value', h.dimension_value,
                'previous_band', h.previous_band, 'band', h.band, 'verdict', h.verdict,
                'previous_value', h.previous_value, 'value', h.value, 'cases', h.cases)::text)
    FROM @extschema@.kpi_recorded h
    WHERE h.tracking = kpi_record.tracking AND h.period_start = start_at
      AND h.previous_band IS NOT NULL AND h.band IS NOT NULL AND h.band <> h.previous_band
      AND old_bands ->> (h.kpi || '|' || h.dimension || '|' || h.dimension_value) IS DISTINCT FROM h.band;
    RETURN written;
END
$$;
COMMENT ON FUNCTION kpi_record(text, timestamptz) IS
    'support_kpi: records one period of a tracking into kpi_recorded (replacing it), returns the rows written';

-- Records every period of a tracking that starts in [from_time, to_time), one transaction per
-- period (a failure keeps the periods recorded before it). For back-filling.
CREATE PROCEDURE kpi_record_range(tracking text, from_time timestamptz, to_time timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    p text;
    at timestamptz;
BEGIN
    SELECT min(k.period) INTO p FROM @extschema@.kpi_tracked k WHERE k.tracking = kpi_record_range.tracking;
    IF p IS NULL THEN
        PERFORM @extschema@.kpi_record(tracking, from_time);  -- raises the error for an unknown tracking
    END IF;
    at := date_trunc(p, from_time);
    WHILE at < to_time LOOP
        PERFORM @extschema@.kpi_record(tracking, at);
        COMMIT;
        at := at + @extschema@._kpi_period_interval(p);
    END LOOP;
END
$$;

-- What a schedule calls: for every tracking (or the one named), records the period before the
-- current one (complete, with late data) and the current one (so far), one transaction each.
-- A tracking that fails does not stop the others; the call then fails naming it (pg_cron
-- shows that message in cron.job_run_details).
CREATE PROCEDURE kpi_record_due(tracking text DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    t record;
    current_start timestamptz;
    at timestamptz;
    failure_state text;
    failures text[] := '{}';
BEGIN
    IF tracking IS NOT NULL AND NOT EXISTS (SELECT FROM @extschema@.kpi_tracked k WHERE k.tracking = kpi_record_due.tracking) THEN
        PERFORM @extschema@.kpi_record(tracking, now());  -- raises the error for an unknown tracking
    END IF;
    FOR t IN SELECT k.tracking, min(k.period) AS period FROM @extschema@.kpi_tracked k
             WHERE kpi_record_due.tracking IS NULL OR k.tracking = kpi_record_due.tracking
             GROUP BY k.tracking ORDER BY k.tracking LOOP
        current_start := date_trunc(t.period, now());
        FOREACH at IN ARRAY ARRAY[current_start - @extschema@._kpi_period_interval(t.period), current_start] LOOP
            BEGIN
                PERFORM @extschema@.kpi_record(t.tracking, at);
            EXCEPTION WHEN OTHERS THEN
                failures := failures || SQLERRM;
                failure_state := SQLSTATE;
            END;
            COMMIT;
        END LOOP;
    END LOOP;
    IF cardinality(failures) > 0 THEN
        RAISE EXCEPTION '% of the recordings failed: %', cardinality(failures), array_to_string(failures, '; ')
            USING ERRCODE = failure_state,
                  HINT = 'The other trackings were recorded. Fix the kpi_tracked rows named; the history kept their previous rows.';
    END IF;
END
$$;

-- Every recorded (period, KPI, slice) whose band differs from the previous period's.
CREATE VIEW kpi_band_changes AS
SELECT tracking, kpi, period, period_start, dimension, dimension_value,
       previous_band, band, verdict, previous_value, value, change, cases
FROM kpi_recorded
WHERE previous_band IS NOT NULL AND band IS NOT NULL AND band <> previous_band;

-- For BI tools: a timestamptz "time" column and float8 numbers (Grafana and Metabase take no
-- interval and not every numeric), one row per period x KPI x slice.
CREATE VIEW kpi_recorded_bi AS
SELECT h.period_start AS "time", h.tracking, h.kpi, c.title, c.unit, h.period, h.dimension, h.dimension_value,
       h.value::float8 AS value, h.ci_lower::float8 AS ci_lower, h.ci_upper::float8 AS ci_upper, h.cases,
       h.band, h.verdict, h.previous_value::float8 AS previous_value, h.change::float8 AS change, h.previous_band
FROM kpi_recorded h LEFT JOIN kpi_catalog c ON c.kpi = h.kpi;

-- The band edges of each recorded KPI at each recorded period: reference lines for the charts.
CREATE VIEW kpi_recorded_band_edges AS
SELECT p.period_start AS "time", e.kpi, e.edge::float8 AS edge, e.band_below, e.band_above
FROM (SELECT DISTINCT kpi, period_start FROM kpi_recorded) p
JOIN kpi_band_edges e ON e.kpi = p.kpi;

GRANT SELECT ON kpi_tracked, kpi_recorded, kpi_band_changes, kpi_recorded_bi, kpi_recorded_band_edges TO PUBLIC;

-- Change tests: does a period's value differ from the previous period's beyond the noise of
-- their samples? kpi_record keeps the counts of each recorded row (kpi_change_stats, in
-- kpi_recorded.stats) and tests them against the previous period's (kpi_change_test), each
-- family in its own terms, two-sided:
--   shares (escalation_rate, sla_compliance_rate, churn_rate, ...)  Fisher's exact test
--   per-customer rates (incident_rate, contact_rate, ...)           exact Poisson rate test (conditional binomial)
--   nps                                                             z test of the adjusted-Wald difference
--   csat                                                            Fisher's exact test (satisfied among answers)
--   ces, quality_score, service_audit_score                         Welch's t test
--   times and costs                                                 none: their summaries keep no spread
-- The math is crates/kpi_core/src/change_test.rs (glue: src/change_test.rs).

CREATE FUNCTION _kpi_fisher_exact(a bigint, b bigint, c bigint, d bigint) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION _kpi_poisson_rate_test(events1 bigint, customers1 bigint, events2 bigint, customers2 bigint)
    RETURNS float8 AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION _kpi_nps_test(promoters1 bigint, detractors1 bigint, answers1 bigint,
                              promoters2 bigint, detractors2 bigint, answers2 bigint)
    RETURNS float8 AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION _kpi_welch_t_test(n1 float8, sum1 float8, squares1 float8, n2 float8, sum2 float8, squares2 float8)
    RETURNS float8 AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The answers of a survey's counts (kpi_change_stats) with scores at positions lo..hi of its
-- counts (1 = the lowest score): NPS promoters are 10..11 (scores 9-10), CSAT's satisfied 4..5.
CREATE FUNCTION _kpi_answers(stats jsonb, lo integer, hi integer) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT coalesce(sum(c::bigint), 0)::bigint
        FROM jsonb_array_elements_text(stats -> 'counts') WITH ORDINALITY a(c, i) WHERE i BETWEEN lo AND hi);

-- The counts a change test needs, per summary type, as jsonb (what kpi_recorded.stats keeps):
-- the summary's own small text form, or for a per-customer rate its customers and events.
-- NULL for the summaries that keep no spread.
CREATE FUNCTION kpi_change_stats(summary share_summary) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN (summary::pg_catalog.text)::pg_catalog.jsonb;
CREATE FUNCTION kpi_change_stats(summary customer_rate_summary) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN pg_catalog.jsonb_build_object('customers', @extschema@.customer_count(summary),
                                     'events', @extschema@.event_count(summary));
CREATE FUNCTION kpi_change_stats(summary survey_summary) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN (summary::pg_catalog.text)::pg_catalog.jsonb;
CREATE FUNCTION kpi_change_stats(summary score_summary) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN (summary::pg_catalog.text)::pg_catalog.jsonb;
CREATE FUNCTION kpi_change_stats(summary duration_summary) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN NULL::pg_catalog.jsonb;
CREATE FUNCTION kpi_change_stats(summary duration_sketch) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN NULL::pg_catalog.jsonb;
CREATE FUNCTION kpi_change_stats(summary cost_summary) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN NULL::pg_catalog.jsonb;

-- The change test of a KPI between two periods' counts (kpi_change_stats): the two-sided
-- p-value and the test's name. No previous counts: both NULL. A family without a test, or
-- counts that cannot be tested (a period without cases, fewer than two scores): p_value
-- NULL and a test that says why ('none: ...').
CREATE FUNCTION kpi_change_test(kpi text, stats jsonb, previous_stats jsonb, OUT p_value float8, OUT test text)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    -- the summary type: from the counts' shape (KPIs users added have none in the registry)
    kind text := CASE WHEN stats ? 'hits' THEN 'share_summary' WHEN stats ? 'customers' THEN 'customer_rate_summary'
                      WHEN stats ? 'survey' THEN 'survey_summary' WHEN stats ? 'scores' THEN 'score_summary'
                      ELSE @extschema@._kpi_summary_type(kpi) END;
    survey text;
    n1 bigint;
    n2 bigint;
BEGIN
    IF kind IN ('duration_summary', 'duration_sketch', 'cost_summary') THEN
        test := format('none: %s keeps no spread', kind);
        RETURN;
    END IF;
    IF jsonb_typeof(stats) IS DISTINCT FROM 'object' OR jsonb_typeof(previous_stats) IS DISTINCT FROM 'object' THEN
        RETURN;  -- no counts (SQL or JSON null): nothing to compare
    END IF;
    IF kind = 'share_summary' THEN
        n1 := (stats ->> 'total')::bigint;
        n2 := (previous_stats ->> 'total')::bigint;
        IF n1 = 0 OR n2 = 0 THEN
            test := 'none: a period without cases';
            RETURN;
        END IF;
        p_value := @extschema@._kpi_fisher_exact((stats ->> 'hits')::bigint, n1 - (stats ->> 'hits')::bigint,
                                                 (previous_stats ->> 'hits')::bigint, n2 - (previous_stats ->> 'hits')::bigint);
        test := 'Fisher''s exact test';
    ELSIF kind = 'customer_rate_summary' THEN
        p_value := @extschema@._kpi_poisson_rate_test((stats ->> 'events')::bigint, (stats ->> 'customers')::bigint,
                                                      (previous_stats ->> 'events')::bigint, (previous_stats ->> 'customers')::bigint);
        test := CASE WHEN p_value IS NULL THEN 'none: a period without customers' ELSE 'exact Poisson rate test' END;
    ELSIF kind = 'score_summary' THEN
        p_value := @extschema@._kpi_welch_t_test((stats ->> 'scores')::float8, (stats ->> 'sum')::float8,
                                                 (stats ->> 'sum_of_squares')::float8, (previous_stats ->> 'scores')::float8,
                                                 (previous_stats ->> 'sum')::float8, (previous_stats ->> 'sum_of_squares')::float8);
        test := CASE WHEN p_value IS NULL THEN 'none: fewer than 2 scores in a period, or no spread' ELSE 'Welch''s t test' END;
    ELSIF kind = 'survey_summary' THEN
        survey := stats ->> 'survey';
        IF survey IS DISTINCT FROM previous_stats ->> 'survey' THEN
            RAISE EXCEPTION 'the counts of two different surveys (% and %) cannot be compared', survey, previous_stats ->> 'survey'
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Compare two periods of one survey.';
        END IF;
        IF survey = 'nps' THEN
            -- counts of the answers 0..10: promoters 9-10, detractors 0-6
            p_value := @extschema@._kpi_nps_test(
                @extschema@._kpi_answers(stats, 10, 11), @extschema@._kpi_answers(stats, 1, 7),
                @extschema@._kpi_answers(stats, 1, 11),
                @extschema@._kpi_answers(previous_stats, 10, 11), @extschema@._kpi_answers(previous_stats, 1, 7),
                @extschema@._kpi_answers(previous_stats, 1, 11));
            test := CASE WHEN p_value IS NULL THEN 'none: a period without answers' ELSE 'adjusted-Wald z test' END;
        ELSIF survey = 'csat' THEN
            -- counts of the answers 1..5: satisfied 4-5
            n1 := @extschema@._kpi_answers(stats, 1, 5);
            n2 := @extschema@._kpi_answers(previous_stats, 1, 5);
            IF n1 = 0 OR n2 = 0 THEN
                test := 'none: a period without answers';
                RETURN;
            END IF;
            p_value := @extschema@._kpi_fisher_exact(@extschema@._kpi_answers(stats, 4, 5), n1 - @extschema@._kpi_answers(stats, 4, 5),
                                                     @extschema@._kpi_answers(previous_stats, 4, 5),
                                                     n2 - @extschema@._kpi_answers(previous_stats, 4, 5));
            test := 'Fisher''s exact test';
        ELSE
            -- ces: counts of the answers 1..7
            SELECT @extschema@._kpi_welch_t_test(a.n, a.s, a.q, b.n, b.s, b.q) INTO p_value
            FROM (SELECT sum(c::float8) AS n, sum(c::float8 * i) AS s, sum(c::float8 * i * i) AS q
                  FROM jsonb_array_elements_text(stats -> 'counts') WITH ORDINALITY e(c, i)) a,
                 (SELECT sum(c::float8) AS n, sum(c::float8 * i) AS s, sum(c::float8 * i * i) AS q
                  FROM jsonb_array_elements_text(previous_stats -> 'counts') WITH ORDINALITY e(c, i)) b;
            test := CASE WHEN p_value IS NULL THEN 'none: fewer than 2 answers in a period, or no spread' ELSE 'Welch''s t test' END;
        END IF;
    ELSIF kind IS NOT NULL THEN
        test := format('none: no test for %s', kind);
    END IF;
END
$$;
COMMENT ON FUNCTION kpi_change_test(text, jsonb, jsonb) IS
    'support_kpi: the two-sided p-value and test of the change of a KPI between two periods'' counts (kpi_change_stats)';

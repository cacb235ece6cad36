-- support_kpi 0.1.0 -> 0.2.0: ALTER EXTENSION support_kpi UPDATE TO '0.2.0'
--
-- 0.2.0 keeps every object of 0.1.0 and every stored value: the new library reads the
-- per-customer and per-segment summaries 0.1.0 stored (format version 1) and writes new ones
-- in format version 2. What changes in SQL:
-- * functions written in SQL or PL/pgSQL can no longer be redirected by the caller's
--   search_path (a pinned search_path, or a body parsed once at creation);
-- * every role may read the KPI catalog tables (kpi_band needs them).
\echo Use "ALTER EXTENSION support_kpi UPDATE TO '0.2.0'" to load this file. \quit

ALTER FUNCTION _kpi_check_bands(text, text[], numeric[], text[], numeric, numeric)
    SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION _kpi_mark_customized() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION _kpi_replace_shipped() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION kpi_band(text, numeric) SET search_path = pg_catalog, pg_temp;

GRANT SELECT ON kpi_catalog, kpi_benchmark, kpi_band_edges TO PUBLIC;

CREATE OR REPLACE FUNCTION contact_rate_by_segment_final(segment_rate_summary) RETURNS jsonb
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT jsonb_object_agg(segment, jsonb_build_object(
               'customers', customers, 'contacts', contacts, 'rate', rate,
               'band', @extschema@.kpi_band('contact_rate', rate)))
    FROM (SELECT s.key AS segment,
                 (s.value ->> 'customers')::bigint AS customers,
                 (s.value ->> 'events')::bigint AS contacts,
                 (s.value ->> 'events')::bigint * 100.0 / nullif((s.value ->> 'customers')::bigint, 0) AS rate
          FROM jsonb_each(@extschema@.segment_rate_counts($1)) s) per_segment;
END;

CREATE OR REPLACE FUNCTION escalation_rate_ci(summary share_summary, confidence float8 DEFAULT 0.95,
                                              OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.share_wilson_bound(summary, confidence, false)::numeric,
           @extschema@.share_wilson_bound(summary, confidence, true)::numeric;
END;

CREATE OR REPLACE FUNCTION complaint_escalation_rate_ci(summary share_summary, confidence float8 DEFAULT 0.95,
                                                        OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.share_wilson_bound(summary, confidence, false)::numeric,
           @extschema@.share_wilson_bound(summary, confidence, true)::numeric;
END;

CREATE OR REPLACE FUNCTION complaint_resolution_rate_ci(summary share_summary, confidence float8 DEFAULT 0.95,
                                                        OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.share_wilson_bound(summary, confidence, false)::numeric,
           @extschema@.share_wilson_bound(summary, confidence, true)::numeric;
END;

CREATE OR REPLACE FUNCTION cross_functional_resolution_rate_ci(summary share_summary, confidence float8 DEFAULT 0.95,
                                                               OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.share_wilson_bound(summary, confidence, false)::numeric,
           @extschema@.share_wilson_bound(summary, confidence, true)::numeric;
END;

CREATE OR REPLACE FUNCTION first_contact_resolution_rate_ci(summary share_summary, confidence float8 DEFAULT 0.95,
                                                            OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.share_wilson_bound(summary, confidence, false)::numeric,
           @extschema@.share_wilson_bound(summary, confidence, true)::numeric;
END;

CREATE OR REPLACE FUNCTION sla_compliance_rate_ci(summary share_summary, confidence float8 DEFAULT 0.95,
                                                  OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.share_wilson_bound(summary, confidence, false)::numeric,
           @extschema@.share_wilson_bound(summary, confidence, true)::numeric;
END;

CREATE OR REPLACE FUNCTION complaint_resolution_efficiency_ci(summary share_summary, confidence float8 DEFAULT 0.95,
                                                              OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.share_wilson_bound(summary, confidence, false)::numeric,
           @extschema@.share_wilson_bound(summary, confidence, true)::numeric;
END;

CREATE OR REPLACE FUNCTION churn_rate_ci(summary share_summary, confidence float8 DEFAULT 0.95,
                                         OUT lower numeric, OUT upper numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.share_wilson_bound(summary, confidence, false)::numeric,
           @extschema@.share_wilson_bound(summary, confidence, true)::numeric;
END;

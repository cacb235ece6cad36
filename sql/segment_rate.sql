-- contact_rate_by_segment: every segment's contact rate in one jsonb, with counts and band.
-- State: segment_rate_summary (per segment: distinct customers + contacts), a flat value
-- updated in place while aggregating. Support functions: src/segment_rate.rs. Math:
-- crates/kpi_core/src/flat.rs (in memory) and crates/kpi_core/src/segment_rate.rs (text, binary).

CREATE TYPE segment_rate_summary;

CREATE FUNCTION segment_rate_summary_in(cstring) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION segment_rate_summary_out(segment_rate_summary) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION segment_rate_summary_recv(internal) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION segment_rate_summary_send(segment_rate_summary) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE segment_rate_summary (
    INPUT = segment_rate_summary_in, OUTPUT = segment_rate_summary_out,
    RECEIVE = segment_rate_summary_recv, SEND = segment_rate_summary_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = int4, STORAGE = extended
);
COMMENT ON TYPE segment_rate_summary IS
    'support_kpi: state of a per-segment rate, {"key_type", "segments": {name: {"events", "customers"}}}';

CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, bigint, "any") RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_int8' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, integer, "any") RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_int4' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, text, "any") RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, uuid, "any") RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_uuid' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_combine(segment_rate_summary, segment_rate_summary) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- {"<segment>": {"customers": n, "events": m}}, sorted by segment.
CREATE FUNCTION segment_rate_counts(segment_rate_summary) RETURNS jsonb
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Each segment's rate is computed exactly as contact_rate computes it, and banded with
-- the contact_rate entry of kpi_catalog.
CREATE FUNCTION contact_rate_by_segment_final(segment_rate_summary) RETURNS jsonb
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

-- contact_rate_by_segment(...) and contact_summary_by_segment(...), its state as a value.
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id bigint, contact_id "any") (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id bigint, contact_id "any") (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id integer, contact_id "any") (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id integer, contact_id "any") (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id text, contact_id "any") (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id text, contact_id "any") (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id uuid, contact_id "any") (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id uuid, contact_id "any") (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);

-- The same with a concrete contact key type (bigint, integer, text or uuid), for Citus (see
-- sql/customer_rate.sql).
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, bigint, bigint) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_int8' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, bigint, integer) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_int8' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, bigint, text) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_int8' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, bigint, uuid) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_int8' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, integer, bigint) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_int4' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, integer, integer) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_int4' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, integer, text) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_int4' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, integer, uuid) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_int4' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, text, bigint) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, text, integer) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, text, text) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, text, uuid) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, uuid, bigint) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_uuid' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, uuid, integer) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_uuid' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, uuid, text) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_uuid' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_rate_trans(segment_rate_summary, text, uuid, uuid) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME', 'segment_rate_trans_uuid' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id bigint, contact_id bigint) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id bigint, contact_id bigint) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id bigint, contact_id integer) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id bigint, contact_id integer) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id bigint, contact_id text) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id bigint, contact_id text) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id bigint, contact_id uuid) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id bigint, contact_id uuid) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id integer, contact_id bigint) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id integer, contact_id bigint) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id integer, contact_id integer) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id integer, contact_id integer) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id integer, contact_id text) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id integer, contact_id text) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id integer, contact_id uuid) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id integer, contact_id uuid) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id text, contact_id bigint) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id text, contact_id bigint) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id text, contact_id integer) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id text, contact_id integer) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id text, contact_id text) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id text, contact_id text) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id text, contact_id uuid) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id text, contact_id uuid) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id uuid, contact_id bigint) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id uuid, contact_id bigint) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id uuid, contact_id integer) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id uuid, contact_id integer) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id uuid, contact_id text) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id uuid, contact_id text) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id uuid, contact_id uuid) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id uuid, contact_id uuid) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
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
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id bigint, has_contact boolean) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id integer, has_contact boolean) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id integer, has_contact boolean) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id text, has_contact boolean) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id text, has_contact boolean) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id uuid, has_contact boolean) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id uuid, has_contact boolean) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);

CREATE AGGREGATE rollup(segment_rate_summary) (
    SFUNC = segment_rate_combine, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE FUNCTION contact_rate_by_segment(summary segment_rate_summary) RETURNS jsonb
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    RETURN @extschema@.contact_rate_by_segment_final(summary);

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

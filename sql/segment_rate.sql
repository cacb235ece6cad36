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

CREATE FUNCTION segment_rate_combine(segment_rate_summary, segment_rate_summary) RETURNS segment_rate_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- {"<segment>": {"customers": n, "events": m}}, sorted by segment.
CREATE FUNCTION segment_rate_counts(segment_rate_summary) RETURNS jsonb
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- contact_rate_by_segment(segment, customer_id, contact_id), contact_summary_by_segment,
-- their transition functions, contact_rate_by_segment(summary) and contact_rate_by_segment_ci
-- are generated from the KPI registry: sql/segment_rate_kpis.sql.

CREATE AGGREGATE rollup(segment_rate_summary) (
    SFUNC = segment_rate_combine, STYPE = segment_rate_summary, SSPACE = 512,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);

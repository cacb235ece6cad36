-- contact_rate_by_segment: every segment's contact rate in one jsonb, with counts and band.
-- State: segment_rate_summary (per segment: distinct customers + contacts), a flat value
-- updated in place while aggregating. Support functions: src/segment_rate.rs. Math:
-- crates/kpi_core/src/flat.rs (in memory) and crates/kpi_core/src/segment_rate.rs (text, binary).

-- {"<segment>": {"customers": n, "events": m}}, sorted by segment.
CREATE FUNCTION segment_rate_counts(segment_rate_summary) RETURNS jsonb
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- contact_rate_by_segment(segment, customer_id, contact_id), contact_summary_by_segment,
-- their transition functions, contact_rate_by_segment(summary) and contact_rate_by_segment_ci
-- are generated from the KPI registry: sql/segment_rate_kpis.sql.

-- The summary with every customer listed, at any size, as jsonb; the type's text form packs
-- more than 64 integer or uuid customers ("packed": base64), e.g.
-- summary_json(contact_summary_by_segment(c.segment, c.id, k.id)) -> 'segments'.
CREATE FUNCTION summary_json(summary segment_rate_summary) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'segment_rate_summary_listed' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Per-customer rates over customers LEFT JOIN events: events / distinct customers * scale.
-- State: customer_rate_summary (distinct customer keys + event count), a flat value updated
-- in place while aggregating. Support functions: src/customer_rate.rs. Math:
-- crates/kpi_core/src/flat.rs (in memory) and crates/kpi_core/src/customer_rate.rs (text, binary).

CREATE TYPE customer_rate_summary;

CREATE FUNCTION customer_rate_summary_in(cstring) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION customer_rate_summary_out(customer_rate_summary) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION customer_rate_summary_recv(internal) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION customer_rate_summary_send(customer_rate_summary) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE customer_rate_summary (
    INPUT = customer_rate_summary_in, OUTPUT = customer_rate_summary_out,
    RECEIVE = customer_rate_summary_recv, SEND = customer_rate_summary_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = int4, STORAGE = extended
);
COMMENT ON TYPE customer_rate_summary IS
    'support_kpi: state of a per-customer rate, {"key_type", "events", "customers": [distinct keys]}';

-- One transition function per customer key type; the event key may be of any type.
CREATE FUNCTION customer_rate_trans(customer_rate_summary, bigint, "any") RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_int8' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_trans(customer_rate_summary, integer, "any") RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_int4' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_trans(customer_rate_summary, text, "any") RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_trans(customer_rate_summary, uuid, "any") RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_uuid' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_combine(customer_rate_summary, customer_rate_summary) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION incident_rate_final(customer_rate_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'customer_rate_per_1000' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION contact_rate_final(customer_rate_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'customer_rate_per_100' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION interaction_rate_final(customer_rate_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'customer_rate_per_100' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- <kpi>(customer_id <key type>, <event>_id "any") for every KPI and customer key type.
-- and <kpi>_summary(customer_id, <event>_id), the same without the final function: the state
-- as a value, to store and combine later with rollup().
CREATE AGGREGATE incident_rate(customer_id bigint, incident_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id bigint, incident_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id integer, incident_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id integer, incident_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id text, incident_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id text, incident_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id uuid, incident_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id uuid, incident_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
-- the rate of a summary
CREATE FUNCTION incident_rate(summary customer_rate_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'customer_rate_per_1000' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE contact_rate(customer_id bigint, contact_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id bigint, contact_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id integer, contact_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id integer, contact_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id text, contact_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id text, contact_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id uuid, contact_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id uuid, contact_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
-- the rate of a summary
CREATE FUNCTION contact_rate(summary customer_rate_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'customer_rate_per_100' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE interaction_rate(customer_id bigint, interaction_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id bigint, interaction_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id integer, interaction_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id integer, interaction_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id text, interaction_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id text, interaction_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id uuid, interaction_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id uuid, interaction_id "any") (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
-- the rate of a summary
CREATE FUNCTION interaction_rate(summary customer_rate_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'customer_rate_per_100' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The same aggregates with a concrete event key type (bigint, integer, text or uuid): a
-- distributed planner that checks an aggregate's declared argument types against the actual
-- ones (Citus) pushes these down to its workers; it refuses "any". Same support functions.
CREATE FUNCTION customer_rate_trans(customer_rate_summary, bigint, bigint) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_int8' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_trans(customer_rate_summary, bigint, integer) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_int8' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_trans(customer_rate_summary, bigint, text) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_int8' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_trans(customer_rate_summary, bigint, uuid) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_int8' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_trans(customer_rate_summary, integer, bigint) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_int4' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_trans(customer_rate_summary, integer, integer) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_int4' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_trans(customer_rate_summary, integer, text) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_int4' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_trans(customer_rate_summary, integer, uuid) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_int4' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_trans(customer_rate_summary, text, bigint) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_trans(customer_rate_summary, text, integer) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_trans(customer_rate_summary, text, text) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_trans(customer_rate_summary, text, uuid) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_trans(customer_rate_summary, uuid, bigint) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_uuid' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_trans(customer_rate_summary, uuid, integer) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_uuid' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_trans(customer_rate_summary, uuid, text) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_uuid' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_rate_trans(customer_rate_summary, uuid, uuid) RETURNS customer_rate_summary
    AS 'MODULE_PATHNAME', 'customer_rate_trans_uuid' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE incident_rate(customer_id bigint, incident_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id bigint, incident_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id bigint, incident_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id bigint, incident_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id bigint, incident_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id bigint, incident_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id bigint, incident_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id bigint, incident_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id integer, incident_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id integer, incident_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id integer, incident_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id integer, incident_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id integer, incident_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id integer, incident_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id integer, incident_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id integer, incident_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id text, incident_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id text, incident_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id text, incident_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id text, incident_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id text, incident_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id text, incident_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id text, incident_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id text, incident_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id uuid, incident_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id uuid, incident_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id uuid, incident_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id uuid, incident_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id uuid, incident_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id uuid, incident_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id uuid, incident_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id uuid, incident_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);

CREATE AGGREGATE contact_rate(customer_id bigint, contact_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id bigint, contact_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id bigint, contact_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id bigint, contact_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id bigint, contact_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id bigint, contact_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id bigint, contact_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id bigint, contact_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id integer, contact_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id integer, contact_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id integer, contact_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id integer, contact_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id integer, contact_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id integer, contact_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id integer, contact_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id integer, contact_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id text, contact_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id text, contact_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id text, contact_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id text, contact_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id text, contact_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id text, contact_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id text, contact_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id text, contact_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id uuid, contact_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id uuid, contact_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id uuid, contact_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id uuid, contact_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id uuid, contact_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id uuid, contact_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id uuid, contact_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id uuid, contact_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);

CREATE AGGREGATE interaction_rate(customer_id bigint, interaction_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id bigint, interaction_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id bigint, interaction_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id bigint, interaction_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id bigint, interaction_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id bigint, interaction_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id bigint, interaction_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id bigint, interaction_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id integer, interaction_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id integer, interaction_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id integer, interaction_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id integer, interaction_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id integer, interaction_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id integer, interaction_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id integer, interaction_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id integer, interaction_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id text, interaction_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id text, interaction_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id text, interaction_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id text, interaction_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id text, interaction_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id text, interaction_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id text, interaction_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id text, interaction_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id uuid, interaction_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id uuid, interaction_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id uuid, interaction_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id uuid, interaction_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id uuid, interaction_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id uuid, interaction_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id uuid, interaction_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id uuid, interaction_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);

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
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id bigint, has_incident boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id integer, has_incident boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id integer, has_incident boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id text, has_incident boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id text, has_incident boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id uuid, has_incident boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id uuid, has_incident boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id bigint, has_contact boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id bigint, has_contact boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id integer, has_contact boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id integer, has_contact boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id text, has_contact boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id text, has_contact boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id uuid, has_contact boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id uuid, has_contact boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id bigint, has_interaction boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id bigint, has_interaction boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id integer, has_interaction boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id integer, has_interaction boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id text, has_interaction boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id text, has_interaction boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id uuid, has_interaction boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id uuid, has_interaction boolean) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);

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

-- Combines summaries: a union of the customers, a sum of the events.
CREATE AGGREGATE rollup(customer_rate_summary) (
    SFUNC = customer_rate_combine, STYPE = customer_rate_summary, SSPACE = 128,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);

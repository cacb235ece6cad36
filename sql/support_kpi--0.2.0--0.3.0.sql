-- support_kpi 0.2.0 -> 0.3.0: ALTER EXTENSION support_kpi UPDATE TO '0.3.0'
--
-- 0.3.0 keeps every object and stored value of 0.2.0 and adds, beside the per-customer
-- rates and contact_rate_by_segment whose event key is "any", the same aggregates with a
-- concrete event key type (bigint, integer, text, uuid). Citus pushes an aggregate down to its
-- workers only when its declared argument types equal the actual ones, which "any" never
-- does. Queries whose event key has one of these types now resolve to the concrete versions
-- (same support functions, same results); other types still go to "any". The same statements
-- are in sql/customer_rate.sql and sql/segment_rate.sql.
\echo Use "ALTER EXTENSION support_kpi UPDATE TO '0.3.0'" to load this file. \quit

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
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id bigint, incident_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id bigint, incident_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id bigint, incident_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id bigint, incident_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id bigint, incident_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id bigint, incident_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id bigint, incident_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id integer, incident_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id integer, incident_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id integer, incident_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id integer, incident_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id integer, incident_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id integer, incident_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id integer, incident_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id integer, incident_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id text, incident_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id text, incident_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id text, incident_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id text, incident_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id text, incident_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id text, incident_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id text, incident_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id text, incident_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id uuid, incident_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id uuid, incident_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id uuid, incident_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id uuid, incident_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id uuid, incident_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id uuid, incident_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE incident_rate(customer_id uuid, incident_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = incident_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE incident_summary(customer_id uuid, incident_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);

CREATE AGGREGATE contact_rate(customer_id bigint, contact_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id bigint, contact_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id bigint, contact_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id bigint, contact_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id bigint, contact_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id bigint, contact_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id bigint, contact_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id bigint, contact_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id integer, contact_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id integer, contact_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id integer, contact_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id integer, contact_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id integer, contact_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id integer, contact_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id integer, contact_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id integer, contact_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id text, contact_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id text, contact_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id text, contact_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id text, contact_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id text, contact_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id text, contact_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id text, contact_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id text, contact_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id uuid, contact_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id uuid, contact_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id uuid, contact_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id uuid, contact_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id uuid, contact_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id uuid, contact_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate(customer_id uuid, contact_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = contact_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary(customer_id uuid, contact_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);

CREATE AGGREGATE interaction_rate(customer_id bigint, interaction_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id bigint, interaction_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id bigint, interaction_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id bigint, interaction_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id bigint, interaction_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id bigint, interaction_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id bigint, interaction_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id bigint, interaction_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id integer, interaction_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id integer, interaction_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id integer, interaction_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id integer, interaction_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id integer, interaction_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id integer, interaction_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id integer, interaction_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id integer, interaction_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id text, interaction_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id text, interaction_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id text, interaction_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id text, interaction_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id text, interaction_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id text, interaction_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id text, interaction_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id text, interaction_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id uuid, interaction_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id uuid, interaction_id bigint) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id uuid, interaction_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id uuid, interaction_id integer) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id uuid, interaction_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id uuid, interaction_id text) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_rate(customer_id uuid, interaction_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, FINALFUNC = interaction_rate_final, PARALLEL = SAFE
);
CREATE AGGREGATE interaction_summary(customer_id uuid, interaction_id uuid) (
    SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
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
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id bigint, contact_id bigint) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id bigint, contact_id integer) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id bigint, contact_id integer) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id bigint, contact_id text) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id bigint, contact_id text) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id bigint, contact_id uuid) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id bigint, contact_id uuid) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id integer, contact_id bigint) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id integer, contact_id bigint) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id integer, contact_id integer) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id integer, contact_id integer) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id integer, contact_id text) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id integer, contact_id text) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id integer, contact_id uuid) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id integer, contact_id uuid) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id text, contact_id bigint) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id text, contact_id bigint) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id text, contact_id integer) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id text, contact_id integer) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id text, contact_id text) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id text, contact_id text) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id text, contact_id uuid) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id text, contact_id uuid) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id uuid, contact_id bigint) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id uuid, contact_id bigint) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id uuid, contact_id integer) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id uuid, contact_id integer) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id uuid, contact_id text) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id uuid, contact_id text) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);
CREATE AGGREGATE contact_rate_by_segment(segment text, customer_id uuid, contact_id uuid) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, FINALFUNC = contact_rate_by_segment_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE contact_summary_by_segment(segment text, customer_id uuid, contact_id uuid) (
    SFUNC = segment_rate_trans, STYPE = segment_rate_summary,
    COMBINEFUNC = segment_rate_combine, PARALLEL = SAFE
);

-- support_kpi 0.3.0 -> 0.4.0: ALTER EXTENSION support_kpi UPDATE TO '0.4.0'
--
-- 0.4.0 keeps every object and stored value of 0.3.0 and adds the per-customer rates and
-- contact_rate_by_segment with a boolean "has an event" (e.g. incident_rate(customer_id,
-- is_incident)): true counts an event, false and NULL count the customer only. Like the
-- other concrete signatures, Citus pushes these down to its workers.
--
-- Changed behaviour: before 0.4.0 a boolean went to the "any" signature and every non-NULL
-- value, false included, counted as an event. From 0.4.0 a boolean counts as an event only
-- when true, whichever signature a query or view resolves to, so a view made before the
-- update, its dump and a new query give one answer. Stored summaries are unchanged.
-- The same statements are in sql/customer_rate.sql and sql/segment_rate.sql.
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

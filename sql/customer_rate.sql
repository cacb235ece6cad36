-- Per-customer rates over customers LEFT JOIN events: events / distinct customers * scale.
-- State: customer_rate_summary (distinct customer keys + event count), an expanded object
-- while aggregating. Support functions: src/customer_rate.rs. Math: crates/kpi_core/src/customer_rate.rs.

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
DO $$
DECLARE
    kpi text;
    key_type text;
BEGIN
    FOREACH kpi IN ARRAY ARRAY['incident', 'contact', 'interaction'] LOOP
        FOREACH key_type IN ARRAY ARRAY['bigint', 'integer', 'text', 'uuid'] LOOP
            EXECUTE format(
                'CREATE AGGREGATE %1$I(customer_id %2$s, %3$I "any") (
                     SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
                     COMBINEFUNC = customer_rate_combine, FINALFUNC = %4$I, PARALLEL = SAFE)',
                kpi || '_rate', key_type, kpi || '_id', kpi || '_rate_final');
            EXECUTE format(
                'CREATE AGGREGATE %1$I(customer_id %2$s, %3$I "any") (
                     SFUNC = customer_rate_trans, STYPE = customer_rate_summary,
                     COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE)',
                kpi || '_summary', key_type, kpi || '_id');
        END LOOP;
        -- the rate of a summary: incident_rate(customer_rate_summary), ...
        EXECUTE format(
            'CREATE FUNCTION %1$I(summary customer_rate_summary) RETURNS numeric
                 AS ''MODULE_PATHNAME'', %2$L LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE',
            kpi || '_rate', CASE kpi WHEN 'incident' THEN 'customer_rate_per_1000' ELSE 'customer_rate_per_100' END);
    END LOOP;
END
$$;

-- Combines summaries: a union of the customers, a sum of the events.
CREATE AGGREGATE rollup(customer_rate_summary) (
    SFUNC = customer_rate_combine, STYPE = customer_rate_summary,
    COMBINEFUNC = customer_rate_combine, PARALLEL = SAFE
);

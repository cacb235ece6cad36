-- The KPI catalog: what each KPI is, which direction is good, and its bands.
-- kpi_band() reads it; BI tools read it (and kpi_band_edges, kpi_benchmark) to draw band lines.
--
-- Users may change a shipped KPI's bands and add KPIs of their own. Rows they touch are marked
-- customized, and only those rows are dumped by pg_dump; on restore, a dumped row replaces the
-- row CREATE EXTENSION shipped (see _kpi_replace_shipped). Untouched rows come from the
-- extension, so a later release can correct them.

CREATE FUNCTION _kpi_check_bands(
    kpi text, band_labels text[], band_edges numeric[], edge_belongs_to text[],
    min_value numeric, max_value numeric
) RETURNS boolean LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n_edges int := coalesce(cardinality(band_edges), 0);
    hint text := 'Give n band labels from the lowest values to the highest, n-1 ascending edges, '
              || 'and for each edge whether its value belongs to the ''lower'' or the ''upper'' band.';
BEGIN
    IF coalesce(cardinality(band_labels), 0) = 0 OR array_position(band_labels, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'KPI "%" needs at least one band label and no NULL label', kpi
            USING ERRCODE = 'check_violation', HINT = hint;
    END IF;
    IF (SELECT count(DISTINCT l) FROM unnest(band_labels) l) <> cardinality(band_labels) THEN
        RAISE EXCEPTION 'KPI "%" has duplicate band labels %', kpi, band_labels
            USING ERRCODE = 'check_violation', HINT = hint;
    END IF;
    IF n_edges <> cardinality(band_labels) - 1 THEN
        RAISE EXCEPTION 'KPI "%" has % band labels but % edges', kpi, cardinality(band_labels), n_edges
            USING ERRCODE = 'check_violation', HINT = hint;
    END IF;
    IF coalesce(cardinality(edge_belongs_to), 0) <> n_edges
       OR EXISTS (SELECT FROM unnest(edge_belongs_to) b WHERE b IS NULL OR b NOT IN ('lower', 'upper')) THEN
        RAISE EXCEPTION 'KPI "%" needs one ''lower'' or ''upper'' per edge in edge_belongs_to, got %',
            kpi, edge_belongs_to
            USING ERRCODE = 'check_violation', HINT = hint;
    END IF;
    IF EXISTS (SELECT FROM unnest(band_edges) e WHERE e IS NULL OR e IN ('NaN', 'Infinity', '-Infinity')) THEN
        RAISE EXCEPTION 'KPI "%" has a NULL, NaN or infinite band edge: %', kpi, band_edges
            USING ERRCODE = 'check_violation', HINT = hint;
    END IF;
    IF EXISTS (SELECT FROM generate_series(2, n_edges) i WHERE band_edges[i] <= band_edges[i - 1]) THEN
        RAISE EXCEPTION 'band edges of KPI "%" must be strictly ascending, got %', kpi, band_edges
            USING ERRCODE = 'check_violation', HINT = hint;
    END IF;
    IF min_value IN ('NaN', 'Infinity', '-Infinity') OR max_value IN ('NaN', 'Infinity', '-Infinity')
       OR min_value > max_value THEN
        RAISE EXCEPTION 'KPI "%" has an invalid value range [%, %]', kpi, min_value, max_value
            USING ERRCODE = 'check_violation', HINT = 'min_value and max_value are finite, min_value <= max_value, or NULL for no bound.';
    END IF;
    RETURN true;
END
$$;

CREATE TABLE kpi_catalog (
    kpi             text PRIMARY KEY,   -- the name of the KPI's aggregate, e.g. 'incident_rate'
    title           text NOT NULL,
    unit            text NOT NULL,
    direction       text NOT NULL CHECK (direction IN ('lower_is_better', 'higher_is_better', 'target_range')),
    formula         text NOT NULL,
    band_labels     text[] NOT NULL,    -- from the band of the lowest values to the highest
    band_edges      numeric[] NOT NULL, -- band_edges[i] separates band_labels[i] and band_labels[i+1]
    edge_belongs_to text[] NOT NULL,    -- per edge: 'lower' or 'upper', the band the edge value is in
    min_value       numeric,            -- the values the KPI can take; NULL: unbounded
    max_value       numeric,
    customized      boolean NOT NULL DEFAULT true, -- false only for rows as the extension shipped them
    CHECK (_kpi_check_bands(kpi, band_labels, band_edges, edge_belongs_to, min_value, max_value))
);

COMMENT ON TABLE kpi_catalog IS
    'support_kpi: one row per KPI (named like its aggregate) with its unit, direction and bands; kpi_band() reads it';

CREATE TABLE kpi_benchmark (
    kpi        text NOT NULL,
    population text NOT NULL,          -- e.g. 'retail industry'
    statistic  text NOT NULL,          -- e.g. 'average', 'median', 'top quartile'
    value      numeric NOT NULL CHECK (value NOT IN ('NaN', 'Infinity', '-Infinity')),
    source     text,
    customized boolean NOT NULL DEFAULT true,
    PRIMARY KEY (kpi, population, statistic)
);

COMMENT ON TABLE kpi_benchmark IS 'support_kpi: published benchmark values of KPIs, for reference lines in reports';

-- Marks a row the user changed, so pg_dump keeps it.
CREATE FUNCTION _kpi_mark_customized() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.customized IS NOT DISTINCT FROM OLD.customized THEN
        NEW.customized := true;
    END IF;
    RETURN NEW;
END
$$;

-- A row inserted with the key of a row still as shipped replaces it. This is what lets
-- pg_restore bring back a customized shipped KPI after CREATE EXTENSION has shipped it anew.
-- TG_ARGV names the key columns.
CREATE FUNCTION _kpi_replace_shipped() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    same_key text;
BEGIN
    SELECT string_agg(format('%I = ($1).%I', k, k), ' AND ') INTO same_key FROM unnest(TG_ARGV) k;
    EXECUTE format('DELETE FROM %I.%I WHERE NOT customized AND %s', TG_TABLE_SCHEMA, TG_TABLE_NAME, same_key)
        USING NEW;
    RETURN NEW;
END
$$;

CREATE TRIGGER kpi_catalog_customized BEFORE UPDATE ON kpi_catalog
    FOR EACH ROW EXECUTE FUNCTION _kpi_mark_customized();
CREATE TRIGGER kpi_catalog_replace_shipped BEFORE INSERT ON kpi_catalog
    FOR EACH ROW EXECUTE FUNCTION _kpi_replace_shipped('kpi');
CREATE TRIGGER kpi_benchmark_customized BEFORE UPDATE ON kpi_benchmark
    FOR EACH ROW EXECUTE FUNCTION _kpi_mark_customized();
CREATE TRIGGER kpi_benchmark_replace_shipped BEFORE INSERT ON kpi_benchmark
    FOR EACH ROW EXECUTE FUNCTION _kpi_replace_shipped('kpi', 'population', 'statistic');

-- The bands of ../shared/kpi-spec.md. Where the source's bands leave gaps (contact rate
-- 0-5, 6-10, 11+), a value in a gap goes to the band whose upper edge it passes.
INSERT INTO kpi_catalog
    (kpi, title, unit, direction, formula, band_labels, band_edges, edge_belongs_to, min_value, max_value, customized)
VALUES
    ('incident_rate', 'Customer Incident Rate', 'incidents per 1,000 customers', 'lower_is_better',
     'incidents / distinct customers * 1000',
     '{excellent,acceptable,concern}', '{5,10}', '{upper,lower}', 0, NULL, false),
    ('contact_rate', 'Customer Service Contact Rate', '% (contacts per 100 customers)', 'lower_is_better',
     'contacts / distinct customers * 100',
     '{optimal,acceptable,concern}', '{5,10}', '{lower,lower}', 0, NULL, false),
    ('escalation_rate', 'Account Escalation Rate', '% of cases', 'lower_is_better',
     'escalated cases / cases * 100',
     '{excellent,acceptable,concern}', '{3,5}', '{upper,lower}', 0, 100, false),
    ('interaction_rate', 'Customer Interaction Rate', '% (interactions per 100 customers)', 'target_range',
     'interactions / distinct customers * 100',
     '{below target,on target,above target}', '{60,80}', '{upper,lower}', 0, NULL, false);

-- The complaint-handling (ISO 10002), survey and retention KPIs. The spec gives bands only
-- for the complaint escalation rate (those of escalation_rate); the others ship with the
-- single band 'no bands set' until a team sets its own targets, e.g.
--   UPDATE kpi_catalog SET band_labels = '{concern,good,excellent}', band_edges = '{0,50}',
--                          edge_belongs_to = '{upper,upper}' WHERE kpi = 'nps';
-- Time KPIs are banded in hours: kpi_band('avg_first_response_time', extract(epoch FROM x) / 3600).
INSERT INTO kpi_catalog
    (kpi, title, unit, direction, formula, band_labels, band_edges, edge_belongs_to, min_value, max_value, customized)
VALUES
    ('complaint_escalation_rate', 'Complaint Escalation Rate', '% of complaints', 'lower_is_better',
     'escalated complaints / complaints * 100',
     '{excellent,acceptable,concern}', '{3,5}', '{upper,lower}', 0, 100, false),
    ('complaint_resolution_rate', 'Complaint Resolution Rate', '% of complaints', 'higher_is_better',
     'resolved complaints (escalated or not) / complaints * 100',
     '{no bands set}', '{}', '{}', 0, 100, false),
    ('cross_functional_resolution_rate', 'Cross-Functional Resolution Rate', '% of complaints', 'lower_is_better',
     'complaints resolved cross-functionally / complaints * 100',
     '{no bands set}', '{}', '{}', 0, 100, false),
    ('first_contact_resolution_rate', 'First Contact Resolution Rate', '% of cases', 'higher_is_better',
     'cases resolved at the first contact / cases * 100',
     '{no bands set}', '{}', '{}', 0, 100, false),
    ('sla_compliance_rate', 'SLA Compliance', '% of cases', 'higher_is_better',
     'cases that met their target / cases * 100',
     '{no bands set}', '{}', '{}', 0, 100, false),
    ('complaint_resolution_efficiency', 'Complaint Resolution Efficiency', '% of complaints', 'higher_is_better',
     'complaints resolved within the target time / complaints * 100',
     '{no bands set}', '{}', '{}', 0, 100, false),
    ('reopen_rate', 'Reopen Rate', '% of tickets', 'lower_is_better',
     'tickets that left a solved status for an unsolved one at least once / tickets * 100',
     '{no bands set}', '{}', '{}', 0, 100, false),
    ('avg_first_response_time', 'Average Response Time', 'hours (the aggregate returns an interval)', 'lower_is_better',
     'sum of (first response - opened) / cases with a first response; cases without one are counted separately',
     '{no bands set}', '{}', '{}', 0, NULL, false),
    ('avg_resolution_time', 'Average Resolution Time', 'hours (the aggregate returns an interval)', 'lower_is_better',
     'sum of (resolved - opened) / resolved cases; unresolved cases are counted separately',
     '{no bands set}', '{}', '{}', 0, NULL, false),
    ('avg_handling_time', 'Average Handling Time', 'hours (the aggregate returns an interval)', 'lower_is_better',
     'sum of handling times / handled contacts',
     '{no bands set}', '{}', '{}', 0, NULL, false),
    ('median_first_response_time', 'Median Response Time', 'hours (the aggregate returns an interval)', 'lower_is_better',
     'middle first-response time (percentile_disc 0.5) of cases with a first response, within 1%',
     '{no bands set}', '{}', '{}', 0, NULL, false),
    ('median_resolution_time', 'Median Resolution Time', 'hours (the aggregate returns an interval)', 'lower_is_better',
     'middle resolution time (percentile_disc 0.5) of resolved cases, within 1%',
     '{no bands set}', '{}', '{}', 0, NULL, false),
    ('median_handling_time', 'Median Handling Time', 'hours (the aggregate returns an interval)', 'lower_is_better',
     'middle handling time (percentile_disc 0.5) of handled contacts, within 1%',
     '{no bands set}', '{}', '{}', 0, NULL, false),
    ('complaint_resolution_cost', 'Complaint Resolution Cost', 'currency of the cost column per resolved complaint', 'lower_is_better',
     'total resolution cost / resolved complaints',
     '{no bands set}', '{}', '{}', 0, NULL, false),
    ('nps', 'Net Promoter Score', 'score from -100 to 100', 'higher_is_better',
     '% promoters (9-10) - % detractors (0-6) among answers on 0-10',
     '{no bands set}', '{}', '{}', -100, 100, false),
    ('csat', 'Customer Satisfaction Score (CSAT)', '% of answers', 'higher_is_better',
     'answers of 4 or 5 / answers * 100, answers on 1-5',
     '{no bands set}', '{}', '{}', 0, 100, false),
    ('ces', 'Customer Effort Score (CES 2.0)', 'mean answer on 1-7 (7: very easy)', 'higher_is_better',
     'sum of answers / answers, answers on 1-7',
     '{no bands set}', '{}', '{}', 1, 7, false),
    ('churn_rate', 'Customer Churn Rate', '% of the customers at the start of the period', 'lower_is_better',
     'customers lost in the period / customers at its start * 100',
     '{no bands set}', '{}', '{}', 0, 100, false);

INSERT INTO kpi_benchmark (kpi, population, statistic, value, source, customized) VALUES
    ('incident_rate', 'retail industry', 'average', 8, 'Gartner', false),
    ('incident_rate', 'telecommunications', 'median', 12, 'Forrester', false),
    ('incident_rate', 'financial services', 'top quartile', 4, 'McKinsey', false);

SELECT pg_catalog.pg_extension_config_dump('kpi_catalog', 'WHERE customized');
SELECT pg_catalog.pg_extension_config_dump('kpi_benchmark', 'WHERE customized');

-- One row per band edge, for reference lines in charts.
CREATE VIEW kpi_band_edges AS
SELECT c.kpi, c.title, c.unit, e.edge,
       c.band_labels[e.i] AS band_below,
       c.band_labels[e.i + 1] AS band_above,
       CASE c.edge_belongs_to[e.i] WHEN 'lower' THEN c.band_labels[e.i] ELSE c.band_labels[e.i + 1] END AS edge_band
FROM kpi_catalog c, unnest(c.band_edges) WITH ORDINALITY AS e(edge, i);

CREATE FUNCTION kpi_band(kpi text, value numeric) RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d @extschema@.kpi_catalog;
BEGIN
    SELECT * INTO d FROM @extschema@.kpi_catalog c WHERE c.kpi = kpi_band.kpi;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown KPI "%"', kpi
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Known KPIs: ' || (SELECT string_agg(c.kpi, ', ' ORDER BY c.kpi) FROM @extschema@.kpi_catalog c)
                         || '. Add your own to kpi_catalog.';
    END IF;
    IF value IN ('NaN', 'Infinity', '-Infinity') THEN
        RAISE EXCEPTION 'cannot classify % as a value of KPI "%"', value, kpi
            USING ERRCODE = 'invalid_parameter_value', HINT = 'A KPI value is a finite number.';
    END IF;
    IF value < d.min_value OR value > d.max_value THEN
        RAISE EXCEPTION '% is outside the range of KPI "%" (% to %)',
            value, kpi, coalesce(d.min_value::text, '-infinity'), coalesce(d.max_value::text, 'infinity')
            USING ERRCODE = 'numeric_value_out_of_range', HINT = 'Check the unit: ' || d.unit || '.';
    END IF;
    FOR i IN 1 .. cardinality(d.band_edges) LOOP
        IF value < d.band_edges[i] OR (value = d.band_edges[i] AND d.edge_belongs_to[i] = 'lower') THEN
            RETURN d.band_labels[i];
        END IF;
    END LOOP;
    RETURN d.band_labels[cardinality(d.band_labels)];
END
$$;

-- Every role may read the catalog (kpi_band and the BI views need it); only the extension's
-- owner, or a role it grants, may change it.
GRANT SELECT ON kpi_catalog, kpi_benchmark, kpi_band_edges TO PUBLIC;

COMMENT ON FUNCTION kpi_band(text, numeric) IS
    'support_kpi: the band (e.g. acceptable) of a KPI value, from kpi_catalog';

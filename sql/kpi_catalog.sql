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

-- The shipped rows (customized = false) come from the KPI registry: sql/kpi_registry.sql.
-- The bands are those of ../shared/kpi-spec.md. Where the source's bands leave gaps (contact
-- rate 0-5, 6-10, 11+), a value in a gap goes to the band whose upper edge it passes.

SELECT pg_catalog.pg_extension_config_dump('kpi_catalog', 'WHERE customized');
SELECT pg_catalog.pg_extension_config_dump('kpi_benchmark', 'WHERE customized');

-- One row per band edge, for reference lines in charts.
CREATE VIEW kpi_band_edges AS
SELECT c.kpi, c.title, c.unit, e.edge,
       c.band_labels[e.i] AS band_below,
       c.band_labels[e.i + 1] AS band_above,
       CASE c.edge_belongs_to[e.i] WHEN 'lower' THEN c.band_labels[e.i] ELSE c.band_labels[e.i + 1] END AS edge_band
FROM kpi_catalog c, unnest(c.band_edges) WITH ORDINALITY AS e(edge, i);

-- The hint of an unknown KPI: the catalog KPI whose name holds most of it (at least half of
-- its three-letter pieces; on a tie, the one with the fewest other pieces, then the first by
-- name), and where the known KPIs are. A hint of every known name would grow with the catalog.
CREATE FUNCTION _kpi_unknown_hint(kpi text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    WITH given AS (SELECT DISTINCT substr(lower(_kpi_unknown_hint.kpi), i, 3) AS piece
                   FROM pg_catalog.generate_series(1, length(_kpi_unknown_hint.kpi) - 2) i),
         known AS (SELECT c.kpi AS name, substr(lower(c.kpi), i, 3) AS piece
                   FROM @extschema@.kpi_catalog c, pg_catalog.generate_series(1, length(c.kpi) - 2) i),
         alike AS (SELECT k.name, count(DISTINCT k.piece) FILTER (WHERE k.piece IN (SELECT piece FROM given)) AS common,
                          count(DISTINCT k.piece) AS pieces
                   FROM known k GROUP BY k.name)
    SELECT coalesce('Did you mean "' || (
               SELECT a.name FROM alike a, (SELECT count(*) AS pieces FROM given) g
               WHERE g.pieces > 0 AND a.common * 2 >= g.pieces
               ORDER BY a.common DESC, a.pieces - a.common, a.name LIMIT 1) || '"? ', '')
           || 'The known KPIs are the rows of kpi_catalog (SELECT kpi FROM kpi_catalog); add your own there.';
END;

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
                  HINT = @extschema@._kpi_unknown_hint(kpi);
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

-- kpi_band(kpi, NULL) and kpi_band(kpi, '4.2'): an untyped literal (or a text value) is read
-- as a number, as it was before the summary overloads of kpi_band existed; NULL gives NULL.
-- (Without this overload PostgreSQL cannot choose between the numeric and the summary
-- versions for an untyped literal.) A summary literal needs its type: '...'::share_summary.
CREATE FUNCTION kpi_band(kpi text, value text) RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF value !~ '^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$'
       AND lower(btrim(value)) NOT IN ('nan', 'infinity', '+infinity', '-infinity', 'inf', '+inf', '-inf') THEN
        RAISE EXCEPTION 'cannot classify "%" as a value of KPI "%": it is not a number',
            @extschema@._kpi_excerpt(value), kpi
            USING ERRCODE = 'invalid_text_representation',
                  HINT = 'Pass the value as a number (e.g. 4.2), or a summary with its type, e.g. '
                         || '''{"hits":1,"total":12}''::share_summary or escalation_summary(escalated).';
    END IF;
    RETURN @extschema@.kpi_band(kpi, value::numeric);
END
$$;
COMMENT ON FUNCTION kpi_band(text, text) IS
    'support_kpi: the band of a KPI value given as text or as an untyped literal (kpi_band(kpi, NULL) is NULL)';

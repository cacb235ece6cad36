-- kpi_band(kpi, value) and the KPI catalog.
CREATE SCHEMA kpi_band;
SET search_path = kpi_band, public;
-- the rows of the spec's headline KPIs (tests/client/test_registry.py checks every shipped row
-- against the registry, field by field)
SELECT kpi, title, unit, direction, band_labels, band_edges, edge_belongs_to, min_value, max_value, customized
FROM kpi_catalog
WHERE kpi IN ('incident_rate', 'contact_rate', 'escalation_rate', 'interaction_rate', 'complaint_escalation_rate')
ORDER BY kpi;
SELECT * FROM kpi_benchmark ORDER BY value;
SELECT kpi, edge, band_below, band_above, edge_band FROM kpi_band_edges ORDER BY kpi, edge;
-- every edge of the spec, and values on both sides
SELECT v, kpi_band('incident_rate', v) FROM unnest('{0,4.9999,5,7,10,10.0001,15}'::numeric[]) v;
SELECT v, kpi_band('escalation_rate', v) FROM unnest('{0,2.9999,3,4,5,5.0001,100}'::numeric[]) v;
SELECT v, kpi_band('contact_rate', v) FROM unnest('{0,5,5.0001,5.5,10,10.5,11,250}'::numeric[]) v;
SELECT v, kpi_band('interaction_rate', v) FROM unnest('{0,59.9999,60,70,80,80.0001,140}'::numeric[]) v;
-- NULL in, NULL out
SELECT kpi_band('incident_rate', NULL::numeric), kpi_band(NULL, 5);
-- kpi_band also takes a summary (kpi_verdict.sql, since 0.4.0); a quoted or NULL value
-- without a type is still read as a number (kpi_band(text, text), since 0.5.1; 0.4.0 and
-- 0.5.0 found it ambiguous)
SELECT kpi_band('incident_rate', '5');
-- rejected values
SELECT kpi_band('incident_rate', 'NaN'::numeric);
SELECT kpi_band('incident_rate', 'Infinity'::numeric);
SELECT kpi_band('escalation_rate', 100.5);
SELECT kpi_band('incident_rate', -1);
SELECT kpi_band('churn', 5);
-- users change a shipped KPI's edges: the row becomes customized (kept by pg_dump)
UPDATE kpi_catalog SET band_edges = '{4,8}' WHERE kpi = 'incident_rate';
SELECT kpi_band('incident_rate', 9), customized FROM kpi_catalog WHERE kpi = 'incident_rate';
-- and add their own KPIs
INSERT INTO kpi_catalog (kpi, title, unit, direction, formula, band_labels, band_edges, edge_belongs_to, min_value, max_value)
VALUES ('qa_pass_rate', 'QA Pass Rate', '%', 'higher_is_better', 'audits passed / audits * 100',
        '{concern,acceptable,excellent}', '{70,85}', '{lower,upper}', 0, 100);
SELECT v, kpi_band('qa_pass_rate', v) FROM unnest('{70,70.1,85,99}'::numeric[]) v;
-- inconsistent band definitions are rejected with a clear message
UPDATE kpi_catalog SET band_edges = '{10,5}' WHERE kpi = 'qa_pass_rate';
UPDATE kpi_catalog SET band_edges = '{70,NaN}' WHERE kpi = 'qa_pass_rate';
UPDATE kpi_catalog SET band_edges = '{70}' WHERE kpi = 'qa_pass_rate';
UPDATE kpi_catalog SET edge_belongs_to = '{lower,middle}' WHERE kpi = 'qa_pass_rate';
UPDATE kpi_catalog SET band_labels = '{a,a,b}' WHERE kpi = 'qa_pass_rate';
UPDATE kpi_catalog SET min_value = 100, max_value = 0 WHERE kpi = 'qa_pass_rate';
UPDATE kpi_catalog SET direction = 'sideways' WHERE kpi = 'qa_pass_rate';
-- an untyped literal or NULL is read as a number (kpi_band(text, text)), as before the
-- summary overloads: NULL gives NULL, '4' is 4, and text that is no number is refused
SELECT kpi_band('escalation_rate', NULL) IS NULL AS null_gives_null;
SELECT kpi_band('escalation_rate', '4'), kpi_band('escalation_rate', ' 2.5e0 '), kpi_band('incident_rate', '+10');
SELECT kpi_band('escalation_rate', '4') = kpi_band('escalation_rate', 4) AS same_as_numeric;
SELECT kpi_band(NULL, '4') IS NULL AS null_kpi_gives_null;
SELECT kpi_band('escalation_rate', 'four');
SELECT kpi_band('escalation_rate', '{"hits":1,"total":12}');
SELECT kpi_band('escalation_rate', repeat('x', 1000));
SELECT kpi_band('escalation_rate', 'NaN');
SELECT kpi_band('escalation_rate', '{"hits":1,"total":12}'::share_summary);
SELECT kpi_band('no_such_kpi', '1');

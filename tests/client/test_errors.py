"""Errors are part of the API: bad input gets an ERROR with the right SQLSTATE and a hint,
and the session (and the server) survive it."""

import psycopg
import pytest

CASES = [
    # (statement, SQLSTATE, words the message must contain, words the hint must contain)
    ("SELECT '{\"hits\": 5, \"total\": 4}'::share_summary", "22P02", "hits 5 of total 4", "0 <= hits <= total"),
    ("SELECT 'nope'::customer_rate_summary", "22P02", "invalid customer rate state", "key_type"),
    ("SELECT '{\"key_type\":\"bigint\",\"segments\":1}'::segment_rate_summary", "22P02", "must be an object", "segments"),
    ("SELECT share_combine('{\"hits\":0,\"total\":72057594037927935}', '{\"hits\":0,\"total\":1}')",
     "22003", "out of range", "at most"),
    ("SELECT customer_rate_trans(NULL, 1::bigint, 1)", "0A000", "non-aggregate context", "call the aggregate"),
    ("SELECT kpi_band('churn', 1)", "22023", 'unknown KPI "churn"',
     'Did you mean "churn_rate"? The known KPIs are the rows of kpi_catalog'),
    ("SELECT kpi_value('no_such_kpi', '{\"hits\":1,\"total\":2}'::share_summary)", "22023", 'unknown KPI "no_such_kpi"',
     "The known KPIs are the rows of kpi_catalog (SELECT kpi FROM kpi_catalog); add your own there."),
    ("SELECT kpi_band('incident_rate', 'NaN'::numeric)", "22023", "cannot classify NaN", "finite"),
    ("SELECT kpi_band('escalation_rate', 101)", "22003", "outside the range", "% of cases"),
    ("UPDATE kpi_catalog SET band_edges = '{5,3}' WHERE kpi = 'escalation_rate'", "23514", "strictly ascending", "ascending edges"),
    ("UPDATE kpi_catalog SET band_edges = '{3,NaN}' WHERE kpi = 'escalation_rate'", "23514", "NaN", "ascending edges"),
    ("SELECT incident_rate(rollup(s)) FROM (VALUES ('{\"key_type\":\"bigint\",\"events\":1,\"customers\":[1]}'"
     "::customer_rate_summary), ('{\"key_type\":\"text\",\"events\":1,\"customers\":[\"1\"]}')) v(s)",
     "42804", "over bigint and text customer keys", "same customer key type"),
    # data errors in the complaint, survey, time, cost and churn KPIs: never a silent wrong number
    ("SELECT nps(11)", "22003", "NPS answer 11 is outside its scale 0 to 10", "FILTER"),
    ("SELECT csat(0)", "22003", "CSAT answer 0 is outside its scale 1 to 5", "Rescale"),
    ("SELECT ces(s) FROM (VALUES (8)) v(s)", "22003", "CES answer 8", "CES 1-7"),
    ("SELECT nps(csat_summary(5))", "42804", "counts CSAT answers, not NPS answers", "one survey scale"),
    ("SELECT avg_first_response_time('2026-05-02 10:00+00'::timestamptz, '2026-05-02 09:00+00'::timestamptz)",
     "22023", "first response at 2026-05-02 09:00:00+00 is before opened at 2026-05-02 10:00:00+00",
     "FILTER (WHERE first_response_at >= opened_at)"),
    ("SELECT avg_resolution_time('2026-05-02'::timestamptz, 'infinity')", "22008", "infinity", "finite"),
    ("SELECT avg_handling_time(interval '-1 minute')", "22023", "is negative", "zero or more"),
    ("SELECT complaint_resolution_efficiency('2026-05-01'::timestamptz, '2026-05-02', NULL)", "22004",
     "target time is NULL", "interval"),
    ("SELECT sla_compliance_rate('2026-05-01'::timestamptz, '2026-05-02', interval '-2 days')", "22023",
     "is not positive", "positive interval"),
    ("SELECT complaint_resolution_cost(-12.50, true)", "22003", "cost -12.50 is negative", "FILTER (WHERE cost >= 0)"),
    ("SELECT complaint_resolution_cost('NaN', true)", "22003", "cost NaN is not a finite number", "NULL"),
    ("SELECT churn_rate('2026-02-01'::timestamptz, '2026-01-01', '2026-01-01', '2026-02-01')", "22023",
     "is before active from", "churned_at >= active_from"),
    ("SELECT churn_rate('2026-01-01'::timestamptz, NULL, '2026-03-01', '2026-02-01')", "22023",
     "is not a finite period", "after its start"),
    ("SELECT churn_rate('2026-01-01'::timestamptz, NULL, NULL, '2026-02-01')", "22004", "is NULL", "two timestamps"),
    ("SELECT '{\"survey\":\"csat\",\"counts\":[1]}'::survey_summary", "22P02", "1 counts for a scale of 5", "one count per score"),
    ("SELECT '{\"completed\":0,\"pending\":0,\"sum_us\":1}'::duration_summary", "22P02", "invalid duration state",
     "no sum without completed"),
    ("SELECT '{\"resolved\":0,\"costs\":0,\"total_cost\":\"x\"}'::cost_summary", "22P02", "not a decimal number",
     "total_cost"),
    # intervals, verdicts and the recorded history
    ("SELECT escalation_rate_ci(escalation_summary(true), 1.5)", "22023", "confidence level 1.5", "e.g. 0.95"),
    ("SELECT kpi_interval('nps', nps_summary(9), 0)", "22023", "confidence level 0", "e.g. 0.95"),
    ("SELECT poisson_rate_bound(-1, 10, 100, 0.95, true)", "22023", "must not be negative", "events, then the customers"),
    ("SELECT kpi_band('incident_rate', escalation_summary(true))", "42804",
     'KPI "incident_rate" is not computed from a share_summary', "takes a customer_rate_summary"),
    ("SELECT kpi_value('escalation_rate', incident_summary(1, 1))", "42804", "not computed from a customer_rate_summary",
     "incident_rate, contact_rate and interaction_rate"),
    ("SELECT kpi_band('csat', contact_summary_by_segment('a', 1, 1))", "42804", "not computed from a segment_rate_summary",
     "contact_rate"),
    ("SELECT kpi_cases(nps_summary(1)), kpi_value('nope', nps_summary(1))", "22023", 'unknown KPI "nope"', "kpi_catalog"),
    ("SELECT kpi_band('incident_rate', 5, 1)", "22023", "runs from 5 down to 1", "lower bound"),
    ("SELECT kpi_band('incident_rate', 'five')", "22P02", 'cannot classify "five" as a value of KPI "incident_rate"',
     "::share_summary"),
    ("SELECT kpi_record('nothing', now())", "22023", 'no KPI is tracked as "nothing"', "kpi_tracked"),
]


@pytest.mark.parametrize("statement,sqlstate,message,hint", CASES)
def test_error_has_sqlstate_message_and_hint(conn, statement, sqlstate, message, hint):
    with pytest.raises(psycopg.Error) as raised:
        conn.execute(statement)
    diag = raised.value.diag
    assert diag.sqlstate == sqlstate, diag.message_primary
    assert message in diag.message_primary
    assert hint in (diag.message_hint or "")
    # the backend is still there and the session usable
    assert conn.execute("SELECT escalation_rate(true)").fetchone()[0] == 100

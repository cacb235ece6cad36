"""Errors are part of the API: bad input gets an ERROR with the right SQLSTATE and a hint,
and the session (and the server) survive it."""

import psycopg
import pytest

CASES = [
    # (statement, SQLSTATE, words the message must contain, words the hint must contain)
    ("SELECT '{\"hits\": 5, \"total\": 4}'::share_summary", "22P02", "hits 5 of total 4", "0 <= hits <= total"),
    ("SELECT 'nope'::customer_rate_summary", "22P02", "invalid customer rate state", "key_type"),
    ("SELECT '{\"key_type\":\"bigint\",\"segments\":1}'::segment_rate_summary", "22P02", "must be an object", "segments"),
    ("SELECT share_combine('{\"hits\":0,\"total\":9223372036854775807}', '{\"hits\":0,\"total\":1}')",
     "22003", "out of range", "at most"),
    ("SELECT customer_rate_trans(NULL, 1::bigint, 1)", "0A000", "non-aggregate context", "call the aggregate"),
    ("SELECT kpi_band('churn', 1)", "22023", 'unknown KPI "churn"', "Known KPIs: contact_rate, escalation_rate"),
    ("SELECT kpi_band('incident_rate', 'NaN')", "22023", "cannot classify NaN", "finite"),
    ("SELECT kpi_band('escalation_rate', 101)", "22003", "outside the range", "% of cases"),
    ("UPDATE kpi_catalog SET band_edges = '{5,3}' WHERE kpi = 'escalation_rate'", "23514", "strictly ascending", "ascending edges"),
    ("UPDATE kpi_catalog SET band_edges = '{3,NaN}' WHERE kpi = 'escalation_rate'", "23514", "NaN", "ascending edges"),
    ("SELECT incident_rate(rollup(s)) FROM (VALUES ('{\"key_type\":\"bigint\",\"events\":1,\"customers\":[1]}'"
     "::customer_rate_summary), ('{\"key_type\":\"text\",\"events\":1,\"customers\":[\"1\"]}')) v(s)",
     "42804", "over bigint and text customer keys", "same customer key type"),
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

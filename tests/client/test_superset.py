"""Apache Superset, for real (issue 22): Superset 6.1.0 at its pinned requirements
(tests/superset/requirements.txt, installed once per machine by scripts/superset.sh into the
work dir) starts on localhost with its metadata in SQLite. Through its REST API the test
registers the demo database, makes a dataset on kpi_recorded_bi and one on a live KPI query
over the demo tables, a time-series chart per headline KPI by segment with its band edges, a
table chart of the live query, and a dashboard of them. It checks that the numbers Superset's
chart-data API returns are the SQL's, that the time column arrives as a time and every KPI as
a number, and takes a screenshot of the dashboard with headless Chromium after logging in
(kept as $WORK_DIR/artifacts/superset-dashboard.png; the README shows one)."""

import json
import math
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest

from conftest import DEMO, WORK_DIR, conninfo

REPO = Path(__file__).resolve().parents[2]
SUPERSET = Path(os.environ.get("SUPPORT_KPI_SUPERSET", Path(WORK_DIR) / "superset"))
ARTIFACTS = Path(WORK_DIR) / "artifacts"
USER, PASSWORD = "admin", secrets.token_urlsafe(12)

# scripts/test.sh installs Superset and sets SUPPORT_KPI_SUPERSET: there the test always runs
pytestmark = pytest.mark.skipif("SUPPORT_KPI_SUPERSET" not in os.environ and not (SUPERSET / "bin/superset").is_file(),
                                reason=f"Apache Superset is not installed in {SUPERSET} (scripts/superset.sh installs it; "
                                       "scripts/test.sh runs it first)")

# the headline KPIs the demo history records by segment
HEADLINE = ["incident_rate", "contact_rate", "interaction_rate", "escalation_rate", "csat"]

# a live KPI query over the demo tables, as an analyst would give it to Superset
LIVE_SQL = """SELECT date_trunc('month', t.opened_at) AS month, c.segment,
       escalation_rate(t.escalated)::float8 AS escalation_rate,
       case_count(escalation_summary(t.escalated)) AS cases
FROM tickets t JOIN customers c ON c.id = t.customer_id
GROUP BY 1, 2"""
LIVE_REFERENCE = """SELECT date_trunc('month', t.opened_at), c.segment,
       count(*) FILTER (WHERE t.escalated) * 100.0 / nullif(count(t.escalated), 0), count(t.escalated)
FROM tickets t JOIN customers c ON c.id = t.customer_id GROUP BY 1, 2"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Superset:
    def __init__(self, base):
        self.base, self.token = base, None

    def call(self, method, path, body=None):
        headers = {} if body is None else {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base + path, method=method, headers=headers,
                                         data=None if body is None else json.dumps(body).encode())
        try:
            with urllib.request.urlopen(request, timeout=180) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")[:3000]

    def post(self, path, body):
        status, got = self.call("POST", path, body)
        assert status in (200, 201), (path, status, got)
        return got


@pytest.fixture(scope="module")
def superset(tmp_path_factory):
    """A Superset of its own: SQLite metadata in a temporary directory, on 127.0.0.1."""
    home = tmp_path_factory.mktemp("superset")
    config = home / "superset_config.py"
    config.write_text(f"SECRET_KEY = {secrets.token_urlsafe(32)!r}\n"
                      f"SQLALCHEMY_DATABASE_URI = 'sqlite:///{home}/superset.db'\n"
                      # the REST calls carry a JWT, not a browser session: no CSRF token to send
                      "WTF_CSRF_ENABLED = False\n")
    env = dict(os.environ, SUPERSET_CONFIG_PATH=str(config), FLASK_APP="superset", SUPERSET_HOME=str(home))
    cli = str(SUPERSET / "bin/superset")
    for args in (["db", "upgrade"],
                 ["fab", "create-admin", "--username", USER, "--firstname", "Support", "--lastname", "Analyst",
                  "--email", "analyst@example.invalid", "--password", PASSWORD],
                 ["init"]):
        done = subprocess.run([cli, *args], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-3000:])
    port = free_port()
    log = open(home / "server.log", "w")
    server = subprocess.Popen([cli, "run", "-h", "127.0.0.1", "-p", str(port), "--with-threads"], env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            with urllib.request.urlopen(base + "/health", timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        assert server.poll() is None and time.time() < deadline, (home / "server.log").read_text()[-3000:]
        time.sleep(1)
    client = Superset(base)
    client.token = client.post("/api/v1/security/login", {"username": USER, "password": PASSWORD, "provider": "db",
                                                          "refresh": True})["access_token"]
    yield client
    server.terminate()
    server.wait(30)
    log.close()


@pytest.fixture(scope="module")
def history(demo_db):
    """The demo database with its recorded history (demo/history.sql)."""
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", demo_db, "-f", str(DEMO / "history.sql")],
                   check=True, capture_output=True)
    return demo_db


def filters(kpi):
    return [{"col": "kpi", "op": "==", "val": kpi}, {"col": "dimension", "op": "==", "val": "segment"}]


def timeseries_chart(dataset, kpi, title, edges, dashboard):
    """The chart a user builds in Superset's explore view: the KPI per month, one line per
    segment, the band edges as dashed lines (formula annotations); and the query context the
    view saves with it (pivoted per segment, as the chart draws it)."""
    metric = {"expressionType": "SQL", "sqlExpression": "MAX(value)", "label": kpi}
    layers = [{"name": f"{below} | {above} ({edge:g})", "annotationType": "FORMULA", "sourceType": "", "value": f"{edge:g}",
               "show": True, "showLabel": True, "style": "dashed", "width": 1, "color": "#b00020", "opacity": "",
               "hideLine": False, "overrides": {}, "titleColumn": "", "descriptionColumns": [], "timeColumn": "",
               "intervalEndColumn": "", "showMarkers": False} for edge, below, above in edges]
    form = {"datasource": f"{dataset}__table", "viz_type": "echarts_timeseries_line", "x_axis": "time",
            "time_grain_sqla": "P1M", "metrics": [metric], "groupby": ["dimension_value"],
            "adhoc_filters": [{"clause": "WHERE", "expressionType": "SIMPLE", "subject": f["col"], "operator": "==",
                               "comparator": f["val"]} for f in filters(kpi)],
            "row_limit": 10000, "annotation_layers": layers, "time_range": "No filter", "show_legend": True,
            "markerEnabled": True}
    query = {"datasource": {"id": dataset, "type": "table"}, "force": True, "form_data": form,
             "result_format": "json", "result_type": "full",
             "queries": [{"filters": filters(kpi), "extras": {"time_grain_sqla": "P1M", "having": "", "where": ""},
                          "applied_time_extras": {},
                          "columns": [{"timeGrain": "P1M", "columnType": "BASE_AXIS", "sqlExpression": "time",
                                       "label": "time", "expressionType": "SQL"}, "dimension_value"],
                          "metrics": [metric], "orderby": [[metric, False]], "annotation_layers": [],
                          "row_limit": 10000, "series_columns": ["dimension_value"], "series_limit": 0,
                          "order_desc": True, "url_params": {}, "custom_params": {}, "custom_form_data": {},
                          "time_offsets": [],
                          "post_processing": [{"operation": "pivot",
                                               "options": {"index": ["time"], "columns": ["dimension_value"],
                                                           "aggregates": {kpi: {"operator": "mean"}},
                                                           "drop_missing_columns": False}},
                                              {"operation": "flatten"}]}]}
    return {"slice_name": f"{title} by segment", "viz_type": "echarts_timeseries_line", "datasource_id": dataset,
            "datasource_type": "table", "params": json.dumps(form), "query_context": json.dumps(query),
            "dashboards": [dashboard]}


def table_chart(dataset, dashboard):
    form = {"datasource": f"{dataset}__table", "viz_type": "table", "query_mode": "raw",
            "all_columns": ["month", "segment", "escalation_rate", "cases"], "row_limit": 10000,
            "order_by_cols": [], "time_range": "No filter", "adhoc_filters": []}
    query = {"datasource": {"id": dataset, "type": "table"}, "force": True, "form_data": form,
             "result_format": "json", "result_type": "full",
             "queries": [{"columns": ["month", "segment", "escalation_rate", "cases"], "metrics": [],
                          "orderby": [], "row_limit": 10000, "filters": [], "extras": {"having": "", "where": ""},
                          "applied_time_extras": {}, "url_params": {}, "custom_params": {}, "custom_form_data": {},
                          "post_processing": []}]}
    return {"slice_name": "Escalation rate, live", "viz_type": "table", "datasource_id": dataset,
            "datasource_type": "table", "params": json.dumps(form), "query_context": json.dumps(query),
            "dashboards": [dashboard]}


def as_time(ms):
    return datetime.fromtimestamp(ms / 1000, timezone.utc)


def test_a_superset_dashboard_over_the_kpis_shows_the_sqls_numbers(superset, history):
    host, port = os.environ.get("PGHOST", "/var/run/postgresql"), os.environ.get("PGPORT", "5432")
    database = superset.post("/api/v1/database/", {
        "database_name": "support", "sqlalchemy_uri": f"postgresql+psycopg2://postgres@/{history}?host={host}&port={port}",
    })["id"]
    recorded = superset.post("/api/v1/dataset/", {"database": database, "schema": "public",
                                                  "table_name": "kpi_recorded_bi"})["id"]
    live = superset.post("/api/v1/dataset/", {"database": database, "schema": "public",
                                              "table_name": "escalation_rate_live", "sql": LIVE_SQL})["id"]

    # the time column arrives as a time, every KPI as a number (Superset's generic types:
    # 0 numeric, 1 string, 2 temporal)
    status, got = superset.call("GET", f"/api/v1/dataset/{recorded}")
    assert status == 200, got
    columns = {c["column_name"]: c for c in got["result"]["columns"]}
    assert columns["time"]["is_dttm"] and columns["time"]["type_generic"] == 2, columns["time"]
    for name in ["value", "ci_lower", "ci_upper", "previous_value", "change", "cases"]:
        assert columns[name]["type_generic"] == 0 and not columns[name]["is_dttm"], columns[name]
    status, got = superset.call("PUT", f"/api/v1/dataset/{live}/refresh")
    assert status == 200, got
    status, got = superset.call("GET", f"/api/v1/dataset/{live}")
    columns = {c["column_name"]: c for c in got["result"]["columns"]}
    assert columns["month"]["is_dttm"] and columns["month"]["type_generic"] == 2, columns["month"]
    assert columns["escalation_rate"]["type_generic"] == 0 and columns["cases"]["type_generic"] == 0, columns

    dashboard = superset.post("/api/v1/dashboard/", {"dashboard_title": "Support KPIs", "published": True})["id"]
    with psycopg.connect(conninfo(history)) as c:
        charts = {}
        for kpi in HEADLINE:
            edges = c.execute("SELECT edge, band_below, band_above FROM kpi_band_edges WHERE kpi = %s ORDER BY edge",
                              [kpi]).fetchall()
            title = c.execute("SELECT title FROM kpi_catalog WHERE kpi = %s", [kpi]).fetchone()[0]
            charts[kpi] = superset.post("/api/v1/chart/", timeseries_chart(recorded, kpi, title, edges, dashboard))["id"]
            status, got = superset.call("GET", f"/api/v1/chart/{charts[kpi]}/data/?format=json")
            assert status == 200, got
            result = got["result"][0]
            # Superset's rows: one per month, one column per segment, named "<metric>, <segment>"
            plotted = {(as_time(row["time"]), series.removeprefix(f"{kpi}, ")): value
                       for row in result["data"] for series, value in row.items() if series != "time"}
            expected = {(t, s): v for t, s, v in c.execute(
                "SELECT period_start, dimension_value, value FROM kpi_recorded "
                "WHERE tracking = 'demo_monthly' AND kpi = %s AND dimension = 'segment'", [kpi])}
            assert len(expected) == 24, (kpi, len(expected))  # 6 months x 4 segments
            assert set(plotted) == set(expected), (kpi, sorted(plotted), sorted(expected))
            for key, value in expected.items():
                # float8 of the numeric value, as kpi_recorded_bi gives it
                if value is None:
                    assert plotted[key] is None or (isinstance(plotted[key], float) and math.isnan(plotted[key]))
                else:
                    assert plotted[key] == float(value), (kpi, key, plotted[key], value)
            assert set(result["coltypes"]) == {0, 2}, result["coltypes"]

        table = superset.post("/api/v1/chart/", table_chart(live, dashboard))["id"]
        status, got = superset.call("GET", f"/api/v1/chart/{table}/data/?format=json")
        assert status == 200, got
        result = got["result"][0]
        assert result["colnames"] == ["month", "segment", "escalation_rate", "cases"]
        assert result["coltypes"] == [2, 1, 0, 0], result["coltypes"]
        rows = {(as_time(r["month"]), r["segment"]): (r["escalation_rate"], r["cases"]) for r in result["data"]}
        reference = {(m, s): (v, n) for m, s, v, n in c.execute(LIVE_REFERENCE)}
        assert len(rows) == len(reference) > 20
        for key, (value, cases) in reference.items():
            assert rows[key] == (float(value), cases), (key, rows[key], value, cases)

    # the dashboard, drawn by a browser after logging in
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    png = ARTIFACTS / "superset-dashboard.png"
    png.unlink(missing_ok=True)
    shot = subprocess.run([str(SUPERSET / "bin/python"), str(REPO / "tests/superset/screenshot.py"), superset.base,
                           USER, PASSWORD, str(dashboard), str(len(charts)), str(png)],
                          capture_output=True, text=True, timeout=400)
    assert shot.returncode == 0, (shot.stdout[-2000:], shot.stderr[-3000:])
    drawn = json.loads(shot.stdout.strip().splitlines()[-1])
    assert drawn["charts_drawn"] >= len(charts), drawn
    # not blank: many colours, and a good share of the page not background
    check = subprocess.run([str(SUPERSET / "bin/python"), "-c",
                            "import sys, json; from PIL import Image\n"
                            "im = Image.open(sys.argv[1]).convert('RGB'); px = list(im.getdata())\n"
                            "bg = max(set(px[::97]), key=px[::97].count)\n"
                            "print(json.dumps({'size': im.size, 'colours': len(set(px)),"
                            " 'not_background': sum(p != bg for p in px) / len(px)}))", str(png)],
                           capture_output=True, text=True, check=True)
    image = json.loads(check.stdout)
    assert image["size"][0] >= 1200 and image["colours"] > 200 and image["not_background"] > 0.03, image

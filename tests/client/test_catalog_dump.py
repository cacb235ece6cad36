"""Users' changes to the KPI catalog survive pg_dump and restore; untouched shipped rows come
from the extension."""

import subprocess

import psycopg

from conftest import PG_BIN, conninfo


def test_customized_and_added_kpis_survive_dump_and_restore(new_database, tmp_path):
    source = new_database()
    with psycopg.connect(conninfo(source), autocommit=True) as conn:
        conn.execute("UPDATE kpi_catalog SET band_edges = '{4,8}' WHERE kpi = 'incident_rate'")
        conn.execute(
            "INSERT INTO kpi_catalog (kpi, title, unit, direction, formula, band_labels, band_edges, edge_belongs_to)"
            " VALUES ('quality_score', 'Quality Score', '%', 'higher_is_better', 'audits passed share',"
            " '{concern,acceptable,excellent}', '{70,85}', '{lower,upper}')"
        )
        conn.execute("INSERT INTO kpi_benchmark (kpi, population, statistic, value) VALUES ('quality_score', 'ours', 'target', 90)")
        expected = conn.execute("SELECT * FROM kpi_catalog ORDER BY kpi").fetchall()
        expected_benchmarks = conn.execute("SELECT * FROM kpi_benchmark ORDER BY kpi, population").fetchall()

    for fmt in ["plain", "custom"]:
        dump = tmp_path / f"dump.{fmt}"
        subprocess.run([f"{PG_BIN}/pg_dump", f"--format={fmt}", "-f", str(dump), conninfo(source)], check=True)
        target = new_database(extension=False)
        if fmt == "plain":
            subprocess.run([f"{PG_BIN}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(dump), conninfo(target)],
                           check=True)
        else:
            subprocess.run([f"{PG_BIN}/pg_restore", "--exit-on-error", "-d", conninfo(target), str(dump)], check=True)
        with psycopg.connect(conninfo(target)) as conn:
            assert conn.execute("SELECT * FROM kpi_catalog ORDER BY kpi").fetchall() == expected
            assert conn.execute("SELECT * FROM kpi_benchmark ORDER BY kpi, population").fetchall() == expected_benchmarks
            assert conn.execute("SELECT kpi_band('incident_rate', 9), kpi_band('quality_score', 86)").fetchone() == (
                "concern", "excellent")


def test_untouched_rows_are_not_dumped(new_database, tmp_path):
    source = new_database()
    dump = tmp_path / "dump.sql"
    subprocess.run([f"{PG_BIN}/pg_dump", "-f", str(dump), conninfo(source)], check=True)
    text = dump.read_text()
    assert "CREATE EXTENSION IF NOT EXISTS support_kpi" in text
    assert "Customer Incident Rate" not in text

"""Every SQL example of the README runs against the demo database (in a transaction that is
rolled back), and every query in it returns rows, so the documentation cannot drift from
the behaviour."""

import re
from pathlib import Path

import psycopg
import pytest

from conftest import conninfo

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLES = re.findall(r"```sql\n(.*?)```", README.read_text(), re.S)


def statements(example):
    code = "\n".join(line for line in example.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in code.split(";") if s.strip()]


def test_readme_has_examples():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"example{i}" for i in range(len(EXAMPLES))])
def test_readme_example_runs(demo_db, example):
    with psycopg.connect(conninfo(demo_db)) as conn:
        for statement in statements(example):
            cur = conn.execute(statement)
            if cur.description is not None:
                assert cur.fetchall(), statement
        conn.rollback()

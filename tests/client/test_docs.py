"""The reference pages under docs/ are checked: every ```sql block runs with psql against the
demo database (a fresh copy per page, so pages may create tables), and when an ```output
block follows it, psql's printed output must equal that block line for line (trailing spaces
aside). A page whose output no longer matches fails with a diff; rewrite it with
`SUPPORT_KPI_DOCS_ACCEPT=1` (then review the diff)."""

import difflib
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import PG_BIN, conninfo

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted(DOCS.glob("*.md"))
BLOCK = re.compile(r"```sql\n(.*?)```\n(?:\n?```output\n(.*?)```\n)?", re.S)


def psql(db, sql):
    run = subprocess.run([f"{PG_BIN}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--pset=pager=off", "-d",
                          conninfo(db)], input=sql, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         env={**os.environ, "PGTZ": "UTC", "PGDATESTYLE": "ISO, MDY"})
    return run.returncode, run.stdout


# the progress notices of kpi_record_range and kpi_record_due say how long each period took:
# compared without that number
TIMING = re.compile(r"^(NOTICE:  kpi_record_\w+: .* rows in )\d+( ms.*)$")


def normalized(text):
    return "\n".join(TIMING.sub(r"\1...\2", line.rstrip()) for line in text.strip("\n").splitlines())


def test_docs_pages_exist():
    names = {p.stem for p in PAGES}
    assert {"rates-and-bands", "complaint-handling", "surveys", "time-kpis", "summaries-and-rollups",
            "parallel-and-distributed"} <= names, names


REPO = DOCS.parent
# a path into the repository in backquotes, e.g. `sql/kpi_verdict.sql` or
# `crates/kpi_core/src/{share_rate,wilson}.rs` (each name in braces a file)
NAMED_PATH = re.compile(r"`((?:sql|src|crates|scripts|tests|registry|bench|demo|bi|docs)/[\w./{},<>-]*\.(?:rs|sql|py|sh|toml|md|json|out))`")


def test_every_file_the_docs_and_readme_name_exists():
    """The pages and the README send a newcomer to files by name; each one exists (a file
    renamed or removed must take its mentions with it)."""
    missing = []
    for page in PAGES + [REPO / "README.md"]:
        for path in NAMED_PATH.findall(page.read_text()):
            if "<" in path or "*" in path:  # a pattern, e.g. sql/support_kpi--<from>--<to>.sql
                continue
            head, _, rest = path.partition("{")
            names, _, tail = rest.partition("}")
            for name in names.split(",") if rest else [""]:
                if not (REPO / f"{head}{name}{tail}").exists():
                    missing.append(f"{page.name}: {head}{name}{tail}")
    assert not missing, missing


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_docs_page_examples_print_what_the_page_shows(admin, demo_db, page):
    db = f"kpi_test_docs_{uuid.uuid4().hex[:8]}"
    admin.execute(f"CREATE DATABASE {db} TEMPLATE {demo_db}")
    try:
        text = page.read_text()
        blocks = list(BLOCK.finditer(text))
        assert blocks, f"{page.name} has no SQL example"
        checked, failures, outputs = 0, [], []
        for m in blocks:
            sql, shown = m.group(1), m.group(2)
            code, out = psql(db, sql)
            assert code == 0, f"{page.name}: example failed:\n{sql}\n{out}"
            if shown is None:
                continue
            checked += 1
            if normalized(out) != normalized(shown):
                failures.append("\n".join(difflib.unified_diff(
                    normalized(shown).splitlines(), normalized(out).splitlines(), "page", "psql", lineterm="")))
                outputs.append((m.start(2), m.end(2), normalized(out) + "\n"))
        rewritten = text
        for start, end, out in reversed(outputs):
            rewritten = rewritten[:start] + out + rewritten[end:]
        if failures and os.environ.get("SUPPORT_KPI_DOCS_ACCEPT"):
            page.write_text(rewritten)
        assert not failures, f"{page.name}: printed output differs from the page:\n" + "\n\n".join(failures)
        assert checked, f"{page.name} shows no output to check"
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")

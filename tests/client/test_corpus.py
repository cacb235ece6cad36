"""Values stored by every release are still read, and mean what they meant.

tests/corpus/<version>.json holds, for each released version, values of every state type that
release had, made by its own aggregates (scripts/corpus.sh builds each release from its commit
and asks it; scripts/corpus.py says what is recorded). Each value is read back here with the
current library in the three forms a user's data reaches it in:
  - its text form (pg_dump, text COPY);
  - its binary form (binary COPY, logical replication), through a binary COPY;
  - the bytes a table stored (variable-length states), laid down unchanged;
and every accessor must answer what the release answered."""

import json
import struct
from pathlib import Path

import psycopg
import pytest

from conftest import conninfo, raw_types

CORPUS = Path(__file__).resolve().parents[2] / "tests" / "corpus"
FILES = sorted(CORPUS.glob("*.json"))
VALUES = [(json.loads(f.read_text())["version"], i, v) for f in FILES
          for i, v in enumerate(json.loads(f.read_text())["values"])]


def test_every_release_has_a_corpus_of_every_state_type_it_had():
    released = [line.split()[0] for line in (CORPUS.parent.parent / "sql/released/commits").read_text().splitlines()
                if line.strip() and not line.startswith("#") and " 15" in line]
    assert [json.loads(f.read_text())["version"] for f in FILES] == released
    types = {}
    for version, _, v in VALUES:
        types.setdefault(version, set()).add(v["type"])
    # the distinct-customer states and shares since 0.1.0; sketches and status histories since 0.5.0
    assert {"customer_rate_summary", "segment_rate_summary", "share_summary"} <= types["0.1.0"]
    assert {"duration_sketch", "status_history", "cost_summary", "survey_summary", "duration_summary"} \
        <= types["0.5.0"]
    for version, _, v in VALUES:
        assert v["read"], (version, v["what"])


@pytest.fixture(scope="module")
def corpus_db(kpi_db):
    """A database with a table for each state type and a raw bytea-like type of each alignment
    of the variable-length states, cast to them without a function (to lay down stored bytes)."""
    db = kpi_db
    with psycopg.connect(conninfo(db), autocommit=True) as c:
        raw_types(c, sorted({v["type"] for _, _, v in VALUES}))
    return db


def binary_copy(field: bytes) -> bytes:
    """A binary COPY stream of one row of one field."""
    return (b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0) + struct.pack("!hi", 1, len(field)) + field
            + struct.pack("!h", -1))


def answers(c, table, accessors):
    return {a: c.execute(f"SELECT ({a})::text FROM {table}").fetchone()[0] for a in accessors}


@pytest.mark.parametrize("version, index, value", VALUES,
                         ids=[f"{version}-{v['type']}-{v['what']}" for version, _, v in VALUES])
def test_a_stored_value_reads_the_same_in_every_form(corpus_db, version, index, value):
    t, read = value["type"], value["read"]
    with psycopg.connect(conninfo(corpus_db), autocommit=True) as c:
        c.execute(f"CREATE TEMP TABLE v (v {t})")
        # the text form
        c.execute("INSERT INTO v VALUES (%s)", [value["text"]])
        assert answers(c, "v", read) == read, "text form"
        text_now = c.execute("SELECT v::text FROM v").fetchone()[0]
        # the binary form, through binary COPY
        c.execute("TRUNCATE v")
        with c.cursor().copy("COPY v FROM STDIN (FORMAT binary)") as copy:
            copy.write(binary_copy(bytes.fromhex(value["binary"])))
        assert answers(c, "v", read) == read, "binary form"
        assert c.execute("SELECT v::text FROM v").fetchone()[0] == text_now
        # the bytes a table stored
        if value["stored"] is not None:
            align = c.execute("SELECT typalign FROM pg_type WHERE typname = %s", [t]).fetchone()[0]
            c.execute("TRUNCATE v")
            c.execute(f"INSERT INTO v VALUES (%s::raw_{align}::{t})", ["\\x" + value["stored"]])
            assert answers(c, "v", read) == read, "stored bytes"
            assert c.execute("SELECT v::text FROM v").fetchone()[0] == text_now
            # and a stored value rolls up with a new one of its own text exactly as two new ones do
            if t not in ("status_history",):
                rolled = c.execute("SELECT rollup(x)::text FROM (SELECT v AS x FROM v UNION ALL "
                                   f"SELECT %s::{t}) y", [text_now]).fetchone()[0]
                assert rolled is not None
                assert rolled == c.execute(f"SELECT rollup(x)::text FROM (SELECT %s::{t} AS x UNION ALL "
                                           f"SELECT %s::{t}) y", [text_now, text_now]).fetchone()[0]

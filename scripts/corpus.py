#!/usr/bin/env python3
"""Writes the stored-value corpus of one release: tests/corpus/<version>.json.

Run against a database where that release of support_kpi is installed (scripts/corpus.sh
installs each released package in turn and runs this). For every state type the release has,
it makes a few values with the release's own aggregates (small and large, every key type and
layout), and records for each:
  - its text form (what pg_dump and text COPY write);
  - its binary form (what binary COPY and logical replication write), as hex;
  - for the variable-length states, the bytes stored in a table, as hex (laid down unchanged
    by the test through a binary-coercible cast);
  - what the release's accessors answered, as text.
tests/client/test_corpus.py reads every value of every corpus file back, in all three forms,
with the current library, and requires the same answers: values users stored with any
release are still read, and mean what they meant.

Usage: corpus.py DSN OUT.json   (PostgreSQL 15 or 18; plain Python 3.11 and psycopg)
"""

import json
import sys

import psycopg

# (type, what the value is, the SQL that makes it, the accessors that read it; `v` is the value)
VALUES = [
    ("customer_rate_summary", "three bigint customers, one twice",
     "SELECT incident_summary(c, e) FROM (VALUES (7::bigint, 1), (7, NULL), (-3, 2), (1000000007, 3)) v(c, e)",
     ["incident_rate(v)", "customer_count(v)", "event_count(v)"]),
    ("customer_rate_summary", "five integer customers",
     "SELECT incident_summary(g::integer * 7919, g) FROM generate_series(1, 5) g",
     ["incident_rate(v)", "customer_count(v)"]),
    ("customer_rate_summary", "1,000 dense bigint customers",
     "SELECT incident_summary(g::bigint, CASE WHEN g % 3 = 0 THEN g END) FROM generate_series(1, 1000) g",
     ["incident_rate(v)", "customer_count(v)", "event_count(v)"]),
    ("customer_rate_summary", "200 scattered bigint customers",
     "SELECT contact_summary(hashint8(g % 200), g) FROM generate_series(1, 300) g",
     ["contact_rate(v)", "customer_count(v)", "event_count(v)"]),
    ("customer_rate_summary", "text customers",
     "SELECT contact_summary(('customer-' || g % 40)::text, g) FROM generate_series(1, 90) g",
     ["contact_rate(v)", "customer_count(v)"]),
    ("customer_rate_summary", "two uuid customers",
     "SELECT incident_summary(md5(g::text)::uuid, g) FROM generate_series(1, 2) g",
     ["incident_rate(v)", "customer_count(v)"]),
    ("customer_rate_summary", "thirty uuid customers",
     "SELECT interaction_summary(md5((g % 30)::text)::uuid, g) FROM generate_series(1, 45) g",
     ["interaction_rate(v)", "customer_count(v)"]),
    ("segment_rate_summary", "three segments of bigint customers",
     "SELECT contact_summary_by_segment((ARRAY['north', 'south', 'Région Est'])[1 + g % 3], (g % 40)::bigint, "
     "CASE WHEN g % 4 > 0 THEN g END) FROM generate_series(1, 120) g",
     ["contact_rate_by_segment(v)::text"]),
    ("segment_rate_summary", "text customers in two segments",
     "SELECT contact_summary_by_segment(CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b b' END, ('c' || g % 7)::text, g) "
     "FROM generate_series(1, 20) g",
     ["contact_rate_by_segment(v)::text"]),
    ("share_summary", "escalations",
     "SELECT escalation_summary(g % 5 = 0) FROM generate_series(1, 123) g",
     ["escalation_rate(v)"]),
    ("survey_summary", "NPS answers",
     "SELECT nps_summary(g % 11) FROM generate_series(1, 57) g",
     ["nps(v)", "survey_responses(v)"]),
    ("survey_summary", "CSAT answers",
     "SELECT csat_summary(1 + g % 5) FROM generate_series(1, 31) g",
     ["csat(v)", "survey_responses(v)"]),
    ("survey_summary", "CES answers",
     "SELECT ces_summary(1 + g % 7) FROM generate_series(1, 19) g",
     ["ces(v)", "survey_responses(v)"]),
    ("duration_summary", "resolution times, some pending",
     "SELECT resolution_time_summary(timestamptz '2026-10-01' + g * interval '1 minute', "
     "CASE WHEN g % 7 > 0 THEN timestamptz '2026-10-01' + g * interval '3 minutes' END) FROM generate_series(1, 100) g",
     ["avg_resolution_time(v)", "pending_count(v)"]),
    ("cost_summary", "complaint costs",
     "SELECT complaint_resolution_cost_summary((g % 97) * 1.25, g % 4 > 0) FROM generate_series(1, 50) g",
     ["complaint_resolution_cost(v)", "total_cost(v)", "resolved_count(v)"]),
    ("duration_sketch", "three spans",
     "SELECT resolution_time_sketch(timestamptz '2026-01-01', timestamptz '2026-01-01' + s) "
     "FROM unnest(ARRAY[interval '1 hour', interval '1 hour', interval '1 day']) s",
     ["median(v)", "percentile(v, 0.9)", "avg_resolution_time(v)"]),
    ("duration_sketch", "spans from a second to weeks",
     "SELECT resolution_time_sketch(timestamptz '2026-10-01', timestamptz '2026-10-01' + (g % 7 * g * g) * interval "
     "'1 second') FROM generate_series(1, 3000) g",
     ["median(v)", "percentile(v, 0.9)", "avg_resolution_time(v)"]),
    ("status_history", "a ticket's changes",
     "SELECT time_in_status_trans(time_in_status_trans(time_in_status_trans(NULL, 'new', "
     "timestamptz '2026-01-01', '{new,open}'), 'open', timestamptz '2026-01-02', '{new,open}'), 'solved', "
     "timestamptz '2026-01-03 12:00', '{new,open}')",
     ["time_in_status_final(v)"]),
    ("score_summary", "audit scores",
     "SELECT quality_score_summary(g % 101) FROM generate_series(1, 40) g",
     ["quality_score(v)"]),
]


def main(dsn, out):
    with psycopg.connect(dsn, autocommit=True) as c:
        version = c.execute("SELECT extversion FROM pg_extension WHERE extname = 'support_kpi'").fetchone()[0]
        types = {name: (length, align, send) for name, length, align, send in c.execute(
            "SELECT t.typname, t.typlen, t.typalign, t.typsend::regproc::text FROM pg_type t "
            "JOIN pg_depend d ON d.objid = t.oid AND d.classid = 'pg_type'::regclass AND d.deptype = 'e' "
            "JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'support_kpi'")}
        # bytea's own I/O under each alignment the variable-length states have, cast to and from
        # them without a function: the bytes stored in a table, unchanged
        for align, name in (("i", "int4"), ("d", "double")):
            c.execute(f"CREATE TYPE corpus_raw_{align}")
            c.execute(f"CREATE FUNCTION corpus_raw_{align}_in(cstring) RETURNS corpus_raw_{align} AS 'byteain' "
                      "LANGUAGE internal IMMUTABLE STRICT")
            c.execute(f"CREATE FUNCTION corpus_raw_{align}_out(corpus_raw_{align}) RETURNS cstring AS 'byteaout' "
                      "LANGUAGE internal IMMUTABLE STRICT")
            c.execute(f"CREATE TYPE corpus_raw_{align} (INPUT = corpus_raw_{align}_in, OUTPUT = corpus_raw_{align}_out, "
                      f"INTERNALLENGTH = VARIABLE, ALIGNMENT = {name}, STORAGE = extended)")
        for name, (length, align, _) in types.items():
            if length == -1:
                c.execute(f"CREATE CAST ({name} AS corpus_raw_{align}) WITHOUT FUNCTION")
        values = []
        for type_name, what, make, accessors in VALUES:
            if type_name not in types:
                continue
            length, align, send = types[type_name]
            try:
                c.execute(f"CREATE TEMP TABLE corpus_value AS SELECT ({make}) AS v")
            except psycopg.Error:
                continue  # made by an aggregate this release does not have
            try:
                text, binary = c.execute(f"SELECT v::text, encode({send}(v), 'hex') FROM corpus_value").fetchone()
                stored = None
                if length == -1:
                    stored = c.execute(f"SELECT v::corpus_raw_{align}::text FROM corpus_value").fetchone()[0][2:]
                read = {}
                for accessor in accessors:
                    try:
                        read[accessor] = c.execute(f"SELECT ({accessor})::text FROM corpus_value").fetchone()[0]
                    except psycopg.Error:
                        pass  # an accessor this release does not have
                values.append({"type": type_name, "what": what, "made_by": make, "text": text,
                               "binary": binary, "stored": stored, "read": read})
            finally:
                c.execute("DROP TABLE corpus_value")
    with open(out, "w") as f:
        json.dump({"version": version, "values": values}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"{out}: {len(values)} values of support_kpi {version}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])

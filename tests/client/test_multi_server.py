"""Partial states computed on two separate PostgreSQL servers, shipped as text to a third and
combined there with rollup(), give exactly the single-server answer: what a distributed
Postgres (Citus) does with these aggregates' states."""

import os

import psycopg
import pytest

from conftest import extra_servers

BASE_PORT = int(os.environ.get("SUPPORT_KPI_MULTI_PORT", "5493"))


@pytest.fixture(scope="module")
def servers():
    conninfos = {}
    with extra_servers("multi-server", ["shard_a", "shard_b", "coordinator"], BASE_PORT) as started:
        for name, (host, port) in started.items():
            conninfos[name] = psycopg.conninfo.make_conninfo(host=host, port=port, user="postgres", dbname="postgres")
            with psycopg.connect(conninfos[name], autocommit=True) as conn:
                conn.execute("CREATE EXTENSION support_kpi")
        yield conninfos


SCHEMA = """
CREATE TABLE customers (id bigint, segment text);
CREATE TABLE tickets (id bigint, customer_id bigint, escalated boolean);
"""

# Every server gets the customers; the tickets are split by ticket id, so one customer's
# tickets sit on both shards and its key is in both partial states.
CUSTOMERS = "INSERT INTO customers SELECT g, 'seg' || g % 3 FROM generate_series(1, 2000) g"
TICKETS = """INSERT INTO tickets SELECT g, 1 + (hashint4(g) & 4095), hashint4(g + 1) % 20 = 0
             FROM generate_series(1, 6000) g WHERE {where}"""

PARTIAL = """
SELECT escalation_summary(t.escalated)::text,
       incident_summary(c.id, t.id)::text,
       contact_summary_by_segment(c.segment, c.id, t.id)::text
FROM customers c LEFT JOIN tickets t ON t.customer_id = c.id
"""

WHOLE = """
SELECT escalation_rate(t.escalated), incident_rate(c.id, t.id), contact_rate_by_segment(c.segment, c.id, t.id)::text
FROM customers c LEFT JOIN tickets t ON t.customer_id = c.id
"""

COMBINE = """
SELECT escalation_rate(rollup(e::share_summary)), incident_rate(rollup(i::customer_rate_summary)),
       contact_rate_by_segment(rollup(s::segment_rate_summary))::text
FROM unnest(%s::text[], %s::text[], %s::text[]) AS shipped(e, i, s)
"""


def ship_and_combine(servers, load, partial, whole, combine):
    """Loads each server (load(name) gives its SQL), computes the partial summaries on the two
    shards, ships them as text to the coordinator and combines them there. Returns
    (shipped partial rows, the coordinator's answer over all rows, the combined answer)."""
    for name in ["shard_a", "shard_b", "coordinator"]:
        with psycopg.connect(servers[name], autocommit=True) as conn:
            conn.execute(load(name))
    shipped = []
    for name in ["shard_a", "shard_b"]:
        with psycopg.connect(servers[name]) as conn:
            shipped.append(conn.execute(partial).fetchone())
    with psycopg.connect(servers["coordinator"]) as conn:
        single_server = conn.execute(whole).fetchone()
        combined = conn.execute(combine, [list(col) for col in zip(*shipped)]).fetchone()
    return shipped, single_server, combined


# Each shard holds half of the rows; the coordinator holds them all, for the expected answer.
SPLIT = {"shard_a": "g % 2 = 0", "shard_b": "g % 2 = 1", "coordinator": "true"}


def test_states_from_two_servers_combine_to_the_single_server_answer(servers):
    shipped, single_server, combined = ship_and_combine(
        servers, lambda name: SCHEMA + ";" + CUSTOMERS + ";" + TICKETS.format(where=SPLIT[name]),
        PARTIAL, WHOLE, COMBINE)
    assert [str(v) for v in combined] == [str(v) for v in single_server]
    # the shards really split the work: each partial answer differs from the whole
    with psycopg.connect(servers["coordinator"]) as conn:
        for e, i, s in shipped:
            partial_rate = conn.execute("SELECT incident_rate(%s::customer_rate_summary)", [i]).fetchone()[0]
            assert partial_rate != single_server[1]


COMPLAINTS = """
CREATE TABLE complaints (id bigint, opened_at timestamptz, first_response_at timestamptz, cost numeric,
                         resolved boolean, score int);
INSERT INTO complaints
SELECT g, '2026-01-01'::timestamptz + g * interval '7 minutes',
       CASE WHEN g % 13 <> 0 THEN '2026-01-01'::timestamptz + g * interval '7 minutes'
                                  + (hashint4(g) & 65535) * interval '1.5 seconds' END,
       (hashint4(g + 1) & 65535)::numeric / 1000, g % 4 <> 0, abs(hashint4(g + 2)) % 11
FROM generate_series(1, 5000) g WHERE {where}
"""

COMPLAINT_PARTIAL = """
SELECT first_response_summary(opened_at, first_response_at)::text,
       complaint_resolution_cost_summary(cost, resolved)::text, nps_summary(score)::text,
       first_response_sketch(opened_at, first_response_at)::text
FROM complaints
"""

COMPLAINT_WHOLE = """
SELECT avg_first_response_time(opened_at, first_response_at),
       pending_count(first_response_summary(opened_at, first_response_at)),
       complaint_resolution_cost(cost, resolved), nps(score),
       median_first_response_time(opened_at, first_response_at),
       percentile(first_response_sketch(opened_at, first_response_at), 0.9)
FROM complaints
"""

COMPLAINT_COMBINE = """
SELECT avg_first_response_time(rollup(f::duration_summary)), pending_count(rollup(f::duration_summary)),
       complaint_resolution_cost(rollup(c::cost_summary)), nps(rollup(n::survey_summary)),
       median(rollup(k::duration_sketch)), percentile(rollup(k::duration_sketch), 0.9)
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) AS shipped(f, c, n, k)
"""


def test_complaint_states_from_two_servers_combine_to_the_single_server_answer(servers):
    _, single_server, combined = ship_and_combine(
        servers, lambda name: COMPLAINTS.format(where=SPLIT[name]), COMPLAINT_PARTIAL, COMPLAINT_WHOLE,
        COMPLAINT_COMBINE)
    assert [str(v) for v in combined] == [str(v) for v in single_server]
    assert single_server[1] > 0  # pending cases crossed the wire as counts

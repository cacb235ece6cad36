"""Every aggregate equals the plain-SQL query a user would write, exactly (same numeric
value and scale), on random tables over many seeds, in serial and forced-parallel plans.

The random tables include NULL customer keys, duplicated customer rows, customers without
events, events of unknown customers, NULL event keys, NULL segments and empty tables."""

import random

import pytest

from conftest import PARALLEL, SERIAL, assert_workers_combine, explain, set_plan

SEEDS = range(25)

# How each customer key type is made from the generated integer id.
KEY_TYPES = {
    "bigint": "{id}::bigint",
    # ids over the whole 64-bit range (negative too): the integer key set leaves its bitmap
    "bigint_scattered": "({id}::bigint - 200) * 4294967311",
    "integer": "{id}::integer",
    "text": "'cust-' || {id}",
    "uuid": "md5({id}::text)::uuid",
}
SEGMENTS = ["consumer", "small_business", "enterprise", "public_sector"]


def generate(seed):
    rng = random.Random(seed)
    n_customers = 0 if seed % 10 == 0 else rng.randint(1, 400)
    customers = []
    for i in range(1, n_customers + 1):
        cid = None if rng.random() < 0.05 else i
        segment = None if rng.random() < 0.05 else rng.choice(SEGMENTS)
        customers.append((cid, segment))
        if rng.random() < 0.05:  # the same customer listed twice
            customers.append((cid, segment))
    n_events = 0 if seed % 10 in (0, 5) else rng.randint(0, 3 * n_customers + 10)
    events = []
    for e in range(1, n_events + 1):
        r = rng.random()
        cid = None if r < 0.05 else n_customers + 1000 if r < 0.1 else rng.randint(1, max(n_customers, 1))
        eid = None if rng.random() < 0.05 else e
        escalated = None if rng.random() < 0.1 else rng.random() < 0.06
        events.append((eid, cid, escalated))
    return customers, events


@pytest.fixture
def tables(conn):
    """Loads one seed's tables with the customer key of the given kind."""

    def load(seed, key_type):
        customers, events = generate(seed)
        key = KEY_TYPES[key_type]
        conn.execute("DROP TABLE IF EXISTS customers_raw, events_raw, customers, events")
        conn.execute("CREATE TABLE customers_raw (id int, segment text)")
        conn.execute("CREATE TABLE events_raw (id int, customer_id int, escalated boolean)")
        with conn.cursor().copy("COPY customers_raw FROM STDIN") as copy:
            for row in customers:
                copy.write_row(row)
        with conn.cursor().copy("COPY events_raw FROM STDIN") as copy:
            for row in events:
                copy.write_row(row)
        conn.execute(f"CREATE TABLE customers AS SELECT {key.format(id='id')} AS id, segment FROM customers_raw")
        conn.execute(
            f"CREATE TABLE events AS SELECT id, {key.format(id='customer_id')} AS customer_id, escalated "
            "FROM events_raw"
        )
        # Even empty and tiny tables get a parallel plan in the PARALLEL settings.
        conn.execute("ALTER TABLE customers SET (parallel_workers = 2)")
        conn.execute("ALTER TABLE events SET (parallel_workers = 2)")
        conn.execute("ANALYZE customers, events")

    return load


JOIN = "FROM customers c LEFT JOIN events e ON e.customer_id = c.id"

# (ours, plain SQL reference) pairs; each reference is the query a careful analyst writes.
PER_CUSTOMER = [
    ("incident_rate(c.id, e.id)", "count(e.id) FILTER (WHERE c.id IS NOT NULL) * 1000.0 / nullif(count(DISTINCT c.id), 0)"),
    ("contact_rate(c.id, e.id)", "count(e.id) FILTER (WHERE c.id IS NOT NULL) * 100.0 / nullif(count(DISTINCT c.id), 0)"),
    ("interaction_rate(c.id, e.id)", "count(e.id) FILTER (WHERE c.id IS NOT NULL) * 100.0 / nullif(count(DISTINCT c.id), 0)"),
    # a boolean "has an event": true counts, false and NULL count the customer only
    ("incident_rate(c.id, e.escalated)",
     "count(*) FILTER (WHERE e.escalated AND c.id IS NOT NULL) * 1000.0 / nullif(count(DISTINCT c.id), 0)"),
    ("contact_rate(c.id, e.escalated)",
     "count(*) FILTER (WHERE e.escalated AND c.id IS NOT NULL) * 100.0 / nullif(count(DISTINCT c.id), 0)"),
]
ESCALATION = ("escalation_rate(escalated)", "count(*) FILTER (WHERE escalated) * 100.0 / nullif(count(escalated), 0)")

SEGMENT_REFERENCE = """
    SELECT jsonb_object_agg(segment, jsonb_build_object(
               'customers', customers, 'contacts', contacts, 'rate', rate, 'band', kpi_band('contact_rate', rate)))::text
    FROM (SELECT c.segment, count(DISTINCT c.id) AS customers, {contacts} AS contacts,
                 {contacts} * 100.0 / count(DISTINCT c.id) AS rate
          """ + JOIN + " WHERE c.segment IS NOT NULL AND c.id IS NOT NULL GROUP BY c.segment) s"
# the event argument of contact_rate_by_segment and the count it stands for
SEGMENT_EVENTS = {"e.id": "count(e.id)", "e.escalated": "count(*) FILTER (WHERE e.escalated)"}


def ours_and_reference(conn, ours_sql, reference_sql):
    """Runs ours serially and in a forced-parallel plan, the reference serially."""
    set_plan(conn, SERIAL)
    reference = conn.execute(reference_sql).fetchall()
    serial = conn.execute(ours_sql).fetchall()
    set_plan(conn, PARALLEL)
    plan = explain(conn, ours_sql)
    parallel = conn.execute(ours_sql).fetchall()
    set_plan(conn, SERIAL)
    return reference, serial, parallel, plan


def assert_partial(plan, seed):
    """The forced-parallel plan aggregates in the workers and combines in the leader. On a
    handful of rows (and on empty tables) the planner may as well gather the rows first, and
    for a GROUP BY it expects many groups; test_parallel_workers_really_combine_states covers
    GROUP BY with a partial plan on more rows."""
    if len(generate(seed)[1]) >= 100:
        assert "Partial" in plan and "Finalize" in plan, plan


def as_text(rows):
    return [tuple(None if v is None else str(v) for v in row) for row in rows]


@pytest.mark.parametrize("key_type", KEY_TYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_per_customer_rates_equal_reference(conn, tables, seed, key_type):
    tables(seed, key_type)
    for ours, reference in PER_CUSTOMER:
        # whole table, per segment (GROUP BY), and with FILTER (its reference uses WHERE)
        for ours_shape, reference_shape in [
            ("SELECT {agg} " + JOIN, None),
            ("SELECT c.segment, {agg} " + JOIN + " GROUP BY 1 ORDER BY 1", None),
            ("SELECT {agg} FILTER (WHERE c.segment = 'enterprise') " + JOIN,
             "SELECT {agg} " + JOIN + " WHERE c.segment = 'enterprise'"),
        ]:
            ref, serial, parallel, plan = ours_and_reference(
                conn, ours_shape.format(agg=ours), (reference_shape or ours_shape).format(agg=reference)
            )
            assert as_text(serial) == as_text(ref), (ours, ours_shape)
            assert as_text(parallel) == as_text(ref), (ours, ours_shape, plan)
            if ours_shape.endswith(JOIN) and "FILTER" not in ours_shape:
                assert_partial(plan, seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_escalation_rate_equals_reference(conn, tables, seed):
    tables(seed, "bigint")
    ours, reference = ESCALATION
    for shape in ["SELECT {agg} FROM events", "SELECT customer_id % 3, {agg} FROM events GROUP BY 1 ORDER BY 1"]:
        ref, serial, parallel, plan = ours_and_reference(conn, shape.format(agg=ours), shape.format(agg=reference))
        assert as_text(serial) == as_text(ref)
        assert as_text(parallel) == as_text(ref), plan
        if "GROUP BY" not in shape:
            assert_partial(plan, seed)



# Repeat Purchase Rate over one row per customer who purchased (the events are the purchases
# here): customers with more than one purchase / customers with one or more * 100
PER_BUYER = "(SELECT customer_id, count(*) AS purchases FROM events WHERE customer_id IS NOT NULL GROUP BY 1) b"
REPEAT_PURCHASE = ("repeat_purchase_rate(purchases > 1)",
                   "count(*) FILTER (WHERE purchases > 1) * 100.0 / nullif(count(*), 0)")


@pytest.mark.parametrize("seed", SEEDS)
def test_repeat_purchase_rate_equals_reference(conn, tables, seed):
    tables(seed, "bigint")
    ours, reference = REPEAT_PURCHASE
    for shape in ["SELECT {agg} FROM " + PER_BUYER,
                  "SELECT customer_id % 3, {agg} FROM " + PER_BUYER + " GROUP BY 1 ORDER BY 1"]:
        ref, serial, parallel, plan = ours_and_reference(conn, shape.format(agg=ours), shape.format(agg=reference))
        assert as_text(serial) == as_text(ref)
        assert as_text(parallel) == as_text(ref), plan
    # three stored parts rolled up: the rate of the whole
    whole, rolled = conn.execute(
        f"SELECT (SELECT {ours} FROM {PER_BUYER}),"
        f" (SELECT repeat_purchase_rate(rollup(s)) FROM (SELECT repeat_purchase_summary(purchases > 1) s"
        f"  FROM {PER_BUYER} GROUP BY customer_id % 3) parts)").fetchone()
    assert whole == rolled

@pytest.mark.parametrize("key_type", KEY_TYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_contact_rate_by_segment_equals_reference(conn, tables, seed, key_type):
    tables(seed, key_type)
    for event, count in SEGMENT_EVENTS.items():
        ours = f"SELECT contact_rate_by_segment(c.segment, c.id, {event})::text {JOIN}"
        ref, serial, parallel, plan = ours_and_reference(conn, ours, SEGMENT_REFERENCE.format(contacts=count))
        assert serial == ref, event
        assert parallel == ref, (event, plan)
        assert_partial(plan, seed)


def test_parallel_workers_really_combine_states(conn):
    """On a table large enough for both workers to get rows, the plan launches them and the
    combined result equals the serial one."""
    conn.execute("DROP TABLE IF EXISTS big_customers, big_tickets")
    conn.execute("CREATE TABLE big_customers AS SELECT g AS id, 'seg' || g % 4 AS segment FROM generate_series(1, 100000) g")
    conn.execute(
        "CREATE TABLE big_tickets AS SELECT g AS id, 1 + (hashint4(g) & 131071) AS customer_id,"
        " hashint4(g + 1) % 25 = 0 AS escalated, g % 7 AS team FROM generate_series(1, 300000) g"
    )
    conn.execute("ANALYZE big_customers, big_tickets")
    queries = [
        "SELECT escalation_rate(escalated) FROM big_tickets",
        "SELECT team, escalation_rate(escalated) FROM big_tickets GROUP BY 1 ORDER BY 1",
        "SELECT c.segment, incident_rate(c.id, t.id), contact_rate(c.id::text, t.id)"
        " FROM big_customers c LEFT JOIN big_tickets t ON t.customer_id = c.id GROUP BY 1 ORDER BY 1",
        "SELECT incident_rate(c.id, t.id), contact_rate_by_segment(c.segment, c.id, t.id)::text"
        " FROM big_customers c LEFT JOIN big_tickets t ON t.customer_id = c.id",
    ]
    for query in queries:
        assert_workers_combine(conn, query)

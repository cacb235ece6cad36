"""The states are real SQL types with text and binary I/O: they can be stored in tables,
copied out and in (text and binary COPY, as Citus and pg_dump move them) and read back.
Text customer keys are listed in bytewise order."""

from decimal import Decimal

import pytest

STATES = {
    "share_summary": ['{"hits":3,"total":120}', '{"hits":0,"total":0}'],
    "duration_summary": ['{"completed":2,"pending":1,"sum_us":27670116110564327421}',
                         '{"completed":0,"pending":0,"sum_us":0}'],
    "duration_sketch": ['{"relative_accuracy":0.01,"completed":3,"pending":1,"sum_us":98400000000,"min_us":1200000000,"max_us":93600000000,"zeros":0,"buckets":{"1046":1,"1101":1,"1264":1}}',
                        '{"relative_accuracy":0.01,"completed":0,"pending":0,"sum_us":0,"min_us":null,"max_us":null,"zeros":0,"buckets":{}}',
                        '{"relative_accuracy":0.01,"completed":3,"pending":0,"sum_us":9223372036854775807,"min_us":0,"max_us":9223372036854775807,"zeros":2,"buckets":{"2184":1}}'],
    "status_history": ['{"until_us":820627200000000,"schedule":null,"changes":[[820576800000000,"open",true],[820584000000000,"solved",false]]}',
                       '{"until_us":null,"schedule":"24/7","changes":[[1,"é",false]]}',
                       '{"until_us":null,"schedule":null,"changes":[]}'],
    "survey_summary": ['{"survey":"nps","counts":[1,0,0,0,0,0,0,0,2,0,9]}', '{"survey":"csat","counts":[0,0,0,0,0]}',
                       '{"survey":"ces","counts":[1,2,3,4,5,6,7]}'],
    "cost_summary": ['{"resolved":3,"costs":4,"total_cost":"1250.125"}', '{"resolved":0,"costs":0,"total_cost":"0"}',
                     '{"resolved":1,"costs":1,"total_cost":"99999999999999999999999999999999.123456"}'],
    "score_summary": ['{"scores":3,"sum":255,"sum_of_squares":21725}', '{"scores":0,"sum":0,"sum_of_squares":0}',
                      '{"scores":2,"sum":200,"sum_of_squares":20000}'],
    "ticket_timeline": ['{"events":[[820576800000000,"status","new"],[820576800000000,"message","customer"],'
                        '[820584000000000,"priority",null],[1,"status","é"]]}', '{"events":[]}'],
    "customer_rate_summary": [
        '{"key_type":"bigint","events":3,"customers":[-5,1,2]}',
        '{"key_type":"text","events":1,"customers":["a","with \\"quotes\\"","é"]}',
        '{"key_type":"uuid","events":0,"customers":["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]}',
    ],
    "segment_rate_summary": [
        '{"key_type":"bigint","segments":{"a":{"events":0,"customers":[1]},"b b":{"events":2,"customers":[2,3]}}}',
    ],
}


@pytest.mark.parametrize("type_name", STATES)
@pytest.mark.parametrize("fmt", ["text", "binary"])
def test_copy_out_and_in_keeps_every_state(conn, type_name, fmt):
    conn.execute(f"DROP TABLE IF EXISTS states_in, states_out")
    conn.execute(f"CREATE TABLE states_in (id int, s {type_name})")
    conn.execute(f"CREATE TABLE states_out (id int, s {type_name})")
    for i, text in enumerate(STATES[type_name]):
        conn.execute("INSERT INTO states_in VALUES (%s, %s)", (i, text))
    with conn.cursor().copy(f"COPY states_in TO STDOUT (FORMAT {fmt})") as copy:
        data = b"".join(bytes(chunk) for chunk in copy)
    with conn.cursor().copy(f"COPY states_out FROM STDIN (FORMAT {fmt})") as copy:
        copy.write(data)
    rows = conn.execute("SELECT i.s::text, o.s::text FROM states_in i JOIN states_out o USING (id) ORDER BY id").fetchall()
    assert [r[0] for r in rows] == STATES[type_name]
    assert [r[1] for r in rows] == STATES[type_name]


def test_large_state_is_stored_toasted_and_read_back(conn):
    conn.execute("DROP TABLE IF EXISTS big_state")
    conn.execute("CREATE TABLE big_state (s customer_rate_summary)")
    conn.execute(
        "INSERT INTO big_state SELECT format('{\"key_type\":\"bigint\",\"events\":7,\"customers\":[%s]}',"
        " string_agg(g::text, ',' ORDER BY g))::customer_rate_summary FROM generate_series(1, 200000) g"
    )
    assert conn.execute("SELECT incident_rate_final(s) FROM big_state").fetchone()[0] == Decimal("0.035")
    assert conn.execute("SELECT pg_column_size(s) < 200000 * 8 FROM big_state").fetchone()[0]


def test_every_state_type_of_the_extension_is_checked_here(conn):
    """The round trips above (and test_robustness's fuzzing) cover every state type the
    extension has: a new one must be added to both lists."""
    import test_robustness
    types = {r[0] for r in conn.execute("""
        SELECT t.typname FROM pg_type t
        JOIN pg_depend d ON d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e'
        JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'support_kpi'
        WHERE t.typtype = 'b' AND t.typname NOT LIKE '\\_%'""")}
    assert "ticket_timeline" in types and len(types) == 10
    assert types == set(STATES) == set(test_robustness.VALID_TEXT), types ^ set(STATES)


@pytest.mark.parametrize("key", ["g::bigint", "g::integer * 1000003", "md5(g::text)::uuid", "'c' || g"])
def test_large_states_print_packed_and_read_back_from_either_form(conn, key):
    """More than 64 integer or uuid customers print packed (text keys are always listed);
    the packed text, and the list that summary_json() shows (and every earlier release
    printed), read back as the same state; per segment likewise."""
    row = conn.execute(f"""
        WITH s AS (SELECT incident_summary({key}, CASE WHEN g % 3 = 0 THEN g END) AS s,
                          contact_summary_by_segment(CASE WHEN g % 2 = 0 THEN 'even' ELSE 'odd' END, {key}, g) AS seg
                   FROM generate_series(1, 1000) g)
        SELECT s::text, summary_json(s)::text, incident_rate(s), customer_count(s),
               incident_rate(s::text::customer_rate_summary), incident_rate(summary_json(s)::text::customer_rate_summary),
               jsonb_array_length(summary_json(s) -> 'customers'),
               seg::text, seg::text::segment_rate_summary::text = seg::text,
               summary_json(seg)::text::segment_rate_summary::text = seg::text,
               jsonb_array_length(summary_json(seg) -> 'segments' -> 'even' -> 'customers')
        FROM s""").fetchone()
    text, listed, rate, customers, from_packed, from_listed, n, seg, seg_packed_same, seg_listed_same, even = row
    packed = not key.startswith("'c'")
    assert ('"packed":"' in text) == packed and '"customers": [' in listed
    assert len(text) < len(listed) / (1.8 if packed else 1)
    assert (customers, n, even) == (1000, 1000, 500)
    assert rate == from_packed == from_listed == Decimal(333)
    assert ('"packed":"' in seg) == packed and seg_packed_same and seg_listed_same

// In-server tests (`cargo pgrx test`): behaviour close to the support functions, in the
// executor paths that treat transition states specially (hash aggregation that spills,
// rescans that reset the aggregate's memory, window aggregation).
use pgrx::prelude::*;

fn one(sql: &str) -> Option<String> {
    Spi::get_one::<String>(sql).expect("query runs")
}

#[pg_test]
fn escalation_rate_counts_true_among_non_null() {
    let rate =
        one("SELECT escalation_rate(e)::text FROM (VALUES (true), (false), (NULL), (false)) v(e)");
    assert_eq!(rate.as_deref(), Some("33.3333333333333333"));
}

#[pg_test]
fn rates_equal_reference_when_hash_aggregation_spills_to_disk() {
    Spi::run(
        "CREATE TEMP TABLE c AS SELECT g AS id, g % 5000 AS grp FROM generate_series(1, 50000) g;
         CREATE TEMP TABLE t AS SELECT g AS id, 1 + g % 40000 AS customer_id, g % 9 = 0 AS esc
           FROM generate_series(1, 60000) g;
         ANALYZE c, t;
         SET LOCAL work_mem = '64kB'; SET LOCAL enable_sort = off;",
    )
    .unwrap();
    let mismatches = Spi::get_one::<i64>(
        "SELECT count(*) FROM (
           SELECT c.grp, incident_rate(c.id, t.id) AS ours, escalation_rate(t.esc) AS ours_esc,
                  count(t.id) * 1000.0 / count(DISTINCT c.id) AS ref,
                  count(*) FILTER (WHERE t.esc) * 100.0 / nullif(count(t.esc), 0) AS ref_esc
           FROM c LEFT JOIN t ON t.customer_id = c.id GROUP BY c.grp) x
         WHERE ours::text IS DISTINCT FROM ref::text OR ours_esc::text IS DISTINCT FROM ref_esc::text",
    );
    assert_eq!(mismatches, Ok(Some(0)));
    let plan = Spi::explain(
        "SELECT c.grp, incident_rate(c.id, t.id) FROM c LEFT JOIN t ON t.customer_id = c.id GROUP BY c.grp",
    )
    .unwrap();
    // a hashed aggregate that the planner expects to spill (split into partitions on disk)
    let plan = plan.0.to_string();
    assert!(plan.contains(r#""Strategy":"Hashed""#), "{plan}");
    assert!(plan.contains(r#""Planned Partitions""#), "{plan}");
}

#[pg_test]
fn state_memory_is_reset_between_rescans() {
    // A correlated subquery re-runs the aggregate once per outer row, resetting its memory
    // each time: every run must start from an empty state.
    let rates = one(
        "SELECT string_agg(r::text, ',' ORDER BY n) FROM generate_series(1, 3) n,
           LATERAL (SELECT incident_rate(c, e) AS r
                    FROM generate_series(1, n) c LEFT JOIN generate_series(1, 1) e ON e = c) x",
    );
    assert_eq!(
        rates.as_deref(),
        Some("1000.0000000000000000,500.0000000000000000,333.3333333333333333")
    );
}

#[pg_test]
fn running_window_rates_reuse_the_state() {
    // A running window calls the final function after every row on the same growing state.
    let rates = one("SELECT string_agg(r::text, ',' ORDER BY n) FROM (
           SELECT n, contact_rate(c, e) OVER (ORDER BY n) AS r
           FROM (VALUES (1, 1, 10), (2, 1, 11), (3, 2, NULL), (4, 3, 12)) v(n, c, e)) w");
    assert_eq!(
        rates.as_deref(),
        Some("100.0000000000000000,200.0000000000000000,100.0000000000000000,100.0000000000000000")
    );
    let segments = one("SELECT string_agg(r::text, ' | ' ORDER BY n) FROM (
           SELECT n, contact_rate_by_segment(s, c, e) OVER (ORDER BY n) -> 'a' ->> 'contacts' AS r
           FROM (VALUES (1, 'a', 1, 10), (2, 'a', 2, 11), (3, 'b', 3, 12)) v(n, s, c, e)) w");
    assert_eq!(segments.as_deref(), Some("1 | 2 | 2"));
}

#[pg_test]
fn share_transition_called_directly_leaves_its_input_alone() {
    // Called directly, the function must return a new value and leave its input alone.
    let row = one("SELECT share_trans(s, true)::text || ' ' || s::text
         FROM (SELECT '{\"hits\":1,\"total\":1}'::share_summary) v(s)");
    assert_eq!(
        row.as_deref(),
        Some(r#"{"hits":2,"total":2} {"hits":1,"total":1}"#)
    );
}

#[pg_test]
fn fixed_size_states_are_per_group_and_per_rescan() {
    // Many groups in a spilling hash aggregate: each group's in-place state stays its own.
    Spi::run(
        "CREATE TEMP TABLE k AS SELECT g AS id, g % 3000 AS grp,
                '2026-01-01'::timestamptz + g * interval '1 minute' AS opened_at,
                '2026-01-01'::timestamptz + g * interval '1 minute' + (g % 97) * interval '1 hour' AS resolved_at,
                (g % 11)::int AS score, (g % 1000)::numeric / 100 AS cost
           FROM generate_series(1, 60000) g;
         ANALYZE k;
         SET LOCAL work_mem = '64kB'; SET LOCAL enable_sort = off;",
    )
    .unwrap();
    let mismatches = Spi::get_one::<i64>(
        "SELECT count(*) FROM (
           SELECT grp,
                  extract(epoch FROM avg_resolution_time(opened_at, resolved_at)) AS ours_time,
                  round(sum(extract(epoch FROM resolved_at - opened_at)) / count(*), 6) AS ref_time,
                  nps(score) AS ours_nps,
                  (count(*) FILTER (WHERE score >= 9) - count(*) FILTER (WHERE score <= 6)) * 100.0 / count(*) AS ref_nps,
                  complaint_resolution_cost(cost, score > 2) AS ours_cost,
                  sum(cost) / nullif(count(*) FILTER (WHERE score > 2), 0) AS ref_cost
           FROM k GROUP BY grp) x
         WHERE ours_time::text IS DISTINCT FROM ref_time::text OR ours_nps::text IS DISTINCT FROM ref_nps::text
            OR ours_cost::text IS DISTINCT FROM ref_cost::text",
    );
    assert_eq!(mismatches, Ok(Some(0)));
    // a rescanned subquery starts each run from the initial state
    let runs = one(
        "SELECT string_agg(r::text, ',' ORDER BY n) FROM generate_series(1, 3) n,
           LATERAL (SELECT ces(s) AS r FROM generate_series(1, n) s) x",
    );
    assert_eq!(
        runs.as_deref(),
        Some("1.00000000000000000000,1.5000000000000000,2.0000000000000000")
    );
}

/// The fixed-size SQL types declare `INTERNALLENGTH` and `ALIGNMENT` by hand in sql/*.sql;
/// they must be the Rust states' size and at least their alignment.
#[pg_test]
fn fixed_state_types_match_the_rust_layout() {
    use kpi_core::{CostTotal, Durations, Share, SurveyCounts};
    use std::mem::{align_of, size_of};
    for (name, size, align) in [
        ("share_summary", size_of::<Share>(), align_of::<Share>()),
        ("duration_summary", size_of::<Durations>(), align_of::<Durations>()),
        ("survey_summary", size_of::<SurveyCounts>(), align_of::<SurveyCounts>()),
        ("cost_summary", size_of::<CostTotal>(), align_of::<CostTotal>()),
    ] {
        let declared = Spi::get_two::<i16, String>(&format!(
            "SELECT typlen, typalign::text FROM pg_type WHERE oid = '{name}'::regtype"
        ))
        .expect("type exists");
        let declared_align = match declared.1.as_deref() {
            Some("d") => 8,
            Some("i") => 4,
            Some("s") => 2,
            _ => 1,
        };
        assert_eq!(declared.0, Some(size as i16), "{name}: INTERNALLENGTH");
        assert!(declared_align >= align, "{name}: ALIGNMENT {declared_align} < {align}");
    }
}

#[pg_test]
fn growing_varlena_states_survive_spills_rescans_and_direct_calls() {
    // duration_sketch and status_history grow by copies inside the aggregate: under a hash
    // aggregation that spills, each group's state is written out and read back.
    Spi::run(
        "CREATE TEMP TABLE s AS SELECT g % 3000 AS grp, g % 700 AS ticket,
                (ARRAY['new','open','pending','solved'])[1 + g % 4] AS status,
                timestamptz '2026-01-01' + g * interval '1 minute' AS t0,
                timestamptz '2026-01-01' + g * interval '1 minute' + (g::bigint * g % 100000) * interval '1 second' AS t1
         FROM generate_series(1, 60000) g;
         ANALYZE s;
         SET LOCAL work_mem = '64kB'; SET LOCAL enable_sort = off;",
    )
    .unwrap();
    let bad = Spi::get_one::<i64>(
        "SELECT count(*) FROM (
           SELECT grp, percentile(resolution_time_sketch(t0, t1), 1) AS p100, max(t1 - t0) AS ref,
                  percentile(resolution_time_sketch(t0, t1), 0) AS p0, min(t1 - t0) AS ref0
           FROM s GROUP BY grp) x
         WHERE p100 <> ref OR p0 <> ref0",
    );
    assert_eq!(bad, Ok(Some(0)));
    let bad = Spi::get_one::<i64>(
        "SELECT count(*) FROM (
           SELECT ticket, time_in_status(status, t0, ARRAY['open']) AS ours,
                  coalesce(sum(n - t0) FILTER (WHERE status = 'open'), interval '0') AS ref
           FROM (SELECT *, coalesce(lead(t0) OVER (PARTITION BY ticket ORDER BY t0, status COLLATE \"C\"), t0) AS n
                 FROM s) o
           GROUP BY ticket) x
         WHERE ours <> ref",
    );
    assert_eq!(bad, Ok(Some(0)));
    // called directly, a transition function leaves its input alone
    let row = one(
        "WITH a AS (SELECT resolution_time_sketch_trans(NULL, now(), now() + interval '1 hour') AS s)
         SELECT completed_count(resolution_time_sketch_trans(s, now(), now() + interval '1 year'))::text
                || ' ' || completed_count(s)::text FROM a",
    );
    assert_eq!(row.as_deref(), Some("2 1"));
}

#[pg_test]
fn business_time_follows_the_schedule_tables_between_queries() {
    Spi::run(
        "INSERT INTO kpi_schedule VALUES ('pg_test_office', 'Europe/Berlin');
         INSERT INTO kpi_schedule_hours SELECT 'pg_test_office', d, time '09:00', time '17:00'
         FROM generate_series(1, 5) d;",
    )
    .unwrap();
    // a week of 5 x 8 hours, whatever the span's start within the week
    let weeks = one(
        "SELECT string_agg(DISTINCT business_time(t, t + interval '7 days', 'pg_test_office')::text, ',')
         FROM generate_series(timestamptz '2026-01-05', '2026-03-20', interval '7 hours 11 minutes') t",
    );
    assert_eq!(weeks.as_deref(), Some("1 day 16:00:00"));
    // a schedule changed within the transaction is read by the next query
    Spi::run("UPDATE kpi_schedule_hours SET ends = '13:00' WHERE schedule = 'pg_test_office'").unwrap();
    let short = one("SELECT business_time('2026-01-05', '2026-01-12', 'pg_test_office')::text");
    assert_eq!(short.as_deref(), Some("20:00:00"));
}

//! support_kpi: customer-support KPIs as PostgreSQL aggregates.
//!
//! Layout: each KPI family has its math in `crates/kpi_core/src/<family>.rs`, its SQL glue
//! in `src/<family>.rs`, its SQL definitions in `sql/<family>.sql` and its golden tests in
//! `tests/pg_regress/sql/<family>.sql`. The KPI catalog and `kpi_band` are plain SQL in
//! `sql/kpi_catalog.sql`.

// Every `unsafe fn` of this crate is function-manager glue with one contract, stated here once
// instead of on each: it runs in a PostgreSQL backend, called (directly or through the
// entry points of `v1_entry_points!`) with the `FunctionCallInfo` or datums PostgreSQL
// passed for the SQL signature declared in sql/*.sql.
#![allow(clippy::missing_safety_doc)]

pub mod business_hours;
pub mod change_test;
pub mod churn;
pub mod customer_rate;
pub mod durations;
pub mod fixed;
pub mod fmgr;
pub mod growing;
pub mod percentiles;
pub mod resolution_cost;
pub mod scores;
pub mod segment_rate;
pub mod share_rate;
pub mod sla;
pub mod status_history;
pub mod surveys;

::pgrx::pg_module_magic!(name, version);

// The install script: sql/ files in this order. The *_kpis.sql files, kpi_registry.sql and
// state_types.sql are generated from registry/kpis.toml by scripts/generate.py and checked
// in, like every sql/ file.
pgrx::extension_sql_file!("../sql/kpi_catalog.sql", name = "kpi_catalog");
pgrx::extension_sql_file!(
    "../sql/kpi_registry.sql",
    name = "kpi_registry",
    requires = ["kpi_catalog"]
);
pgrx::extension_sql_file!(
    "../sql/state_types.sql",
    name = "state_types",
    requires = ["kpi_registry"]
);
pgrx::extension_sql_file!(
    "../sql/share_rate.sql",
    name = "share_rate",
    requires = ["state_types"]
);
pgrx::extension_sql_file!(
    "../sql/share_rate_kpis.sql",
    name = "share_rate_kpis",
    requires = ["share_rate"]
);
pgrx::extension_sql_file!(
    "../sql/customer_rate.sql",
    name = "customer_rate",
    requires = ["share_rate_kpis"]
);
pgrx::extension_sql_file!(
    "../sql/customer_rate_kpis.sql",
    name = "customer_rate_kpis",
    requires = ["customer_rate"]
);
pgrx::extension_sql_file!(
    "../sql/segment_rate.sql",
    name = "segment_rate",
    requires = ["customer_rate_kpis"]
);
pgrx::extension_sql_file!(
    "../sql/segment_rate_kpis.sql",
    name = "segment_rate_kpis",
    requires = ["segment_rate"]
);
pgrx::extension_sql_file!(
    "../sql/durations.sql",
    name = "durations",
    requires = ["segment_rate_kpis"]
);
pgrx::extension_sql_file!(
    "../sql/durations_kpis.sql",
    name = "durations_kpis",
    requires = ["durations"]
);
pgrx::extension_sql_file!(
    "../sql/surveys.sql",
    name = "surveys",
    requires = ["durations_kpis"]
);
pgrx::extension_sql_file!(
    "../sql/surveys_kpis.sql",
    name = "surveys_kpis",
    requires = ["surveys"]
);
pgrx::extension_sql_file!(
    "../sql/resolution_cost.sql",
    name = "resolution_cost",
    requires = ["surveys_kpis"]
);
pgrx::extension_sql_file!(
    "../sql/resolution_cost_kpis.sql",
    name = "resolution_cost_kpis",
    requires = ["resolution_cost"]
);
pgrx::extension_sql_file!(
    "../sql/kpi_verdict.sql",
    name = "kpi_verdict",
    requires = ["resolution_cost_kpis"]
);
pgrx::extension_sql_file!(
    "../sql/kpi_recording.sql",
    name = "kpi_recording",
    requires = ["kpi_verdict"]
);
pgrx::extension_sql_file!(
    "../sql/percentiles.sql",
    name = "percentiles",
    requires = ["kpi_recording"]
);
pgrx::extension_sql_file!(
    "../sql/percentiles_kpis.sql",
    name = "percentiles_kpis",
    requires = ["percentiles"]
);
pgrx::extension_sql_file!(
    "../sql/scores.sql",
    name = "scores",
    requires = ["percentiles_kpis"]
);
pgrx::extension_sql_file!(
    "../sql/scores_kpis.sql",
    name = "scores_kpis",
    requires = ["scores"]
);
pgrx::extension_sql_file!(
    "../sql/kpi_verdict_kpis.sql",
    name = "kpi_verdict_kpis",
    requires = ["scores_kpis"]
);
pgrx::extension_sql_file!(
    "../sql/business_hours.sql",
    name = "business_hours",
    requires = ["kpi_verdict_kpis"]
);
pgrx::extension_sql_file!(
    "../sql/citus_schedules.sql",
    name = "citus_schedules",
    requires = ["business_hours"]
);
pgrx::extension_sql_file!(
    "../sql/status_history.sql",
    name = "status_history",
    requires = ["citus_schedules"]
);
pgrx::extension_sql_file!(
    "../sql/change_test.sql",
    name = "change_test",
    requires = ["status_history"]
);
pgrx::extension_sql_file!(
    "../sql/control_chart.sql",
    name = "control_chart",
    requires = ["change_test"]
);
pgrx::extension_sql_file!(
    "../sql/restatements.sql",
    name = "restatements",
    requires = ["control_chart"]
);
// Last: who may change the tables, and the check that no SQL above was bound to an object
// another role made (a trusted extension's script runs as a superuser).
pgrx::extension_sql_file!("../sql/sla.sql", name = "sla", requires = ["restatements"]);
pgrx::extension_sql_file!("../sql/trusted.sql", name = "trusted", finalize);

/// Called once when a backend loads the library.
///
/// Errors must never show a Rust backtrace: pgrx attaches `std::backtrace::Backtrace::capture()`
/// to errors it passes on, which captures one whenever the server's environment has
/// `RUST_BACKTRACE` set. `RUST_LIB_BACKTRACE=0` turns capturing off (and saves its cost).
#[no_mangle]
#[allow(non_snake_case)]
pub extern "C-unwind" fn _PG_init() {
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
}

/// In-server tests, in the `tests` schema `cargo pgrx test` expects: src/pg_tests.rs.
#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    include!("pg_tests.rs");
}

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}

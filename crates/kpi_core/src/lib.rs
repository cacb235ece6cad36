//! Pure algorithms behind the `support_kpi` PostgreSQL extension.
//!
//! Nothing here knows about PostgreSQL: the states of the KPI aggregates, how they absorb a
//! row, how two partial states merge (parallel workers, Citus shards, daily → monthly
//! rollups), and how a state is written as text and as bytes. The extension crate is a thin
//! layer that moves these states in and out of PostgreSQL datums; everything that can be
//! tested with `cargo test` is tested here.

pub mod business_hours;
pub mod change_test;
pub mod codec;
pub mod customer_rate;
pub mod durations;
pub mod error;
pub mod flat;
pub mod intervals;
pub mod keys;
pub mod percentiles;
pub mod resolution_cost;
pub mod scores;
pub mod segment_rate;
pub mod share_rate;
pub mod sla;
pub mod special;
pub mod status_history;
pub mod surveys;
pub mod text_form;
#[cfg(test)]
mod text_form_tests;
pub mod timeline;
pub mod wilson;

pub use durations::Durations;
pub use error::{KpiError, KpiErrorKind};
pub use keys::{KeyType, Keys};
pub use resolution_cost::{CostTotal, Decimal};
pub use scores::Scores;
pub use share_rate::Share;
pub use surveys::{Survey, SurveyCounts};

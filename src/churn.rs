//! SQL glue of `churn_rate`: customers lost in a period among the customers at its start,
//! kept in a `share_summary` (hits = lost, total = customers at the start). The SQL is
//! generated from the KPI registry (`period` of `churn_rate`): `sql/share_rate_kpis.sql`.
//!
//! A customer is a customer from `active_from` until `churned_at` (NULL: still one). For the
//! period [period_start, period_end):
//! - at the start: active_from <= period_start and (churned_at IS NULL or churned_at >= period_start)
//! - lost: one of those with churned_at < period_end.
//!
//! Consecutive periods thus count every churn exactly once, in the period it falls in;
//! customers who join during the period are not in its base, as the formula has it.

use crate::fmgr::{arg, raise, raise_with, timestamp_text, Clock};
use crate::share_rate::count_hit;
use crate::v1_entry_points;
use kpi_core::error::input_error;
use kpi_core::KpiErrorKind;
use pgrx::pg_sys::{Datum, FunctionCallInfo};
use pgrx::PgSqlErrorCode;

/// The period bounds, arguments 3 and 4: both given, finite, start before end.
unsafe fn period(fcinfo: FunctionCallInfo) -> (i64, i64) {
    let (Some(start), Some(end)) = (arg(fcinfo, 3), arg(fcinfo, 4)) else {
        raise_with(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "churn period start or end is NULL".into(),
            Some(
                "Give the period as two timestamps, e.g. month and month + interval '1 month'."
                    .into(),
            ),
        )
    };
    let (start, end) = (start.value() as i64, end.value() as i64);
    if [start, end]
        .iter()
        .any(|t| *t == i64::MIN || *t == i64::MAX)
        || end <= start
    {
        raise_with(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!(
                "churn period from {} to {} is not a finite period",
                timestamp_text(start, Clock::WithZone),
                timestamp_text(end, Clock::WithZone)
            ),
            Some("The period end must be a finite timestamp after its start.".into()),
        );
    }
    (start, end)
}

/// `(share_summary, active_from, churned_at, period_start, period_end)`, not STRICT.
unsafe fn count_customer(fcinfo: FunctionCallInfo) -> Datum {
    let (start, end) = period(fcinfo);
    let Some(active_from) = arg(fcinfo, 1).map(|d| d.value() as i64) else {
        return crate::fixed::unchanged_state(fcinfo);
    };
    let churned_at = arg(fcinfo, 2).map(|d| d.value() as i64);
    if let Some(churned) = churned_at.filter(|c| *c < active_from) {
        raise(input_error(
            KpiErrorKind::InvalidValue,
            format!(
                "churned at {} is before active from {}",
                timestamp_text(churned, Clock::WithZone),
                timestamp_text(active_from, Clock::WithZone)
            ),
            "A customer churns after becoming one. Correct the row, or leave such rows out with FILTER (WHERE churned_at >= active_from).",
        ));
    }
    let at_start = active_from <= start && churned_at.is_none_or(|c| c >= start);
    if !at_start {
        return crate::fixed::unchanged_state(fcinfo);
    }
    count_hit(fcinfo, churned_at.is_some_and(|c| c < end))
}

v1_entry_points! {
    churn_trans => count_customer();
}

//! SQL glue of the time KPIs: `avg_first_response_time`, `avg_resolution_time`,
//! `avg_handling_time` (state `duration_summary`), and the share of cases done within a
//! target time, `complaint_resolution_efficiency` and `sla_compliance_rate` (state
//! `share_summary`). The math is `kpi_core::durations`; the SQL is `sql/durations.sql` and,
//! generated from the KPI registry, `sql/durations_kpis.sql` and `sql/share_rate_kpis.sql`.
//!
//! A span runs from a start timestamp to an end timestamp. A NULL start skips the row (the
//! case is not in scope); a NULL end counts the case as pending: left out of the average
//! and counted separately, and not done within target. An end before its start, or an
//! infinite timestamp, is a data error: ERROR, never a silently shifted average.

use crate::fixed::{
    fixed_arg, fixed_combine, fixed_in, fixed_out, fixed_recv, fixed_send, update_fixed,
};
use crate::fmgr::{
    arg, output_text, raise, raise_with, return_null, strict_arg, timestamp_text, Clock,
};
use crate::v1_entry_points;
use kpi_core::durations::{interval_micros, micros_to_days_time, span_micros, SpanError};
use kpi_core::error::input_error;
use kpi_core::{Durations, KpiErrorKind};
use pgrx::pg_sys::{self, Datum, FunctionCallInfo};
use pgrx::PgSqlErrorCode;

/// What the two ends of a span are called in error messages.
pub struct SpanNames {
    pub start: &'static str,
    pub end: &'static str,
    /// Column-like names for the FILTER in the hint.
    pub start_column: &'static str,
    pub end_column: &'static str,
}

pub const FIRST_RESPONSE: SpanNames = SpanNames {
    start: "opened at",
    end: "first response at",
    start_column: "opened_at",
    end_column: "first_response_at",
};
pub const RESOLUTION: SpanNames = SpanNames {
    start: "opened at",
    end: "resolved at",
    start_column: "opened_at",
    end_column: "resolved_at",
};
pub const HANDLING: SpanNames = SpanNames {
    start: "handling started at",
    end: "handling ended at",
    start_column: "started_at",
    end_column: "ended_at",
};
pub const NEXT_REPLY: SpanNames = SpanNames {
    start: "waiting since",
    end: "replied at",
    start_column: "waiting_since",
    end_column: "replied_at",
};
pub const SLA: SpanNames = SpanNames {
    start: "opened at",
    end: "completed at",
    start_column: "opened_at",
    end_column: "completed_at",
};

pub unsafe fn interval_text(d: Datum) -> String {
    output_text(pg_sys::interval_out, d)
}

/// The span from `start` to `end` in microseconds, or the ERROR that names both.
pub unsafe fn checked_span(start: i64, end: i64, names: &SpanNames, clock: Clock) -> i128 {
    match span_micros(start, end) {
        Ok(span) => span,
        Err(SpanError::Infinite) => raise(input_error(
            KpiErrorKind::DatetimeOutOfRange,
            format!(
                "cannot measure the time from {} {} to {} {}",
                names.start,
                timestamp_text(start, clock),
                names.end,
                timestamp_text(end, clock)
            ),
            "Both ends of a span must be finite timestamps; use NULL for a case not done yet.",
        )),
        Err(SpanError::Negative) => raise(input_error(
            KpiErrorKind::InvalidValue,
            format!(
                "{} {} is before {} {}",
                names.end,
                timestamp_text(end, clock),
                names.start,
                timestamp_text(start, clock)
            ),
            &format!(
                "A span cannot end before it starts. Correct the row, or leave such rows out with FILTER (WHERE {} >= {}).",
                names.end_column, names.start_column
            ),
        )),
    }
}

/// `(state, start, end)`, not STRICT: NULL start skips the row, NULL end is pending.
unsafe fn span_trans(fcinfo: FunctionCallInfo, names: &SpanNames, clock: Clock) -> Datum {
    span_trans_with(fcinfo, |start, end| checked_span(start, end, names, clock))
}

/// The row of a span transition `(state, start, end, ...)`: `None` when the start is NULL
/// (the row is skipped), else the case's span `span(start, end)`, `None` for a NULL end
/// (pending). Calendar and business time, averages and sketches read rows with it.
pub unsafe fn row_span(
    fcinfo: FunctionCallInfo,
    span: impl FnOnce(i64, i64) -> i128,
) -> Option<Option<i128>> {
    let start = arg(fcinfo, 1)?;
    Some(arg(fcinfo, 2).map(|end| span(start.value() as i64, end.value() as i64)))
}

/// `(duration_summary, start, end, ...)` with the case's span `span(start, end)`.
pub unsafe fn span_trans_with(
    fcinfo: FunctionCallInfo,
    span: impl FnOnce(i64, i64) -> i128,
) -> Datum {
    let Some(span) = row_span(fcinfo, span) else {
        return crate::fixed::unchanged_state(fcinfo);
    };
    update_fixed::<Durations>(fcinfo, |state| match span {
        None => state.add_pending(),
        Some(span) => state.add_span(span),
    })
}

/// The microseconds of an interval argument.
pub unsafe fn interval_arg_micros(d: Datum) -> i128 {
    let iv = &*d.cast_mut_ptr::<pg_sys::Interval>();
    interval_micros(iv.time, iv.day, iv.month)
}

/// `(state, handling interval)`, STRICT: a handling time given as a duration.
unsafe fn interval_trans(fcinfo: FunctionCallInfo) -> Datum {
    let micros = handling_micros(strict_arg(fcinfo, 1));
    update_fixed::<Durations>(fcinfo, |state| state.add_span(micros))
}

/// The microseconds of a handling time given as an interval; a negative one is an ERROR.
pub unsafe fn handling_micros(duration: Datum) -> i128 {
    duration_micros(duration, "handling time", "handle_time")
}

/// The microseconds of a duration (`what`, e.g. "handling time", in a column like `column`)
/// given as an interval; a negative one is an ERROR.
pub unsafe fn duration_micros(duration: Datum, what: &str, column: &str) -> i128 {
    let micros = interval_arg_micros(duration);
    if micros < 0 {
        raise(input_error(
            KpiErrorKind::InvalidValue,
            format!("{what} {} is negative", interval_text(duration)),
            &format!("A {what} is zero or more. Correct the row, or leave such rows out with FILTER (WHERE {column} >= interval '0')."),
        ));
    }
    micros
}

/// The mean span as an interval of days and time (like `justify_hours`); NULL without
/// completed spans.
unsafe fn average(fcinfo: FunctionCallInfo) -> Datum {
    average_datum(fcinfo, fixed_arg::<Durations>(fcinfo, 0))
}

/// The mean of `state`'s spans as an interval; NULL without completed spans.
pub unsafe fn average_datum(fcinfo: FunctionCallInfo, state: &Durations) -> Datum {
    let Some(micros) = state.average_micros().unwrap_or_else(|e| raise(e)) else {
        return return_null(fcinfo);
    };
    interval_datum(micros, "average time")
}

/// `micros` as an interval of days and time (like `justify_hours`).
pub unsafe fn interval_datum(micros: i64, what: &str) -> Datum {
    let result = pg_sys::palloc(std::mem::size_of::<pg_sys::Interval>()) as *mut pg_sys::Interval;
    result.write(interval_of(micros, what));
    Datum::from(result)
}

/// The interval of `micros` (days of 24 hours and the rest); out of the interval's range is
/// an error naming `what`.
pub fn interval_of(micros: i64, what: &str) -> pg_sys::Interval {
    let Some((day, time)) = micros_to_days_time(micros) else {
        raise(kpi_core::error::interval_out_of_range(what))
    };
    pg_sys::Interval {
        time,
        day,
        month: 0,
    }
}

unsafe fn completed(fcinfo: FunctionCallInfo) -> Datum {
    Datum::from(fixed_arg::<Durations>(fcinfo, 0).completed)
}

unsafe fn pending(fcinfo: FunctionCallInfo) -> Datum {
    Datum::from(fixed_arg::<Durations>(fcinfo, 0).pending)
}

/// `(share_summary, start, end, target interval)`, not STRICT: counts a case as a hit when
/// it ended within `target` of its start. A NULL start skips the row; a NULL end (not done
/// yet) counts as not within target, since the KPI is the share of all cases done in time.
unsafe fn within_target_trans(fcinfo: FunctionCallInfo, names: &SpanNames, clock: Clock) -> Datum {
    within_target_with(fcinfo, |start, end| checked_span(start, end, names, clock))
}

/// `(share_summary, start, end, target, ...)`: a hit when `span(start, end)` is within the
/// target; a NULL start skips the row, a NULL end is not done in time.
pub unsafe fn within_target_with(
    fcinfo: FunctionCallInfo,
    span: impl FnOnce(i64, i64) -> i128,
) -> Datum {
    let Some(start) = arg(fcinfo, 1) else {
        return crate::fixed::unchanged_state(fcinfo);
    };
    let target_micros = target_arg(fcinfo, 3);
    let hit = match arg(fcinfo, 2) {
        None => false,
        Some(end) => span(start.value() as i64, end.value() as i64) <= target_micros,
    };
    crate::share_rate::count_hit(fcinfo, hit)
}

/// The target time in argument `n`, in microseconds: a positive interval.
pub unsafe fn target_arg(fcinfo: FunctionCallInfo, n: usize) -> i128 {
    let Some(target) = arg(fcinfo, n) else {
        raise_with(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "target time is NULL".into(),
            Some("Give the target time as an interval, e.g. interval '5 days'.".into()),
        )
    };
    let target_micros = interval_arg_micros(target);
    if target_micros <= 0 {
        raise_with(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("target time {} is not positive", interval_text(target)),
            Some("Give the target time as a positive interval, e.g. interval '5 days'.".into()),
        );
    }
    target_micros
}

v1_entry_points! {
    duration_summary_in => fixed_in::<Durations>();
    duration_summary_out => fixed_out::<Durations>();
    duration_summary_recv => fixed_recv::<Durations>();
    duration_summary_send => fixed_send::<Durations>();
    duration_combine => fixed_combine::<Durations>();
    first_response_trans_tz => span_trans(&FIRST_RESPONSE, Clock::WithZone);
    first_response_trans_ts => span_trans(&FIRST_RESPONSE, Clock::Local);
    resolution_time_trans_tz => span_trans(&RESOLUTION, Clock::WithZone);
    resolution_time_trans_ts => span_trans(&RESOLUTION, Clock::Local);
    handling_time_trans_tz => span_trans(&HANDLING, Clock::WithZone);
    handling_time_trans_ts => span_trans(&HANDLING, Clock::Local);
    handling_time_trans_interval => interval_trans();
    duration_average => average();
    duration_completed => completed();
    duration_pending => pending();
    resolution_efficiency_trans_tz => within_target_trans(&RESOLUTION, Clock::WithZone);
    resolution_efficiency_trans_ts => within_target_trans(&RESOLUTION, Clock::Local);
    sla_compliance_trans_tz => within_target_trans(&SLA, Clock::WithZone);
    sla_compliance_trans_ts => within_target_trans(&SLA, Clock::Local);
}

//! SQL glue of the time KPIs' percentiles: `median_first_response_time`,
//! `median_resolution_time`, `median_handling_time`, the summaries `first_response_sketch`,
//! `resolution_time_sketch`, `handling_time_sketch` (state `duration_sketch`), and their
//! accessors `percentile`, `median`, the averages, `completed_count`, `pending_count` and
//! `rollup`. The math is `kpi_core::percentiles`; the SQL is `sql/percentiles.sql`.
//!
//! Rows count as in the averages (`src/durations.rs`): a NULL start skips the row, a NULL end
//! is a pending case, an end before its start is an ERROR.
//!
//! A `duration_sketch` is a flat varlena: 124 bytes for a group of a few cases (sparse), at
//! most 17.5 kB (dense). Called as an aggregate transition, a support function updates the
//! transition value in place while it has room for the span; otherwise it returns a larger
//! copy made in the current memory context, which the executor moves into the aggregate's
//! memory (so every byte is accounted for where hash aggregation counts it, and nothing is
//! left behind by an ERROR or a cancel).
//!
//! The transition value of the running aggregate is checked for its layout only (on every
//! row); every other value (accessor and final-function arguments, the states a combine
//! merges, type output and send) is checked against the whole validity rule first.

use crate::durations::{
    average_datum, checked_span, duration_micros, interval_datum, row_span, SpanNames,
    FIRST_RESPONSE, HANDLING, NEXT_REPLY, RESOLUTION,
};
use crate::fmgr::{
    bytes_datum, input_text, output_datum, raise_with, receive_buffer, return_null, strict_arg,
    varlena_bytes, varlena_for_update, Clock, OrRaise,
};
use crate::v1_entry_points;
use kpi_core::percentiles::{self as sketch, View};
use pgrx::pg_sys::{Datum, FunctionCallInfo};
use pgrx::PgSqlErrorCode;

/// The checked view of a `duration_sketch` argument (the whole validity rule).
unsafe fn view_arg<'a>(fcinfo: FunctionCallInfo, n: usize) -> View<'a> {
    View::checked(varlena_bytes(strict_arg(fcinfo, n))).or_raise()
}

/// The state in argument 0 to update: itself inside an aggregate (the executor's own
/// transition value, its layout checked), else a copy of a value checked whole; a new empty
/// state for a NULL one. `whole`: check the aggregate's own value whole too (a combine).
pub unsafe fn for_update<'a>(fcinfo: FunctionCallInfo, whole: bool) -> (Datum, &'a mut [u8]) {
    varlena_for_update(fcinfo, sketch::empty, |b, own| {
        if whole || !own {
            View::checked(b).or_raise();
        } else {
            View::new(b).or_raise();
        }
        b.len()
    })
}

/// Adds a span of `micros` to the state of argument 0.
pub unsafe fn add_span(fcinfo: FunctionCallInfo, micros: i128) -> Datum {
    let (d, b) = for_update(fcinfo, false);
    match sketch::add_span(b, micros).or_raise() {
        None => d,
        Some(larger) => bytes_datum(&larger),
    }
}

/// `(state, start, end)`, not STRICT: a NULL start skips the row, a NULL end is pending.
unsafe fn span_trans(fcinfo: FunctionCallInfo, names: &SpanNames, clock: Clock) -> Datum {
    span_trans_with(fcinfo, |start, end| checked_span(start, end, names, clock))
}

/// `(duration_sketch, start, end, ...)` with the case's span `span(start, end)`.
pub unsafe fn span_trans_with(
    fcinfo: FunctionCallInfo,
    span: impl FnOnce(i64, i64) -> i128,
) -> Datum {
    match row_span(fcinfo, span) {
        None => crate::fixed::unchanged_state(fcinfo),
        Some(None) => {
            let (d, b) = for_update(fcinfo, false);
            sketch::add_pending(b).or_raise();
            d
        }
        Some(Some(span)) => add_span(fcinfo, span),
    }
}

/// `(state, duration interval)`, STRICT: `what` names the duration in errors, `column` in
/// the hint's FILTER.
unsafe fn interval_trans(fcinfo: FunctionCallInfo, what: &str, column: &str) -> Datum {
    let micros = duration_micros(strict_arg(fcinfo, 1), what, column);
    add_span(fcinfo, micros)
}

/// `(state, state)`, STRICT: the merge, in place inside an aggregate while the window holds.
unsafe fn combine(fcinfo: FunctionCallInfo) -> Datum {
    let other = view_arg(fcinfo, 1);
    let (d, b) = for_update(fcinfo, true);
    match sketch::merge_into(b, &other).or_raise() {
        None => d,
        Some(larger) => bytes_datum(&larger),
    }
}

/// The `q` percentile as an interval; NULL without completed spans.
unsafe fn percentile_of(fcinfo: FunctionCallInfo, q: f64) -> Datum {
    match view_arg(fcinfo, 0).percentile(q) {
        None => return_null(fcinfo),
        Some(micros) => interval_datum(micros, "percentile"),
    }
}

unsafe fn median(fcinfo: FunctionCallInfo) -> Datum {
    percentile_of(fcinfo, 0.5)
}

/// `percentile(sketch, fraction)`: the fraction is checked like `percentile_disc`'s.
unsafe fn percentile(fcinfo: FunctionCallInfo) -> Datum {
    let q = f64::from_bits(strict_arg(fcinfo, 1).value() as u64);
    if !(0.0..=1.0).contains(&q) {
        raise_with(
            PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
            format!("percentile value {q} is not between 0 and 1"),
            Some("Give the percentile as a fraction, e.g. 0.5 for the median or 0.9 for the 90th percentile.".into()),
        );
    }
    percentile_of(fcinfo, q)
}

unsafe fn average(fcinfo: FunctionCallInfo) -> Datum {
    average_datum(fcinfo, &view_arg(fcinfo, 0).durations())
}

unsafe fn completed(fcinfo: FunctionCallInfo) -> Datum {
    Datum::from(view_arg(fcinfo, 0).completed())
}

unsafe fn pending(fcinfo: FunctionCallInfo) -> Datum {
    Datum::from(view_arg(fcinfo, 0).pending())
}

unsafe fn type_in(fcinfo: FunctionCallInfo) -> Datum {
    bytes_datum(&sketch::from_text(&input_text(fcinfo)).or_raise())
}

unsafe fn type_out(fcinfo: FunctionCallInfo) -> Datum {
    output_datum(sketch::to_text(&view_arg(fcinfo, 0)))
}

unsafe fn type_recv(fcinfo: FunctionCallInfo) -> Datum {
    bytes_datum(&sketch::from_bytes(receive_buffer(fcinfo)).or_raise())
}

unsafe fn type_send(fcinfo: FunctionCallInfo) -> Datum {
    bytes_datum(&sketch::to_bytes(&view_arg(fcinfo, 0)))
}

v1_entry_points! {
    duration_sketch_in => type_in();
    duration_sketch_out => type_out();
    duration_sketch_recv => type_recv();
    duration_sketch_send => type_send();
    duration_sketch_combine => combine();
    first_response_sketch_trans_tz => span_trans(&FIRST_RESPONSE, Clock::WithZone);
    first_response_sketch_trans_ts => span_trans(&FIRST_RESPONSE, Clock::Local);
    resolution_time_sketch_trans_tz => span_trans(&RESOLUTION, Clock::WithZone);
    resolution_time_sketch_trans_ts => span_trans(&RESOLUTION, Clock::Local);
    handling_time_sketch_trans_tz => span_trans(&HANDLING, Clock::WithZone);
    handling_time_sketch_trans_ts => span_trans(&HANDLING, Clock::Local);
    handling_time_sketch_trans_interval => interval_trans("handling time", "handle_time");
    next_reply_sketch_trans_tz => span_trans(&NEXT_REPLY, Clock::WithZone);
    next_reply_sketch_trans_ts => span_trans(&NEXT_REPLY, Clock::Local);
    next_reply_sketch_trans_interval => interval_trans("next reply time", "elapsed");
    duration_sketch_median => median();
    duration_sketch_percentile => percentile();
    duration_sketch_average => average();
    duration_sketch_completed => completed();
    duration_sketch_pending => pending();
}

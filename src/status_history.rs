//! SQL glue of the status-history KPIs: `time_in_status(status, changed_at, statuses
//! [, until [, schedule]])` and `reopen_count(status, changed_at, solved_statuses)`, over one
//! ticket's status changes (state `status_history`). The math is `kpi_core::status_history`; the SQL
//! is `sql/status_history.sql`.
//!
//! Rows with a NULL status or instant are skipped. The list of statuses is read once per call
//! site while it stays the same (usually a constant array).

use crate::fmgr::{
    arg, bytes_datum, call_site_cache, input_text, output_datum, raise_with, receive_buffer,
    return_null, server_to_utf8, strict_arg, utf8_to_server, varlena_bytes, varlena_for_update,
    verify_server_text, OrRaise,
};
use crate::v1_entry_points;
use kpi_core::status_history::{self as status, Change, View};
use kpi_core::KpiError;
use pgrx::pg_sys::{self, Datum, FunctionCallInfo};
use pgrx::PgSqlErrorCode;

/// The statuses of the last array seen at this call site: its bytes and its elements.
#[derive(Default)]
struct StatusList {
    raw: Vec<u8>,
    elements: Vec<Vec<u8>>,
}

/// Whether `status` is one of the array in argument `n` (a text[]; NULL elements never match).
unsafe fn in_list(fcinfo: FunctionCallInfo, n: usize, what: &str, status: &[u8]) -> bool {
    let Some(array) = arg(fcinfo, n) else {
        raise_with(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            format!("{what} is NULL"),
            Some(format!(
                "Give the {what} as a text array, e.g. ARRAY['new', 'open', 'hold']."
            )),
        )
    };
    let list = call_site_cache::<StatusList>(fcinfo);
    let raw = varlena_bytes(array);
    if list.raw != raw {
        let detoasted = pg_sys::pg_detoast_datum(array.cast_mut_ptr()) as *mut pg_sys::ArrayType;
        if (*detoasted).ndim > 1 {
            raise_with(
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("{what} must be a one-dimensional array"),
                Some("Give a list such as ARRAY['new', 'open', 'hold'].".into()),
            );
        }
        let (mut elems, mut nulls, mut count) = (std::ptr::null_mut(), std::ptr::null_mut(), 0);
        pg_sys::deconstruct_array(
            detoasted,
            pg_sys::TEXTOID,
            -1,
            false,
            pg_sys::TYPALIGN_INT as std::ffi::c_char,
            &mut elems,
            &mut nulls,
            &mut count,
        );
        list.elements = (0..count as usize)
            .filter(|i| !*nulls.add(*i))
            .map(|i| varlena_bytes(*elems.add(i)).to_vec())
            .collect();
        list.raw = raw.to_vec();
    }
    list.elements.iter().any(|e| e == status)
}

/// The state in argument 0 to update: itself inside an aggregate, else a copy (of its used
/// part); a new empty state for a NULL one.
unsafe fn for_update<'a>(fcinfo: FunctionCallInfo) -> (Datum, &'a mut [u8]) {
    varlena_for_update(
        fcinfo,
        || status::empty(0),
        |b, _| View::new(b).or_raise().used_bytes().len(),
    )
}

unsafe fn finite(fcinfo: FunctionCallInfo, n: usize, what: &str) -> Option<i64> {
    let t = arg(fcinfo, n)?.value() as i64;
    if t == i64::MIN || t == i64::MAX {
        raise_with(
            PgSqlErrorCode::ERRCODE_DATETIME_FIELD_OVERFLOW,
            format!("{what} is infinite"),
            Some("Status changes and until are finite timestamps.".into()),
        );
    }
    Some(t)
}

/// `(state, status, changed_at, statuses [, until [, schedule]])` for time_in_status, or
/// `(state, status, changed_at, solved_statuses)` for reopen_count.
unsafe fn trans(fcinfo: FunctionCallInfo, list_name: &str) -> Datum {
    let (Some(status), Some(at)) = (arg(fcinfo, 1), finite(fcinfo, 2, "changed_at")) else {
        return crate::fixed::unchanged_state(fcinfo);
    };
    let status = varlena_bytes(status);
    let flag = in_list(fcinfo, 3, list_name, status);
    let nargs = (*fcinfo).nargs as usize;
    let until = if nargs > 4 {
        finite(fcinfo, 4, "until")
    } else {
        None
    };
    let schedule = if nargs > 5 {
        match arg(fcinfo, 5) {
            Some(s) => Some(varlena_bytes(s)),
            None => raise_with(
                PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
                "schedule is NULL".into(),
                Some("Name a schedule of kpi_schedule, e.g. '24/7', or leave the argument out for calendar time.".into()),
            ),
        }
    } else {
        None
    };
    let (d, b) = for_update(fcinfo);
    match status::add(
        b,
        Change {
            at,
            status,
            flag: flag as u8,
        },
        until,
        schedule,
    )
    .or_raise()
    {
        None => d,
        Some(copy) => bytes_datum(&copy),
    }
}

unsafe fn combine(fcinfo: FunctionCallInfo) -> Datum {
    let other = View::new(varlena_bytes(strict_arg(fcinfo, 1))).or_raise();
    let (d, b) = for_update(fcinfo);
    match status::merge(b, &other).or_raise() {
        None => d,
        Some(copy) => bytes_datum(&copy),
    }
}

unsafe fn time_final(fcinfo: FunctionCallInfo) -> Datum {
    let v = View::new(varlena_bytes(strict_arg(fcinfo, 0))).or_raise();
    let schedule = v.schedule();
    let schedules = crate::business_hours::Schedules::of(fcinfo);
    let total = status::time_in(&v, |a, b| match schedule {
        None => b as i128 - a as i128,
        Some(name) => schedules.between(name, a, b) as i128,
    })
    .or_raise();
    match total {
        None => return_null(fcinfo),
        Some(micros) => crate::durations::interval_datum(micros, "time in status"),
    }
}

/// `time_in_status(timeline, statuses, until, schedule)`: the ticket's status changes as known
/// at `until`, piece by piece in the schedule in force (the timeline's schedule changes over
/// `schedule`; NULL: calendar time where none is in force). NULL for a NULL timeline.
unsafe fn timeline_time_in(fcinfo: FunctionCallInfo) -> Datum {
    let Some(state) = arg(fcinfo, 0) else {
        return return_null(fcinfo);
    };
    // the list is checked even when the ticket has no status to look up in it
    in_list(fcinfo, 1, "statuses", b"");
    let Some(until) = finite(fcinfo, 2, "until") else {
        raise_with(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "until is NULL".into(),
            Some("Give the instant to measure up to, e.g. now() (the default).".into()),
        )
    };
    let default = arg(fcinfo, 3).map(|s| varlena_bytes(s));
    let v = kpi_core::timeline::view(varlena_bytes(state)).or_raise();
    let events = kpi_core::timeline::events(&v).or_raise();
    let schedules = crate::business_hours::Schedules::of(fcinfo);
    let total = kpi_core::timeline::time_in_status(
        &events,
        until,
        default,
        |s| in_list(fcinfo, 1, "statuses", s),
        |a, b, schedule| schedules.piece_between(schedule, a, b),
    )
    .or_raise();
    match total {
        None => return_null(fcinfo),
        Some(micros) => crate::durations::interval_datum(micros, "time in status"),
    }
}

unsafe fn reopen_final(fcinfo: FunctionCallInfo) -> Datum {
    let v = View::new(varlena_bytes(strict_arg(fcinfo, 0))).or_raise();
    match status::reopens(&v).or_raise() {
        None => return_null(fcinfo),
        Some(n) => Datum::from(n as i32),
    }
}

fn to_utf8(b: &[u8]) -> Result<String, KpiError> {
    let converted = server_to_utf8(b)?;
    String::from_utf8(converted.into_owned())
        .map_err(|_| KpiError::invalid_text("status is not valid text"))
}

fn from_utf8(s: &str) -> Result<Vec<u8>, KpiError> {
    Ok(utf8_to_server(s.as_bytes())?.into_owned())
}

unsafe fn type_in(fcinfo: FunctionCallInfo) -> Datum {
    bytes_datum(&status::from_text(&input_text(fcinfo), &from_utf8).or_raise())
}

unsafe fn type_out(fcinfo: FunctionCallInfo) -> Datum {
    let v = View::new(varlena_bytes(strict_arg(fcinfo, 0))).or_raise();
    output_datum(status::to_text(&v, &to_utf8).or_raise())
}

unsafe fn type_recv(fcinfo: FunctionCallInfo) -> Datum {
    let check = |b: &[u8]| verify_server_text(b).map(|_| ());
    bytes_datum(&status::from_bytes(receive_buffer(fcinfo), &check).or_raise())
}

unsafe fn type_send(fcinfo: FunctionCallInfo) -> Datum {
    let v = View::new(varlena_bytes(strict_arg(fcinfo, 0))).or_raise();
    bytes_datum(&status::to_bytes(&v).or_raise())
}

v1_entry_points! {
    status_history_in => type_in();
    status_history_out => type_out();
    status_history_recv => type_recv();
    status_history_send => type_send();
    status_history_combine => combine();
    time_in_status_trans => trans("statuses");
    time_in_status_final => time_final();
    time_in_status_timeline => timeline_time_in();
    reopen_count_trans => trans("solved_statuses");
    reopen_count_final => reopen_final();
}

//! SQL glue of business time: `business_time(start, end, schedule)` and the time KPIs with a
//! schedule (`avg_first_response_time(opened_at, first_response_at, schedule)`, the medians,
//! `complaint_resolution_efficiency` and `sla_compliance_rate` with a target in business
//! time). The math is `kpi_core::business_hours`; the SQL is `sql/business_hours.sql`.
//!
//! A schedule is read once per statement: the first row that names it reads it through
//! `_kpi_schedule_spec` (SPI), checks it, finds its time zone (`pg_tzset`, the server's own
//! time zone data) and lays out a calendar of working intervals for the whole years around
//! the row's instants; later rows reuse it (widening it when an instant falls outside). The
//! cache is the backend's, keyed by the transaction, the statement and the command within it
//! (a schedule changed by an earlier command of the same statement is read again), and is
//! dropped by the next statement that reads a schedule. It is not the call site's
//! (`fn_extra`): Citus's `worker_partial_agg` calls the transition function with a new
//! `FmgrInfo` per row, which read the schedule for every row. The time zone's UTC offsets
//! come from the server's time zone data (`pg_next_dst_boundary`), as `AT TIME ZONE` uses
//! them.

use crate::durations::{checked_span, SpanNames, FIRST_RESPONSE, HANDLING, RESOLUTION, SLA};
use crate::fmgr::{arg, raise_with, strict_arg, varlena_bytes, Clock, OrRaise};
use crate::v1_entry_points;
use kpi_core::business_hours::{days_to_cover, Calendar, Schedule};
use pgrx::pg_sys::{self, Datum, FunctionCallInfo};
use pgrx::PgSqlErrorCode;
use std::cell::RefCell;
use std::ffi::{CStr, CString};

const BUSINESS: SpanNames = SpanNames {
    start: "start",
    end: "end",
    start_column: "start",
    end_column: "end",
};

struct Cached {
    schedule: Schedule,
    tz: *mut pg_sys::pg_tz,
    calendar: Option<Calendar>,
}

/// (transaction start, statement start, command id): one statement, or one command of it.
/// The schedules (here) and the SLA policies (`crate::sla`) are read once per key.
pub type StatementKey = (i64, i64, u32);

/// The key of the statement running now.
pub fn statement_key() -> StatementKey {
    unsafe {
        (
            pg_sys::GetCurrentTransactionStartTimestamp(),
            pg_sys::GetCurrentStatementStartTimestamp(),
            pg_sys::GetCurrentCommandId(false),
        )
    }
}

/// Values read by name once per statement (the schedules here, the SLA policies in
/// `crate::sla`): a statement keeps at most `STATEMENT_CACHE_MAX` (a column may name several),
/// the one read first dropped first.
pub struct StatementCache<T> {
    key: Option<StatementKey>,
    entries: Vec<(Vec<u8>, T)>,
}

const STATEMENT_CACHE_MAX: usize = 32;

impl<T> Default for StatementCache<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> StatementCache<T> {
    pub const fn new() -> Self {
        StatementCache {
            key: None,
            entries: Vec::new(),
        }
    }

    /// The value named `name` for the statement of `key`, made by `load` if that statement has
    /// not read it yet (a new statement starts afresh).
    pub fn entry(&mut self, key: StatementKey, name: &[u8], load: impl FnOnce() -> T) -> &mut T {
        if self.key != Some(key) {
            self.key = Some(key);
            self.entries.clear();
        }
        let at = match self.entries.iter().position(|e| e.0 == name) {
            Some(at) => at,
            None => {
                if self.entries.len() == STATEMENT_CACHE_MAX {
                    self.entries.remove(0);
                }
                self.entries.push((name.to_vec(), load()));
                self.entries.len() - 1
            }
        };
        &mut self.entries[at].1
    }
}

thread_local! {
    static STATEMENT_CACHE: RefCell<StatementCache<Cached>> = const { RefCell::new(StatementCache::new()) };
}

/// The text of the first column of the first row of a read-only query, run through SPI with
/// `read_only = true` (no command counter, no transaction ID: safe in parallel workers and on
/// standbys), in the query's snapshot.
unsafe fn read_only_query(query: &[u8]) -> String {
    let q = CString::new(query).unwrap_or_else(|_| unreachable!("no NUL in the query"));
    if pg_sys::SPI_connect() != pg_sys::SPI_OK_CONNECT as i32 {
        raise_with(
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            "SPI_connect failed".into(),
            None,
        );
    }
    let status = pg_sys::SPI_execute(q.as_ptr(), true, 1);
    let table = pg_sys::SPI_tuptable;
    if status != pg_sys::SPI_OK_SELECT as i32 || table.is_null() || pg_sys::SPI_processed != 1 {
        raise_with(
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            format!("cannot read the schedule or SLA policy ({status})"),
            None,
        );
    }
    let value = pg_sys::SPI_getvalue(*(*table).vals, (*table).tupdesc, 1);
    // the server's encoding to UTF-8 (the names in the JSON may be any text)
    let text = if value.is_null() {
        String::new()
    } else {
        let bytes = CStr::from_ptr(value).to_bytes();
        match crate::fmgr::server_to_utf8(bytes) {
            Ok(utf8) => String::from_utf8_lossy(&utf8).into_owned(),
            Err(e) => crate::fmgr::raise(e),
        }
    };
    pg_sys::SPI_finish();
    text
}

/// The text `<function>(name)` returns, a function of this function's own schema called with
/// the name as a literal: `SELECT <schema>.<function>('<name>'::pg_catalog.text)`. The query
/// is made of the server's bytes (a name in a LATIN1 database stays its bytes).
pub unsafe fn read_spec(fcinfo: FunctionCallInfo, function: &str, name: &[u8]) -> String {
    let schema = pg_sys::get_namespace_name(pg_sys::get_func_namespace((*(*fcinfo).flinfo).fn_oid));
    let raw = CString::new(name).unwrap_or_else(|_| unreachable!("a text value holds no NUL"));
    let mut query = b"SELECT ".to_vec();
    query.extend_from_slice(CStr::from_ptr(pg_sys::quote_identifier(schema)).to_bytes());
    query.extend_from_slice(format!(".{function}(").as_bytes());
    query.extend_from_slice(CStr::from_ptr(pg_sys::quote_literal_cstr(raw.as_ptr())).to_bytes());
    // the argument typed exactly, so no overload another role adds to the schema matches better
    query.extend_from_slice(b"::pg_catalog.text)");
    read_only_query(&query)
}

/// Reads a schedule through `_kpi_schedule_spec` in this function's own schema.
unsafe fn load(fcinfo: FunctionCallInfo, name: &[u8]) -> Cached {
    let spec = read_spec(fcinfo, "_kpi_schedule_spec", name);
    // for error messages: at most 64 characters of the name
    let display = kpi_core::error::excerpt_bytes(name);
    let (schedule, time_zone) = Schedule::from_spec(&display, &spec).or_raise();
    let zone = CString::new(time_zone.clone()).unwrap_or_default();
    let tz = pg_sys::pg_tzset(zone.as_ptr());
    if tz.is_null() {
        raise_with(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!(
                "schedule \"{}\" has an unknown time zone \"{}\"",
                display,
                kpi_core::error::excerpt(&time_zone)
            ),
            Some("Give kpi_schedule.time_zone as an IANA time zone name, e.g. 'Europe/Berlin' (see pg_timezone_names).".into()),
        );
    }
    Cached {
        schedule,
        tz,
        calendar: None,
    }
}

/// The UTC offsets of `tz` from before `first_day` to after `last_day`: `(from instant,
/// offset)` in microseconds (an instant's wall-clock time is the instant plus the offset),
/// the first from `i64::MIN`, from the server's time zone data (`pg_next_dst_boundary`).
unsafe fn offsets(tz: *mut pg_sys::pg_tz, first_day: i32, last_day: i32) -> Vec<(i64, i64)> {
    // PostgreSQL timestamps count from 2000-01-01, pg_time_t from 1970-01-01
    const UNIX_TO_PG: i64 = 946_684_800;
    let to_pg = |t: pg_sys::pg_time_t| (t - UNIX_TO_PG) * 1_000_000;
    let mut t: pg_sys::pg_time_t =
        ((first_day as i64 - 2) * 86_400 + UNIX_TO_PG) as pg_sys::pg_time_t;
    let end = (last_day as i64 + 2) * 86_400 + UNIX_TO_PG;
    let mut segments = Vec::new();
    loop {
        let (mut before, mut before_dst, mut boundary, mut after, mut after_dst) = (0, 0, 0, 0, 0);
        let found = pg_sys::pg_next_dst_boundary(
            &t,
            &mut before,
            &mut before_dst,
            &mut boundary,
            &mut after,
            &mut after_dst,
            tz,
        );
        if segments.is_empty() {
            segments.push((i64::MIN, before * 1_000_000));
        }
        if found != 1 || boundary > end {
            break;
        }
        segments.push((to_pg(boundary), after * 1_000_000));
        // the next boundary after this one (never the same again)
        t = boundary.max(t + 1);
    }
    segments
}

/// The business time from `start` to `end` under the schedule named by argument `n`.
unsafe fn business_micros(
    fcinfo: FunctionCallInfo,
    n: usize,
    start: i64,
    end: i64,
    names: &SpanNames,
) -> i128 {
    // the same errors as calendar time: an infinite end, an end before its start
    checked_span(start, end, names, Clock::WithZone);
    let Some(schedule) = arg(fcinfo, n) else {
        raise_with(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "schedule is NULL".into(),
            Some("Name a schedule of kpi_schedule, e.g. '24/7', or leave the argument out for calendar time.".into()),
        )
    };
    Schedules::of(fcinfo).between(varlena_bytes(schedule), start, end) as i128
}

/// The schedules as one call measures in them, many times: the statement's cache
/// (`STATEMENT_CACHE`), its key taken once for the call.
#[derive(Clone, Copy)]
pub struct Schedules {
    fcinfo: FunctionCallInfo,
    key: StatementKey,
}

impl Schedules {
    pub fn of(fcinfo: FunctionCallInfo) -> Self {
        Schedules {
            fcinfo,
            key: statement_key(),
        }
    }

    /// The key of the statement the handle was taken in.
    pub fn key(&self) -> StatementKey {
        self.key
    }

    /// The business time from `start` to `end` (`start <= end`, both finite) under the
    /// schedule named `name`.
    pub unsafe fn between(&self, name: &[u8], start: i64, end: i64) -> i64 {
        with_schedule(self.key, self.fcinfo, name, |entry| {
            cover(entry, start, end).or_raise();
            entry.calendar.as_ref().unwrap().between(start, end)
        })
    }

    /// The working time from `a` to `b` (`a <= b`, both finite) under the schedule named, or
    /// calendar time under none: one piece of a ticket's schedule timeline, or an SLA's clock.
    pub unsafe fn piece_between(
        &self,
        schedule: Option<&[u8]>,
        a: i64,
        b: i64,
    ) -> Result<i64, kpi_core::KpiError> {
        match schedule {
            None => kpi_core::sla::calendar_measure(a, b),
            Some(name) => Ok(self.between(name, a, b)),
        }
    }

    /// The first instant after which the business time since `start` (finite) under the
    /// schedule named `name` exceeds `need` (`Calendar::exceeds_at`), the calendar widened a
    /// year at a time; None when it lies more than a century on.
    pub unsafe fn exceeds_at(&self, name: &[u8], start: i64, need: i64) -> Option<i64> {
        with_schedule(self.key, self.fcinfo, name, |entry| {
            let mut horizon = start
                .saturating_add(need)
                .min(kpi_core::status_history::END_INSTANT - 1);
            loop {
                cover(entry, start, horizon).ok()?;
                let calendar = entry.calendar.as_ref().unwrap();
                if let Some(t) = calendar.exceeds_at(start, need) {
                    return Some(t);
                }
                let next =
                    (calendar.days().1 as i64 + 366) * kpi_core::business_hours::USECS_PER_DAY;
                if next >= kpi_core::status_history::END_INSTANT {
                    return None;
                }
                horizon = next;
            }
        })
    }
}

/// Runs `f` on the cached schedule named `name` (read first if the statement of `key` has
/// not).
unsafe fn with_schedule<T>(
    key: StatementKey,
    fcinfo: FunctionCallInfo,
    name: &[u8],
    f: impl FnOnce(&mut Cached) -> T,
) -> T {
    STATEMENT_CACHE.with(|cache| {
        // an error raised below unwinds through here: the borrow ends with it
        let mut cache = cache.borrow_mut();
        f(cache.entry(key, name, || load(fcinfo, name)))
    })
}

/// Lays out the calendar of `entry` to cover `start..=end`, widening it if need be.
unsafe fn cover(entry: &mut Cached, start: i64, end: i64) -> Result<(), kpi_core::KpiError> {
    let covered = entry
        .calendar
        .as_ref()
        .is_some_and(|c| c.covers(start) && c.covers(end));
    if !covered {
        let (first, last) = days_to_cover(start, end, entry.calendar.as_ref().map(|c| c.days()))?;
        let segments = offsets(entry.tz, first, last);
        entry.calendar = Some(Calendar::build(&entry.schedule, first, last, &segments));
        crate::growing::check_interrupts();
    }
    Ok(())
}

/// `business_time(start, end, schedule)`, STRICT.
unsafe fn business_time_of(fcinfo: FunctionCallInfo) -> Datum {
    let start = strict_arg(fcinfo, 0).value() as i64;
    let end = strict_arg(fcinfo, 1).value() as i64;
    let micros = business_micros(fcinfo, 2, start, end, &BUSINESS);
    crate::durations::interval_datum(micros as i64, "business time")
}

/// `business_time(start, end, schedule, timeline)`: piece by piece in the schedule in force,
/// the timeline's schedule changes over `schedule` (NULL: calendar time where none is in
/// force). NULL for a NULL start or end; a NULL timeline changes nothing.
unsafe fn business_time_with_timeline(fcinfo: FunctionCallInfo) -> Datum {
    let (Some(start), Some(end)) = (arg(fcinfo, 0), arg(fcinfo, 1)) else {
        return crate::fmgr::return_null(fcinfo);
    };
    let (start, end) = (start.value() as i64, end.value() as i64);
    checked_span(start, end, &BUSINESS, Clock::WithZone);
    let default = arg(fcinfo, 2).map(|s| varlena_bytes(s));
    let view = arg(fcinfo, 3).map(|t| kpi_core::timeline::view(varlena_bytes(t)).or_raise());
    let events = match &view {
        Some(v) => kpi_core::timeline::events(v).or_raise(),
        None => Vec::new(),
    };
    let changes = kpi_core::timeline::schedule_changes(&events);
    let schedules = Schedules::of(fcinfo);
    let total =
        kpi_core::timeline::measure_pieces(&changes, default, start, end, &mut |a, b, s| {
            schedules.piece_between(s, a, b)
        })
        .or_raise();
    crate::durations::interval_datum(total, "business time")
}

/// `(duration_summary, start, end, schedule)`: as the calendar-time transition, in business time.
unsafe fn span_trans(fcinfo: FunctionCallInfo, names: &SpanNames) -> Datum {
    crate::durations::span_trans_with(fcinfo, |start, end| {
        business_micros(fcinfo, 3, start, end, names)
    })
}

/// `(duration_sketch, start, end, schedule)`.
unsafe fn sketch_trans(fcinfo: FunctionCallInfo, names: &SpanNames) -> Datum {
    crate::percentiles::span_trans_with(fcinfo, |start, end| {
        business_micros(fcinfo, 3, start, end, names)
    })
}

/// `(share_summary, start, end, target, schedule)`: a hit when done within `target` of
/// business time; a NULL end is not done in time.
unsafe fn within_target_trans(fcinfo: FunctionCallInfo, names: &SpanNames) -> Datum {
    crate::durations::within_target_with(fcinfo, |start, end| {
        business_micros(fcinfo, 4, start, end, names)
    })
}

v1_entry_points! {
    business_time => business_time_of();
    business_time_timeline => business_time_with_timeline();
    first_response_business_trans => span_trans(&FIRST_RESPONSE);
    resolution_time_business_trans => span_trans(&RESOLUTION);
    handling_time_business_trans => span_trans(&HANDLING);
    first_response_sketch_business_trans => sketch_trans(&FIRST_RESPONSE);
    resolution_time_sketch_business_trans => sketch_trans(&RESOLUTION);
    handling_time_sketch_business_trans => sketch_trans(&HANDLING);
    resolution_efficiency_business_trans => within_target_trans(&RESOLUTION);
    sla_compliance_business_trans => within_target_trans(&SLA);
}

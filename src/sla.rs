//! SQL glue of SLA policies: the aggregate `ticket_timeline(kind, value, at)` over one
//! ticket's events (state `ticket_timeline`) and `sla_instances(timeline, policy, as_of)`,
//! the ticket's SLAs under a policy of `kpi_sla_policy`. The math is `kpi_core::timeline` and
//! `kpi_core::sla`; the SQL is `sql/sla.sql`.
//!
//! A policy is read once per statement, like a schedule (`crate::business_hours`): the first
//! call that names it reads it through `_kpi_sla_policy_spec` (SPI); business-hours targets
//! measure in the schedules' calendars the statement already holds.

use crate::business_hours::{Schedules, StatementCache, StatementKey};
use crate::fmgr::{
    arg, bytes_datum, input_text, output_datum, raise_with, receive_buffer, server_to_utf8,
    strict_arg, utf8_to_server, varlena_bytes, varlena_for_update, verify_server_text, OrRaise,
};
use crate::v1_entry_points;
use kpi_core::sla::{self, Clocks, Instance, Policy};
use kpi_core::timeline;
use kpi_core::KpiError;
use pgrx::pg_sys::{self, Datum, FunctionCallInfo};
use pgrx::PgSqlErrorCode;
use std::cell::RefCell;

/// The state in argument 0 to update: itself inside an aggregate, else a copy.
unsafe fn for_update<'a>(fcinfo: FunctionCallInfo) -> (Datum, &'a mut [u8]) {
    varlena_for_update(fcinfo, timeline::started, |b, _| {
        timeline::view(b).or_raise().used_bytes().len()
    })
}

/// `(state, kind, value, at)`: a row without an instant is skipped.
unsafe fn trans(fcinfo: FunctionCallInfo) -> Datum {
    let Some(at) = arg(fcinfo, 3) else {
        return crate::fixed::unchanged_state(fcinfo);
    };
    let at = at.value() as i64;
    if at == i64::MIN || at == i64::MAX {
        raise_with(
            PgSqlErrorCode::ERRCODE_DATETIME_FIELD_OVERFLOW,
            "an event of the ticket is at an infinite instant".into(),
            Some("Give each event the finite instant it happened at.".into()),
        );
    }
    let Some(kind) = arg(fcinfo, 1) else {
        raise_with(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            format!("the event at {} has no kind", timeline::utc_text(at)),
            Some("Kinds are 'status', 'priority', 'schedule' and 'message'.".into()),
        )
    };
    let value = arg(fcinfo, 2).map(|v| varlena_bytes(v));
    let event = timeline::event_of(varlena_bytes(kind), value, at).or_raise();
    let (d, b) = for_update(fcinfo);
    match timeline::add(b, event).or_raise() {
        None => d,
        Some(copy) => bytes_datum(&copy),
    }
}

unsafe fn combine(fcinfo: FunctionCallInfo) -> Datum {
    let other = timeline::view(varlena_bytes(strict_arg(fcinfo, 1))).or_raise();
    let (d, b) = for_update(fcinfo);
    match timeline::merge(b, &other).or_raise() {
        None => d,
        Some(copy) => bytes_datum(&copy),
    }
}

fn to_utf8(b: &[u8]) -> Result<String, KpiError> {
    let converted = server_to_utf8(b)?;
    String::from_utf8(converted.into_owned())
        .map_err(|_| KpiError::invalid_text("a value is not valid text"))
}

fn from_utf8(s: &str) -> Result<Vec<u8>, KpiError> {
    Ok(utf8_to_server(s.as_bytes())?.into_owned())
}

unsafe fn type_in(fcinfo: FunctionCallInfo) -> Datum {
    bytes_datum(&timeline::from_text(&input_text(fcinfo), &from_utf8).or_raise())
}

unsafe fn type_out(fcinfo: FunctionCallInfo) -> Datum {
    let v = timeline::view(varlena_bytes(strict_arg(fcinfo, 0))).or_raise();
    output_datum(timeline::to_text(&v, &to_utf8).or_raise())
}

unsafe fn type_recv(fcinfo: FunctionCallInfo) -> Datum {
    let check = |b: &[u8]| verify_server_text(b).map(|_| ());
    bytes_datum(&timeline::from_bytes(receive_buffer(fcinfo), &check).or_raise())
}

unsafe fn type_send(fcinfo: FunctionCallInfo) -> Datum {
    let v = timeline::view(varlena_bytes(strict_arg(fcinfo, 0))).or_raise();
    bytes_datum(&timeline::to_bytes(&v).or_raise())
}

thread_local! {
    static POLICIES: RefCell<StatementCache<std::rc::Rc<Policy>>> =
        const { RefCell::new(StatementCache::new()) };
}

/// The policy named `name`, read through `_kpi_sla_policy_spec` in this function's schema
/// once per statement (of `key`).
unsafe fn policy(fcinfo: FunctionCallInfo, key: StatementKey, name: &[u8]) -> std::rc::Rc<Policy> {
    POLICIES.with(|cache| {
        // an error raised while reading unwinds through here: the borrow ends with it
        let mut cache = cache.borrow_mut();
        let load = || {
            let spec = crate::business_hours::read_spec(fcinfo, "_kpi_sla_policy_spec", name);
            let display = kpi_core::error::excerpt_bytes(name);
            std::rc::Rc::new(Policy::from_spec(&display, &spec, &from_utf8).or_raise())
        };
        cache.entry(key, name, load).clone()
    })
}

/// The clocks: calendar time, or a schedule's business time (the statement's calendars).
struct StatementClocks {
    schedules: Schedules,
}

impl Clocks for StatementClocks {
    fn measure(&mut self, c: Option<&[u8]>, a: i64, b: i64) -> Result<i64, KpiError> {
        unsafe { self.schedules.piece_between(c, a, b) }
    }
    fn exceeds_at(&mut self, c: Option<&[u8]>, a: i64, need: i64) -> Result<Option<i64>, KpiError> {
        match c {
            None => Ok(sla::calendar_exceeds_at(a, need)),
            Some(name) => Ok(unsafe { self.schedules.exceeds_at(name, a, need) }),
        }
    }
}

unsafe fn text_datum(b: &[u8]) -> Datum {
    Datum::from(pg_sys::cstring_to_text_with_len(
        b.as_ptr() as *const std::ffi::c_char,
        b.len() as i32,
    ))
}

/// Room for a text value laid out in place: its 4-byte varlena header and up to `TEXT_ROOM`
/// bytes (the metric and outcome names, a priority or schedule name of usual length).
const TEXT_ROOM: usize = 124;

#[repr(C, align(8))]
struct TextBuf([u8; 4 + TEXT_ROOM]);

impl TextBuf {
    /// The text `b` as a datum pointing into this buffer, or a palloc'd copy when it is longer
    /// than the room.
    unsafe fn datum(&mut self, b: &[u8]) -> Datum {
        if b.len() > TEXT_ROOM {
            return text_datum(b);
        }
        self.0[4..4 + b.len()].copy_from_slice(b);
        let ptr = self.0.as_mut_ptr() as *mut pg_sys::varlena;
        pgrx::varlena::set_varsize_4b(ptr, (4 + b.len()) as i32);
        Datum::from(ptr)
    }
}

/// The values of one row of `sla_instances` (metric, cycle, priority, target, schedule,
/// applied_at, fulfilled_at, breach_at, elapsed, status, achieved, paused), laid out in place:
/// the texts and intervals the datums point to live here, on the stack, while
/// `tuplestore_putvalues` copies the row. A row costs no allocation of its own.
struct Row {
    values: [Datum; 12],
    nulls: [bool; 12],
    texts: [TextBuf; 4],
    intervals: [pg_sys::Interval; 2],
}

impl Row {
    fn new() -> Self {
        const EMPTY: TextBuf = TextBuf([0; 4 + TEXT_ROOM]);
        Row {
            values: [Datum::from(0); 12],
            nulls: [false; 12],
            texts: [EMPTY; 4],
            intervals: [pg_sys::Interval {
                time: 0,
                day: 0,
                month: 0,
            }; 2],
        }
    }

    /// Fills the row with `i`; the datums point into `self` until the next call.
    unsafe fn fill(&mut self, i: &Instance, policy: &Policy) {
        self.nulls = [false; 12];
        let [metric, priority, schedule, status] = &mut self.texts;
        self.values[0] = metric.datum(i.metric.name().as_bytes());
        self.values[1] = Datum::from(i.cycle as i32);
        if i.priority.is_empty() {
            self.nulls[2] = true;
        } else {
            self.values[2] = priority.datum(i.priority);
        }
        self.values[3] = interval_in(&mut self.intervals[0], i.target.target_us, "SLA target");
        match i.target.clock {
            Some(c) => self.values[4] = schedule.datum(&policy.schedules[c]),
            None => self.nulls[4] = true,
        }
        self.values[5] = Datum::from(i.applied_at);
        for (k, t) in [(6, i.fulfilled_at), (7, i.breach_at)] {
            match t {
                Some(t) => self.values[k] = Datum::from(t),
                None => self.nulls[k] = true,
            }
        }
        self.values[8] = interval_in(&mut self.intervals[1], i.elapsed_us, "SLA elapsed time");
        self.values[9] = status.datum(i.outcome.name().as_bytes());
        match i.outcome {
            sla::Outcome::Achieved => self.values[10] = Datum::from(true),
            sla::Outcome::Breached => self.values[10] = Datum::from(false),
            sla::Outcome::Active => self.nulls[10] = true,
        }
        self.values[11] = Datum::from(i.paused);
    }
}

/// The interval of `micros` written to `slot` (`crate::durations::interval_of`), as a datum
/// pointing to it.
fn interval_in(slot: &mut pg_sys::Interval, micros: i64, what: &str) -> Datum {
    *slot = crate::durations::interval_of(micros, what);
    Datum::from(slot as *mut pg_sys::Interval)
}

/// Sets up the result of a set-returning call in materialize mode and gives its tuplestore and
/// the row type to store rows with. Where the caller expects a row type (a function scan or a
/// set-returning function in a select list does, for every call), the rows are stored with it
/// and no row type is handed back (`setDesc` stays NULL: the executor reads the rows with the
/// one it expects, and neither copies a descriptor per ticket nor compares it with its own).
/// Else `InitMaterializedSRF` sets it up, with the function's own row type, and raises the
/// error for a caller that cannot take a set.
unsafe fn materialize(
    fcinfo: FunctionCallInfo,
) -> (*mut pg_sys::Tuplestorestate, pg_sys::TupleDesc) {
    let rsinfo = (*fcinfo).resultinfo as *mut pg_sys::ReturnSetInfo;
    let takes_rows = !rsinfo.is_null()
        && (*rsinfo).type_ == pg_sys::NodeTag::T_ReturnSetInfo
        && (*rsinfo).allowedModes & pg_sys::SetFunctionReturnMode::SFRM_Materialize as i32 != 0
        && !(*rsinfo).expectedDesc.is_null()
        && !(*rsinfo).econtext.is_null();
    if !takes_rows {
        pg_sys::InitMaterializedSRF(fcinfo, 0);
        return ((*rsinfo).setResult, (*rsinfo).setDesc);
    }
    let random =
        (*rsinfo).allowedModes & pg_sys::SetFunctionReturnMode::SFRM_Materialize_Random as i32 != 0;
    let old = pg_sys::MemoryContextSwitchTo((*(*rsinfo).econtext).ecxt_per_query_memory);
    let store = pg_sys::tuplestore_begin_heap(random, false, pg_sys::work_mem);
    pg_sys::MemoryContextSwitchTo(old);
    (*rsinfo).returnMode = pg_sys::SetFunctionReturnMode::SFRM_Materialize;
    (*rsinfo).setResult = store;
    (store, (*rsinfo).expectedDesc)
}

/// `sla_instances(timeline, policy, as_of)`: a set of rows, materialized.
unsafe fn instances(fcinfo: FunctionCallInfo) -> Datum {
    let Some(state) = arg(fcinfo, 0) else {
        materialize(fcinfo);
        return Datum::from(0);
    };
    let Some(name) = arg(fcinfo, 1) else {
        raise_with(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "policy is NULL".into(),
            Some("Name an SLA policy of kpi_sla_policy.".into()),
        )
    };
    let Some(as_of) = arg(fcinfo, 2) else {
        raise_with(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "as_of is NULL".into(),
            Some("Give the instant to judge the SLAs at, e.g. now() (the default).".into()),
        )
    };
    let as_of = as_of.value() as i64;
    if as_of == i64::MIN || as_of == i64::MAX {
        raise_with(
            PgSqlErrorCode::ERRCODE_DATETIME_FIELD_OVERFLOW,
            "as_of is infinite".into(),
            Some("Give a finite instant, e.g. now().".into()),
        );
    }
    let v = timeline::view(varlena_bytes(state)).or_raise();
    let events = timeline::events(&v).or_raise();
    let schedules = Schedules::of(fcinfo);
    let policy = policy(fcinfo, schedules.key(), varlena_bytes(name));
    let mut clocks = StatementClocks { schedules };
    let found = sla::instances(&events, &policy, as_of, &mut clocks).or_raise();
    let (store, desc) = materialize(fcinfo);
    let mut row = Row::new();
    for i in &found {
        row.fill(i, &policy);
        pg_sys::tuplestore_putvalues(store, desc, row.values.as_mut_ptr(), row.nulls.as_mut_ptr());
    }
    Datum::from(0)
}

v1_entry_points! {
    ticket_timeline_in => type_in();
    ticket_timeline_out => type_out();
    ticket_timeline_recv => type_recv();
    ticket_timeline_send => type_send();
    ticket_timeline_combine => combine();
    ticket_timeline_trans => trans();
    sla_instances => instances();
}

//! SQL glue of SLA policies: the aggregate `ticket_timeline(kind, value, at)` over one
//! ticket's events (state `ticket_timeline`) and `sla_instances(timeline, policy, as_of)`,
//! the ticket's SLAs under a policy of `kpi_sla_policy`. The math is `kpi_core::timeline` and
//! `kpi_core::sla`; the SQL is `sql/sla.sql`.
//!
//! A policy is read once per statement, like a schedule (`crate::business_hours`): the first
//! call that names it reads it through `_kpi_sla_policy_spec` (SPI); business-hours targets
//! measure in the schedules' calendars the statement already holds.

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
    varlena_for_update(fcinfo, timeline::empty, |b, _| {
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

/// (transaction start, statement start, command id), as the schedules' cache.
type StatementKey = (i64, i64, u32);

#[derive(Default)]
struct PolicyCache {
    key: Option<StatementKey>,
    policies: Vec<(Vec<u8>, std::rc::Rc<Policy>)>,
}

thread_local! {
    static POLICIES: RefCell<PolicyCache> = RefCell::new(PolicyCache::default());
}

/// The most policies one statement keeps.
const MAX_CACHED: usize = 32;

/// The policy named `name`, read through `_kpi_sla_policy_spec` in this function's schema
/// once per statement.
unsafe fn policy(fcinfo: FunctionCallInfo, name: &[u8]) -> std::rc::Rc<Policy> {
    let key = (
        pg_sys::GetCurrentTransactionStartTimestamp(),
        pg_sys::GetCurrentStatementStartTimestamp(),
        pg_sys::GetCurrentCommandId(false),
    );
    let cached = POLICIES.with(|c| {
        let mut c = c.borrow_mut();
        if c.key != Some(key) {
            c.key = Some(key);
            c.policies.clear();
        }
        c.policies.iter().find(|p| p.0 == name).map(|p| p.1.clone())
    });
    if let Some(p) = cached {
        return p;
    }
    let spec = crate::business_hours::read_spec(fcinfo, "_kpi_sla_policy_spec", name);
    let display = kpi_core::error::excerpt_bytes(name);
    let p = std::rc::Rc::new(Policy::from_spec(&display, &spec, &from_utf8).or_raise());
    POLICIES.with(|c| {
        let mut c = c.borrow_mut();
        if c.policies.len() == MAX_CACHED {
            c.policies.remove(0);
        }
        c.policies.push((name.to_vec(), p.clone()));
    });
    p
}

/// The clocks: calendar time, or a schedule's business time (the statement's calendars).
struct StatementClocks {
    fcinfo: FunctionCallInfo,
}

impl Clocks for StatementClocks {
    fn measure(&mut self, c: Option<&[u8]>, a: i64, b: i64) -> Result<i64, KpiError> {
        unsafe { crate::business_hours::piece_between(self.fcinfo, c, a, b) }
    }
    fn exceeds_at(&mut self, c: Option<&[u8]>, a: i64, need: i64) -> Result<Option<i64>, KpiError> {
        match c {
            None => Ok(sla::calendar_exceeds_at(a, need)),
            Some(name) => Ok(unsafe {
                crate::business_hours::business_exceeds_at(self.fcinfo, name, a, need)
            }),
        }
    }
}

unsafe fn text_datum(b: &[u8]) -> Datum {
    Datum::from(pg_sys::cstring_to_text_with_len(
        b.as_ptr() as *const std::ffi::c_char,
        b.len() as i32,
    ))
}

/// One row of `sla_instances`: metric, cycle, priority, target, schedule, applied_at,
/// fulfilled_at, breach_at, elapsed, status, achieved, paused.
unsafe fn row(i: &Instance, policy: &Policy) -> ([Datum; 12], [bool; 12]) {
    let mut nulls = [false; 12];
    let opt = |t: Option<i64>, n: &mut bool| match t {
        Some(t) => Datum::from(t),
        None => {
            *n = true;
            Datum::from(0)
        }
    };
    let mut values = [Datum::from(0); 12];
    values[0] = text_datum(i.metric.name().as_bytes());
    values[1] = Datum::from(i.cycle as i32);
    if i.priority.is_empty() {
        nulls[2] = true;
    } else {
        values[2] = text_datum(&i.priority);
    }
    values[3] = crate::durations::interval_datum(i.target.target_us, "SLA target");
    match i.target.clock {
        Some(c) => values[4] = text_datum(&policy.schedules[c]),
        None => nulls[4] = true,
    }
    values[5] = Datum::from(i.applied_at);
    values[6] = opt(i.fulfilled_at, &mut nulls[6]);
    values[7] = opt(i.breach_at, &mut nulls[7]);
    values[8] = crate::durations::interval_datum(i.elapsed_us, "SLA elapsed time");
    values[9] = text_datum(i.outcome.name().as_bytes());
    match i.outcome {
        sla::Outcome::Achieved => values[10] = Datum::from(true),
        sla::Outcome::Breached => values[10] = Datum::from(false),
        sla::Outcome::Active => nulls[10] = true,
    }
    values[11] = Datum::from(i.paused);
    (values, nulls)
}

/// Sets up the result of a set-returning call in materialize mode: with the row type the
/// caller expects where it gives one (a function scan does, for every call: no lookup of the
/// function's result type per ticket), else the function's own.
unsafe fn materialize(fcinfo: FunctionCallInfo) {
    let rsinfo = (*fcinfo).resultinfo as *mut pg_sys::ReturnSetInfo;
    let flags = if !rsinfo.is_null() && !(*rsinfo).expectedDesc.is_null() {
        pg_sys::MAT_SRF_USE_EXPECTED_DESC as pg_sys::bits32
    } else {
        0
    };
    pg_sys::InitMaterializedSRF(fcinfo, flags);
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
    let policy = policy(fcinfo, varlena_bytes(name));
    let mut clocks = StatementClocks { fcinfo };
    let found = sla::instances(&events, &policy, as_of, &mut clocks).or_raise();
    materialize(fcinfo);
    let rsinfo = (*fcinfo).resultinfo as *mut pg_sys::ReturnSetInfo;
    for i in &found {
        let (mut values, mut nulls) = row(i, &policy);
        pg_sys::tuplestore_putvalues(
            (*rsinfo).setResult,
            (*rsinfo).setDesc,
            values.as_mut_ptr(),
            nulls.as_mut_ptr(),
        );
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

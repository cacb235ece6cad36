//! SQL glue of the per-customer rates (`incident_rate`, `contact_rate`, `interaction_rate`):
//! the `customer_rate_summary` type and the aggregate support functions. The math is
//! `kpi_core::flat` (the state, in memory and on disk) and `kpi_core::customer_rate` (its
//! text and binary forms); the SQL is `sql/customer_rate.sql`.
//!
//! The state is a flat value updated in place (see `growing.rs`): each row costs one insert
//! into the set of distinct customers inside it, in the aggregate's own memory.

use crate::fmgr::{
    arg, bound_datum, called_as_aggregate, confidence_arg, not_in_aggregate, rate_datum,
    return_null, strict_arg, varlena_bytes, OrRaise,
};
use crate::growing::{
    combine, summary_in, summary_listed, summary_out, summary_recv, summary_send, with_view, Kind,
    Updating,
};
use crate::v1_entry_points;
use kpi_core::flat::Key;
use kpi_core::KeyType;
use pgrx::pg_sys::{self, Datum, FunctionCallInfo};

/// Reads a customer key datum of one SQL type.
pub type KeyOf = unsafe fn(Datum) -> Key<'static>;

pub unsafe fn key_int8(d: Datum) -> Key<'static> {
    Key::Int(d.value() as i64)
}

pub unsafe fn key_int4(d: Datum) -> Key<'static> {
    Key::Int(d.value() as i32 as i64)
}

pub unsafe fn key_text(d: Datum) -> Key<'static> {
    Key::Text(varlena_bytes(d))
}

pub unsafe fn key_uuid(d: Datum) -> Key<'static> {
    Key::Uuid(*d.cast_mut_ptr::<[u8; 16]>())
}

/// Whether the event argument `n` of a row counts as an event.
pub type EventOf = unsafe fn(FunctionCallInfo, usize) -> bool;

/// The event argument of the signatures with an event key (bigint, integer, text, uuid, or
/// "any"): an event when not NULL, except a boolean, which is an event when true. A boolean
/// passed to the "any" signature (views made before 0.4.0 have it) counts like the boolean
/// signature, so a view, its dump and a new query give one answer.
pub unsafe fn event_key(fcinfo: FunctionCallInfo, n: usize) -> bool {
    if event_is_boolean(fcinfo, n) {
        event_flag(fcinfo, n)
    } else {
        arg(fcinfo, n).is_some()
    }
}

/// The event argument of the boolean signatures, "has an event": an event when true; false
/// and NULL add the customer only.
pub unsafe fn event_flag(fcinfo: FunctionCallInfo, n: usize) -> bool {
    arg(fcinfo, n).is_some_and(|d| d.value() & 0xff != 0)
}

static BOOLEAN_EVENT: u8 = 1;
static OTHER_EVENT: u8 = 0;

/// Whether the call's event argument is declared boolean, looked up once per call site and
/// kept in `fn_extra`. A caller without an expression (Citus's worker_partial_agg runs the
/// function by OID) only reaches the concrete signatures, whose type is in their symbol.
unsafe fn event_is_boolean(fcinfo: FunctionCallInfo, n: usize) -> bool {
    let flinfo = (*fcinfo).flinfo;
    if flinfo.is_null() {
        return false;
    }
    if (*flinfo).fn_extra.is_null() {
        let is_bool = pg_sys::get_fn_expr_argtype(flinfo, n as i32) == pg_sys::BOOLOID;
        let marker = if is_bool {
            &BOOLEAN_EVENT
        } else {
            &OTHER_EVENT
        };
        (*flinfo).fn_extra = marker as *const u8 as *mut std::ffi::c_void;
    }
    std::ptr::eq((*flinfo).fn_extra as *const u8, &BOOLEAN_EVENT)
}

/// `customer_rate_trans(state, customer, event)`, not STRICT: a row with a customer and no
/// event (a NULL event key of a LEFT JOIN, or a false "has an event") still adds the customer.
unsafe fn customer_trans(
    fcinfo: FunctionCallInfo,
    key_type: KeyType,
    key_of: KeyOf,
    event_of: EventOf,
) -> Datum {
    if !called_as_aggregate(fcinfo) {
        not_in_aggregate("customer_rate_trans");
    }
    let current = arg(fcinfo, 0);
    let Some(customer) = arg(fcinfo, 1) else {
        return current.unwrap_or_else(|| return_null(fcinfo));
    };
    let has_event = event_of(fcinfo, 2);
    let mut st = Updating::begin(Kind::Customer, current, key_type);
    let key = key_of(customer);
    st.insert(|t| t.insert_customer(key));
    if has_event {
        st.table().add_events(1).or_raise();
    }
    st.datum
}

v1_entry_points! {
    customer_rate_trans_int8 => customer_trans(KeyType::Int, key_int8, event_key);
    customer_rate_trans_int4 => customer_trans(KeyType::Int, key_int4, event_key);
    customer_rate_trans_text => customer_trans(KeyType::Text, key_text, event_key);
    customer_rate_trans_uuid => customer_trans(KeyType::Uuid, key_uuid, event_key);
    customer_rate_trans_int8_bool => customer_trans(KeyType::Int, key_int8, event_flag);
    customer_rate_trans_int4_bool => customer_trans(KeyType::Int, key_int4, event_flag);
    customer_rate_trans_text_bool => customer_trans(KeyType::Text, key_text, event_flag);
    customer_rate_trans_uuid_bool => customer_trans(KeyType::Uuid, key_uuid, event_flag);
    // events * 1000.0 / customers (incidents per 1,000 customers)
    customer_rate_per_1000 => customer_rate(c"1000.0");
    // events * 100.0 / customers (contacts or interactions per 100 customers, a percentage)
    customer_rate_per_100 => customer_rate(c"100.0");
    customer_rate_combine => combine(Kind::Customer, "customer_rate_combine");
    customer_rate_summary_in => summary_in(Kind::Customer);
    customer_rate_summary_out => summary_out(Kind::Customer);
    customer_rate_summary_recv => summary_recv(Kind::Customer);
    customer_rate_summary_send => summary_send(Kind::Customer);
    customer_rate_summary_listed => summary_listed(Kind::Customer);
}

unsafe fn customer_rate(fcinfo: FunctionCallInfo, scale: &std::ffi::CStr) -> Datum {
    let (events, customers) = with_view(Kind::Customer, strict_arg(fcinfo, 0), |v| {
        (v.events(), v.count())
    });
    rate_datum(fcinfo, events, customers, scale)
}

/// `customer_count(customer_rate_summary)`: the distinct customers counted.
unsafe fn customers_of(fcinfo: FunctionCallInfo) -> Datum {
    Datum::from(with_view(Kind::Customer, strict_arg(fcinfo, 0), |v| {
        v.count()
    }))
}

/// `event_count(customer_rate_summary)`: the events counted.
unsafe fn events_of(fcinfo: FunctionCallInfo) -> Datum {
    Datum::from(with_view(Kind::Customer, strict_arg(fcinfo, 0), |v| {
        v.events()
    }))
}

/// `poisson_rate_bound(events bigint, exposure bigint, scale float8, confidence float8,
/// upper boolean)`: a bound of the exact Poisson (Garwood) interval of `events / exposure *
/// scale`; NULL when the exposure is 0.
unsafe fn poisson_bound(fcinfo: FunctionCallInfo) -> Datum {
    let events = strict_arg(fcinfo, 0).value() as i64;
    let exposure = strict_arg(fcinfo, 1).value() as i64;
    let scale = f64::from_bits(strict_arg(fcinfo, 2).value() as u64);
    let confidence = confidence_arg(fcinfo, 3);
    let upper = strict_arg(fcinfo, 4).value() != 0;
    if events < 0 || exposure < 0 || !scale.is_finite() {
        crate::fmgr::raise_with(
            pgrx::PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!(
                "poisson_rate_bound({events}, {exposure}, {scale}): counts must not be negative"
            ),
            Some(
                "Pass the events, then the customers (or other exposure) they happened to.".into(),
            ),
        );
    }
    let interval = kpi_core::intervals::rate_interval(events, exposure, 1.0, confidence);
    bound_datum(fcinfo, interval, upper, scale)
}

v1_entry_points! {
    customer_count => customers_of();
    event_count => events_of();
    poisson_rate_bound => poisson_bound();
}

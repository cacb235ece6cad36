//! SQL glue of the per-customer rates (`incident_rate`, `contact_rate`, `interaction_rate`):
//! the `customer_rate_summary` type and the aggregate support functions. The math is
//! `kpi_core::flat` (the in-memory form) and `kpi_core::CustomerRate` (text and binary
//! forms); the SQL is `sql/customer_rate.sql`.
//!
//! The state is a flat value updated in place (see `growing.rs`): each row costs one insert
//! into the set of distinct customers inside it, in the aggregate's own memory.

use crate::fmgr::{
    arg, called_as_aggregate, not_in_aggregate, rate_datum, return_null, strict_arg, varlena_bytes,
    OrRaise,
};
use crate::growing::{
    combine, summary_in, summary_out, summary_recv, summary_send, with_view, Kind, Updating,
};
use crate::{v1_entry_points, v1_functions};
use kpi_core::flat::Key;
use kpi_core::{CustomerRate, KeyType};
use pgrx::pg_sys::{Datum, FunctionCallInfo};

v1_functions!(
    pg_finfo_customer_rate_summary_in,
    pg_finfo_customer_rate_summary_out,
    pg_finfo_customer_rate_summary_recv,
    pg_finfo_customer_rate_summary_send,
    pg_finfo_customer_rate_trans_int8,
    pg_finfo_customer_rate_trans_int4,
    pg_finfo_customer_rate_trans_text,
    pg_finfo_customer_rate_trans_uuid,
    pg_finfo_customer_rate_combine,
    pg_finfo_customer_rate_per_1000,
    pg_finfo_customer_rate_per_100,
);

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

/// `customer_rate_trans(state, customer, event "any")`, not STRICT: a row with a customer
/// and a NULL event (a customer without events in a LEFT JOIN) still adds the customer.
unsafe fn customer_trans(fcinfo: FunctionCallInfo, key_type: KeyType, key_of: KeyOf) -> Datum {
    if !called_as_aggregate(fcinfo) {
        not_in_aggregate("customer_rate_trans");
    }
    let current = arg(fcinfo, 0);
    let Some(customer) = arg(fcinfo, 1) else {
        return current.unwrap_or_else(|| return_null(fcinfo));
    };
    let has_event = arg(fcinfo, 2).is_some();
    let mut st = Updating::begin(Kind::Customer, current, key_type);
    let key = key_of(customer);
    st.insert(|t| t.insert_customer(key));
    if has_event {
        st.table().add_events(1).or_raise();
    }
    st.datum
}

v1_entry_points! {
    customer_rate_trans_int8 => customer_trans(KeyType::Int, key_int8);
    customer_rate_trans_int4 => customer_trans(KeyType::Int, key_int4);
    customer_rate_trans_text => customer_trans(KeyType::Text, key_text);
    customer_rate_trans_uuid => customer_trans(KeyType::Uuid, key_uuid);
    // events * 1000.0 / customers (incidents per 1,000 customers)
    customer_rate_per_1000 => customer_rate(c"1000.0");
    // events * 100.0 / customers (contacts or interactions per 100 customers, a percentage)
    customer_rate_per_100 => customer_rate(c"100.0");
    customer_rate_combine => combine(Kind::Customer, "customer_rate_combine");
    customer_rate_summary_in => summary_in::<CustomerRate>();
    customer_rate_summary_out => summary_out::<CustomerRate>();
    customer_rate_summary_recv => summary_recv::<CustomerRate>();
    customer_rate_summary_send => summary_send::<CustomerRate>();
}

unsafe fn customer_rate(fcinfo: FunctionCallInfo, scale: &std::ffi::CStr) -> Datum {
    let (events, customers) = with_view(Kind::Customer, strict_arg(fcinfo, 0), |v| {
        (v.events(), v.count())
    });
    rate_datum(fcinfo, events, customers, scale)
}

//! SQL glue of the per-customer rates (`incident_rate`, `contact_rate`, `interaction_rate`):
//! the `customer_rate_summary` type and the aggregate support functions. The math is
//! `kpi_core::CustomerRate`; the SQL is `sql/customer_rate.sql`.
//!
//! The state is an expanded object (see `expanded.rs`): each row costs one insert into the
//! set of distinct customers, and the state is flattened only when it must be stored or sent.

use crate::expanded::{
    combine_states, state_for_update, state_in, state_out, state_recv, state_send, with_state,
};
use crate::fmgr::{
    arg, called_as_aggregate, not_in_aggregate, rate_datum, return_null, strict_arg, varlena_bytes,
};
use crate::{flat_state, v1_entry_points, v1_functions};
use kpi_core::{CustomerRate, KeySet, KeyType};
use pgrx::pg_sys::{Datum, FunctionCallInfo};

flat_state!(CustomerRate);

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

/// Reads a customer key datum of one SQL type into the key set.
pub type InsertKey = unsafe fn(&mut KeySet, Datum);

pub unsafe fn insert_int8(keys: &mut KeySet, d: Datum) {
    keys.insert_int(d.value() as i64)
}

pub unsafe fn insert_int4(keys: &mut KeySet, d: Datum) {
    keys.insert_int(d.value() as i32 as i64)
}

pub unsafe fn insert_text(keys: &mut KeySet, d: Datum) {
    keys.insert_text(varlena_bytes(d))
}

pub unsafe fn insert_uuid(keys: &mut KeySet, d: Datum) {
    keys.insert_uuid(*d.cast_mut_ptr::<[u8; 16]>())
}

/// `customer_rate_trans(state, customer, event "any")`, not STRICT: a row with a customer
/// and a NULL event (a customer without events in a LEFT JOIN) still adds the customer.
unsafe fn customer_trans(fcinfo: FunctionCallInfo, key_type: KeyType, insert: InsertKey) -> Datum {
    if !called_as_aggregate(fcinfo) {
        not_in_aggregate("customer_rate_trans");
    }
    let current = arg(fcinfo, 0);
    let Some(customer) = arg(fcinfo, 1) else {
        return current.unwrap_or_else(|| return_null(fcinfo));
    };
    let has_event = arg(fcinfo, 2).is_some();
    let (d, state) = state_for_update(fcinfo, "customer_rate_trans", current, || {
        CustomerRate::new(key_type)
    });
    insert(&mut state.customers, customer);
    state.count_event(has_event);
    d
}

v1_entry_points! {
    customer_rate_trans_int8 => customer_trans(KeyType::Int, insert_int8);
    customer_rate_trans_int4 => customer_trans(KeyType::Int, insert_int4);
    customer_rate_trans_text => customer_trans(KeyType::Text, insert_text);
    customer_rate_trans_uuid => customer_trans(KeyType::Uuid, insert_uuid);
    // events * 1000.0 / customers (incidents per 1,000 customers)
    customer_rate_per_1000 => customer_rate(c"1000.0");
    // events * 100.0 / customers (contacts or interactions per 100 customers, a percentage)
    customer_rate_per_100 => customer_rate(c"100.0");
    customer_rate_combine => combine_states::<CustomerRate>("customer_rate_combine");
    customer_rate_summary_in => state_in::<CustomerRate>();
    customer_rate_summary_out => state_out::<CustomerRate>();
    customer_rate_summary_recv => state_recv::<CustomerRate>();
    customer_rate_summary_send => state_send::<CustomerRate>();
}

unsafe fn customer_rate(fcinfo: FunctionCallInfo, scale: &std::ffi::CStr) -> Datum {
    let (events, customers) = with_state(strict_arg(fcinfo, 0), |s: &CustomerRate| {
        (s.events, s.customers.len() as i64)
    });
    rate_datum(fcinfo, events, customers, scale)
}

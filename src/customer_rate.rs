//! SQL glue of the per-customer rates (`incident_rate`, `contact_rate`, `interaction_rate`):
//! the `customer_rate_summary` type and the aggregate support functions. The math is
//! `kpi_core::CustomerRate`; the SQL is `sql/customer_rate.sql`.
//!
//! The state is an expanded object (see `expanded.rs`): each row costs one insert into the
//! set of distinct customers, and the state is flattened only when it must be stored or sent.

use crate::expanded::{state_for_update, with_state, FlatState};
use crate::expanded_methods;
use crate::fmgr::{
    arg, called_as_aggregate, cstring_arg, cstring_datum, new_varlena, not_in_aggregate,
    rate_datum, receive_buffer, return_null, strict_arg, varlena_bytes, OrRaise,
};
use crate::{v1_entry_points, v1_functions};
use kpi_core::{CustomerRate, KeySet, KeyType, KpiError};
use pgrx::pg_guard;
use pgrx::pg_sys::{Datum, FunctionCallInfo};

impl FlatState for CustomerRate {
    fn flat_len(&self) -> usize {
        self.encoded_len()
    }
    fn write_flat(&self, mut out: &mut [u8]) {
        self.encode(&mut out)
    }
    fn read_flat(bytes: &[u8]) -> Result<Self, KpiError> {
        CustomerRate::decode(bytes)
    }
    expanded_methods!(CustomerRate);
}

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
}

/// Merges two partial states (parallel workers, or states shipped from other servers).
pub unsafe fn combine_states<T: FlatState>(
    fcinfo: FunctionCallInfo,
    name: &str,
    merge: impl FnOnce(&mut T, &T) -> Result<(), KpiError>,
) -> Datum {
    if !called_as_aggregate(fcinfo) {
        not_in_aggregate(name);
    }
    let (current, other) = (arg(fcinfo, 0), arg(fcinfo, 1));
    let Some(other) = other else {
        return current.unwrap_or_else(|| return_null(fcinfo));
    };
    match current {
        None => state_for_update::<T>(fcinfo, name, Some(other), || unreachable!()).0,
        Some(current) => {
            let (d, state) = state_for_update::<T>(fcinfo, name, Some(current), || unreachable!());
            with_state(other, |other: &T| merge(state, other)).or_raise();
            d
        }
    }
}

#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn customer_rate_combine(fcinfo: FunctionCallInfo) -> Datum {
    combine_states(fcinfo, "customer_rate_combine", CustomerRate::merge)
}

unsafe fn customer_rate(fcinfo: FunctionCallInfo, scale: &std::ffi::CStr) -> Datum {
    let (events, customers) = with_state(strict_arg(fcinfo, 0), |s: &CustomerRate| {
        (s.events, s.customers.len() as i64)
    });
    rate_datum(fcinfo, events, customers, scale)
}

#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn customer_rate_summary_in(fcinfo: FunctionCallInfo) -> Datum {
    let state = CustomerRate::from_text(cstring_arg(fcinfo, 0)).or_raise();
    flat_datum(&state)
}

#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn customer_rate_summary_out(fcinfo: FunctionCallInfo) -> Datum {
    let text = with_state(strict_arg(fcinfo, 0), |s: &CustomerRate| s.to_text()).or_raise();
    cstring_datum(&text)
}

#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn customer_rate_summary_recv(fcinfo: FunctionCallInfo) -> Datum {
    // Decoding validates the bytes and drops duplicate keys; re-encoding stores them canonically.
    let state = CustomerRate::decode(receive_buffer(fcinfo)).or_raise();
    flat_datum(&state)
}

#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn customer_rate_summary_send(fcinfo: FunctionCallInfo) -> Datum {
    with_state(strict_arg(fcinfo, 0), |s: &CustomerRate| flat_datum(s))
}

/// The flat varlena form of a state, in the current memory context.
pub unsafe fn flat_datum<T: FlatState>(state: &T) -> Datum {
    new_varlena(state.flat_len(), |out| state.write_flat(out))
}

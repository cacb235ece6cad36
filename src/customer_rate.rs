//! SQL glue of the per-customer rates (`incident_rate`, `contact_rate`, `interaction_rate`):
//! the `customer_rate_summary` type and the aggregate support functions. The math is
//! `kpi_core::flat` (the in-memory form) and `kpi_core::CustomerRate` (text and binary
//! forms); the SQL is `sql/customer_rate.sql`.
//!
//! The state is a flat value updated in place (see `growing.rs`): each row costs one insert
//! into the set of distinct customers inside it, in the aggregate's own memory.

use crate::fmgr::{
    arg, called_as_aggregate, new_varlena, not_in_aggregate, rate_datum, receive_buffer,
    return_null, strict_arg, varlena_bytes, OrRaise,
};
use crate::growing::{
    combine, customer_from_flat, customer_to_flat, input_text, output_datum, server_to_utf8,
    state_datum, utf8_to_server, verify_server_text, with_view, Kind, Updating,
};
use crate::{v1_entry_points, v1_functions};
use kpi_core::flat::{self, Key, OwnedState};
use kpi_core::{CustomerRate, KeyType, KpiError};
use pgrx::pg_sys::{Datum, FunctionCallInfo};
use std::borrow::Cow;

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
    let mut st = Updating::begin(
        fcinfo,
        "customer_rate_trans",
        Kind::Customer,
        current,
        key_type,
    );
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
    customer_rate_summary_in => summary_in();
    customer_rate_summary_out => summary_out();
    customer_rate_summary_recv => summary_recv();
    customer_rate_summary_send => summary_send();
}

unsafe fn customer_rate(fcinfo: FunctionCallInfo, scale: &std::ffi::CStr) -> Datum {
    let (events, customers) = with_view(Kind::Customer, strict_arg(fcinfo, 0), |v| {
        (v.events(), v.count())
    });
    rate_datum(fcinfo, events, customers, scale)
}

/// Type input: the JSON text form, validated.
unsafe fn summary_in(fcinfo: FunctionCallInfo) -> Datum {
    let text = input_text(fcinfo);
    let state = CustomerRate::from_text(&text).or_raise();
    state_datum(&customer_to_flat(&state, &utf8_to_server).or_raise())
}

unsafe fn summary_out(fcinfo: FunctionCallInfo) -> Datum {
    let text = with_view(Kind::Customer, strict_arg(fcinfo, 0), |v| {
        customer_from_flat(v, &server_to_utf8)?.to_text()
    })
    .or_raise();
    output_datum(text)
}

/// Type receive: the version-1 binary form (what `send` writes), or a whole version-2 value;
/// validated either way.
unsafe fn summary_recv(fcinfo: FunctionCallInfo) -> Datum {
    let bytes = receive_buffer(fcinfo);
    state_datum(&received(bytes).or_raise())
}

fn received(bytes: &[u8]) -> Result<OwnedState, KpiError> {
    if flat::is_v2(bytes) {
        flat::validate(bytes)?;
        let state = OwnedState(bytes.to_vec());
        if state.view().is_segment() {
            return Err(KpiError::invalid_binary(
                "value is not a customer_rate_summary",
            ));
        }
        // text keys must be valid in the server encoding
        let kt = state.view().key_type();
        if kt == KeyType::Text {
            state
                .view()
                .for_each_key(&mut crate::growing::check_interrupts, &mut |_, k| {
                    verify_server_text(k).map(|_| ())
                })?;
        }
        return Ok(state);
    }
    let state = CustomerRate::decode(bytes)?;
    customer_to_flat(&state, &|k: &[u8]| -> Result<Cow<'_, [u8]>, KpiError> {
        verify_server_text(k)
    })
}

/// Type send: the version-1 binary form (format version byte, key type, events, keys).
unsafe fn summary_send(fcinfo: FunctionCallInfo) -> Datum {
    let bytes = with_view(Kind::Customer, strict_arg(fcinfo, 0), |v| {
        customer_from_flat(v, &|k| Ok(Cow::Borrowed(k))).map(|s| s.to_bytes())
    })
    .or_raise();
    new_varlena(bytes.len(), |out| out.copy_from_slice(&bytes))
}

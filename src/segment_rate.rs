//! SQL glue of `contact_rate_by_segment`: the `segment_rate_summary` type and the aggregate
//! support functions. The math is `kpi_core::flat` (the in-memory form) and
//! `kpi_core::SegmentRate` (text and binary forms); the SQL, including the final function
//! that adds each segment's rate and band, is `sql/segment_rate.sql`.

use crate::customer_rate::{key_int4, key_int8, key_text, key_uuid, KeyOf};
use crate::fmgr::{
    arg, called_as_aggregate, cstring_datum, new_varlena, not_in_aggregate, receive_buffer,
    return_null, strict_arg, varlena_bytes, OrRaise,
};
use crate::growing::{
    ascii_json, combine, input_text, output_datum, segment_from_flat, segment_to_flat,
    server_to_utf8, state_datum, utf8_to_server, verify_server_text, with_view, Kind, Updating,
};
use crate::{v1_entry_points, v1_functions};
use kpi_core::flat::{self, OwnedState};
use kpi_core::{KeyType, KpiError, SegmentRate};
use pgrx::pg_guard;
use pgrx::pg_sys::{self, Datum, FunctionCallInfo};
use std::borrow::Cow;

v1_functions!(
    pg_finfo_segment_rate_summary_in,
    pg_finfo_segment_rate_summary_out,
    pg_finfo_segment_rate_summary_recv,
    pg_finfo_segment_rate_summary_send,
    pg_finfo_segment_rate_trans_int8,
    pg_finfo_segment_rate_trans_int4,
    pg_finfo_segment_rate_trans_text,
    pg_finfo_segment_rate_trans_uuid,
    pg_finfo_segment_rate_combine,
    pg_finfo_segment_rate_counts,
);

/// `segment_rate_trans(state, segment text, customer, event "any")`, not STRICT: rows with
/// a NULL segment or customer are skipped; a NULL event still adds the customer.
unsafe fn segment_trans(fcinfo: FunctionCallInfo, key_type: KeyType, key_of: KeyOf) -> Datum {
    if !called_as_aggregate(fcinfo) {
        not_in_aggregate("segment_rate_trans");
    }
    let current = arg(fcinfo, 0);
    let (Some(segment), Some(customer)) = (arg(fcinfo, 1), arg(fcinfo, 2)) else {
        return current.unwrap_or_else(|| return_null(fcinfo));
    };
    let events = arg(fcinfo, 3).is_some() as i64;
    let mut st = Updating::begin(
        fcinfo,
        "segment_rate_trans",
        Kind::Segment,
        current,
        key_type,
    );
    let name = varlena_bytes(segment);
    let key = key_of(customer);
    st.insert(|t| t.insert_segment_row(name, key, events));
    st.datum
}

v1_entry_points! {
    segment_rate_trans_int8 => segment_trans(KeyType::Int, key_int8);
    segment_rate_trans_int4 => segment_trans(KeyType::Int, key_int4);
    segment_rate_trans_text => segment_trans(KeyType::Text, key_text);
    segment_rate_trans_uuid => segment_trans(KeyType::Uuid, key_uuid);
    segment_rate_combine => combine(Kind::Segment, "segment_rate_combine");
    segment_rate_summary_in => summary_in();
    segment_rate_summary_out => summary_out();
    segment_rate_summary_recv => summary_recv();
    segment_rate_summary_send => summary_send();
}

unsafe fn summary_in(fcinfo: FunctionCallInfo) -> Datum {
    let text = input_text(fcinfo);
    let state = SegmentRate::from_text(&text).or_raise();
    state_datum(&segment_to_flat(&state, &utf8_to_server).or_raise())
}

unsafe fn summary_out(fcinfo: FunctionCallInfo) -> Datum {
    let text = with_view(Kind::Segment, strict_arg(fcinfo, 0), |v| {
        segment_from_flat(v, &server_to_utf8)?.to_text()
    })
    .or_raise();
    output_datum(text)
}

unsafe fn summary_recv(fcinfo: FunctionCallInfo) -> Datum {
    state_datum(&received(receive_buffer(fcinfo)).or_raise())
}

fn received(bytes: &[u8]) -> Result<OwnedState, KpiError> {
    if flat::is_v2(bytes) {
        flat::validate(bytes)?;
        let state = OwnedState(bytes.to_vec());
        if !state.view().is_segment() {
            return Err(KpiError::invalid_binary(
                "value is not a segment_rate_summary",
            ));
        }
        for (_, name, _, _) in state.view().segments()? {
            verify_server_text(name)?;
        }
        if state.view().key_type() == KeyType::Text {
            state
                .view()
                .for_each_key(&mut crate::growing::check_interrupts, &mut |_, k| {
                    verify_server_text(k).map(|_| ())
                })?;
        }
        return Ok(state);
    }
    let state = SegmentRate::decode(bytes)?;
    segment_to_flat(&state, &|k: &[u8]| -> Result<Cow<'_, [u8]>, KpiError> {
        verify_server_text(k)
    })
}

unsafe fn summary_send(fcinfo: FunctionCallInfo) -> Datum {
    let bytes = with_view(Kind::Segment, strict_arg(fcinfo, 0), |v| {
        segment_from_flat(v, &|k| Ok(Cow::Borrowed(k))).map(|s| s.to_bytes())
    })
    .or_raise();
    new_varlena(bytes.len(), |out| out.copy_from_slice(&bytes))
}

/// `{"<segment>": {"customers": n, "events": m}, ...}` as jsonb, for the SQL final function.
/// Names are written as JSON escapes, so this works in any server encoding.
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn segment_rate_counts(fcinfo: FunctionCallInfo) -> Datum {
    let json = with_view(Kind::Segment, strict_arg(fcinfo, 0), |v| {
        let mut doc = serde_json::Map::new();
        for (_, name, customers, events) in v.segments()? {
            let name = server_to_utf8(name)?;
            let name = String::from_utf8_lossy(&name).into_owned();
            doc.insert(
                name,
                serde_json::json!({"customers": customers, "events": events}),
            );
        }
        Ok::<_, KpiError>(serde_json::Value::Object(doc).to_string())
    })
    .or_raise();
    let cstr = cstring_datum(&ascii_json(json));
    pgrx::direct_function_call_as_datum(pg_sys::jsonb_in, &[Some(cstr)])
        .expect("jsonb_in returns a value")
}

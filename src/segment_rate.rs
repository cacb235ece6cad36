//! SQL glue of `contact_rate_by_segment`: the `segment_rate_summary` type and the aggregate
//! support functions. The math is `kpi_core::SegmentRate`; the SQL, including the final
//! function that adds each segment's rate and band, is `sql/segment_rate.sql`.

use crate::customer_rate::{insert_int4, insert_int8, insert_text, insert_uuid, InsertKey};
use crate::expanded::{
    combine_states, state_for_update, state_in, state_out, state_recv, state_send, with_state,
};
use crate::fmgr::{
    arg, called_as_aggregate, cstring_datum, not_in_aggregate, raise, return_null, strict_arg,
    varlena_bytes,
};
use crate::{flat_state, v1_entry_points, v1_functions};
use kpi_core::{KeyType, KpiError, SegmentRate};
use pgrx::pg_guard;
use pgrx::pg_sys::{self, Datum, FunctionCallInfo};

flat_state!(SegmentRate);

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
unsafe fn segment_trans(fcinfo: FunctionCallInfo, key_type: KeyType, insert: InsertKey) -> Datum {
    if !called_as_aggregate(fcinfo) {
        not_in_aggregate("segment_rate_trans");
    }
    let current = arg(fcinfo, 0);
    let (Some(segment), Some(customer)) = (arg(fcinfo, 1), arg(fcinfo, 2)) else {
        return current.unwrap_or_else(|| return_null(fcinfo));
    };
    let has_event = arg(fcinfo, 3).is_some();
    let (d, state) = state_for_update(fcinfo, "segment_rate_trans", current, || {
        SegmentRate::new(key_type)
    });
    let segment = state.segment(varlena_bytes(segment));
    insert(&mut segment.customers, customer);
    segment.count_event(has_event);
    d
}

v1_entry_points! {
    segment_rate_trans_int8 => segment_trans(KeyType::Int, insert_int8);
    segment_rate_trans_int4 => segment_trans(KeyType::Int, insert_int4);
    segment_rate_trans_text => segment_trans(KeyType::Text, insert_text);
    segment_rate_trans_uuid => segment_trans(KeyType::Uuid, insert_uuid);
    segment_rate_combine => combine_states::<SegmentRate>("segment_rate_combine");
    segment_rate_summary_in => state_in::<SegmentRate>();
    segment_rate_summary_out => state_out::<SegmentRate>();
    segment_rate_summary_recv => state_recv::<SegmentRate>();
    segment_rate_summary_send => state_send::<SegmentRate>();
}

/// `{"<segment>": {"customers": n, "events": m}, ...}` as jsonb, for the SQL final function.
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn segment_rate_counts(fcinfo: FunctionCallInfo) -> Datum {
    let json = with_state(strict_arg(fcinfo, 0), |s: &SegmentRate| {
        let mut doc = serde_json::Map::new();
        for (name, customers, events) in s.counts() {
            let Ok(name) = std::str::from_utf8(name) else {
                raise(KpiError::invalid_text("a segment name is not valid UTF-8"))
            };
            doc.insert(
                name.to_string(),
                serde_json::json!({"customers": customers, "events": events}),
            );
        }
        serde_json::Value::Object(doc).to_string()
    });
    let cstr = cstring_datum(&json);
    pgrx::direct_function_call_as_datum(pg_sys::jsonb_in, &[Some(cstr)])
        .expect("jsonb_in returns a value")
}

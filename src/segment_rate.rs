//! SQL glue of `contact_rate_by_segment`: the `segment_rate_summary` type and the aggregate
//! support functions. The math is `kpi_core::flat` (the state, in memory and on
//! disk) and `kpi_core::segment_rate` (its text and binary forms); the SQL, including the final function
//! that adds each segment's rate and band, is `sql/segment_rate.sql`.

use crate::customer_rate::{
    event_flag, event_key, key_int4, key_int8, key_text, key_uuid, EventOf, KeyOf,
};
use crate::fmgr::{
    arg, called_as_aggregate, jsonb_datum, not_in_aggregate, return_null, server_to_utf8,
    strict_arg, varlena_bytes, OrRaise,
};
use crate::growing::{
    combine, summary_in, summary_listed, summary_out, summary_recv, summary_send, with_view, Kind,
    Updating,
};
use crate::v1_entry_points;
use kpi_core::{KeyType, KpiError};
use pgrx::pg_sys::{Datum, FunctionCallInfo};

/// `segment_rate_trans(state, segment text, customer, event)`, not STRICT: rows with a NULL
/// segment or customer are skipped; a row without an event still adds the customer.
unsafe fn segment_trans(
    fcinfo: FunctionCallInfo,
    key_type: KeyType,
    key_of: KeyOf,
    event_of: EventOf,
) -> Datum {
    if !called_as_aggregate(fcinfo) {
        not_in_aggregate("segment_rate_trans");
    }
    let current = arg(fcinfo, 0);
    let (Some(segment), Some(customer)) = (arg(fcinfo, 1), arg(fcinfo, 2)) else {
        return current.unwrap_or_else(|| return_null(fcinfo));
    };
    let events = event_of(fcinfo, 3) as i64;
    let mut st = Updating::begin(Kind::Segment, current, key_type);
    let name = varlena_bytes(segment);
    let key = key_of(customer);
    st.insert(|t| t.insert_segment_row(name, key, events));
    st.datum
}

v1_entry_points! {
    segment_rate_trans_int8 => segment_trans(KeyType::Int, key_int8, event_key);
    segment_rate_trans_int4 => segment_trans(KeyType::Int, key_int4, event_key);
    segment_rate_trans_text => segment_trans(KeyType::Text, key_text, event_key);
    segment_rate_trans_uuid => segment_trans(KeyType::Uuid, key_uuid, event_key);
    segment_rate_trans_int8_bool => segment_trans(KeyType::Int, key_int8, event_flag);
    segment_rate_trans_int4_bool => segment_trans(KeyType::Int, key_int4, event_flag);
    segment_rate_trans_text_bool => segment_trans(KeyType::Text, key_text, event_flag);
    segment_rate_trans_uuid_bool => segment_trans(KeyType::Uuid, key_uuid, event_flag);
    segment_rate_combine => combine(Kind::Segment, "segment_rate_combine");
    segment_rate_summary_in => summary_in(Kind::Segment);
    segment_rate_summary_out => summary_out(Kind::Segment);
    segment_rate_summary_recv => summary_recv(Kind::Segment);
    segment_rate_summary_send => summary_send(Kind::Segment);
    segment_rate_summary_listed => summary_listed(Kind::Segment);
}

/// `{"<segment>": {"customers": n, "events": m}, ...}` as jsonb, for the SQL final function.
/// Names are written as JSON escapes, so this works in any server encoding.
unsafe fn counts_json(fcinfo: FunctionCallInfo) -> Datum {
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
    jsonb_datum(json)
}

v1_entry_points! {
    segment_rate_counts => counts_json();
}

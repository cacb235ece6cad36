//! The text and binary forms of `segment_rate_summary`, the state of
//! `contact_rate_by_segment`: per segment, its distinct customers and events, so a single call
//! returns every segment's rate side by side. As for the per-customer rates
//! (`customer_rate.rs`), the state is the flat form (`flat.rs`) and its forms are read into it
//! and written from it directly.

use crate::codec::{put_bytes, put_i64, put_len, put_u8, Reader, BINARY_FORMAT};
use crate::customer_rate::{
    as_is, body_from_json, body_to_json, check_body, complete, decode_body, flat_keys, key_type_of,
    recoded, repeated_key, with_context, Recode,
};
use crate::error::{no_nul, KpiError, KpiErrorKind};
use crate::flat::{OwnedState, View};
use crate::keys::{not_utf8_key, KeyType, Keys};
use crate::text_form::{self, Form};
use serde_json::{json, Map, Value};
use std::collections::HashSet;

/// One segment of a form: its name, its customers and its events.
type Segment = (Vec<u8>, Keys, i64);

/// A flat segment state of `segments` (names and keys mapped by `recode`), the segments in
/// the order of their names; `None` when a customer is given twice in a segment.
pub fn build(
    key_type: KeyType,
    mut segments: Vec<Segment>,
    recode: Recode,
) -> Result<Option<OwnedState>, KpiError> {
    segments.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut out = OwnedState::segment(key_type);
    for (name, keys, events) in segments {
        if keys.is_empty() {
            return Err(KpiError::invalid_text("a segment has no customers"));
        }
        let name = recode(&name)?.into_owned();
        out.add_segment_events(&name, events)?;
        for key in flat_keys(&recoded(keys, recode)?) {
            if !out.insert_segment_row(&name, key, 0)? {
                return Ok(None);
            }
        }
    }
    Ok(Some(out))
}

/// The segments of a flat segment state, sorted by name, each with its keys sorted; names
/// and text keys mapped by `recode`; `tick` as for [`crate::customer_rate::keys_of`].
pub fn segments_of(
    v: &View<'_>,
    recode: Recode,
    tick: &mut dyn FnMut(),
) -> Result<Vec<Segment>, KpiError> {
    let mut out = Vec::new();
    for (_, name, _, events) in v.segments()? {
        out.push((recode(name)?.into_owned(), Keys::new(v.key_type()), events));
    }
    let text = |t: &[u8]| Ok(recode(t)?.into_owned());
    v.for_each_key(tick, &mut |seg, bytes| {
        let (_, keys, _) = seg
            .and_then(|s| out.get_mut(s as usize))
            .ok_or_else(|| KpiError::invalid_binary("corrupt KPI state: segment id"))?;
        keys.push_stored(bytes, &text)
    })?;
    for (_, keys, _) in &mut out {
        keys.sort();
    }
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// A stored or received flat segment state: every segment has customers and a name without
/// NUL characters, and its body holds [`check_body`]; names and keys pass `recode`.
pub fn check_stored(v: &View<'_>, recode: Recode, tick: &mut dyn FnMut()) -> Result<(), KpiError> {
    for (name, keys, events) in segments_of(v, recode, tick)? {
        no_nul("segment name", &name, KpiErrorKind::InvalidText)
            .map_err(|e| KpiError::invalid_binary(e.message))?;
        if keys.is_empty() {
            return Err(KpiError::invalid_binary("a segment has no customers"));
        }
        check_body(&keys, events).map_err(KpiError::invalid_binary)?;
    }
    Ok(())
}

// --- text form -------------------------------------------------------------------------------

/// Text form, e.g.
/// `{"key_type":"bigint","segments":{"retail":{"events":1,"customers":[4,9]}}}`, segments
/// sorted by name, names and text keys mapped by `recode` (to UTF-8); a segment of more than
/// `JSON_MAX_KEYS` integer or uuid keys packed, as in `customer_rate::to_text`.
pub fn to_text(v: &View<'_>, recode: Recode, tick: &mut dyn FnMut()) -> Result<String, KpiError> {
    to_text_as(v, recode, tick, Form::Compact)
}

/// The text form with every customer of every segment listed, at any size.
pub fn to_listed_text(
    v: &View<'_>,
    recode: Recode,
    tick: &mut dyn FnMut(),
) -> Result<String, KpiError> {
    to_text_as(v, recode, tick, Form::Listed)
}

fn to_text_as(
    v: &View<'_>,
    recode: Recode,
    tick: &mut dyn FnMut(),
    form: Form,
) -> Result<String, KpiError> {
    let mut out = String::from("{\"key_type\":\"");
    out.push_str(v.key_type().name());
    out.push_str("\",\"segments\":{");
    for (i, (name, keys, events)) in segments_of(v, recode, tick)?.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        text_form::push_string(
            &mut out,
            std::str::from_utf8(name).map_err(|_| not_utf8_name())?,
        );
        out.push_str(":{");
        text_form::write_body(&mut out, keys, *events, form).map_err(|_| not_utf8_key())?;
        out.push('}');
    }
    out.push_str("}}");
    Ok(out)
}

/// The text form built as a `serde_json::Value`: the definition [`to_text`] is tested
/// against.
#[doc(hidden)]
pub fn to_text_via_json(v: &View<'_>, recode: Recode) -> Result<String, KpiError> {
    let mut segments = Map::new();
    for (name, keys, events) in segments_of(v, recode, &mut || {})? {
        let name = String::from_utf8(name).map_err(|_| not_utf8_name())?;
        segments.insert(name, Value::Object(body_to_json(&keys, events)?));
    }
    Ok(json!({"key_type": v.key_type().name(), "segments": segments}).to_string())
}

/// The segments of a text form of the writer's shape; `None` leaves the text to the general
/// reader.
pub(crate) fn scan(text: &str) -> Option<(KeyType, Vec<Segment>)> {
    let mut s = text_form::Scanner::new(text);
    s.byte(b'{')?;
    let key_type = s.key_type_field()?;
    s.byte(b',')?;
    if s.field_name()? != "segments" {
        return None;
    }
    s.byte(b'{')?;
    let mut segments = Vec::new();
    let mut names = HashSet::new();
    if s.byte(b'}').is_none() {
        loop {
            let name = s.field_name()?;
            if name.contains('\0') || !names.insert(name.clone()) {
                return None;
            }
            let (keys, events, seen) = s.body_object(key_type)?;
            let (keys, events) = complete(keys, events, seen)?;
            if keys.is_empty() {
                return None;
            }
            segments.push((name.as_bytes().to_vec(), keys, events));
            if s.byte(b',').is_none() {
                break;
            }
        }
        s.byte(b'}')?;
    }
    s.byte(b'}')?;
    s.end()?;
    Some((key_type, segments))
}

/// The state of a text form, its names and text keys mapped by `recode` (from UTF-8).
pub fn from_text(text: &str, recode: Recode) -> Result<OwnedState, KpiError> {
    if let Some((key_type, segments)) = scan(text) {
        // a customer given twice in a segment: left to the general reader, which names it
        if let Some(state) = build(key_type, segments, recode)? {
            return Ok(state);
        }
    }
    from_text_via_json(text, recode)
}

/// The general reader of the text form, for any JSON: the definition the fast reader is
/// tested against, and its fallback.
#[doc(hidden)]
pub fn from_text_via_json(text: &str, recode: Recode) -> Result<OwnedState, KpiError> {
    let parse = || -> Result<(KeyType, Vec<Segment>), KpiError> {
        let doc: Value = serde_json::from_str(text)
            .map_err(|e| KpiError::invalid_text(crate::error::excerpt(&e.to_string())))?;
        let key_type = key_type_of(&doc)?;
        let map = doc
            .get("segments")
            .and_then(Value::as_object)
            .ok_or_else(|| KpiError::invalid_text("\"segments\" must be an object"))?;
        let mut segments = Vec::with_capacity(map.len());
        for (name, body) in map {
            no_nul("segment name", name.as_bytes(), KpiErrorKind::InvalidText)?;
            let (keys, events) = body_from_json(key_type, body)?;
            if keys.is_empty() {
                return Err(KpiError::invalid_text(format!(
                    "segment \"{}\" has no customers",
                    crate::error::excerpt(name)
                )));
            }
            segments.push((name.as_bytes().to_vec(), keys, events));
        }
        Ok((key_type, segments))
    };
    let (key_type, segments) = parse().map_err(|e| {
        let e = with_context("segment rate state", text, e);
        let hint = "Write it as {\"key_type\": \"bigint\", \"segments\": {\"retail\": {\"events\": 1, \"customers\": [4, 9]}}}.";
        KpiError { hint: Some(hint.into()), ..e }
    })?;
    build(key_type, segments, recode)?
        .ok_or_else(|| KpiError::invalid_text("duplicate customer key"))
}

fn not_utf8_name() -> KpiError {
    KpiError::invalid_text("a segment name is not valid UTF-8").with_hint(
        "The text form of a state needs a UTF8 database; the binary form has no such limit.",
    )
}

// --- binary form -----------------------------------------------------------------------------

/// Binary form: format version, key type, segment count, then per segment (sorted by name)
/// its name and the body of a customer rate's binary form (events, key count, keys).
pub fn to_binary(v: &View<'_>, tick: &mut dyn FnMut()) -> Result<Vec<u8>, KpiError> {
    let segments = segments_of(v, &as_is, tick)?;
    let mut out = Vec::new();
    put_u8(&mut out, BINARY_FORMAT);
    v.key_type().encode(&mut out);
    put_i64(&mut out, segments.len() as i64);
    for (name, keys, events) in &segments {
        put_len(&mut out, name.len());
        put_bytes(&mut out, name);
        put_i64(&mut out, *events);
        keys.encode(&mut out);
    }
    Ok(out)
}

/// The state of a binary form (what [`to_binary`] writes, and what 0.1.0 stored), its names
/// and text keys mapped by `recode`.
pub fn from_binary(bytes: &[u8], recode: Recode) -> Result<OwnedState, KpiError> {
    let mut r = Reader::new(bytes);
    r.version()?;
    let key_type = KeyType::decode(&mut r)?;
    let n = r.count(4 + 16)?;
    let mut segments = Vec::with_capacity(n);
    let mut names = HashSet::new();
    for _ in 0..n {
        let len = r.u32()? as usize;
        let name = r.take(len)?;
        no_nul("segment name", name, KpiErrorKind::InvalidBinary)?;
        let (keys, events) = decode_body(key_type, &mut r)?;
        if keys.is_empty() {
            return Err(KpiError::invalid_binary("a segment has no customers"));
        }
        if !names.insert(name) {
            return Err(KpiError::invalid_binary("a segment name appears twice"));
        }
        segments.push((name.to_vec(), keys, events));
    }
    r.finish()?;
    build(key_type, segments, recode)?.ok_or_else(repeated_key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flat::Key;

    fn state(rows: &[(&str, i64, bool)]) -> OwnedState {
        let mut s = OwnedState::segment(KeyType::Int);
        for (segment, customer, has_event) in rows {
            s.insert_segment_row(segment.as_bytes(), Key::Int(*customer), *has_event as i64)
                .unwrap();
        }
        s
    }

    #[test]
    fn text_and_binary_round_trip_sorted_by_name() {
        let s = state(&[("smb", 5, true), ("retail", 1, true), ("retail", 1, false)]);
        let text = to_text(&s.view(), &as_is, &mut || {}).unwrap();
        assert_eq!(
            text,
            r#"{"key_type":"bigint","segments":{"retail":{"events":1,"customers":[1]},"smb":{"events":1,"customers":[5]}}}"#
        );
        assert_eq!(to_text_via_json(&s.view(), &as_is).unwrap(), text);
        let again = |st: &OwnedState| to_text(&st.view(), &as_is, &mut || {}).unwrap();
        assert_eq!(again(&from_text(&text, &as_is).unwrap()), text);
        assert_eq!(again(&from_text_via_json(&text, &as_is).unwrap()), text);
        let bytes = to_binary(&s.view(), &mut || {}).unwrap();
        assert_eq!(again(&from_binary(&bytes, &as_is).unwrap()), text);
    }

    #[test]
    fn names_and_text_keys_are_mapped_exactly_once() {
        let marked = crate::customer_rate::tests::marked;
        let text = r#"{"key_type":"text","segments":{"a":{"events":1,"customers":["k"]}}}"#;
        let once = r#"{"key_type":"text","segments":{"~a":{"events":1,"customers":["~k"]}}}"#;
        let s = from_text(text, &marked).unwrap();
        assert_eq!(to_text(&s.view(), &as_is, &mut || {}).unwrap(), once);
        let plain = from_text(text, &as_is).unwrap();
        let back = from_binary(&to_binary(&plain.view(), &mut || {}).unwrap(), &marked).unwrap();
        assert_eq!(to_text(&back.view(), &as_is, &mut || {}).unwrap(), once);
    }

    #[test]
    fn errors_name_what_is_wrong() {
        for (text, says) in [
            (
                r#"{"key_type":"bigint","segments":{"a":{"events":0,"customers":[]}}}"#,
                "segment \"a\" has no customers",
            ),
            (
                r#"{"key_type":"bigint","segments":{"a":{"events":0,"customers":[1,1]}}}"#,
                "customer key 1 appears twice",
            ),
            (
                r#"{"key_type":"bigint","segments":[]}"#,
                "\"segments\" must be an object",
            ),
        ] {
            let err = from_text(text, &as_is).unwrap_err();
            assert!(err.message.contains(says), "{}", err.message);
        }
    }
}

//! The text and binary forms of `customer_rate_summary`, the state of the per-customer rates
//! (`incident_rate`, `contact_rate`, `interaction_rate`): the distinct customers seen and the
//! number of events among their rows.
//!
//! The state has one form in memory and on disk, the flat form (`flat.rs`); its text form
//! (JSON) and binary form (send/receive, and the layout 0.1.0 stored) are read into it and
//! written from it directly, through a plain list of keys ([`Keys`]).
//!
//! Made for `customers LEFT JOIN events`: a row whose customer key is NULL is skipped
//! entirely; a row with a customer and a NULL event key adds the customer only.

use crate::codec::{put_i64, put_u8, Reader, BINARY_FORMAT};
use crate::error::{nul_in_text, KpiError, KpiErrorKind, MAX_COUNT};
use crate::flat::{Key, OwnedState, View};
use crate::keys::{not_utf8_key, KeyType, Keys};
use crate::text_form::{self, Form};
use serde_json::{json, Map, Value};
use std::borrow::Cow;
use std::collections::HashSet;

/// Maps text keys and segment names between a form (UTF-8 in the text form) and the
/// server encoding, or checks them (a received value).
pub type Recode<'r> = &'r dyn Fn(&[u8]) -> Result<Cow<'_, [u8]>, KpiError>;

/// Text keys and names as they are.
pub fn as_is(b: &[u8]) -> Result<Cow<'_, [u8]>, KpiError> {
    Ok(Cow::Borrowed(b))
}

/// What every state holds, whichever path it came in by (text, binary, stored): each event
/// row came with a customer, the events fit a counter (at most `MAX_COUNT`, as the aggregate
/// counts them), and text keys are PostgreSQL text (no NUL character).
pub fn check_body(keys: &Keys, events: i64) -> Result<(), String> {
    check_counts(keys.is_empty(), events, keys.has_nul_text_key())
}

fn check_counts(no_customer: bool, events: i64, nul_text_key: bool) -> Result<(), String> {
    if events > MAX_COUNT {
        return Err(format!(
            "{events} events: a state counts at most {MAX_COUNT}"
        ));
    }
    if nul_text_key {
        return Err(nul_in_text("text customer key", KpiErrorKind::InvalidText).message);
    }
    if events > 0 && no_customer {
        return Err(format!(
            "{events} events but no customer: every counted event comes with its customer"
        ));
    }
    Ok(())
}

/// The keys with their text mapped by `recode` (other key types as they are).
pub fn recoded(keys: Keys, recode: Recode) -> Result<Keys, KpiError> {
    let Keys::Text(list) = keys else {
        return Ok(keys);
    };
    let mut out = Vec::with_capacity(list.len());
    for k in list {
        let changed = match recode(&k)? {
            Cow::Borrowed(b) if b == &k[..] => None,
            other => Some(other.into_owned()),
        };
        out.push(changed.unwrap_or(k));
    }
    Ok(Keys::Text(out))
}

/// The keys as the flat table takes them.
pub(crate) fn flat_keys(keys: &Keys) -> Vec<Key<'_>> {
    match keys {
        Keys::Int(v) => v.iter().map(|k| Key::Int(*k)).collect(),
        Keys::Uuid(v) => v.iter().map(|k| Key::Uuid(*k)).collect(),
        Keys::Text(v) => v.iter().map(|k| Key::Text(k)).collect(),
    }
}

/// A flat customer state of `keys` and `events`, laid out for its size at once; `None` when
/// a key is given twice.
pub fn build(keys: &Keys, events: i64) -> Result<Option<OwnedState>, KpiError> {
    let (range, text_bytes) = match keys {
        Keys::Int(v) => (v.iter().min().copied().zip(v.iter().max().copied()), 0),
        Keys::Uuid(_) => (None, 0),
        Keys::Text(v) => (None, v.iter().map(|k| k.len()).sum()),
    };
    let mut out = OwnedState::customer_sized(keys.key_type(), keys.len(), range, text_bytes)?;
    let mut all = flat_keys(keys);
    if out.insert_customers(&mut all)? != all.len() {
        return Ok(None);
    }
    out.add_events(events)?;
    Ok(Some(out))
}

/// The keys of a flat customer state, sorted, their text mapped by `recode`; `tick` is called
/// every few thousand keys (the extension checks for query cancellation there).
pub fn keys_of(v: &View<'_>, recode: Recode, tick: &mut dyn FnMut()) -> Result<Keys, KpiError> {
    let mut keys = Keys::new(v.key_type());
    let text = |t: &[u8]| Ok(recode(t)?.into_owned());
    v.for_each_key(tick, &mut |_, bytes| keys.push_stored(bytes, &text))?;
    keys.sort();
    Ok(keys)
}

/// A stored or received flat state holds the rule of [`check_body`]; its text keys pass
/// `recode` (the server encoding's check).
pub fn check_stored(v: &View<'_>, recode: Recode, tick: &mut dyn FnMut()) -> Result<(), KpiError> {
    if v.key_type() != KeyType::Text {
        // integer and uuid keys: nothing to check but the counts
        return check_counts(v.count() == 0, v.events(), false).map_err(KpiError::invalid_binary);
    }
    let keys = keys_of(v, recode, tick)?;
    check_body(&keys, v.events()).map_err(KpiError::invalid_binary)
}

// --- text form -------------------------------------------------------------------------------

/// Text form, e.g. `{"key_type":"bigint","events":3,"customers":[1,2]}`, keys sorted, their
/// text mapped by `recode` (to UTF-8); more than `JSON_MAX_KEYS` integer or uuid keys packed
/// (`{"key_type":"bigint","events":3,"packed":"..."}`).
pub fn to_text(v: &View<'_>, recode: Recode, tick: &mut dyn FnMut()) -> Result<String, KpiError> {
    to_text_as(v, recode, tick, Form::Compact)
}

/// The text form with every customer listed, at any size: what a person reads.
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
    let keys = keys_of(v, recode, tick)?;
    let mut out = String::from("{\"key_type\":\"");
    out.push_str(v.key_type().name());
    out.push_str("\",");
    text_form::write_body(&mut out, &keys, v.events(), form).map_err(|_| not_utf8_key())?;
    out.push('}');
    Ok(out)
}

/// `"events"` and `"customers"` (sorted keys), or `"packed"` where the compact text form packs
/// them, as JSON values.
pub(crate) fn body_to_json(keys: &Keys, events: i64) -> Result<Map<String, Value>, KpiError> {
    if let Some(packed) = text_form::packed_in(keys, Form::Compact) {
        let mut body = Map::new();
        body.insert("events".into(), json!(events));
        body.insert("packed".into(), Value::from(packed));
        return Ok(body);
    }
    let customers: Vec<Value> = match keys {
        Keys::Int(v) => v.iter().map(|k| Value::from(*k)).collect(),
        Keys::Uuid(v) => v
            .iter()
            .map(|k| Value::from(crate::keys::format_uuid(u128::from_be_bytes(*k))))
            .collect(),
        Keys::Text(v) => v
            .iter()
            .map(|k| {
                Ok(Value::from(
                    std::str::from_utf8(k).map_err(|_| not_utf8_key())?,
                ))
            })
            .collect::<Result<_, KpiError>>()?,
    };
    let mut body = Map::new();
    body.insert("events".into(), json!(events));
    body.insert("customers".into(), Value::Array(customers));
    Ok(body)
}

/// The text form built as a `serde_json::Value`: the definition [`to_text`] is tested
/// against.
#[doc(hidden)]
pub fn to_text_via_json(v: &View<'_>, recode: Recode) -> Result<String, KpiError> {
    let keys = keys_of(v, recode, &mut || {})?;
    let mut doc = Map::new();
    doc.insert("key_type".into(), json!(v.key_type().name()));
    doc.extend(body_to_json(&keys, v.events())?);
    Ok(Value::Object(doc).to_string())
}

/// The keys of a JSON array, each of the key type, none twice.
fn keys_from_json(key_type: KeyType, value: &Value) -> Result<Keys, KpiError> {
    let items = value
        .as_array()
        .ok_or_else(|| KpiError::invalid_text("\"customers\" must be an array of customer keys"))?;
    let mut keys = Keys::new(key_type);
    let (mut ints, mut uuids, mut texts) = (HashSet::new(), HashSet::new(), HashSet::new());
    for item in items {
        let bad = || {
            KpiError::invalid_text(format!(
                "invalid {} customer key {}",
                key_type.name(),
                crate::error::excerpt(&item.to_string())
            ))
        };
        let new = match &mut keys {
            Keys::Int(v) => {
                let k = item.as_i64().ok_or_else(bad)?;
                v.push(k);
                ints.insert(k)
            }
            Keys::Uuid(v) => {
                let k = item
                    .as_str()
                    .and_then(crate::keys::parse_uuid)
                    .ok_or_else(bad)?
                    .to_be_bytes();
                v.push(k);
                uuids.insert(k)
            }
            Keys::Text(v) => {
                let k = item.as_str().ok_or_else(bad)?;
                v.push(k.as_bytes().to_vec());
                texts.insert(k)
            }
        };
        if !new {
            return Err(KpiError::invalid_text(format!(
                "customer key {} appears twice",
                crate::error::excerpt(&item.to_string())
            )));
        }
    }
    Ok(keys)
}

/// `{"events": n, "customers": [...]}` (or `"packed": "..."`) of the general reader, checked
/// by [`check_body`].
pub(crate) fn body_from_json(key_type: KeyType, body: &Value) -> Result<(Keys, i64), KpiError> {
    let events = body
        .get("events")
        .and_then(Value::as_i64)
        .filter(|n| *n >= 0)
        .ok_or_else(|| KpiError::invalid_text("\"events\" must be a non-negative integer"))?;
    let keys = match (body.get("customers"), body.get("packed")) {
        (Some(customers), None) => keys_from_json(key_type, customers)?,
        (None, Some(packed)) => {
            let packed = packed
                .as_str()
                .ok_or_else(|| KpiError::invalid_text("\"packed\" must be a string"))?;
            text_form::unpack(key_type, packed).map_err(KpiError::invalid_text)?
        }
        (None, None) => return Err(KpiError::invalid_text("\"customers\" is missing")),
        (Some(_), Some(_)) => {
            return Err(KpiError::invalid_text(
                "a state lists its customers in \"customers\" or in \"packed\", not both",
            ))
        }
    };
    check_body(&keys, events).map_err(KpiError::invalid_text)?;
    Ok((keys, events))
}

/// A body with both fields that holds the rule (what the general reader accepts).
pub(crate) fn complete(keys: Keys, events: i64, seen: [bool; 2]) -> Option<(Keys, i64)> {
    (seen == [true, true] && check_body(&keys, events).is_ok()).then_some((keys, events))
}

/// The keys and events of a text form of the writer's shape ([`text_form`]); `None` leaves
/// the text to the general reader (which gives the same state, or the error).
pub(crate) fn scan(text: &str) -> Option<(Keys, i64)> {
    let mut s = text_form::Scanner::new(text);
    s.byte(b'{')?;
    let mut keys = Keys::new(s.key_type_field()?);
    let mut events = 0;
    let mut seen = [false; 2];
    while s.byte(b',').is_some() {
        s.body_field(&mut keys, &mut events, &mut seen)?;
    }
    s.byte(b'}')?;
    s.end()?;
    complete(keys, events, seen)
}

/// The state of a text form, its text keys mapped by `recode` (from UTF-8).
pub fn from_text(text: &str, recode: Recode) -> Result<OwnedState, KpiError> {
    if let Some((keys, events)) = scan(text) {
        // a key given twice: left to the general reader, which names it
        if let Some(state) = build(&recoded(keys, recode)?, events)? {
            return Ok(state);
        }
    }
    from_text_via_json(text, recode)
}

/// The general reader of the text form, for any JSON: the definition the fast reader is
/// tested against, and its fallback.
#[doc(hidden)]
pub fn from_text_via_json(text: &str, recode: Recode) -> Result<OwnedState, KpiError> {
    let parse = || -> Result<(Keys, i64), KpiError> {
        let doc: Value = serde_json::from_str(text)
            .map_err(|e| KpiError::invalid_text(crate::error::excerpt(&e.to_string())))?;
        body_from_json(key_type_of(&doc)?, &doc)
    };
    let (keys, events) = parse().map_err(|e| with_context("customer rate state", text, e))?;
    build(&recoded(keys, recode)?, events)?
        .ok_or_else(|| KpiError::invalid_text("duplicate customer key"))
}

pub(crate) fn key_type_of(doc: &Value) -> Result<KeyType, KpiError> {
    let name = doc
        .get("key_type")
        .and_then(Value::as_str)
        .ok_or_else(|| KpiError::invalid_text("\"key_type\" is missing"))?;
    KeyType::from_name(name)
}

/// Prefixes a parse error with what was being read, keeping the input short in the message.
pub(crate) fn with_context(what: &str, text: &str, e: KpiError) -> KpiError {
    let shown = crate::error::excerpt(text);
    let hint = e.hint.clone().unwrap_or_else(|| {
        "Write it as {\"key_type\": \"bigint\", \"events\": 3, \"customers\": [1, 2]}.".to_string()
    });
    KpiError {
        message: format!("invalid {what} \"{shown}\": {}", e.message),
        hint: Some(hint),
        ..e
    }
}

// --- binary form -----------------------------------------------------------------------------

/// Binary form: format version, key type, event count, key count, keys (sorted).
pub fn to_binary(v: &View<'_>, tick: &mut dyn FnMut()) -> Result<Vec<u8>, KpiError> {
    let keys = keys_of(v, &as_is, tick)?;
    let mut out = Vec::with_capacity(2 + 8 + keys.encoded_len());
    put_u8(&mut out, BINARY_FORMAT);
    v.key_type().encode(&mut out);
    put_i64(&mut out, v.events());
    keys.encode(&mut out);
    Ok(out)
}

/// The event count and keys of a binary form, checked by [`check_body`].
pub(crate) fn decode_body(key_type: KeyType, r: &mut Reader) -> Result<(Keys, i64), KpiError> {
    let events = r.i64()?;
    if events < 0 {
        return Err(KpiError::invalid_binary(format!(
            "negative event count {events}"
        )));
    }
    let keys = Keys::decode(key_type, r)?;
    check_body(&keys, events).map_err(KpiError::invalid_binary)?;
    Ok((keys, events))
}

/// A key given twice in a binary form.
pub(crate) fn repeated_key() -> KpiError {
    KpiError::invalid_binary("binary KPI state repeats a customer key")
}

/// The state of a binary form (what [`to_binary`] writes, and what 0.1.0 stored), its text
/// keys mapped by `recode`.
pub fn from_binary(bytes: &[u8], recode: Recode) -> Result<OwnedState, KpiError> {
    let mut r = Reader::new(bytes);
    r.version()?;
    let key_type = KeyType::decode(&mut r)?;
    let (keys, events) = decode_body(key_type, &mut r)?;
    r.finish()?;
    build(&recoded(keys, recode)?, events)?.ok_or_else(repeated_key)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Customers 1 (two incidents), 2 (none), 3 (one), in the order of a query's rows.
    fn sample() -> OwnedState {
        let mut s = OwnedState::customer(KeyType::Int);
        for (customer, has_event) in [(3, true), (1, true), (1, true), (2, false)] {
            s.insert_customer(Key::Int(customer)).unwrap();
            s.add_events(has_event as i64).unwrap();
        }
        s
    }

    fn text(s: &OwnedState) -> String {
        to_text(&s.view(), &as_is, &mut || {}).unwrap()
    }

    #[test]
    fn text_form_is_sorted_and_round_trips() {
        let s = sample();
        let t = text(&s);
        assert_eq!(t, r#"{"key_type":"bigint","events":3,"customers":[1,2,3]}"#);
        assert_eq!(to_text_via_json(&s.view(), &as_is).unwrap(), t);
        assert_eq!(text(&from_text(&t, &as_is).unwrap()), t);
        assert_eq!(text(&from_text_via_json(&t, &as_is).unwrap()), t);
    }

    #[test]
    fn binary_form_round_trips_and_rejects_garbage() {
        let s = sample();
        let bytes = to_binary(&s.view(), &mut || {}).unwrap();
        assert_eq!(text(&from_binary(&bytes, &as_is).unwrap()), text(&s));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(from_binary(&longer, &as_is).is_err());
        assert!(from_binary(&[9, 1], &as_is).is_err());
        // a key given twice
        let mut twice = bytes[..2].to_vec();
        put_i64(&mut twice, 0);
        Keys::Int(vec![4, 4]).encode(&mut twice);
        assert_eq!(
            from_binary(&twice, &as_is).unwrap_err().message,
            repeated_key().message
        );
    }

    /// A mapping that shows how often it ran: "~" before the text each time.
    pub(crate) fn marked(b: &[u8]) -> Result<Cow<'_, [u8]>, KpiError> {
        Ok(Cow::Owned([b"~", b].concat()))
    }

    fn upper(b: &[u8]) -> Result<Cow<'_, [u8]>, KpiError> {
        Ok(Cow::Owned(b.to_ascii_uppercase()))
    }

    #[test]
    fn text_keys_are_recoded_both_ways() {
        let s = from_text(
            r#"{"key_type":"text","events":1,"customers":["b","a"]}"#,
            &upper,
        )
        .unwrap();
        assert_eq!(
            to_text(&s.view(), &as_is, &mut || {}).unwrap(),
            r#"{"key_type":"text","events":1,"customers":["A","B"]}"#
        );
        // two keys that become one: an error, not a smaller count
        let err = from_text(
            r#"{"key_type":"text","events":0,"customers":["a","A"]}"#,
            &upper,
        )
        .unwrap_err();
        assert_eq!(err.message, "duplicate customer key");
        // each key mapped exactly once, through the text and the binary form
        let s = from_text(
            r#"{"key_type":"text","events":0,"customers":["a"]}"#,
            &marked,
        )
        .unwrap();
        let once = r#"{"key_type":"text","events":0,"customers":["~a"]}"#;
        assert_eq!(to_text(&s.view(), &as_is, &mut || {}).unwrap(), once);
        let plain = from_text(
            r#"{"key_type":"text","events":0,"customers":["a"]}"#,
            &as_is,
        )
        .unwrap();
        let back = from_binary(&to_binary(&plain.view(), &mut || {}).unwrap(), &marked).unwrap();
        assert_eq!(to_text(&back.view(), &as_is, &mut || {}).unwrap(), once);
    }

    #[test]
    fn text_errors_say_what_is_wrong() {
        for (text, says) in [
            (
                r#"{"key_type":"bigint","events":-1,"customers":[]}"#,
                "\"events\" must be a non-negative integer",
            ),
            (
                r#"{"key_type":"date","events":1,"customers":[]}"#,
                "unknown customer key type \"date\"",
            ),
            (
                r#"{"key_type":"uuid","events":1,"customers":[7]}"#,
                "invalid uuid customer key 7",
            ),
            (
                r#"{"key_type":"bigint","events":1,"customers":[7,7]}"#,
                "customer key 7 appears twice",
            ),
            (
                r#"{"key_type":"bigint","events":2,"customers":[]}"#,
                "2 events but no customer",
            ),
        ] {
            let err = from_text(text, &as_is).unwrap_err();
            assert!(err.message.contains(says), "{}", err.message);
            assert!(
                err.message.starts_with("invalid customer rate state"),
                "{}",
                err.message
            );
        }
    }
}

//! State of the per-customer rates (`incident_rate`, `contact_rate`, `interaction_rate`):
//! the distinct customers seen and the number of events among their rows.
//!
//! Made for `customers LEFT JOIN events`: a row whose customer key is NULL is skipped
//! entirely; a row with a customer and a NULL event key adds the customer only.

use crate::codec::{put_i64, Reader, BINARY_FORMAT};
use crate::error::{checked_sum, nul_in_text, KpiError, MAX_COUNT};
use crate::keys::{not_utf8_key, KeySet, KeyType};
use crate::text_form;
use serde_json::{json, Map, Value};
use std::io::Write;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRate {
    pub customers: KeySet,
    pub events: i64,
}

impl CustomerRate {
    pub fn new(key_type: KeyType) -> Self {
        CustomerRate {
            customers: KeySet::new(key_type),
            events: 0,
        }
    }

    pub fn key_type(&self) -> KeyType {
        self.customers.key_type()
    }

    #[inline]
    pub fn count_event(&mut self, has_event: bool) {
        self.events += has_event as i64;
    }

    pub fn merge(&mut self, other: &CustomerRate) -> Result<(), KpiError> {
        self.customers.merge(&other.customers)?;
        self.events = checked_sum(self.events, other.events)?;
        Ok(())
    }

    /// Size of the key-set-and-counter body, without the version and key type header.
    pub fn body_len(&self) -> usize {
        8 + self.customers.encoded_len()
    }

    pub fn encode_body(&self, w: &mut impl Write) {
        put_i64(w, self.events);
        self.customers.encode(w);
    }

    pub fn decode_body(key_type: KeyType, r: &mut Reader) -> Result<Self, KpiError> {
        let events = r.i64()?;
        if events < 0 {
            return Err(KpiError::invalid_binary(format!(
                "negative event count {events}"
            )));
        }
        let customers = KeySet::decode(key_type, r)?;
        let state = CustomerRate { customers, events };
        state.check().map_err(KpiError::invalid_binary)?;
        Ok(state)
    }

    /// What every state holds, whichever path it came in by (text, binary, stored): each
    /// event row came with a customer, the events fit a counter (at most `MAX_COUNT`, as the
    /// aggregate counts them), and text keys are PostgreSQL text (no NUL character).
    pub fn check(&self) -> Result<(), String> {
        if self.events > MAX_COUNT {
            return Err(format!(
                "{} events: a state counts at most {MAX_COUNT}",
                self.events
            ));
        }
        if self.customers.has_nul_text_key() {
            return Err(nul_in_text("text customer key", crate::KpiErrorKind::InvalidText).message);
        }
        if self.events > 0 && self.customers.is_empty() {
            return Err(format!(
                "{} events but no customer: every counted event comes with its customer",
                self.events
            ));
        }
        Ok(())
    }

    /// Size of [`CustomerRate::encode`]'s output.
    pub fn encoded_len(&self) -> usize {
        2 + self.body_len()
    }

    /// Binary form: format version, key type, event count, key count, keys.
    pub fn encode(&self, w: &mut impl Write) {
        crate::codec::put_u8(w, BINARY_FORMAT);
        self.key_type().encode(w);
        self.encode_body(w);
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, KpiError> {
        let mut r = Reader::new(bytes);
        r.version()?;
        let key_type = KeyType::decode(&mut r)?;
        let state = Self::decode_body(key_type, &mut r)?;
        r.finish()?;
        Ok(state)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out
    }

    pub fn body_to_json(&self) -> Result<Map<String, Value>, KpiError> {
        let mut body = Map::new();
        body.insert("events".into(), json!(self.events));
        body.insert("customers".into(), self.customers.to_json()?);
        Ok(body)
    }

    pub fn body_from_json(key_type: KeyType, body: &Value) -> Result<Self, KpiError> {
        let events = body
            .get("events")
            .and_then(Value::as_i64)
            .filter(|n| *n >= 0)
            .ok_or_else(|| KpiError::invalid_text("\"events\" must be a non-negative integer"))?;
        let customers = body
            .get("customers")
            .ok_or_else(|| KpiError::invalid_text("\"customers\" is missing"))?;
        let state = CustomerRate {
            customers: KeySet::from_json(key_type, customers)?,
            events,
        };
        state.check().map_err(KpiError::invalid_text)?;
        Ok(state)
    }

    /// Text form, e.g. `{"key_type":"bigint","events":3,"customers":[1,2]}`, keys sorted.
    pub fn to_text(&self) -> Result<String, KpiError> {
        let mut out = String::from("{\"key_type\":\"");
        out.push_str(self.key_type().name());
        out.push_str("\",");
        text_form::write_body(&mut out, &self.customers, self.events)
            .map_err(|_| not_utf8_key())?;
        out.push('}');
        Ok(out)
    }

    /// The text form built as a `serde_json::Value`: the definition [`CustomerRate::to_text`]
    /// is tested against.
    #[doc(hidden)]
    pub fn to_text_via_json(&self) -> Result<String, KpiError> {
        let mut doc = Map::new();
        doc.insert("key_type".into(), json!(self.key_type().name()));
        doc.extend(self.body_to_json()?);
        Ok(Value::Object(doc).to_string())
    }

    /// The state of a text form of the writer's shape ([`text_form`]); `None` leaves the text
    /// to the general reader (which gives the same state, or the error).
    pub fn from_text_fast(text: &str) -> Option<Self> {
        let mut s = text_form::Scanner::new(text);
        s.byte(b'{')?;
        let key_type = s.key_type_field()?;
        let mut state = CustomerRate::new(key_type);
        let mut seen = [false; 2];
        while s.byte(b',').is_some() {
            s.body_field(&mut state.customers, &mut state.events, &mut seen)?;
        }
        s.byte(b'}')?;
        s.end()?;
        Self::complete(state, seen)
    }

    /// A body with both fields, events only with customers (what the general reader accepts).
    pub(crate) fn complete(body: CustomerRate, seen: [bool; 2]) -> Option<CustomerRate> {
        (seen == [true, true] && body.check().is_ok()).then_some(body)
    }

    pub fn from_text(text: &str) -> Result<Self, KpiError> {
        match Self::from_text_fast(text) {
            Some(state) => Ok(state),
            None => Self::from_text_via_json(text),
        }
    }

    /// The general reader of the text form, for any JSON: the definition the fast reader
    /// ([`CustomerRate::from_text_fast`]) is tested against, and its fallback.
    #[doc(hidden)]
    pub fn from_text_via_json(text: &str) -> Result<Self, KpiError> {
        let parse = || -> Result<Self, KpiError> {
            let doc: Value = serde_json::from_str(text)
                .map_err(|e| KpiError::invalid_text(crate::error::excerpt(&e.to_string())))?;
            let key_type = key_type_of(&doc)?;
            Self::body_from_json(key_type, &doc)
        };
        parse().map_err(|e| with_context("customer rate state", text, e))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CustomerRate {
        let mut s = CustomerRate::new(KeyType::Int);
        // customers 1 (two incidents), 2 (none), 3 (one)
        for (customer, has_event) in [(1, true), (1, true), (2, false), (3, true)] {
            s.customers.insert_int(customer);
            s.count_event(has_event);
        }
        s
    }

    #[test]
    fn counts_customers_once_and_events_per_row() {
        let s = sample();
        assert_eq!((s.customers.len(), s.events), (3, 3));
    }

    #[test]
    fn merge_of_split_input_equals_whole() {
        let mut a = CustomerRate::new(KeyType::Int);
        let mut b = CustomerRate::new(KeyType::Int);
        a.customers.insert_int(1);
        a.count_event(true);
        b.customers.insert_int(1);
        b.count_event(true);
        b.customers.insert_int(2);
        b.customers.insert_int(3);
        b.count_event(true);
        a.merge(&b).unwrap();
        assert_eq!(a, sample());
    }

    #[test]
    fn text_form_is_sorted_and_round_trips() {
        let s = sample();
        let text = s.to_text().unwrap();
        assert_eq!(
            text,
            r#"{"key_type":"bigint","events":3,"customers":[1,2,3]}"#
        );
        assert_eq!(CustomerRate::from_text(&text).unwrap(), s);
    }

    #[test]
    fn binary_form_round_trips_and_rejects_garbage() {
        let s = sample();
        assert_eq!(CustomerRate::decode(&s.to_bytes()).unwrap(), s);
        let mut bytes = s.to_bytes();
        bytes.push(0);
        assert!(CustomerRate::decode(&bytes).is_err());
        assert!(CustomerRate::decode(&[9, 1]).is_err());
    }

    #[test]
    fn text_errors_say_what_is_wrong() {
        let err = CustomerRate::from_text(r#"{"key_type":"bigint","events":-1,"customers":[]}"#)
            .unwrap_err();
        assert!(
            err.message
                .contains("\"events\" must be a non-negative integer"),
            "{}",
            err.message
        );
        let err = CustomerRate::from_text(r#"{"key_type":"date","events":1,"customers":[]}"#)
            .unwrap_err();
        assert!(
            err.message.contains("unknown customer key type \"date\""),
            "{}",
            err.message
        );
        let err = CustomerRate::from_text(r#"{"key_type":"uuid","events":1,"customers":[7]}"#)
            .unwrap_err();
        assert!(
            err.message.contains("invalid uuid customer key 7"),
            "{}",
            err.message
        );
    }
}

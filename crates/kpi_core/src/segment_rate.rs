//! State of `contact_rate_by_segment`: one [`CustomerRate`] per segment, so a single call
//! returns every segment's rate side by side.

use crate::codec::{put_bytes, put_i64, put_len, put_u8, Reader, BINARY_FORMAT};
use crate::customer_rate::{key_type_of, with_context, CustomerRate};
use crate::error::{no_nul, KpiError, KpiErrorKind};
use crate::keys::{key_type_mismatch, not_utf8_key, KeyType};
use crate::text_form;
use hashbrown::HashMap;
use serde_json::{json, Map, Value};
use std::io::Write;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRate {
    pub key_type: KeyType,
    pub segments: HashMap<Box<[u8]>, CustomerRate>,
}

impl SegmentRate {
    pub fn new(key_type: KeyType) -> Self {
        SegmentRate {
            key_type,
            segments: HashMap::new(),
        }
    }

    /// The state of one segment, created on its first row.
    #[inline]
    pub fn segment(&mut self, name: &[u8]) -> &mut CustomerRate {
        let key_type = self.key_type;
        self.segments
            .entry_ref(name)
            .or_insert_with(|| CustomerRate::new(key_type))
    }

    pub fn merge(&mut self, other: &SegmentRate) -> Result<(), KpiError> {
        if self.key_type != other.key_type {
            return Err(key_type_mismatch(self.key_type, other.key_type));
        }
        for (name, state) in &other.segments {
            self.segment(name).merge(state)?;
        }
        Ok(())
    }

    /// Segments sorted by name (bytewise), with their distinct customers and events.
    pub fn counts(&self) -> Vec<(&[u8], usize, i64)> {
        let mut rows: Vec<_> = self
            .segments
            .iter()
            .map(|(name, s)| (&name[..], s.customers.len(), s.events))
            .collect();
        rows.sort_unstable_by(|a, b| a.0.cmp(b.0));
        rows
    }

    pub fn encoded_len(&self) -> usize {
        2 + 8
            + self
                .segments
                .iter()
                .map(|(name, s)| 4 + name.len() + s.body_len())
                .sum::<usize>()
    }

    /// Binary form: format version, key type, segment count, then per segment its name and
    /// the body of its [`CustomerRate`].
    pub fn encode(&self, w: &mut impl Write) {
        put_u8(w, BINARY_FORMAT);
        self.key_type.encode(w);
        put_i64(w, self.segments.len() as i64);
        for (name, state) in &self.segments {
            put_len(w, name.len());
            put_bytes(w, name);
            state.encode_body(w);
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, KpiError> {
        let mut r = Reader::new(bytes);
        r.version()?;
        let mut state = SegmentRate::new(KeyType::decode(&mut r)?);
        let n = r.count(4 + 16)?;
        for _ in 0..n {
            let len = r.u32()? as usize;
            let name = r.take(len)?;
            no_nul("segment name", name, KpiErrorKind::InvalidBinary)?;
            let body = CustomerRate::decode_body(state.key_type, &mut r)?;
            if body.customers.is_empty() {
                return Err(KpiError::invalid_binary("a segment has no customers"));
            }
            if state.segments.contains_key(name) {
                return Err(KpiError::invalid_binary("a segment name appears twice"));
            }
            state.segment(name).merge(&body)?;
        }
        r.finish()?;
        Ok(state)
    }

    /// What every state holds, whichever path it came in by: each segment has customers, a
    /// name without NUL characters, and a body that passes [`CustomerRate::check`].
    pub fn check(&self) -> Result<(), String> {
        for (name, body) in &self.segments {
            no_nul("segment name", name, KpiErrorKind::InvalidText).map_err(|e| e.message)?;
            if body.customers.is_empty() {
                return Err("a segment has no customers".into());
            }
            body.check()?;
        }
        Ok(())
    }

    /// Text form, e.g.
    /// `{"key_type":"bigint","segments":{"retail":{"events":1,"customers":[4,9]}}}`.
    pub fn to_text(&self) -> Result<String, KpiError> {
        let mut out = String::from("{\"key_type\":\"");
        out.push_str(self.key_type.name());
        out.push_str("\",\"segments\":{");
        for (i, (name, _, _)) in self.counts().into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            text_form::push_string(
                &mut out,
                std::str::from_utf8(name).map_err(|_| not_utf8_name())?,
            );
            out.push_str(":{");
            let body = &self.segments[name];
            text_form::write_body(&mut out, &body.customers, body.events)
                .map_err(|_| not_utf8_key())?;
            out.push('}');
        }
        out.push_str("}}");
        Ok(out)
    }

    /// The text form built as a `serde_json::Value`: the definition [`SegmentRate::to_text`]
    /// is tested against.
    #[doc(hidden)]
    pub fn to_text_via_json(&self) -> Result<String, KpiError> {
        let mut segments = Map::new();
        for (name, _, _) in self.counts() {
            let key = String::from_utf8(name.to_vec()).map_err(|_| not_utf8_name())?;
            segments.insert(key, Value::Object(self.segments[name].body_to_json()?));
        }
        Ok(json!({"key_type": self.key_type.name(), "segments": segments}).to_string())
    }

    /// The state of a segment rate text form of the writer's shape; `None` leaves the text to
    /// the general reader.
    pub fn from_text_fast(text: &str) -> Option<Self> {
        let mut s = text_form::Scanner::new(text);
        s.byte(b'{')?;
        let mut state = SegmentRate::new(s.key_type_field()?);
        s.byte(b',')?;
        if s.field_name()? != "segments" {
            return None;
        }
        s.byte(b'{')?;
        if s.byte(b'}').is_none() {
            loop {
                let name = s.field_name()?;
                if state.segments.contains_key(name.as_bytes()) || name.contains('\0') {
                    return None;
                }
                let (customers, events, seen) = s.body_object(state.key_type)?;
                let body = CustomerRate::complete(CustomerRate { customers, events }, seen)?;
                if body.customers.is_empty() {
                    return None;
                }
                state.segments.insert(Box::from(name.as_bytes()), body);
                if s.byte(b',').is_none() {
                    break;
                }
            }
            s.byte(b'}')?;
        }
        s.byte(b'}')?;
        s.end()?;
        Some(state)
    }

    pub fn from_text(text: &str) -> Result<Self, KpiError> {
        match Self::from_text_fast(text) {
            Some(state) => Ok(state),
            None => Self::from_text_via_json(text),
        }
    }

    /// The general reader of the text form, for any JSON: the definition the fast reader
    /// ([`SegmentRate::from_text_fast`]) is tested against, and its fallback.
    #[doc(hidden)]
    pub fn from_text_via_json(text: &str) -> Result<Self, KpiError> {
        let parse = || -> Result<Self, KpiError> {
            let doc: Value = serde_json::from_str(text)
                .map_err(|e| KpiError::invalid_text(crate::error::excerpt(&e.to_string())))?;
            let mut state = SegmentRate::new(key_type_of(&doc)?);
            let segments = doc
                .get("segments")
                .and_then(Value::as_object)
                .ok_or_else(|| KpiError::invalid_text("\"segments\" must be an object"))?;
            for (name, body) in segments {
                no_nul("segment name", name.as_bytes(), KpiErrorKind::InvalidText)?;
                let body = CustomerRate::body_from_json(state.key_type, body)?;
                if body.customers.is_empty() {
                    return Err(KpiError::invalid_text(format!(
                        "segment \"{}\" has no customers",
                        crate::error::excerpt(name)
                    )));
                }
                state.segments.insert(Box::from(name.as_bytes()), body);
            }
            Ok(state)
        };
        parse().map_err(|e| {
            let e = with_context("segment rate state", text, e);
            let hint = "Write it as {\"key_type\": \"bigint\", \"segments\": {\"retail\": {\"events\": 1, \"customers\": [4, 9]}}}.";
            KpiError { hint: Some(hint.into()), ..e }
        })
    }
}

fn not_utf8_name() -> KpiError {
    KpiError::invalid_text("a segment name is not valid UTF-8").with_hint(
        "The text form of a state needs a UTF8 database; the binary form has no such limit.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(s: &mut SegmentRate, segment: &str, customer: i64, has_event: bool) {
        let seg = s.segment(segment.as_bytes());
        seg.customers.insert_int(customer);
        seg.count_event(has_event);
    }

    #[test]
    fn counts_per_segment() {
        let mut s = SegmentRate::new(KeyType::Int);
        add(&mut s, "retail", 1, true);
        add(&mut s, "retail", 1, true);
        add(&mut s, "retail", 2, false);
        add(&mut s, "enterprise", 3, false);
        assert_eq!(
            s.counts(),
            vec![(&b"enterprise"[..], 1, 0), (&b"retail"[..], 2, 2)]
        );
    }

    #[test]
    fn merge_text_and_binary_round_trip() {
        let mut a = SegmentRate::new(KeyType::Int);
        let mut b = SegmentRate::new(KeyType::Int);
        add(&mut a, "retail", 1, true);
        add(&mut b, "retail", 1, false);
        add(&mut b, "smb", 5, true);
        a.merge(&b).unwrap();
        assert_eq!(
            a.counts(),
            vec![(&b"retail"[..], 1, 1), (&b"smb"[..], 1, 1)]
        );
        let text = a.to_text().unwrap();
        assert_eq!(
            text,
            r#"{"key_type":"bigint","segments":{"retail":{"events":1,"customers":[1]},"smb":{"events":1,"customers":[5]}}}"#
        );
        assert_eq!(SegmentRate::from_text(&text).unwrap(), a);
        assert_eq!(SegmentRate::decode(&a.to_bytes()).unwrap(), a);
        assert!(a.merge(&SegmentRate::new(KeyType::Text)).is_err());
    }
}

//! Fast writer and reader of the text form of the distinct-customer states
//! (`customer_rate_summary`, `segment_rate_summary`).
//!
//! The text form is JSON. It is on the hot path of distributed queries: Citus moves partial
//! states between nodes as text. Building a `serde_json::Value` per key made a state of a
//! million customers take most of a second each way, so the form is written directly, and
//! read by a scanner of the shape the writer produces (any whitespace, fields in any order
//! after `key_type`). Anything else (unknown fields, duplicate names, numbers that are not
//! plain integers, invalid input) is left to the general JSON reader, which accepts or
//! rejects it with its error messages: the scanner only ever answers where that reader would
//! give the same state (checked by `tests/fuzz.rs` on mutated input).
//!
//! This module knows keys and JSON only: `customer_rate.rs` and `segment_rate.rs` read and
//! write their states with it (and it imports neither).

use crate::keys::{format_uuid, parse_uuid, KeyType, Keys};
use std::borrow::Cow;

/// Appends `"events":N,"customers":[...]`, the keys in the order given (sorted by the
/// caller); `Err` when a text key is not UTF-8 (the text form needs a UTF8 database).
pub(crate) fn write_body(out: &mut String, customers: &Keys, events: i64) -> Result<(), ()> {
    out.push_str("\"events\":");
    push_int(out, events);
    out.push_str(",\"customers\":[");
    match customers {
        Keys::Int(v) => {
            out.reserve(v.len() * 8);
            for (i, k) in v.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_int(out, *k);
            }
        }
        Keys::Uuid(v) => {
            out.reserve(v.len() * 39);
            for (i, k) in v.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('"');
                out.push_str(&format_uuid(u128::from_be_bytes(*k)));
                out.push('"');
            }
        }
        Keys::Text(v) => {
            for (i, k) in v.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_string(out, std::str::from_utf8(k).map_err(|_| ())?);
            }
        }
    }
    out.push(']');
    Ok(())
}

/// Appends a JSON string exactly as `serde_json` writes it.
pub(crate) fn push_string(out: &mut String, s: &str) {
    if s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(&serde_json::to_string(s).expect("a str serializes"));
    } else {
        out.push('"');
        out.push_str(s);
        out.push('"');
    }
}

fn push_int(out: &mut String, v: i64) {
    let mut buf = [0u8; 20];
    let mut n = v.unsigned_abs();
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push('-');
    }
    out.push_str(std::str::from_utf8(&buf[at..]).expect("digits"));
}

/// A scanner of the text form's shape: each method reads one piece, `None` when the text
/// is not of that shape.
pub(crate) struct Scanner<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Scanner { text, at: 0 }
    }

    fn skip_ws(&mut self) {
        let b = self.text.as_bytes();
        while self.at < b.len() && matches!(b[self.at], b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
    }

    /// Whitespace, then `want`.
    pub(crate) fn byte(&mut self, want: u8) -> Option<()> {
        self.skip_ws();
        (self.text.as_bytes().get(self.at) == Some(&want)).then(|| self.at += 1)
    }

    pub(crate) fn end(&mut self) -> Option<()> {
        self.skip_ws();
        (self.at == self.text.len()).then_some(())
    }

    /// A JSON string, unescaped.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.byte(b'"')?;
        let b = self.text.as_bytes();
        let start = self.at;
        let mut escaped = false;
        loop {
            match *b.get(self.at)? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    self.at += 2;
                }
                c if c < 0x20 => return None,
                _ => self.at += 1,
            }
        }
        let raw = self.text.get(start..self.at)?;
        self.at += 1;
        if escaped {
            serde_json::from_str::<String>(self.text.get(start - 1..self.at)?)
                .ok()
                .map(Cow::Owned)
        } else {
            Some(Cow::Borrowed(raw))
        }
    }

    pub(crate) fn field_name(&mut self) -> Option<Cow<'a, str>> {
        let name = self.string()?;
        self.byte(b':')?;
        Some(name)
    }

    pub(crate) fn key_type_field(&mut self) -> Option<KeyType> {
        if self.field_name()? != "key_type" {
            return None;
        }
        KeyType::from_name(&self.string()?).ok()
    }

    /// A JSON integer in the range of i64 (`-?(0|[1-9][0-9]*)`, not `-0`).
    fn int(&mut self) -> Option<i64> {
        self.skip_ws();
        let b = self.text.as_bytes();
        let negative = b.get(self.at) == Some(&b'-');
        let start = self.at + negative as usize;
        let mut end = start;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        let digits = &b[start..end];
        if digits.is_empty()
            || (digits[0] == b'0' && (digits.len() > 1 || negative))
            || matches!(b.get(end), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        let v: i64 = self.text[self.at..end].parse().ok()?;
        self.at = end;
        Some(v)
    }

    pub(crate) fn non_negative_int(&mut self) -> Option<i64> {
        self.int().filter(|v| *v >= 0)
    }

    /// `[k, ...]`: keys of the list's type (a key given twice is found when the list becomes
    /// a state, and left to the general reader then).
    fn keys(&mut self, list: &mut Keys) -> Option<()> {
        self.byte(b'[')?;
        if self.byte(b']').is_some() {
            return Some(());
        }
        loop {
            match list {
                Keys::Int(v) => v.push(self.int()?),
                Keys::Uuid(v) => v.push(parse_uuid(&self.string()?)?.to_be_bytes()),
                Keys::Text(v) => v.push(self.string()?.as_bytes().to_vec()),
            }
            if self.byte(b',').is_none() {
                return self.byte(b']');
            }
        }
    }

    /// `"events": n` or `"customers": [...]`, each once (`seen`).
    pub(crate) fn body_field(
        &mut self,
        customers: &mut Keys,
        events: &mut i64,
        seen: &mut [bool; 2],
    ) -> Option<()> {
        match &*self.field_name()? {
            "events" if !seen[0] => {
                *events = self.non_negative_int()?;
                seen[0] = true;
            }
            "customers" if !seen[1] => {
                self.keys(customers)?;
                seen[1] = true;
            }
            _ => return None,
        }
        Some(())
    }

    /// `{"events": n, "customers": [...]}`, in either order: the keys, the events and which
    /// of the two fields were there.
    pub(crate) fn body_object(&mut self, key_type: KeyType) -> Option<(Keys, i64, [bool; 2])> {
        self.byte(b'{')?;
        let mut customers = Keys::new(key_type);
        let mut events = 0;
        let mut seen = [false; 2];
        loop {
            self.body_field(&mut customers, &mut events, &mut seen)?;
            if self.byte(b',').is_none() {
                break;
            }
        }
        self.byte(b'}')?;
        Some((customers, events, seen))
    }
}

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

use crate::customer_rate::CustomerRate;
use crate::keys::{format_uuid, parse_uuid, KeySet, KeyType};
use crate::segment_rate::SegmentRate;
use std::borrow::Cow;

/// Appends `"events":N,"customers":[...]` with the keys sorted; `Err` when a text key is
/// not UTF-8 (the text form needs a UTF8 database).
pub(crate) fn write_body(out: &mut String, state: &CustomerRate) -> Result<(), ()> {
    out.push_str("\"events\":");
    push_int(out, state.events);
    out.push_str(",\"customers\":[");
    match &state.customers {
        KeySet::Int(s) => {
            out.reserve(s.len() * 8);
            for (i, k) in s.sorted().into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_int(out, k);
            }
        }
        KeySet::Uuid(s) => {
            let mut keys: Vec<u128> = s.iter().copied().collect();
            keys.sort_unstable();
            out.reserve(keys.len() * 39);
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('"');
                out.push_str(&format_uuid(k));
                out.push('"');
            }
        }
        KeySet::Text(s) => {
            let mut keys: Vec<&[u8]> = s.iter().map(|k| &k[..]).collect();
            keys.sort_unstable();
            for (i, k) in keys.into_iter().enumerate() {
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

/// The state of a text form of the writer's shape; `None` leaves the text to the general
/// reader (which gives the same state, or the error).
pub fn parse_customer_rate(text: &str) -> Option<CustomerRate> {
    let mut s = Scanner::new(text);
    s.byte(b'{')?;
    let key_type = s.key_type_field()?;
    let mut state = CustomerRate::new(key_type);
    let mut seen = [false; 2];
    while s.byte(b',').is_some() {
        s.body_field(&mut state, &mut seen)?;
    }
    s.byte(b'}')?;
    s.end()?;
    complete(state, seen)
}

/// The state of a segment rate text form of the writer's shape; `None` as above.
pub fn parse_segment_rate(text: &str) -> Option<SegmentRate> {
    let mut s = Scanner::new(text);
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
            let body = s.segment_body(state.key_type)?;
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

struct Scanner<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner { text, at: 0 }
    }

    fn skip_ws(&mut self) {
        let b = self.text.as_bytes();
        while self.at < b.len() && matches!(b[self.at], b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
    }

    /// Whitespace, then `want`.
    fn byte(&mut self, want: u8) -> Option<()> {
        self.skip_ws();
        (self.text.as_bytes().get(self.at) == Some(&want)).then(|| self.at += 1)
    }

    fn end(&mut self) -> Option<()> {
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

    fn field_name(&mut self) -> Option<Cow<'a, str>> {
        let name = self.string()?;
        self.byte(b':')?;
        Some(name)
    }

    fn key_type_field(&mut self) -> Option<KeyType> {
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

    fn non_negative_int(&mut self) -> Option<i64> {
        self.int().filter(|v| *v >= 0)
    }

    /// `[k, ...]`: distinct keys of the set's type; a duplicate is left to the general reader.
    fn keys(&mut self, set: &mut KeySet) -> Option<()> {
        self.byte(b'[')?;
        if self.byte(b']').is_some() {
            return Some(());
        }
        loop {
            let new = match set {
                KeySet::Int(s) => s.insert(self.int()?),
                KeySet::Uuid(s) => s.insert(parse_uuid(&self.string()?)?),
                KeySet::Text(s) => s.insert(Box::from(self.string()?.as_bytes())),
            };
            if !new {
                return None;
            }
            if self.byte(b',').is_none() {
                return self.byte(b']');
            }
        }
    }

    /// `"events": n` or `"customers": [...]`, each once (`seen`).
    fn body_field(&mut self, body: &mut CustomerRate, seen: &mut [bool; 2]) -> Option<()> {
        match &*self.field_name()? {
            "events" if !seen[0] => {
                body.events = self.non_negative_int()?;
                seen[0] = true;
            }
            "customers" if !seen[1] => {
                self.keys(&mut body.customers)?;
                seen[1] = true;
            }
            _ => return None,
        }
        Some(())
    }

    /// `{"events": n, "customers": [...]}`, both fields, in either order.
    fn segment_body(&mut self, key_type: KeyType) -> Option<CustomerRate> {
        self.byte(b'{')?;
        let mut body = CustomerRate::new(key_type);
        let mut seen = [false; 2];
        loop {
            self.body_field(&mut body, &mut seen)?;
            if self.byte(b',').is_none() {
                break;
            }
        }
        self.byte(b'}')?;
        complete(body, seen)
    }
}

/// A body with both fields, events only with customers (what the general reader accepts).
fn complete(body: CustomerRate, seen: [bool; 2]) -> Option<CustomerRate> {
    (seen == [true, true] && body.check().is_ok()).then_some(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_customer(text: &str) -> Option<CustomerRate> {
        let general = CustomerRate::from_text_via_json(text);
        let fast = parse_customer_rate(text);
        if let Some(fast) = &fast {
            assert_eq!(Ok(fast), general.as_ref(), "{text}");
        }
        assert_eq!(CustomerRate::from_text(text), general, "{text}");
        fast
    }

    #[test]
    fn writer_writes_what_serde_json_writes() {
        for kt in [KeyType::Int, KeyType::Uuid, KeyType::Text] {
            let mut c = CustomerRate::new(kt);
            assert_eq!(c.to_text(), c.to_text_via_json());
            for i in [-9_223_372_036_854_775_808i64, -1, 0, 7, 10, 99, i64::MAX] {
                match kt {
                    KeyType::Int => c.customers.insert_int(i),
                    KeyType::Uuid => c.customers.insert_uuid((i as u128).to_be_bytes()),
                    KeyType::Text => c
                        .customers
                        .insert_text(format!("k\"\\\n\t\u{1}é{i}").as_bytes()),
                }
                c.count_event(true);
            }
            assert_eq!(c.to_text(), c.to_text_via_json());
            let mut s = SegmentRate::new(kt);
            s.segment("é \"north\"\n".as_bytes()).merge(&c).unwrap();
            s.segment(b"a").merge(&c).unwrap();
            assert_eq!(s.to_text(), s.to_text_via_json());
        }
        let mut c = CustomerRate::new(KeyType::Text);
        c.customers.insert_text(b"\xff");
        assert_eq!(c.to_text(), c.to_text_via_json());
        assert!(c.to_text().is_err());
    }

    #[test]
    fn reader_takes_the_writers_shape_in_any_spacing_and_order() {
        for text in [
            r#"{"key_type":"bigint","events":3,"customers":[1,-2,9223372036854775807]}"#,
            " {\n \"key_type\" : \"bigint\" ,\t\"customers\" : [ ] , \"events\" : 0 } \r\n",
            r#"{"key_type":"uuid","events":1,"customers":["00000000-0000-0000-0000-00000000000A"]}"#,
            r#"{"key_type":"text","events":1,"customers":["a\"b","\u00e8","é",""]}"#,
        ] {
            assert!(same_customer(text).is_some(), "{text}");
        }
    }

    #[test]
    fn reader_leaves_everything_else_to_the_general_reader() {
        for text in [
            r#"{"events":3,"key_type":"bigint","customers":[1]}"#,
            r#"{"key_type":"bigint","events":3,"customers":[1],"note":1}"#,
            r#"{"key_type":"bigint","events":3,"events":2,"customers":[1]}"#,
            r#"{"key_type":"bigint","events":1.0,"customers":[1]}"#,
            r#"{"key_type":"bigint","events":1e0,"customers":[1]}"#,
            r#"{"key_type":"bigint","events":-0,"customers":[1]}"#,
            r#"{"key_type":"bigint","events":01,"customers":[1]}"#,
            r#"{"key_type":"bigint","events":-1,"customers":[1]}"#,
            r#"{"key_type":"bigint","events":1,"customers":[9223372036854775808]}"#,
            r#"{"key_type":"bigint","events":1,"customers":[1,1]}"#,
            r#"{"key_type":"bigint","events":1,"customers":[]}"#,
            r#"{"key_type":"bigint","events":1,"customers":["1"]}"#,
            r#"{"key_type":"text","events":1,"customers":["a	b"]}"#,
            r#"{"key_type":"text","events":1,"customers":["\x"]}"#,
            r#"{"key_type":"text","events":1,"customers":["\"]}"#,
            r#"{"key_type":"money","events":1,"customers":[1]}"#,
            r#"{"key_type":"bigint","events":1,"customers":[1]} x"#,
            r#"{"key_type":"bigint","events":1,"customers":[1,]}"#,
        ] {
            assert!(same_customer(text).is_none(), "{text}");
        }
    }

    #[test]
    fn segment_reader_agrees_with_the_general_reader() {
        for (text, fast) in [
            (r#"{"key_type":"bigint","segments":{}}"#, true),
            (
                r#"{ "key_type": "text", "segments": { "a\n": {"customers": ["x"], "events": 1}, "b": {"events": 0, "customers": ["x"]} } }"#,
                true,
            ),
            (
                r#"{"key_type":"bigint","segments":{"a":{"events":0,"customers":[]}}}"#,
                false,
            ),
            (
                r#"{"key_type":"bigint","segments":{"a":{"events":0,"customers":[1]},"a":{"events":0,"customers":[2]}}}"#,
                false,
            ),
            (
                r#"{"key_type":"bigint","segments":{"a":{"events":0}}}"#,
                false,
            ),
            (r#"{"segments":{},"key_type":"bigint"}"#, false),
        ] {
            let general = SegmentRate::from_text_via_json(text);
            let quick = parse_segment_rate(text);
            assert_eq!(quick.is_some(), fast, "{text}");
            if let Some(q) = quick {
                assert_eq!(Ok(q), general, "{text}");
            }
            assert_eq!(SegmentRate::from_text(text), general, "{text}");
        }
    }
}

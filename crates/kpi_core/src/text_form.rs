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
/// caller), or, for more than [`JSON_MAX_KEYS`] integer or uuid keys, `"events":N,
/// "packed":"..."` ([`pack`]); `Err` when a text key is not UTF-8 (the text form needs a UTF8
/// database).
pub(crate) fn write_body(
    out: &mut String,
    customers: &Keys,
    events: i64,
    form: Form,
) -> Result<(), ()> {
    out.push_str("\"events\":");
    push_int(out, events);
    if let Some(packed) = packed_in(customers, form) {
        out.push_str(",\"packed\":\"");
        out.push_str(&packed);
        out.push('"');
        return Ok(());
    }
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

/// Which text form a writer writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// the type's output: customers listed up to [`JSON_MAX_KEYS`], packed beyond
    Compact,
    /// every customer listed, at any size (for a person, e.g. `summary_json(summary)`)
    Listed,
}

/// Up to this many customers, a state's text form lists them (`"customers": [...]`), as JSON a
/// person reads; beyond, integer and uuid keys are packed (`"packed": "..."`, [`pack`]): a
/// fifth to a third of the JSON's length, and what Citus ships between nodes.
pub const JSON_MAX_KEYS: usize = 64;

/// The packed keys the text form of `form` holds instead of a list: [`pack`] beyond
/// [`JSON_MAX_KEYS`] keys in the compact form; `None` where the keys are listed. The one rule
/// both writers (the direct one and the serde definition) follow.
pub(crate) fn packed_in(keys: &Keys, form: Form) -> Option<String> {
    (form == Form::Compact && keys.len() > JSON_MAX_KEYS)
        .then(|| pack(keys))
        .flatten()
}

/// The packed form of sorted, distinct integer or uuid keys, as base64: integer keys as
/// LEB128 varints, the first zigzag-encoded, each next one as its distance from the one before
/// less one (so a run of consecutive ids takes a byte a key); uuid keys as their 16 bytes each.
/// `None` for text keys (their JSON is as short).
pub(crate) fn pack(keys: &Keys) -> Option<String> {
    let mut bytes = Vec::new();
    match keys {
        Keys::Int(v) => {
            bytes.reserve(v.len() * 2);
            let mut prev: Option<i64> = None;
            for &k in v {
                let word = match prev {
                    None => ((k << 1) ^ (k >> 63)) as u64,
                    Some(p) => (k as i128 - p as i128 - 1) as u64,
                };
                put_varint(&mut bytes, word);
                prev = Some(k);
            }
        }
        Keys::Uuid(v) => v.iter().for_each(|k| bytes.extend_from_slice(k)),
        Keys::Text(_) => return None,
    }
    Some(base64_encode(&bytes))
}

/// The keys of a packed form ([`pack`]) of `key_type`; `Err` names what is wrong. Every key
/// takes at least one byte, so a packed form holds no more keys than its length.
pub(crate) fn unpack(key_type: KeyType, packed: &str) -> Result<Keys, String> {
    let bytes = base64_decode(packed).ok_or("\"packed\" is not base64")?;
    match key_type {
        KeyType::Int => {
            let mut v: Vec<i64> = Vec::new();
            v.try_reserve(bytes.len()).map_err(|_| "out of memory")?;
            let mut at = 0;
            let mut prev: Option<i64> = None;
            while at < bytes.len() {
                let word = get_varint(&bytes, &mut at).ok_or("\"packed\" ends inside a key")?;
                let k = match prev {
                    None => ((word >> 1) as i64) ^ -((word & 1) as i64),
                    Some(p) => i64::try_from(p as i128 + 1 + word as i128)
                        .map_err(|_| "\"packed\" goes past the largest bigint")?,
                };
                v.push(k);
                prev = Some(k);
            }
            Ok(Keys::Int(v))
        }
        KeyType::Uuid => {
            if !bytes.len().is_multiple_of(16) {
                return Err("\"packed\" uuid keys are not 16 bytes each".into());
            }
            let v: Vec<[u8; 16]> = bytes
                .chunks_exact(16)
                .map(|c| c.try_into().unwrap())
                .collect();
            if v.windows(2).any(|w| w[0] >= w[1]) {
                return Err("\"packed\" uuid keys are not sorted and distinct".into());
            }
            Ok(Keys::Uuid(v))
        }
        KeyType::Text => Err("text keys are not packed: list them in \"customers\"".into()),
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A LEB128 varint of at most 10 bytes that fits a u64 and has no redundant zero bytes (one
/// value, one encoding).
fn get_varint(b: &[u8], at: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    for i in 0..10 {
        let byte = *b.get(*at)?;
        *at += 1;
        let bits = (byte & 0x7f) as u64;
        if i == 9 && bits > 1 {
            return None;
        }
        v |= bits << (7 * i);
        if byte & 0x80 == 0 {
            return (i == 0 || byte != 0).then_some(v);
        }
    }
    None
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The value of each byte as a base64 digit ([`NOT_BASE64`] for the others): a table, as the
/// decoder looks up every character of a packed state of a million customers.
const BASE64_VALUE: [u8; 256] = {
    let mut table = [NOT_BASE64; 256];
    let mut i = 0;
    while i < 64 {
        table[BASE64[i] as usize] = i as u8;
        i += 1;
    }
    table
};
const NOT_BASE64: u8 = 0xff;

#[cfg(test)]
pub(crate) fn tests_base64(b: &[u8]) -> String {
    base64_encode(b)
}

fn base64_encode(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for c in b.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(BASE64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 with padding, canonical only (the unused bits of the last character zero),
/// so that a packed form has one spelling.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.as_bytes();
    if !s.len().is_multiple_of(4) {
        return None;
    }
    let value = |c: u8| match BASE64_VALUE[c as usize] {
        NOT_BASE64 => None,
        v => Some(v as u32),
    };
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    for (i, q) in s.chunks(4).enumerate() {
        let last = i == s.len() / 4 - 1;
        let pad = q.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &q[..4 - pad] {
            n = n << 6 | value(c)?;
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        if pad > 0 && n & ((1 << (8 * pad)) - 1) != 0 {
            return None;
        }
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
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

    /// `"events": n` and `"customers": [...]` or `"packed": "..."`, each once (`seen`).
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
            "packed" if !seen[1] => {
                *customers = unpack(customers.key_type(), &self.string()?).ok()?;
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

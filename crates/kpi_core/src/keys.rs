//! Customer keys: their SQL types, the lists of keys that the text and binary forms of the
//! distinct-customer states hold, and the uuid text form.
//!
//! The denominator of every per-customer rate (`incident_rate`, `contact_rate`, ...) is the
//! number of distinct non-NULL keys seen, kept exactly in the flat form (`flat.rs`) so that the
//! count equals `count(DISTINCT customer_id)`. Integer keys of any width are kept as `i64`, so
//! an `integer` and a `bigint` column holding the same ids count the same customers.

use crate::codec::{put_bytes, put_i64, put_len, put_u8, Reader};
use crate::error::{KpiError, KpiErrorKind};
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Int,
    Uuid,
    Text,
}

impl KeyType {
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Int => "bigint",
            KeyType::Uuid => "uuid",
            KeyType::Text => "text",
        }
    }

    pub fn from_name(name: &str) -> Result<Self, KpiError> {
        match name {
            "bigint" => Ok(KeyType::Int),
            "uuid" => Ok(KeyType::Uuid),
            "text" => Ok(KeyType::Text),
            other => Err(KpiError::invalid_text(format!(
                "unknown customer key type \"{}\"",
                crate::error::excerpt(other)
            ))
            .with_hint("The key type is one of bigint, uuid, text.")),
        }
    }

    pub(crate) fn tag(self) -> u8 {
        match self {
            KeyType::Int => 1,
            KeyType::Uuid => 2,
            KeyType::Text => 3,
        }
    }

    pub(crate) fn from_tag(tag: u8) -> Result<Self, KpiError> {
        match tag {
            1 => Ok(KeyType::Int),
            2 => Ok(KeyType::Uuid),
            3 => Ok(KeyType::Text),
            t => Err(KpiError::invalid_binary(format!(
                "unknown customer key type tag {t}"
            ))),
        }
    }

    pub fn encode(self, w: &mut impl Write) {
        put_u8(w, self.tag());
    }

    pub fn decode(r: &mut Reader) -> Result<Self, KpiError> {
        Self::from_tag(r.u8()?)
    }
}

/// Maps a stored text key to the text of a form.
pub type TextKey<'a> = dyn Fn(&[u8]) -> Result<Vec<u8>, KpiError> + 'a;

/// The keys of one set of distinct customers, as a text or binary form holds them (UTF-8
/// text keys in the text form) or as collected from a flat state to be written: plain lists.
/// The flat form (`flat.rs`) is the only set: a list becomes one with
/// `customer_rate::build`, which refuses a key given twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keys {
    Int(Vec<i64>),
    /// 16 bytes each, in the order of the uuid's text (big-endian)
    Uuid(Vec<[u8; 16]>),
    Text(Vec<Vec<u8>>),
}

impl Keys {
    pub fn new(key_type: KeyType) -> Self {
        match key_type {
            KeyType::Int => Keys::Int(Vec::new()),
            KeyType::Uuid => Keys::Uuid(Vec::new()),
            KeyType::Text => Keys::Text(Vec::new()),
        }
    }

    pub fn key_type(&self) -> KeyType {
        match self {
            Keys::Int(_) => KeyType::Int,
            Keys::Uuid(_) => KeyType::Uuid,
            Keys::Text(_) => KeyType::Text,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Keys::Int(v) => v.len(),
            Keys::Uuid(v) => v.len(),
            Keys::Text(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sorts the keys: integers numerically, uuids as PostgreSQL orders them, text bytewise;
    /// the order of the text and binary forms, so that both are deterministic.
    pub fn sort(&mut self) {
        match self {
            Keys::Int(v) => v.sort_unstable(),
            Keys::Uuid(v) => v.sort_unstable(),
            Keys::Text(v) => v.sort_unstable(),
        }
    }

    /// Adds a key from the bytes a flat state keeps (`flat::View::for_each_key`): 8
    /// little-endian bytes, 16 bytes, or the text, mapped by `text`.
    pub fn push_stored(&mut self, bytes: &[u8], text: &TextKey<'_>) -> Result<(), KpiError> {
        let short = || KpiError::invalid_binary("corrupt KPI state: short key");
        match self {
            Keys::Int(v) => v.push(i64::from_le_bytes(bytes.try_into().map_err(|_| short())?)),
            Keys::Uuid(v) => v.push(bytes.try_into().map_err(|_| short())?),
            Keys::Text(v) => v.push(text(bytes)?),
        }
        Ok(())
    }

    /// Whether a text key holds a NUL character (which no PostgreSQL text value can).
    pub fn has_nul_text_key(&self) -> bool {
        match self {
            Keys::Text(v) => v.iter().any(|k| k.contains(&0)),
            _ => false,
        }
    }

    /// The bytes of the binary form (after the event count): the count, then the keys.
    pub fn encode(&self, w: &mut impl Write) {
        put_i64(w, self.len() as i64);
        match self {
            Keys::Int(v) => v.iter().for_each(|k| put_i64(w, *k)),
            Keys::Uuid(v) => v.iter().for_each(|k| put_bytes(w, k)),
            Keys::Text(v) => v.iter().for_each(|k| {
                put_len(w, k.len());
                put_bytes(w, k);
            }),
        }
    }

    /// Size of [`Keys::encode`]'s output.
    pub fn encoded_len(&self) -> usize {
        8 + match self {
            Keys::Int(v) => v.len() * 8,
            Keys::Uuid(v) => v.len() * 16,
            Keys::Text(v) => v.iter().map(|k| 4 + k.len()).sum(),
        }
    }

    /// Reads what [`Keys::encode`] wrote (a count that the input cannot hold is refused
    /// before anything is allocated). A key given twice is found when the keys become a set.
    pub fn decode(key_type: KeyType, r: &mut Reader) -> Result<Self, KpiError> {
        Ok(match key_type {
            KeyType::Int => {
                let n = r.count(8)?;
                Keys::Int((0..n).map(|_| r.i64()).collect::<Result<_, _>>()?)
            }
            KeyType::Uuid => {
                let n = r.count(16)?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(r.take(16)?.try_into().unwrap());
                }
                Keys::Uuid(v)
            }
            KeyType::Text => {
                let n = r.count(4)?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    let len = r.u32()? as usize;
                    v.push(r.take(len)?.to_vec());
                }
                Keys::Text(v)
            }
        })
    }
}

pub fn key_type_mismatch(a: KeyType, b: KeyType) -> KpiError {
    KpiError::new(
        KpiErrorKind::Mismatch,
        format!(
            "cannot combine KPI states over {} and {} customer keys",
            a.name(),
            b.name()
        ),
    )
    .with_hint("Compute every partial state with the same customer key type.")
}

/// The error for a text key that the text form cannot hold.
pub fn not_utf8_key() -> KpiError {
    KpiError::invalid_text("a text customer key is not valid UTF-8").with_hint(
        "The text form of a state needs a UTF8 database; the binary form has no such limit.",
    )
}

pub fn format_uuid(key: u128) -> String {
    let h = format!("{key:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Parses a uuid in PostgreSQL's canonical output form (lower- or upper-case hex, hyphens).
pub fn parse_uuid(text: &str) -> Option<u128> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(&hex, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_round_trip_for_every_key_type() {
        let mut lists = vec![Keys::Int(vec![]), Keys::Uuid(vec![]), Keys::Text(vec![])];
        for i in 0..100i64 {
            if let Keys::Int(v) = &mut lists[0] {
                v.push(i * 7919 - 300);
            }
            if let Keys::Uuid(v) = &mut lists[1] {
                v.push(((i as u128) << 64 | 0xabc).to_be_bytes());
            }
            if let Keys::Text(v) = &mut lists[2] {
                v.push(format!("customer-{i}").into_bytes());
            }
        }
        for keys in lists {
            let mut bytes = Vec::new();
            keys.encode(&mut bytes);
            assert_eq!(bytes.len(), keys.encoded_len());
            let mut r = Reader::new(&bytes);
            assert_eq!(Keys::decode(keys.key_type(), &mut r).unwrap(), keys);
            r.finish().unwrap();
        }
    }

    #[test]
    fn negative_and_extreme_integer_keys_sort_numerically() {
        let mut k = Keys::Int(vec![5, i64::MIN, -1, 0, i64::MAX]);
        k.sort();
        assert_eq!(k, Keys::Int(vec![i64::MIN, -1, 0, 5, i64::MAX]));
        let mut u = Keys::Uuid(vec![[0xff; 16], [0; 16], [1; 16]]);
        u.sort();
        assert_eq!(u, Keys::Uuid(vec![[0; 16], [1; 16], [0xff; 16]]));
    }

    #[test]
    fn corrupt_counts_are_rejected_without_allocating() {
        let mut bytes = Vec::new();
        put_i64(&mut bytes, i64::MAX);
        assert!(Keys::decode(KeyType::Int, &mut Reader::new(&bytes)).is_err());
        put_i64(&mut bytes, 5);
        assert!(Keys::decode(KeyType::Int, &mut Reader::new(&bytes[8..])).is_err());
        assert!(Keys::decode(KeyType::Text, &mut Reader::new(&bytes)).is_err());
    }

    #[test]
    fn uuid_text_form_matches_postgres() {
        let key = parse_uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap();
        assert_eq!(format_uuid(key), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        assert_eq!(parse_uuid("A0EEBC999C0B4EF8BB6D6BB9BD380A11"), Some(key));
        assert_eq!(parse_uuid("not-a-uuid"), None);
    }
}

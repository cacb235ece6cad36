//! The set of distinct customer keys behind every per-customer rate: the denominator of
//! `incident_rate`, `contact_rate`, ... is the number of distinct non-NULL keys seen.
//!
//! Keys are stored exactly (no hashing into a sketch), so the count equals
//! `count(DISTINCT customer_id)`. Integer keys of any width are stored as `i64`, so an
//! `integer` and a `bigint` column holding the same ids count the same customers.
//!
//! Integer keys go into a compressed bitmap (roaring) while they all lie in one window of 2^32
//! consecutive values: customer ids are usually dense, so a customer costs about a bit, and
//! the bitmap stays in cache where a hash table would miss it on nearly every row. Keys that
//! scatter wider (random 64-bit ids) move to a hash set, which costs 10 to 20 bytes a key
//! where a 64-bit bitmap would cost hundreds. uuid and text keys go into hash sets.

use crate::codec::{put_bytes, put_i64, put_len, put_u8, Reader};
use crate::error::{KpiError, KpiErrorKind};
use hashbrown::HashSet;
use roaring::RoaringBitmap;
use serde_json::Value;
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

/// One key of a [`KeySet`], borrowed.
#[derive(Debug, Clone, Copy)]
pub enum KeyRef<'a> {
    Int(i64),
    Uuid(u128),
    Text(&'a [u8]),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySet {
    Int(IntKeys),
    Uuid(HashSet<u128>),
    Text(HashSet<Box<[u8]>>),
}

impl KeySet {
    pub fn new(key_type: KeyType) -> Self {
        match key_type {
            KeyType::Int => KeySet::Int(IntKeys::default()),
            KeyType::Uuid => KeySet::Uuid(HashSet::new()),
            KeyType::Text => KeySet::Text(HashSet::new()),
        }
    }

    pub fn key_type(&self) -> KeyType {
        match self {
            KeySet::Int(_) => KeyType::Int,
            KeySet::Uuid(_) => KeyType::Uuid,
            KeySet::Text(_) => KeyType::Text,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            KeySet::Int(s) => s.len(),
            KeySet::Uuid(s) => s.len(),
            KeySet::Text(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    pub fn insert_int(&mut self, key: i64) {
        match self {
            KeySet::Int(s) => {
                s.insert(key);
            }
            _ => unreachable!("the extension creates the set for the key type it inserts"),
        }
    }

    #[inline]
    pub fn insert_uuid(&mut self, key: [u8; 16]) {
        match self {
            KeySet::Uuid(s) => {
                s.insert(u128::from_be_bytes(key));
            }
            _ => unreachable!("the extension creates the set for the key type it inserts"),
        }
    }

    #[inline]
    pub fn insert_text(&mut self, key: &[u8]) {
        match self {
            KeySet::Text(s) => {
                s.get_or_insert_with(key, |k: &[u8]| Box::from(k));
            }
            _ => unreachable!("the extension creates the set for the key type it inserts"),
        }
    }

    pub fn merge(&mut self, other: &KeySet) -> Result<(), KpiError> {
        match (self, other) {
            (KeySet::Int(a), KeySet::Int(b)) => a.merge(b),
            (KeySet::Uuid(a), KeySet::Uuid(b)) => a.extend(b.iter().copied()),
            (KeySet::Text(a), KeySet::Text(b)) => {
                for key in b {
                    a.get_or_insert_with(&key[..], |k: &[u8]| Box::from(k));
                }
            }
            (a, b) => return Err(key_type_mismatch(a.key_type(), b.key_type())),
        }
        Ok(())
    }

    /// The smallest and largest integer key; `None` for other key types and no keys.
    pub fn int_range(&self) -> Option<(i64, i64)> {
        match self {
            KeySet::Int(IntKeys::Window { window, low }) => {
                Some((key_in(*window, low.min()?), key_in(*window, low.max()?)))
            }
            KeySet::Int(IntKeys::Scattered(s)) => Some((*s.iter().min()?, *s.iter().max()?)),
            _ => None,
        }
    }

    /// The bytes of all text keys (0 for other key types).
    pub fn text_bytes(&self) -> usize {
        match self {
            KeySet::Text(s) => s.iter().map(|k| k.len()).sum(),
            _ => 0,
        }
    }

    /// Calls `f` with every key, in no particular order.
    pub fn for_each_key(
        &self,
        f: &mut dyn FnMut(KeyRef<'_>) -> Result<(), KpiError>,
    ) -> Result<(), KpiError> {
        match self {
            KeySet::Int(s) => s.iter().try_for_each(|k| f(KeyRef::Int(k))),
            KeySet::Uuid(s) => s.iter().try_for_each(|k| f(KeyRef::Uuid(*k))),
            KeySet::Text(s) => s.iter().try_for_each(|k| f(KeyRef::Text(k))),
        }
    }

    /// Size of [`KeySet::encode`]'s output.
    pub fn encoded_len(&self) -> usize {
        8 + match self {
            KeySet::Int(s) => s.len() * 8,
            KeySet::Uuid(s) => s.len() * 16,
            KeySet::Text(s) => s.iter().map(|k| 4 + k.len()).sum(),
        }
    }

    /// The count of keys, then the keys (in no particular order).
    pub fn encode(&self, w: &mut impl Write) {
        put_i64(w, self.len() as i64);
        match self {
            KeySet::Int(s) => s.sorted().into_iter().for_each(|k| put_i64(w, k)),
            KeySet::Uuid(s) => s.iter().for_each(|k| put_bytes(w, &k.to_be_bytes())),
            KeySet::Text(s) => s.iter().for_each(|k| {
                put_len(w, k.len());
                put_bytes(w, k);
            }),
        }
    }

    /// Reads what [`KeySet::encode`] wrote. A key given twice is an error: the count of keys
    /// would disagree with the customers they stand for.
    pub fn decode(key_type: KeyType, r: &mut Reader) -> Result<Self, KpiError> {
        let mut set = KeySet::new(key_type);
        let dup = || KpiError::invalid_binary("binary KPI state repeats a customer key");
        match &mut set {
            KeySet::Int(s) => {
                let n = r.count(8)?;
                for _ in 0..n {
                    if !s.insert(r.i64()?) {
                        return Err(dup());
                    }
                }
            }
            KeySet::Uuid(s) => {
                let n = r.count(16)?;
                s.reserve(n);
                for _ in 0..n {
                    if !s.insert(u128::from_be_bytes(r.take(16)?.try_into().unwrap())) {
                        return Err(dup());
                    }
                }
            }
            KeySet::Text(s) => {
                let n = r.count(4)?;
                s.reserve(n);
                for _ in 0..n {
                    let len = r.u32()? as usize;
                    let key = r.take(len)?;
                    if s.contains(key) {
                        return Err(dup());
                    }
                    s.insert(Box::from(key));
                }
            }
        }
        Ok(set)
    }

    /// Whether a text key holds a NUL character (which no PostgreSQL text value can).
    pub fn has_nul_text_key(&self) -> bool {
        match self {
            KeySet::Text(s) => s.iter().any(|k| k.contains(&0)),
            _ => false,
        }
    }

    /// The keys as JSON values, sorted, so the text form of a state is deterministic.
    pub fn to_json(&self) -> Result<Value, KpiError> {
        let values: Vec<Value> = match self {
            KeySet::Int(s) => s.sorted().into_iter().map(Value::from).collect(),
            KeySet::Uuid(s) => sorted(s.iter().copied())
                .into_iter()
                .map(|k| Value::from(format_uuid(k)))
                .collect(),
            KeySet::Text(s) => {
                let mut keys = Vec::with_capacity(s.len());
                for key in sorted(s.iter().cloned()) {
                    keys.push(Value::from(
                        String::from_utf8(key.into_vec()).map_err(|_| not_utf8_key())?,
                    ));
                }
                keys
            }
        };
        Ok(Value::Array(values))
    }

    pub fn from_json(key_type: KeyType, value: &Value) -> Result<Self, KpiError> {
        let items = value.as_array().ok_or_else(|| {
            KpiError::invalid_text("\"customers\" must be an array of customer keys")
        })?;
        let mut set = KeySet::new(key_type);
        for item in items {
            let bad = || {
                KpiError::invalid_text(format!(
                    "invalid {} customer key {}",
                    key_type.name(),
                    crate::error::excerpt(&item.to_string())
                ))
            };
            let new = match &mut set {
                KeySet::Int(s) => s.insert(item.as_i64().ok_or_else(bad)?),
                KeySet::Uuid(s) => s.insert(item.as_str().and_then(parse_uuid).ok_or_else(bad)?),
                KeySet::Text(s) => s.insert(Box::from(item.as_str().ok_or_else(bad)?.as_bytes())),
            };
            if !new {
                return Err(KpiError::invalid_text(format!(
                    "customer key {} appears twice",
                    crate::error::excerpt(&item.to_string())
                )));
            }
        }
        Ok(set)
    }
}

/// Distinct integer keys: a bitmap of the low 32 bits while every key shares its high 32 bits
/// (`window`), a hash set once they do not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntKeys {
    Window { window: u32, low: RoaringBitmap },
    Scattered(HashSet<i64>),
}

impl Default for IntKeys {
    /// Starts with the window of the keys 0 to 2^32 - 1.
    fn default() -> Self {
        IntKeys::Window {
            window: window_of(0),
            low: RoaringBitmap::new(),
        }
    }
}

/// Keys as u64 with the sign bit flipped, so that windows and bitmaps follow numeric order.
#[inline]
fn window_of(key: i64) -> u32 {
    (((key as u64) ^ (1 << 63)) >> 32) as u32
}

#[inline]
fn key_in(window: u32, low: u32) -> i64 {
    (((window as u64) << 32 | low as u64) ^ (1 << 63)) as i64
}

impl IntKeys {
    /// Inserts `key`; whether it was new.
    #[inline]
    pub fn insert(&mut self, key: i64) -> bool {
        match self {
            IntKeys::Window { window, low } => {
                if window_of(key) != *window {
                    if !low.is_empty() {
                        self.scatter();
                        return self.insert(key);
                    }
                    *window = window_of(key);
                }
                low.insert(key as u32)
            }
            IntKeys::Scattered(set) => set.insert(key),
        }
    }

    /// Moves the keys from the bitmap to a hash set.
    fn scatter(&mut self) {
        let set: HashSet<i64> = self.iter().collect();
        *self = IntKeys::Scattered(set);
    }

    pub fn len(&self) -> usize {
        match self {
            IntKeys::Window { low, .. } => low.len() as usize,
            IntKeys::Scattered(set) => set.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> Box<dyn Iterator<Item = i64> + '_> {
        match self {
            IntKeys::Window { window, low } => Box::new(low.iter().map(|l| key_in(*window, l))),
            IntKeys::Scattered(set) => Box::new(set.iter().copied()),
        }
    }

    /// The keys in numeric order.
    pub fn sorted(&self) -> Vec<i64> {
        match self {
            IntKeys::Window { .. } => self.iter().collect(),
            IntKeys::Scattered(set) => sorted(set.iter().copied()),
        }
    }

    pub fn merge(&mut self, other: &IntKeys) {
        if let (IntKeys::Window { window: a, low: la }, IntKeys::Window { window: b, low: lb }) =
            (&mut *self, other)
        {
            if a == b {
                *la |= lb;
                return;
            }
        }
        other.iter().for_each(|k| {
            self.insert(k);
        });
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

fn sorted<T: Ord>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = items.collect();
    v.sort_unstable();
    v
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
    fn counts_distinct_keys() {
        let mut s = KeySet::new(KeyType::Int);
        for k in [3, 1, 3, 3, 2, 1] {
            s.insert_int(k);
        }
        assert_eq!(s.len(), 3);
        let mut t = KeySet::new(KeyType::Text);
        for k in ["a", "b", "a", "A"] {
            t.insert_text(k.as_bytes());
        }
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn merge_is_a_union_and_checks_types() {
        let mut a = KeySet::new(KeyType::Int);
        let mut b = KeySet::new(KeyType::Int);
        [1, 2, 3].into_iter().for_each(|k| a.insert_int(k));
        [3, 4].into_iter().for_each(|k| b.insert_int(k));
        a.merge(&b).unwrap();
        assert_eq!(a.len(), 4);
        let err = a.merge(&KeySet::new(KeyType::Uuid)).unwrap_err();
        assert_eq!(err.kind, KpiErrorKind::Mismatch);
    }

    #[test]
    fn binary_round_trip_for_every_key_type() {
        let mut sets = vec![
            KeySet::new(KeyType::Int),
            KeySet::new(KeyType::Uuid),
            KeySet::new(KeyType::Text),
        ];
        for i in 0..100i64 {
            sets[0].insert_int(i * 7919 - 300);
            sets[1].insert_uuid(((i as u128) << 64 | 0xabc).to_be_bytes());
            sets[2].insert_text(format!("customer-{i}").as_bytes());
        }
        for set in sets {
            let mut bytes = Vec::new();
            set.encode(&mut bytes);
            assert_eq!(bytes.len(), set.encoded_len());
            let mut r = Reader::new(&bytes);
            assert_eq!(KeySet::decode(set.key_type(), &mut r).unwrap(), set);
            r.finish().unwrap();
        }
    }

    #[test]
    fn negative_and_extreme_integer_keys_keep_their_order() {
        let mut s = KeySet::new(KeyType::Int);
        for k in [5, i64::MIN, -1, 0, i64::MAX, -1] {
            s.insert_int(k);
        }
        assert_eq!(s.len(), 5);
        assert_eq!(
            s.to_json().unwrap().to_string(),
            format!("[{},-1,0,5,{}]", i64::MIN, i64::MAX)
        );
    }

    #[test]
    fn integer_keys_scatter_into_a_hash_set_when_they_leave_the_window() {
        let mut s = IntKeys::default();
        (0..1000).for_each(|k| {
            s.insert(k * 3);
        });
        assert!(matches!(s, IntKeys::Window { .. }));
        s.insert(1 << 40);
        s.insert(-5);
        assert!(matches!(s, IntKeys::Scattered(_)));
        assert_eq!(s.len(), 1002);
        assert_eq!(s.sorted()[..3], [-5, 0, 3]);
        // a first key outside the default window moves the window instead
        let mut t = IntKeys::default();
        t.insert(-7);
        t.insert(-8);
        assert!(matches!(t, IntKeys::Window { .. }));
        assert_eq!(t.sorted(), vec![-8, -7]);
        let mut u = IntKeys::default();
        u.insert(1);
        u.merge(&t);
        assert_eq!(u.sorted(), vec![-8, -7, 1]);
    }

    #[test]
    fn corrupt_counts_are_rejected_without_allocating() {
        let mut bytes = Vec::new();
        put_i64(&mut bytes, i64::MAX);
        assert!(KeySet::decode(KeyType::Int, &mut Reader::new(&bytes)).is_err());
        put_i64(&mut bytes, 5);
        assert!(KeySet::decode(KeyType::Int, &mut Reader::new(&bytes[8..])).is_err());
    }

    #[test]
    fn uuid_text_form_matches_postgres() {
        let key = parse_uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap();
        assert_eq!(format_uuid(key), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        assert_eq!(parse_uuid("A0EEBC999C0B4EF8BB6D6BB9BD380A11"), Some(key));
        assert_eq!(parse_uuid("not-a-uuid"), None);
    }
}

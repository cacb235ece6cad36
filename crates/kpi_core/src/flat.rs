//! The in-memory form (format version 2) of the distinct-customer states: one flat byte
//! buffer that an aggregate updates in place, with no pointers and no memory of its own.
//!
//! PostgreSQL keeps a transition state of a real SQL type as one allocation in the
//! aggregate's memory context. Keeping the set of distinct customers *inside* that allocation
//! (an open-addressing hash table, or a bitmap for dense integer ids) means that hash
//! aggregation sees and accounts every byte of it (`work_mem` then means what users expect),
//! that a state costs no memory context of its own (thousands to millions of groups stay
//! linear), and that the state can be stored or sent as it is. When the buffer is full the
//! extension allocates a larger one and [`rebuild`]s the state into it: geometric growth, so a
//! row costs amortized O(1).
//!
//! Everything here is safe Rust over `&[u8]`: a corrupt buffer can make an operation fail
//! (an error, or a panic that the extension turns into an ERROR) but never read or write
//! outside the buffer.
//!
//! Layout (all integers little-endian):
//! ```text
//!  0 u8  version = 2        1 u8 key type (1 int, 2 uuid, 3 text)
//!  2 u8  kind (1 customer rate, 2 segment rate)          3 u8 mode (0 hash, 1 bitmap)
//!  4 u32 segments (segment rate: number of segments)
//!  8 i64 events (customer rate)   16 i64 count: distinct keys (customer) or (segment, key) pairs
//! 24 i64 min key  32 i64 max key  (integer customer keys; valid when count > 0)
//! 40 u32 capacity: hash slots (a power of two) or bitmap words
//! 44 u32 arena capacity  48 u32 arena bytes used  52 u32 segment directory capacity (power of two)
//! 56 i64 bitmap base (a multiple of 64)
//! 64 segment directory (segment rate): capacity x 32 bytes
//!    slots (hash mode): capacity x slot size | words (bitmap mode): capacity x 8 bytes
//!    arena: variable-length keys and segment names
//! ```
//! A new state of integer or uuid keys starts smaller, in list mode (mode 2), until it holds
//! more keys than its room:
//! ```text
//!  0 u8  version = 2        1 u8 key type (1 int, 2 uuid)   2 u8 kind = 1   3 u8 mode = 2
//!  4 u32 count: keys held   8 i64 events
//! 16 keys: capacity x 8 bytes (int) or 16 (uuid), the first `count` in order of arrival
//! ```
//! Its capacity is what its length holds (at most [`LIST_MAX`]): five bigint or two uuid
//! keys in 56 or 48 bytes, so that the value with its 4-byte header is one 64-byte
//! allocation, half the smallest hash table's. A group of a few customers (the usual group of
//! a `GROUP BY` over many groups) then costs hash aggregation half the memory, and a row
//! compares a few keys instead of hashing one.
//!
//! A hash slot is a u32 tag (0: empty; else high hash bits | 1) followed by the key (fixed
//! width: 8 bytes for integer keys, 16 for uuid, 4 + 8 / 4 + 16 for a segment id and key) or
//! by the u32 arena offset of a variable-length key (text; a segment id and text). An arena
//! entry is a u32 length and the bytes. A directory slot is a u32 tag, the u32 arena offset
//! and u32 length of the segment's name, its u32 id (order of first appearance), its
//! distinct customers and its events (i64 each).

use crate::error::{KpiError, KpiErrorKind};
use crate::keys::KeyType;

pub const LAYOUT: u8 = 2;
pub const HEADER: usize = 64;
const KIND_CUSTOMER: u8 = 1;
const KIND_SEGMENT: u8 = 2;
const MODE_HASH: u8 = 0;
const MODE_BITMAP: u8 = 1;
const MODE_LIST: u8 = 2;
/// The header of a state in list mode.
const LIST_HEADER: usize = 16;
/// The payload a new list-mode state takes: with the 4-byte varlena header, 64 bytes.
const LIST_BYTES: usize = 60;
/// The most keys a list-mode state may have room for (a longer list is refused as corrupt:
/// its inserts compare every key).
pub const LIST_MAX: usize = 8;
const DIR_SLOT: usize = 32;
/// A state must fit in one PostgreSQL value (1 GB), header of the value included.
pub const MAX_BYTES: usize = 0x3fff_ffff - 8;
/// Hash tables are grown at 3/4 full.
const LOAD_NUM: usize = 3;
const LOAD_DEN: usize = 4;
const MIN_SLOTS: usize = 4;

/// The buffer is too small for one more key: the caller allocates [`Plan::len`] bytes,
/// [`rebuild`]s the state into them and tries again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub mode: u8,
    pub capacity: usize,
    pub arena_cap: usize,
    pub dir_cap: usize,
    pub base: i64,
}

impl Plan {
    /// Total bytes of a state laid out by this plan.
    pub fn len(&self, key_type: KeyType, kind: u8) -> usize {
        if self.mode == MODE_LIST {
            return LIST_HEADER + self.capacity * list_width(key_type).unwrap_or(0);
        }
        let body = if self.mode == MODE_BITMAP {
            self.capacity * 8
        } else {
            self.capacity * slot_size(key_type, kind)
        };
        HEADER + self.dir_cap * DIR_SLOT + body + self.arena_cap
    }
}

fn slot_size(key_type: KeyType, kind: u8) -> usize {
    let seg = if kind == KIND_SEGMENT { 4 } else { 0 };
    4 + match key_type {
        KeyType::Int => seg + 8,
        KeyType::Uuid => seg + 16,
        KeyType::Text => 4,
    }
}

/// The width of a key in list mode; `None` for text keys, which never use it.
fn list_width(key_type: KeyType) -> Option<usize> {
    match key_type {
        KeyType::Int => Some(8),
        KeyType::Uuid => Some(16),
        KeyType::Text => None,
    }
}

fn is_var(key_type: KeyType) -> bool {
    key_type == KeyType::Text
}

pub fn too_large() -> KpiError {
    KpiError::new(
        KpiErrorKind::OutOfRange,
        "KPI state would exceed the 1 GB limit of a PostgreSQL value",
    )
    .with_hint("Aggregate fewer distinct customers per group (e.g. by segment or month), or use count(DISTINCT ...) for such a group.")
}

#[inline]
fn rd_u32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}
#[inline]
fn wr_u32(b: &mut [u8], o: usize, v: u32) {
    b[o..o + 4].copy_from_slice(&v.to_le_bytes())
}
#[inline]
fn rd_i64(b: &[u8], o: usize) -> i64 {
    i64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}
#[inline]
fn wr_i64(b: &mut [u8], o: usize, v: i64) {
    b[o..o + 8].copy_from_slice(&v.to_le_bytes())
}

/// A 64-bit mix of 8 bytes (splitmix64's finalizer).
#[inline]
pub fn mix64(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A hash of a byte string, eight bytes at a time.
#[inline]
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15 ^ bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = (h.rotate_left(23) ^ u64::from_le_bytes(c.try_into().unwrap()))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(23) ^ u64::from_le_bytes(last)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    mix64(h)
}

#[inline]
fn tag_of(h: u64) -> u32 {
    ((h >> 32) as u32) | 1
}

/// The header fields every operation needs, read and checked once per call.
#[derive(Clone, Copy, Debug)]
struct Geo {
    key_type: KeyType,
    kind: u8,
    mode: u8,
    capacity: usize,
    arena_cap: usize,
    arena_used: usize,
    dir_cap: usize,
    slot: usize,
    dir_at: usize,
    body_at: usize,
    arena_at: usize,
}

impl Geo {
    /// The plan that lays a state out as it is now.
    fn plan(&self, b: &[u8]) -> Plan {
        Plan {
            mode: self.mode,
            capacity: self.capacity,
            arena_cap: self.arena_cap,
            dir_cap: self.dir_cap,
            base: if self.mode == MODE_LIST {
                0
            } else {
                rd_i64(b, 56)
            },
        }
    }
}

fn corrupt(what: &str) -> KpiError {
    KpiError::invalid_binary(format!("corrupt KPI state: {what}"))
}

fn geo(b: &[u8]) -> Result<Geo, KpiError> {
    if b.len() < LIST_HEADER || b[0] != LAYOUT {
        return Err(corrupt("bad header"));
    }
    let key_type = KeyType::from_tag(b[1])?;
    let kind = b[2];
    let mode = b[3];
    if mode == MODE_LIST {
        return list_geo(b, key_type, kind);
    }
    if b.len() < HEADER {
        return Err(corrupt("bad header"));
    }
    if !(kind == KIND_CUSTOMER || kind == KIND_SEGMENT)
        || !(mode == MODE_HASH || (mode == MODE_BITMAP && kind == KIND_CUSTOMER))
        || (mode == MODE_BITMAP && key_type != KeyType::Int)
    {
        return Err(corrupt("bad kind or mode"));
    }
    let capacity = rd_u32(b, 40) as usize;
    let arena_cap = rd_u32(b, 44) as usize;
    let arena_used = rd_u32(b, 48) as usize;
    let dir_cap = rd_u32(b, 52) as usize;
    let slot = slot_size(key_type, kind);
    let body = if mode == MODE_BITMAP {
        capacity * 8
    } else {
        if capacity != 0 && !capacity.is_power_of_two() {
            return Err(corrupt("slot count is not a power of two"));
        }
        capacity * slot
    };
    if (kind == KIND_SEGMENT) != (dir_cap > 0) || (dir_cap > 0 && !dir_cap.is_power_of_two()) {
        return Err(corrupt("bad segment directory"));
    }
    let dir_at = HEADER;
    let body_at = dir_at + dir_cap * DIR_SLOT;
    let arena_at = body_at + body;
    if arena_at + arena_cap != b.len() || arena_used > arena_cap {
        return Err(corrupt("sizes disagree with its length"));
    }
    Ok(Geo {
        key_type,
        kind,
        mode,
        capacity,
        arena_cap,
        arena_used,
        dir_cap,
        slot,
        dir_at,
        body_at,
        arena_at,
    })
}

/// The geometry of a list-mode state: customer keys of fixed width, a capacity that its
/// length holds exactly (1 to [`LIST_MAX`] keys), and a count within it.
fn list_geo(b: &[u8], key_type: KeyType, kind: u8) -> Result<Geo, KpiError> {
    let width = match list_width(key_type) {
        Some(w) if kind == KIND_CUSTOMER => w,
        _ => return Err(corrupt("bad kind or mode")),
    };
    let room = b.len() - LIST_HEADER;
    let capacity = room / width;
    if !room.is_multiple_of(width) || capacity == 0 || capacity > LIST_MAX {
        return Err(corrupt("sizes disagree with its length"));
    }
    if rd_u32(b, 4) as usize > capacity {
        return Err(corrupt("more keys than room"));
    }
    Ok(Geo {
        key_type,
        kind,
        mode: MODE_LIST,
        capacity,
        arena_cap: 0,
        arena_used: 0,
        dir_cap: 0,
        slot: width,
        dir_at: LIST_HEADER,
        body_at: LIST_HEADER,
        arena_at: b.len(),
    })
}

/// Whether `b` starts like a version-2 state (the version byte).
pub fn is_v2(b: &[u8]) -> bool {
    b.first() == Some(&LAYOUT)
}

/// Lays out an empty state of `kind` by `plan` in `b` (of `plan.len(..)` bytes).
fn init(b: &mut [u8], key_type: KeyType, kind: u8, plan: &Plan) {
    b.fill(0);
    b[0] = LAYOUT;
    b[1] = key_type.tag();
    b[2] = kind;
    b[3] = plan.mode;
    if plan.mode == MODE_LIST {
        return;
    }
    wr_u32(b, 40, plan.capacity as u32);
    wr_u32(b, 44, plan.arena_cap as u32);
    wr_u32(b, 52, plan.dir_cap as u32);
    wr_i64(b, 56, plan.base);
}

fn initial_plan(key_type: KeyType, kind: u8) -> Plan {
    if let (KIND_CUSTOMER, Some(width)) = (kind, list_width(key_type)) {
        return Plan {
            mode: MODE_LIST,
            capacity: (LIST_BYTES - LIST_HEADER) / width,
            arena_cap: 0,
            dir_cap: 0,
            base: 0,
        };
    }
    Plan {
        mode: MODE_HASH,
        capacity: MIN_SLOTS,
        arena_cap: if is_var(key_type) || kind == KIND_SEGMENT {
            64
        } else {
            0
        },
        dir_cap: if kind == KIND_SEGMENT { 4 } else { 0 },
        base: 0,
    }
}

pub fn initial_len_customer(key_type: KeyType) -> usize {
    initial_plan(key_type, KIND_CUSTOMER).len(key_type, KIND_CUSTOMER)
}

pub fn initial_len_segment(key_type: KeyType) -> usize {
    initial_plan(key_type, KIND_SEGMENT).len(key_type, KIND_SEGMENT)
}

pub fn init_customer(b: &mut [u8], key_type: KeyType) {
    init(
        b,
        key_type,
        KIND_CUSTOMER,
        &initial_plan(key_type, KIND_CUSTOMER),
    );
}

pub fn init_segment(b: &mut [u8], key_type: KeyType) {
    init(
        b,
        key_type,
        KIND_SEGMENT,
        &initial_plan(key_type, KIND_SEGMENT),
    );
}

/// What [`View::for_each_key`] calls with each stored key: `(segment id or None, key bytes)`.
pub type KeyVisitor<'k> = dyn FnMut(Option<u32>, &[u8]) -> Result<(), KpiError> + 'k;

/// A segment of a segment-rate state: `(id, name, distinct customers, events)`.
pub type Segment<'a> = (u32, &'a [u8], i64, i64);

/// A customer key as the table stores it.
#[derive(Clone, Copy, Debug)]
pub enum Key<'a> {
    Int(i64),
    Uuid([u8; 16]),
    Text(&'a [u8]),
}

impl Key<'_> {
    fn key_type(&self) -> KeyType {
        match self {
            Key::Int(_) => KeyType::Int,
            Key::Uuid(_) => KeyType::Uuid,
            Key::Text(_) => KeyType::Text,
        }
    }
}

/// The fixed-width key bytes of a slot or arena entry: the segment id (segment rate) and the
/// key; for a text key only the segment id (the text follows in the arena entry).
fn key_bytes<'k>(seg: Option<u32>, key: &Key<'k>, scratch: &'k mut [u8; 20]) -> &'k [u8] {
    let mut n = 0;
    if let Some(s) = seg {
        scratch[..4].copy_from_slice(&s.to_le_bytes());
        n = 4;
    }
    match key {
        Key::Int(k) => {
            scratch[n..n + 8].copy_from_slice(&k.to_le_bytes());
            &scratch[..n + 8]
        }
        Key::Uuid(u) => {
            scratch[n..n + 16].copy_from_slice(u);
            &scratch[..n + 16]
        }
        Key::Text(_) => &scratch[..n],
    }
}

/// The hash a customer key (no segment) is stored under; the same as `hash_insert`'s.
fn customer_hash(key: &Key<'_>) -> u64 {
    let mut scratch = [0u8; 20];
    match key {
        Key::Text(t) => hash_bytes(t) ^ mix64(0),
        _ => hash_bytes(key_bytes(None, key, &mut scratch)),
    }
}

fn wrong_key_type(state: KeyType, given: KeyType) -> KpiError {
    KpiError::new(
        KpiErrorKind::Mismatch,
        format!(
            "a KPI state over {} customer keys cannot take a {} key",
            state.name(),
            given.name()
        ),
    )
    .with_hint("Give every row of one aggregate the same customer key type.")
}

fn arena_entry<'b>(b: &'b [u8], g: &Geo, off: usize) -> Result<&'b [u8], KpiError> {
    if off + 4 > g.arena_used {
        return Err(corrupt("arena offset"));
    }
    let at = g.arena_at + off;
    let len = rd_u32(b, at) as usize;
    if off + 4 + len > g.arena_used {
        return Err(corrupt("arena entry"));
    }
    Ok(&b[at + 4..at + 4 + len])
}

/// Where a probe for a key ended: at its slot, or at the empty slot it would take.
enum Probe {
    Found(usize),
    Empty(usize),
}

/// Linear probing over `cap` slots of `size` bytes from `at`, each starting with a u32 tag;
/// `same(slot)` compares a slot whose tag matches with the key.
fn probe(
    b: &[u8],
    at: usize,
    cap: usize,
    size: usize,
    h: u64,
    mut same: impl FnMut(usize) -> Result<bool, KpiError>,
) -> Result<Probe, KpiError> {
    let tag = tag_of(h);
    let mask = cap.wrapping_sub(1);
    let mut i = (h as usize) & mask;
    for _ in 0..cap {
        let s = at + i * size;
        let t = rd_u32(b, s);
        if t == 0 {
            return Ok(Probe::Empty(s));
        }
        if t == tag && same(s)? {
            return Ok(Probe::Found(s));
        }
        i = (i + 1) & mask;
    }
    Err(corrupt("hash table without an empty slot"))
}

/// The directory slot of segment `name`, or the empty slot it would take.
fn probe_dir(b: &[u8], g: &Geo, name: &[u8]) -> Result<Probe, KpiError> {
    probe(b, g.dir_at, g.dir_cap, DIR_SLOT, hash_bytes(name), |d| {
        Ok(arena_entry(b, g, rd_u32(b, d + 4) as usize)? == name)
    })
}

/// Read-only view of a version-2 state.
#[derive(Clone, Copy)]
pub struct View<'a> {
    b: &'a [u8],
    g: Geo,
}

impl<'a> View<'a> {
    pub fn new(b: &'a [u8]) -> Result<Self, KpiError> {
        Ok(View { b, g: geo(b)? })
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.b
    }

    pub fn key_type(&self) -> KeyType {
        self.g.key_type
    }

    pub fn is_segment(&self) -> bool {
        self.g.kind == KIND_SEGMENT
    }

    pub fn events(&self) -> i64 {
        rd_i64(self.b, 8)
    }

    /// Distinct customers (customer rate) or distinct (segment, customer) pairs.
    pub fn count(&self) -> i64 {
        if self.g.mode == MODE_LIST {
            rd_u32(self.b, 4) as i64
        } else {
            rd_i64(self.b, 16)
        }
    }

    /// Calls `f` with every stored key: `(segment id or None, key bytes)`. Integer keys come as
    /// their 8 little-endian bytes, uuids as their 16 bytes, text as its bytes. `tick` is
    /// called every few thousand keys (the extension checks for query cancellation there).
    pub fn for_each_key(
        &self,
        tick: &mut dyn FnMut(),
        f: &mut KeyVisitor<'_>,
    ) -> Result<(), KpiError> {
        let (b, g) = (self.b, &self.g);
        if g.mode == MODE_LIST {
            for i in 0..rd_u32(b, 4) as usize {
                let s = g.body_at + i * g.slot;
                f(None, &b[s..s + g.slot])?;
            }
            return Ok(());
        }
        if g.mode == MODE_BITMAP {
            let base = rd_i64(b, 56);
            for w in 0..g.capacity {
                if w % 4096 == 0 {
                    tick();
                }
                let mut word = u64::from_le_bytes(
                    b[g.body_at + w * 8..g.body_at + w * 8 + 8]
                        .try_into()
                        .unwrap(),
                );
                while word != 0 {
                    let bit = word.trailing_zeros() as i64;
                    word &= word - 1;
                    let k = base
                        .checked_add(w as i64 * 64 + bit)
                        .ok_or_else(|| corrupt("bitmap beyond the integer range"))?;
                    f(None, &k.to_le_bytes())?;
                }
            }
            return Ok(());
        }
        for i in 0..g.capacity {
            if i % 4096 == 0 {
                tick();
            }
            let s = g.body_at + i * g.slot;
            if rd_u32(b, s) == 0 {
                continue;
            }
            let bytes: &[u8] = if is_var(g.key_type) {
                arena_entry(b, g, rd_u32(b, s + 4) as usize)?
            } else {
                &b[s + 4..s + g.slot]
            };
            if g.kind == KIND_SEGMENT {
                if bytes.len() < 4 {
                    return Err(corrupt("short segment key"));
                }
                let id = u32::from_le_bytes(bytes[..4].try_into().unwrap());
                f(Some(id), &bytes[4..])?;
            } else {
                f(None, bytes)?;
            }
        }
        Ok(())
    }

    /// Segments (segment rate): `(id, name, customers, events)` in order of id.
    pub fn segments(&self) -> Result<Vec<Segment<'a>>, KpiError> {
        let (b, g) = (self.b, &self.g);
        if g.kind != KIND_SEGMENT {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity((rd_u32(b, 4) as usize).min(g.dir_cap));
        for i in 0..g.dir_cap {
            let d = g.dir_at + i * DIR_SLOT;
            if rd_u32(b, d) == 0 {
                continue;
            }
            let name = arena_entry(b, g, rd_u32(b, d + 4) as usize)?;
            out.push((
                rd_u32(b, d + 12),
                name,
                rd_i64(b, d + 16),
                rd_i64(b, d + 24),
            ));
        }
        out.sort_unstable_by_key(|s| s.0);
        if out.len() != rd_u32(b, 4) as usize
            || out.iter().enumerate().any(|(i, s)| s.0 as usize != i)
        {
            return Err(corrupt("segment directory"));
        }
        Ok(out)
    }
}

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    /// The key was new.
    Added,
    /// The key was there already.
    Present,
    /// No room: grow to this plan, rebuild, and insert again.
    Grow(Plan),
}

/// Writable view of a version-2 state. The header is checked once, when the table is made,
/// and kept current by every write.
pub struct Table<'a> {
    b: &'a mut [u8],
    g: Geo,
}

impl<'a> Table<'a> {
    pub fn new(b: &'a mut [u8]) -> Result<Self, KpiError> {
        let g = geo(b)?;
        Ok(Table { b, g })
    }

    pub fn view(&self) -> View<'_> {
        View {
            b: self.b,
            g: self.g,
        }
    }

    /// The state's bytes, for growing it into a larger buffer.
    pub fn bytes(&self) -> &[u8] {
        self.b
    }

    pub fn add_events(&mut self, n: i64) -> Result<(), KpiError> {
        let e = rd_i64(self.b, 8)
            .checked_add(n)
            .ok_or_else(KpiError::overflow)?;
        wr_i64(self.b, 8, e);
        Ok(())
    }

    fn count(&self) -> Result<usize, KpiError> {
        usize::try_from(self.view().count()).map_err(|_| corrupt("negative count"))
    }

    /// Appends an arena entry `len | parts...`; returns its offset.
    fn append_arena(&mut self, parts: &[&[u8]]) -> usize {
        let off = self.g.arena_used;
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let mut at = self.g.arena_at + off;
        wr_u32(self.b, at, len as u32);
        at += 4;
        for p in parts {
            self.b[at..at + p.len()].copy_from_slice(p);
            at += p.len();
        }
        self.g.arena_used = off + 4 + len;
        wr_u32(self.b, 48, self.g.arena_used as u32);
        off
    }

    /// Inserts a customer key (customer rate).
    #[inline]
    pub fn insert_customer(&mut self, key: Key<'_>) -> Result<Insert, KpiError> {
        if key.key_type() != self.g.key_type {
            return Err(wrong_key_type(self.g.key_type, key.key_type()));
        }
        if self.g.mode == MODE_LIST {
            return Ok(self.list_insert(&key));
        }
        let r = match key {
            Key::Int(k) if self.g.mode == MODE_BITMAP => self.bitmap_insert(k),
            _ => self.hash_insert(None, &key)?,
        };
        if let (Insert::Added, Key::Int(k)) = (r, key) {
            self.track_min_max(k);
        }
        Ok(r)
    }

    /// Finds or appends a key in list mode; when the list is full, the plan of the hash table
    /// (or bitmap, for dense integer keys) that its keys and this one move to.
    fn list_insert(&mut self, key: &Key<'_>) -> Insert {
        let g = self.g;
        let mut scratch = [0u8; 20];
        let kb = key_bytes(None, key, &mut scratch);
        let n = rd_u32(self.b, 4) as usize;
        let keys = &self.b[g.body_at..g.body_at + n * g.slot];
        let present = match key {
            Key::Int(k) => keys
                .chunks_exact(8)
                .any(|c| i64::from_le_bytes(c.try_into().unwrap()) == *k),
            _ => keys.chunks_exact(g.slot).any(|c| c == kb),
        };
        if present {
            return Insert::Present;
        }
        if n < g.capacity {
            let at = g.body_at + n * g.slot;
            self.b[at..at + g.slot].copy_from_slice(kb);
            wr_u32(self.b, 4, n as u32 + 1);
            return Insert::Added;
        }
        let slots = hash_slots_for(n + 1);
        let hash = Plan {
            mode: MODE_HASH,
            capacity: slots,
            arena_cap: 0,
            dir_cap: 0,
            base: 0,
        };
        let Key::Int(k) = *key else {
            return Insert::Grow(hash);
        };
        let (mut lo, mut hi) = (k as i128, k as i128);
        for c in keys.chunks_exact(8) {
            let v = i64::from_le_bytes(c.try_into().unwrap()) as i128;
            lo = lo.min(v);
            hi = hi.max(v);
        }
        let base = lo.div_euclid(64) * 64;
        let words = (hi + 1 - base + 63) / 64;
        if words * 8 <= (slots * slot_size(KeyType::Int, KIND_CUSTOMER)) as i128 {
            return Insert::Grow(Plan {
                mode: MODE_BITMAP,
                capacity: words as usize,
                arena_cap: 0,
                dir_cap: 0,
                base: base as i64,
            });
        }
        Insert::Grow(hash)
    }

    fn track_min_max(&mut self, k: i64) {
        if rd_i64(self.b, 16) == 1 {
            wr_i64(self.b, 24, k);
            wr_i64(self.b, 32, k);
        } else {
            if k < rd_i64(self.b, 24) {
                wr_i64(self.b, 24, k);
            }
            if k > rd_i64(self.b, 32) {
                wr_i64(self.b, 32, k);
            }
        }
    }

    fn bitmap_insert(&mut self, k: i64) -> Insert {
        let g = self.g;
        let off = k as i128 - rd_i64(self.b, 56) as i128;
        if off < 0 || off >= g.capacity as i128 * 64 {
            return Insert::Grow(self.plan_bitmap_growth(k));
        }
        let off = off as usize;
        let at = g.body_at + (off / 64) * 8;
        let word = u64::from_le_bytes(self.b[at..at + 8].try_into().unwrap());
        let bit = 1u64 << (off % 64);
        if word & bit != 0 {
            return Insert::Present;
        }
        self.b[at..at + 8].copy_from_slice(&(word | bit).to_le_bytes());
        wr_i64(self.b, 16, rd_i64(self.b, 16).saturating_add(1));
        Insert::Added
    }

    /// A bitmap that must cover `k`: grows it (at least doubling) while it stays smaller than
    /// a hash table of the same keys would be; else moves to a hash table.
    fn plan_bitmap_growth(&self, k: i64) -> Plan {
        let g = &self.g;
        let count = rd_i64(self.b, 16).clamp(0, i64::MAX / 64) as usize;
        let base = rd_i64(self.b, 56) as i128;
        let end = base + g.capacity as i128 * 64;
        let lo = (base.min(k as i128)).div_euclid(64) * 64;
        let hi = end.max(k as i128 + 1);
        let needed = ((hi - lo + 63) / 64) as u128;
        let words = needed.max(2 * g.capacity as u128);
        let hash_bytes = hash_slots_for(count + 1) * slot_size(KeyType::Int, KIND_CUSTOMER);
        if !bitmap_is_worth_it(words, hash_bytes) {
            return Plan {
                mode: MODE_HASH,
                capacity: hash_slots_for(count + 1),
                arena_cap: 0,
                dir_cap: 0,
                base: 0,
            };
        }
        // grow towards the new key, keeping the base representable and [lo, hi) covered
        let words = words as usize;
        let new_base = if (k as i128) < base {
            (hi - words as i128 * 64)
                .max(i64::MIN as i128)
                .div_euclid(64)
                * 64
        } else {
            lo
        };
        Plan {
            mode: MODE_BITMAP,
            capacity: words.max(needed as usize),
            arena_cap: 0,
            dir_cap: 0,
            base: new_base.clamp(i64::MIN as i128, lo) as i64,
        }
    }

    /// Finds or inserts `key` (with segment id `seg`) in the hash table: one probe, which
    /// ends at the key or at the empty slot a new key takes.
    fn hash_insert(&mut self, seg: Option<u32>, key: &Key<'_>) -> Result<Insert, KpiError> {
        let g = self.g;
        let mut scratch = [0u8; 20];
        let fixed = key_bytes(seg, key, &mut scratch);
        let text = if let Key::Text(t) = key { *t } else { &[][..] };
        let var = is_var(g.key_type);
        let h = if var {
            hash_bytes(text) ^ mix64(seg.map_or(0, |s| s as u64 + 1))
        } else {
            hash_bytes(fixed)
        };
        let empty = if g.capacity == 0 {
            None
        } else {
            let b = &*self.b;
            match probe(b, g.body_at, g.capacity, g.slot, h, |s| {
                Ok(if var {
                    let stored = arena_entry(b, &g, rd_u32(b, s + 4) as usize)?;
                    stored.len() == fixed.len() + text.len()
                        && stored[..fixed.len()] == *fixed
                        && &stored[fixed.len()..] == text
                } else {
                    &b[s + 4..s + g.slot] == fixed
                })
            })? {
                Probe::Found(_) => return Ok(Insert::Present),
                Probe::Empty(s) => Some(s),
            }
        };
        // a new key: room in the table (and the arena)?
        let count = self.count()?;
        let entry = if var { 4 + fixed.len() + text.len() } else { 0 };
        let table_full = count.saturating_add(1).saturating_mul(LOAD_DEN) > g.capacity * LOAD_NUM;
        let arena_full = g.arena_used + entry > g.arena_cap;
        if table_full || arena_full {
            let mut plan = g.plan(self.b);
            if table_full {
                plan.capacity = hash_slots_for(count + 1);
                if let Some(bitmap) = self.denser_as_bitmap(key, plan.capacity) {
                    plan = bitmap;
                }
            }
            if arena_full {
                plan.arena_cap = grow_to(g.arena_cap, g.arena_used + entry);
            }
            return Ok(Insert::Grow(plan));
        }
        let s = empty.expect("a table with room has slots");
        wr_u32(self.b, s, tag_of(h));
        if var {
            let off = self.append_arena(&[fixed, text]);
            wr_u32(self.b, s + 4, off as u32);
        } else {
            self.b[s + 4..s + g.slot].copy_from_slice(fixed);
        }
        wr_i64(self.b, 16, count as i64 + 1);
        Ok(Insert::Added)
    }

    /// For dense integer customer keys, a bitmap over [min, max] (and `key`) when it is no
    /// larger than a hash table of `slots` slots.
    fn denser_as_bitmap(&self, key: &Key<'_>, slots: usize) -> Option<Plan> {
        let g = &self.g;
        let Key::Int(k) = key else { return None };
        if g.kind != KIND_CUSTOMER || rd_i64(self.b, 16) == 0 {
            return None;
        }
        let lo = (rd_i64(self.b, 24) as i128).min(*k as i128).div_euclid(64) * 64;
        let hi = (rd_i64(self.b, 32) as i128).max(*k as i128) + 1;
        let words = (hi - lo + 63) / 64;
        (words * 8 <= (slots * g.slot) as i128).then_some(Plan {
            mode: MODE_BITMAP,
            capacity: words as usize,
            arena_cap: 0,
            dir_cap: 0,
            base: lo as i64,
        })
    }

    /// The directory slot of segment `name`, adding the segment if new; a plan when there is
    /// no room for it.
    fn segment_slot(&mut self, name: &[u8]) -> Result<Result<usize, Plan>, KpiError> {
        let g = self.g;
        let d = match probe_dir(self.b, &g, name)? {
            Probe::Found(d) => return Ok(Ok(d)),
            Probe::Empty(d) => d,
        };
        let n = rd_u32(self.b, 4) as usize;
        let entry = 4 + name.len();
        let dir_full = (n + 1) * LOAD_DEN > g.dir_cap * LOAD_NUM;
        let arena_full = g.arena_used + entry > g.arena_cap;
        if dir_full || arena_full {
            let mut plan = g.plan(self.b);
            if dir_full {
                plan.dir_cap = g.dir_cap * 2;
            }
            if arena_full {
                plan.arena_cap = grow_to(g.arena_cap, g.arena_used + entry);
            }
            return Ok(Err(plan));
        }
        if n >= u32::MAX as usize / 2 {
            return Err(too_large());
        }
        let off = self.append_arena(&[name]);
        wr_u32(self.b, d, tag_of(hash_bytes(name)));
        wr_u32(self.b, d + 4, off as u32);
        wr_u32(self.b, d + 8, name.len() as u32);
        wr_u32(self.b, d + 12, n as u32);
        wr_i64(self.b, d + 16, 0);
        wr_i64(self.b, d + 24, 0);
        wr_u32(self.b, 4, n as u32 + 1);
        Ok(Ok(d))
    }

    fn add_to_dir(&mut self, d: usize, customers: i64, events: i64) -> Result<(), KpiError> {
        let c = rd_i64(self.b, d + 16).checked_add(customers);
        let e = rd_i64(self.b, d + 24).checked_add(events);
        let (Some(c), Some(e)) = (c, e) else {
            return Err(KpiError::overflow());
        };
        wr_i64(self.b, d + 16, c);
        wr_i64(self.b, d + 24, e);
        Ok(())
    }

    /// Counts a row of segment `name` with customer `key` and `events` events (segment rate).
    pub fn insert_segment_row(
        &mut self,
        name: &[u8],
        key: Key<'_>,
        events: i64,
    ) -> Result<Insert, KpiError> {
        if self.g.kind != KIND_SEGMENT {
            return Err(corrupt("not a segment state"));
        }
        if key.key_type() != self.g.key_type {
            return Err(wrong_key_type(self.g.key_type, key.key_type()));
        }
        let d = match self.segment_slot(name)? {
            Ok(d) => d,
            Err(plan) => return Ok(Insert::Grow(plan)),
        };
        let id = rd_u32(self.b, d + 12);
        let r = self.hash_insert(Some(id), &key)?;
        if !matches!(r, Insert::Grow(_)) {
            self.add_to_dir(d, (r == Insert::Added) as i64, events)?;
        }
        Ok(r)
    }

    /// Adds segment `name` if new (with no customers), and `events` to its events; its id,
    /// or a plan when there is no room for a new segment.
    pub fn add_segment_events(
        &mut self,
        name: &[u8],
        events: i64,
    ) -> Result<Result<u32, Plan>, KpiError> {
        let d = match self.segment_slot(name)? {
            Ok(d) => d,
            Err(plan) => return Ok(Err(plan)),
        };
        self.add_to_dir(d, 0, events)?;
        Ok(Ok(rd_u32(self.b, d + 12)))
    }
}

/// Whether a bitmap of `words` 64-bit words holds integer keys better than a hash table of
/// `hash_bytes`: at most twice its size, and within one PostgreSQL value.
fn bitmap_is_worth_it(words: u128, hash_bytes: usize) -> bool {
    words * 8 <= hash_bytes as u128 * 2 && words * 8 <= MAX_BYTES as u128
}

/// Hash slots for `n` keys at most 3/4 full.
fn hash_slots_for(n: usize) -> usize {
    let mut cap = MIN_SLOTS;
    while n.saturating_mul(LOAD_DEN) > cap.saturating_mul(LOAD_NUM) && cap < 1 << 40 {
        cap *= 2;
    }
    cap
}

fn grow_to(current: usize, needed: usize) -> usize {
    let mut cap = current.max(64);
    while cap < needed {
        cap *= 2;
    }
    cap
}

/// Bytes needed to lay out `old` by `plan`; an error when that exceeds a PostgreSQL value.
pub fn planned_len(old: &[u8], plan: &Plan) -> Result<usize, KpiError> {
    let g = geo(old)?;
    let len = plan.len(g.key_type, g.kind);
    if len > MAX_BYTES {
        return Err(too_large());
    }
    Ok(len)
}

/// Copies the state `old` into `new` (of [`planned_len`] bytes), laid out by `plan`.
pub fn rebuild(old: &[u8], plan: &Plan, new: &mut [u8]) -> Result<(), KpiError> {
    let v = View::new(old)?;
    let g = v.g;
    init(new, g.key_type, g.kind, plan);
    // header values that carry over: events, min and max (segments and count are re-counted;
    // a list has no min and max, which are tracked as its keys move)
    new[8..16].copy_from_slice(&old[8..16]);
    let track = g.mode == MODE_LIST && plan.mode != MODE_LIST;
    if g.mode != MODE_LIST && plan.mode != MODE_LIST {
        new[24..40].copy_from_slice(&old[24..40]);
    }
    let mut t = Table::new(new)?;
    if g.kind == KIND_SEGMENT {
        // segments first, in id order, so their ids stay the same
        for (id, name, customers, events) in v.segments()? {
            let d = match t.segment_slot(name)? {
                Ok(d) if rd_u32(t.b, d + 12) == id => d,
                _ => return Err(corrupt("segment directory")),
            };
            t.add_to_dir(d, customers, events)?;
        }
    }
    let kt = g.key_type;
    v.for_each_key(&mut || {}, &mut |seg, bytes| {
        let key = key_from_bytes(kt, bytes)?;
        let r = match key {
            _ if t.g.mode == MODE_LIST => t.list_insert(&key),
            Key::Int(k) if t.g.mode == MODE_BITMAP => t.bitmap_insert(k),
            _ => t.hash_insert(seg, &key)?,
        };
        if let (true, Insert::Added, Key::Int(k)) = (track, r, key) {
            t.track_min_max(k);
        }
        match r {
            Insert::Added => Ok(()),
            Insert::Present => Err(corrupt("duplicate key")),
            Insert::Grow(_) => Err(corrupt("rebuild plan too small")),
        }
    })?;
    if v.count() != t.view().count() {
        return Err(corrupt("key count disagrees with its keys"));
    }
    Ok(())
}

/// A key from the bytes [`View::for_each_key`] gives.
pub fn key_from_bytes(kt: KeyType, bytes: &[u8]) -> Result<Key<'_>, KpiError> {
    Ok(match kt {
        KeyType::Int => Key::Int(i64::from_le_bytes(
            bytes.try_into().map_err(|_| corrupt("integer key"))?,
        )),
        KeyType::Uuid => Key::Uuid(bytes.try_into().map_err(|_| corrupt("uuid key"))?),
        KeyType::Text => Key::Text(bytes),
    })
}

/// Checks a whole version-2 state: its layout, every key and segment, and that its counts
/// agree with them. O(size); for states that did not come from this process (storage, the
/// network).
pub fn validate(b: &[u8]) -> Result<(), KpiError> {
    let v = View::new(b)?;
    if v.count() < 0 || v.events() < 0 {
        return Err(corrupt("negative count"));
    }
    // a fresh layout of the same capacity must take every key without growing, and must end
    // up with the same count; duplicates and dangling offsets fail on the way
    let mut copy = vec![0u8; b.len()];
    rebuild(b, &v.g.plan(b), &mut copy)?;
    if v.is_segment() {
        let segments = v.segments()?;
        let mut per = vec![0i64; segments.len()];
        v.for_each_key(&mut || {}, &mut |seg, _| {
            let s = seg.ok_or_else(|| corrupt("pair without segment"))? as usize;
            *per.get_mut(s)
                .ok_or_else(|| corrupt("unknown segment id"))? += 1;
            Ok(())
        })?;
        for (id, _, customers, events) in segments {
            if per[id as usize] != customers || customers < 0 || events < 0 {
                return Err(corrupt("segment counts disagree with its keys"));
            }
            if customers == 0 && events > 0 {
                return Err(corrupt("events without customers"));
            }
        }
    } else if v.count() == 0 && v.events() > 0 {
        return Err(corrupt("events without customers"));
    }
    Ok(())
}

/// A growable version-2 state in a `Vec`, for tests and for code outside PostgreSQL: the
/// same grow-and-rebuild loop the extension runs on palloc'd buffers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedState(pub Vec<u8>);

impl OwnedState {
    pub fn customer(kt: KeyType) -> Self {
        let mut b = vec![0u8; initial_len_customer(kt)];
        init_customer(&mut b, kt);
        OwnedState(b)
    }

    /// An empty customer state laid out for `count` distinct keys (integer keys within
    /// `range`, text keys of `text_bytes` bytes in all): the layout inserting them one by one
    /// would reach (a bitmap where it is at most twice a hash table's size, as growing
    /// decides), without the rebuilds on the way.
    pub fn customer_sized(
        kt: KeyType,
        count: usize,
        range: Option<(i64, i64)>,
        text_bytes: usize,
    ) -> Result<Self, KpiError> {
        let mut plan = initial_plan(kt, KIND_CUSTOMER);
        if plan.mode == MODE_LIST && count <= plan.capacity {
            let mut b = vec![0u8; plan.len(kt, KIND_CUSTOMER)];
            init(&mut b, kt, KIND_CUSTOMER, &plan);
            return Ok(OwnedState(b));
        }
        plan.mode = MODE_HASH;
        let slots = hash_slots_for(count);
        plan.capacity = slots;
        if let (KeyType::Int, Some((lo, hi))) = (kt, range) {
            let base = (lo as i128).div_euclid(64) * 64;
            let words = (hi as i128 - base) / 64 + 1;
            if bitmap_is_worth_it(words as u128, slots * slot_size(kt, KIND_CUSTOMER)) {
                plan.mode = MODE_BITMAP;
                plan.capacity = words as usize;
                plan.base = base as i64;
            }
        }
        if is_var(kt) {
            plan.arena_cap = text_bytes
                .saturating_add(count.saturating_mul(4))
                .max(plan.arena_cap);
        }
        let len = plan.len(kt, KIND_CUSTOMER);
        if len > MAX_BYTES || plan.arena_cap > u32::MAX as usize {
            return Err(too_large());
        }
        let mut b = vec![0u8; len];
        init(&mut b, kt, KIND_CUSTOMER, &plan);
        Ok(OwnedState(b))
    }

    /// Inserts many customer keys; returns how many were new. In a hash table the keys go in
    /// the order of their home slots, so that the table is written front to back instead of
    /// at random: for a million keys that is the difference between a cache miss per key and
    /// none.
    pub fn insert_customers(&mut self, keys: &mut [Key<'_>]) -> Result<usize, KpiError> {
        let g = geo(&self.0)?;
        if g.mode == MODE_HASH && g.capacity > 0 {
            let mask = g.capacity as u64 - 1;
            keys.sort_by_cached_key(|k| customer_hash(k) & mask);
        }
        let mut added = 0;
        for key in keys.iter() {
            added += self.insert_customer(*key)? as usize;
        }
        Ok(added)
    }

    pub fn segment(kt: KeyType) -> Self {
        let mut b = vec![0u8; initial_len_segment(kt)];
        init_segment(&mut b, kt);
        OwnedState(b)
    }

    pub fn view(&self) -> View<'_> {
        View::new(&self.0).expect("a state built here is well-formed")
    }

    fn grow(&mut self, plan: &Plan) -> Result<(), KpiError> {
        let mut new = vec![0u8; planned_len(&self.0, plan)?];
        rebuild(&self.0, plan, &mut new)?;
        self.0 = new;
        Ok(())
    }

    pub fn insert_customer(&mut self, key: Key<'_>) -> Result<bool, KpiError> {
        loop {
            match Table::new(&mut self.0)?.insert_customer(key)? {
                Insert::Added => return Ok(true),
                Insert::Present => return Ok(false),
                Insert::Grow(plan) => self.grow(&plan)?,
            }
        }
    }

    pub fn add_events(&mut self, n: i64) -> Result<(), KpiError> {
        Table::new(&mut self.0)?.add_events(n)
    }

    pub fn insert_segment_row(
        &mut self,
        name: &[u8],
        key: Key<'_>,
        events: i64,
    ) -> Result<bool, KpiError> {
        loop {
            match Table::new(&mut self.0)?.insert_segment_row(name, key, events)? {
                Insert::Added => return Ok(true),
                Insert::Present => return Ok(false),
                Insert::Grow(plan) => self.grow(&plan)?,
            }
        }
    }

    pub fn add_segment_events(&mut self, name: &[u8], events: i64) -> Result<u32, KpiError> {
        loop {
            match Table::new(&mut self.0)?.add_segment_events(name, events)? {
                Ok(id) => return Ok(id),
                Err(plan) => self.grow(&plan)?,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn ints(state: &OwnedState) -> Vec<i64> {
        let mut out = Vec::new();
        state
            .view()
            .for_each_key(&mut || {}, &mut |_, b| {
                out.push(i64::from_le_bytes(b.try_into().unwrap()));
                Ok(())
            })
            .unwrap();
        out.sort();
        out
    }

    #[test]
    fn dense_integer_keys_move_to_a_bitmap_and_stay_small() {
        let mut s = OwnedState::customer(KeyType::Int);
        for k in 1..=1_000_000i64 {
            s.insert_customer(Key::Int(k)).unwrap();
            s.insert_customer(Key::Int(k)).unwrap();
        }
        assert_eq!(s.view().count(), 1_000_000);
        assert_eq!(s.0[3], MODE_BITMAP);
        assert!(s.0.len() < 300_000, "{} bytes", s.0.len());
        assert_eq!(ints(&s), (1..=1_000_000).collect::<Vec<_>>());
        validate(&s.0).unwrap();
    }

    #[test]
    fn scattered_keys_stay_in_a_hash_table_and_count_exactly() {
        let mut s = OwnedState::customer(KeyType::Int);
        let mut reference = HashSet::new();
        let mut x: u64 = 12345;
        for _ in 0..200_000 {
            x = mix64(x);
            let k = (x % 50_000) as i64 * 1_000_003 - (1 << 40);
            assert_eq!(s.insert_customer(Key::Int(k)).unwrap(), reference.insert(k));
        }
        assert_eq!(s.view().count() as usize, reference.len());
        let mut want: Vec<i64> = reference.into_iter().collect();
        want.sort();
        assert_eq!(ints(&s), want);
        assert_eq!(s.0[3], MODE_HASH);
        validate(&s.0).unwrap();
    }

    #[test]
    fn bitmap_leaves_for_a_hash_table_when_keys_scatter_and_extremes_work() {
        let mut s = OwnedState::customer(KeyType::Int);
        for k in 0..1000 {
            s.insert_customer(Key::Int(k)).unwrap();
        }
        assert_eq!(s.0[3], MODE_BITMAP);
        for k in [i64::MIN, i64::MAX, -1, 1 << 50, i64::MIN + 1, i64::MAX - 1] {
            assert!(s.insert_customer(Key::Int(k)).unwrap());
        }
        assert_eq!(s.0[3], MODE_HASH);
        assert_eq!(s.view().count(), 1006);
        let mut t = OwnedState::customer(KeyType::Int);
        for k in (i64::MAX - 500..=i64::MAX).rev() {
            t.insert_customer(Key::Int(k)).unwrap();
        }
        for k in (i64::MIN..i64::MIN + 500).rev() {
            t.insert_customer(Key::Int(k)).unwrap();
        }
        assert_eq!(t.view().count(), 1001);
        validate(&t.0).unwrap();
    }

    #[test]
    fn a_sized_state_filled_in_bulk_holds_what_one_grown_key_by_key_holds() {
        let dense: Vec<i64> = (0..5000).map(|i| 1_000_000 + i * 3).collect();
        let scattered: Vec<i64> = (0..5000).map(|i| (i * 7919) ^ (i << 40)).collect();
        let texts: Vec<String> = (0..3000).map(|i| format!("customer-{i}")).collect();
        let cases: Vec<(KeyType, Vec<Key<'_>>)> = vec![
            (KeyType::Int, dense.iter().map(|k| Key::Int(*k)).collect()),
            (
                KeyType::Int,
                scattered.iter().map(|k| Key::Int(*k)).collect(),
            ),
            (
                KeyType::Uuid,
                (0..3000u128)
                    .map(|k| Key::Uuid((k * 0x9e37_79b9).to_be_bytes()))
                    .collect(),
            ),
            (
                KeyType::Text,
                texts.iter().map(|t| Key::Text(t.as_bytes())).collect(),
            ),
        ];
        for (kt, keys) in cases {
            let mut grown = OwnedState::customer(kt);
            for k in &keys {
                assert!(grown.insert_customer(*k).unwrap());
            }
            let range = match kt {
                KeyType::Int => Some((
                    keys.iter()
                        .map(|k| if let Key::Int(i) = k { *i } else { 0 })
                        .min()
                        .unwrap(),
                    keys.iter()
                        .map(|k| if let Key::Int(i) = k { *i } else { 0 })
                        .max()
                        .unwrap(),
                )),
                _ => None,
            };
            let text_bytes = keys
                .iter()
                .map(|k| if let Key::Text(t) = k { t.len() } else { 0 })
                .sum();
            let mut sized = OwnedState::customer_sized(kt, keys.len(), range, text_bytes).unwrap();
            let before = sized.0.len();
            let mut bulk = keys.clone();
            assert_eq!(sized.insert_customers(&mut bulk).unwrap(), keys.len());
            assert_eq!(sized.0.len(), before, "{kt:?}: the sized state grew");
            validate(&sized.0).unwrap();
            let collect = |s: &OwnedState| {
                let mut all = Vec::new();
                s.view()
                    .for_each_key(&mut || {}, &mut |_, b| {
                        all.push(b.to_vec());
                        Ok(())
                    })
                    .unwrap();
                all.sort();
                all
            };
            assert_eq!(collect(&sized), collect(&grown), "{kt:?}");
            assert_eq!(sized.view().count(), keys.len() as i64);
            // inserting them again adds nothing
            assert_eq!(sized.insert_customers(&mut bulk).unwrap(), 0);
        }
    }

    #[test]
    fn text_and_uuid_keys() {
        let mut s = OwnedState::customer(KeyType::Text);
        for i in 0..10_000 {
            let k = format!("customer-{}", i % 3000);
            s.insert_customer(Key::Text(k.as_bytes())).unwrap();
        }
        s.insert_customer(Key::Text(b"")).unwrap();
        assert_eq!(s.view().count(), 3001);
        validate(&s.0).unwrap();
        let mut u = OwnedState::customer(KeyType::Uuid);
        for i in 0..5000u128 {
            u.insert_customer(Key::Uuid((i % 777).to_be_bytes()))
                .unwrap();
        }
        assert_eq!(u.view().count(), 777);
        let err = u.insert_customer(Key::Int(1)).unwrap_err();
        assert_eq!(err.kind, KpiErrorKind::Mismatch);
    }

    #[test]
    fn segments_count_customers_per_segment() {
        for kt in [KeyType::Int, KeyType::Uuid, KeyType::Text] {
            let mut s = OwnedState::segment(kt);
            let mut reference: std::collections::HashMap<String, (HashSet<u64>, i64)> =
                Default::default();
            let mut x = 7u64;
            for _ in 0..20_000 {
                x = mix64(x);
                let seg = format!("segment {}", x % 37);
                let c = (x >> 20) % 900;
                let e = (x >> 40) % 2;
                let tb = c.to_string();
                let key = match kt {
                    KeyType::Int => Key::Int(c as i64),
                    KeyType::Uuid => Key::Uuid((c as u128).to_be_bytes()),
                    KeyType::Text => Key::Text(tb.as_bytes()),
                };
                s.insert_segment_row(seg.as_bytes(), key, e as i64).unwrap();
                let r = reference.entry(seg).or_default();
                r.0.insert(c);
                r.1 += e as i64;
            }
            let segs = s.view().segments().unwrap();
            assert_eq!(segs.len(), reference.len());
            for (_, name, customers, events) in segs {
                let r = &reference[std::str::from_utf8(name).unwrap()];
                assert_eq!((customers, events), (r.0.len() as i64, r.1));
            }
            validate(&s.0).unwrap();
        }
    }

    #[test]
    fn a_few_integer_or_uuid_keys_stay_in_a_list_of_one_64_byte_value() {
        // integer keys: room for five in 56 bytes (60 with the varlena header)
        let mut s = OwnedState::customer(KeyType::Int);
        assert_eq!((s.0.len(), s.0[3]), (56, MODE_LIST));
        for k in [42, -7, 42, i64::MAX, i64::MIN, -7, 0] {
            s.insert_customer(Key::Int(k)).unwrap();
        }
        s.add_events(9).unwrap();
        assert_eq!((s.view().count(), s.view().events()), (5, 9));
        assert_eq!(ints(&s), vec![i64::MIN, -7, 0, 42, i64::MAX]);
        assert_eq!((s.0.len(), s.0[3]), (56, MODE_LIST));
        validate(&s.0).unwrap();
        // a sixth scattered key moves them to a hash table, events and min and max kept
        assert!(s.insert_customer(Key::Int(1 << 40)).unwrap());
        assert_eq!(s.0[3], MODE_HASH);
        assert_eq!((s.view().count(), s.view().events()), (6, 9));
        assert_eq!(ints(&s), vec![i64::MIN, -7, 0, 42, 1 << 40, i64::MAX]);
        assert_eq!((rd_i64(&s.0, 24), rd_i64(&s.0, 32)), (i64::MIN, i64::MAX));
        validate(&s.0).unwrap();
        // dense keys move to a bitmap
        let mut d = OwnedState::customer(KeyType::Int);
        for k in 1000..1006 {
            assert!(d.insert_customer(Key::Int(k)).unwrap());
        }
        assert_eq!(d.0[3], MODE_BITMAP);
        assert_eq!(ints(&d), (1000..1006).collect::<Vec<_>>());
        for k in 1006..1100 {
            d.insert_customer(Key::Int(k)).unwrap();
        }
        assert_eq!(ints(&d), (1000..1100).collect::<Vec<_>>());
        validate(&d.0).unwrap();
        // uuid keys: room for two in 48 bytes
        let mut u = OwnedState::customer(KeyType::Uuid);
        assert_eq!((u.0.len(), u.0[3]), (48, MODE_LIST));
        u.insert_customer(Key::Uuid([1; 16])).unwrap();
        u.insert_customer(Key::Uuid([1; 16])).unwrap();
        u.insert_customer(Key::Uuid([2; 16])).unwrap();
        assert_eq!((u.view().count(), u.0[3]), (2, MODE_LIST));
        u.insert_customer(Key::Uuid([3; 16])).unwrap();
        assert_eq!((u.view().count(), u.0[3]), (3, MODE_HASH));
        validate(&u.0).unwrap();
        // text keys and segment states never use it
        assert_eq!(OwnedState::customer(KeyType::Text).0[3], MODE_HASH);
        assert_eq!(OwnedState::segment(KeyType::Int).0[3], MODE_HASH);
        // a wrong key type is refused as in the other modes
        let e = OwnedState::customer(KeyType::Int)
            .insert_customer(Key::Text(b"a"))
            .unwrap_err();
        assert_eq!(e.kind, KpiErrorKind::Mismatch);
        // a state sized for a few keys is a list; for more, a hash table or bitmap
        let small = OwnedState::customer_sized(KeyType::Int, 5, Some((1, 1 << 50)), 0).unwrap();
        assert_eq!(small.0[3], MODE_LIST);
        let big = OwnedState::customer_sized(KeyType::Int, 6, Some((1, 1 << 50)), 0).unwrap();
        assert_eq!(big.0[3], MODE_HASH);
    }

    #[test]
    fn inconsistent_lists_are_refused() {
        let mut s = OwnedState::customer(KeyType::Int);
        s.insert_customer(Key::Int(5)).unwrap();
        s.insert_customer(Key::Int(6)).unwrap();
        s.add_events(1).unwrap();
        validate(&s.0).unwrap();
        let refused = |b: &[u8], what: &str| {
            let e = validate(b).unwrap_err();
            assert!(e.message.contains(what), "{}: {}", what, e.message);
        };
        // a key twice
        let mut b = s.0.clone();
        b[24..32].copy_from_slice(&5i64.to_le_bytes());
        refused(&b, "duplicate key");
        // more keys than room
        let mut b = s.0.clone();
        wr_u32(&mut b, 4, 6);
        refused(&b, "more keys than room");
        // a length that is no whole number of keys, none, or more than LIST_MAX
        refused(&s.0[..55], "sizes disagree");
        refused(&s.0[..16], "sizes disagree");
        refused(&s.0[..15], "bad header");
        let mut long = s.0.clone();
        long.resize(LIST_HEADER + 8 * (LIST_MAX + 1), 0);
        refused(&long, "sizes disagree");
        long.truncate(LIST_HEADER + 8 * LIST_MAX);
        validate(&long).unwrap();
        // text keys, or a segment state, in list mode
        let mut b = s.0.clone();
        b[1] = KeyType::Text.tag();
        refused(&b, "bad kind or mode");
        let mut b = s.0.clone();
        b[2] = KIND_SEGMENT;
        refused(&b, "bad kind or mode");
        // events without customers
        let mut b = s.0.clone();
        wr_u32(&mut b, 4, 0);
        refused(&b, "events without customers");
    }

    #[test]
    fn corrupt_buffers_fail_cleanly() {
        let mut s = OwnedState::segment(KeyType::Text);
        s.insert_segment_row(b"a", Key::Text(b"x"), 1).unwrap();
        s.insert_segment_row(b"b", Key::Text(b"y"), 0).unwrap();
        let mut small = OwnedState::customer(KeyType::Uuid);
        small.insert_customer(Key::Uuid([7; 16])).unwrap();
        let mut x = 99u64;
        for i in 0..40_000 {
            let good = if i % 2 == 0 { &s.0 } else { &small.0 };
            let mut b = good.clone();
            x = mix64(x + i);
            let at = (x as usize) % b.len();
            b[at] ^= 1 << ((x >> 32) % 8);
            if x.is_multiple_of(7) {
                b.truncate((x >> 8) as usize % b.len());
            }
            // must not panic
            let _ = validate(&b);
        }
    }
}

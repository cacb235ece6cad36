//! State of the time KPIs' percentiles (`duration_sketch`): the exact counts and sum of
//! `Durations` (so a sketch answers the averages exactly too), the smallest and largest span,
//! and a quantile sketch of the spans with a guaranteed relative error, in the manner of
//! DDSketch (Masson, Rim & Lee, VLDB 2019).
//!
//! A span of `x` microseconds (x > 0) is counted in bucket `i = ceil(log_g(x))`, with
//! `g = (1 + a) / (1 - a)` and `a` = 1%, and a bucket answers with `2 g^i / (g + 1)`, within
//! a fraction `a` of every span it holds. Spans of zero have a counter of their own. Merging
//! adds counts bucket by bucket, so the sketch of a union is exactly the merge of its parts'
//! sketches: daily sketches roll up to the month's, in any order, on any server.
//!
//! A percentile is answered like `percentile_disc`: the span of 1-based rank `ceil(q n)` in
//! sorted order, within the relative error (and to the microsecond). Ranks 1 and `n` are the
//! smallest and largest span, exactly.
//!
//! The state is one flat byte string, the payload of the SQL value, in little-endian byte order,
//! in one of two layouts (its first byte says which):
//! - **sparse** (format byte 2): the non-empty buckets as sorted `(index, count)` entries of
//!   8 bytes, with spare entries to grow into. A group of a few cases takes 124 bytes (one
//!   128-byte allocation), so a million groups fit where a million small values fit.
//! - **dense** (format byte 1, the only layout of 0.5.0, still read): a window of buckets
//!   from the lowest to the highest seen, in steps of 32, each an 8-byte count: about 4.3 kB
//!   for spans from a minute to a month, 17.5 kB at most.
//!
//! A sketch starts sparse and turns dense when its sparse entries would take as much room as
//! the dense window, so it is never larger than the dense layout. `add_span` and
//! `merge_into` update it in place while it has room and return a larger copy otherwise.
//!
//! Its text and binary forms (`to_text`, `to_bytes`) hold only the non-empty buckets, so
//! they are the same whatever the layout. What a value can hold is checked by one rule
//! (`View::checked`), used by every input path: text, binary, and values read from disk.

use crate::codec::{filled_payload, put_i64, put_u8, Reader};
use crate::durations::Durations;
use crate::error::{checked_sum, interval_out_of_range, KpiError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The guaranteed relative error.
pub const RELATIVE_ACCURACY: f64 = 0.01;
/// The format byte of the binary form (unchanged since 0.5.0).
pub const BINARY_FORMAT: u8 = 1;
/// The format byte of the dense flat layout (0.5.0's).
pub const DENSE_LAYOUT: u8 = 1;
/// The format byte of the sparse flat layout.
pub const SPARSE_LAYOUT: u8 = 2;
/// The bucket of the longest span, `i64::MAX` microseconds.
pub const MAX_BUCKET: u16 = 2184;
/// Dense windows grow in steps of this many buckets, so a state is rebuilt at most a few
/// dozen times.
const STEP: u16 = 32;

// Flat layout: offsets in the payload.
const FORMAT: usize = 0; // u8: DENSE_LAYOUT or SPARSE_LAYOUT
const LO: usize = 2; // u16: dense: first bucket of the window; sparse: entries in use
const LEN: usize = 4; // u32: dense: buckets in the window; sparse: entries allocated
const COMPLETED: usize = 8; // i64
const PENDING: usize = 16; // i64
const SUM_HI: usize = 24; // i64
const SUM_LO: usize = 32; // u64
const ZEROS: usize = 40; // u64: spans of zero
const MIN: usize = 48; // i64: smallest span (0 when there is none)
const MAX: usize = 56; // i64: largest span
/// Bytes before the counts.
pub const HEADER: usize = 64;
/// Bytes of one count (dense) or one entry (sparse: u16 index, u16 zero, u32 count).
const SLOT: usize = 8;

fn gamma() -> f64 {
    (1.0 + RELATIVE_ACCURACY) / (1.0 - RELATIVE_ACCURACY)
}

/// The bucket of a positive span in microseconds: `g^(i-1) < us <= g^i`.
pub fn bucket_of(us: i64) -> u16 {
    debug_assert!(us > 0);
    let g = gamma();
    let x = us as f64;
    let mut i = (x.ln() / g.ln()).ceil() as i32;
    // the floating-point edge: move to the bucket whose bounds hold x
    while i > 0 && g.powi(i - 1) >= x {
        i -= 1;
    }
    while g.powi(i) < x {
        i += 1;
    }
    i.clamp(0, MAX_BUCKET as i32) as u16
}

/// The span a bucket answers with, in microseconds: within the relative error of every span
/// it holds.
pub fn bucket_value(i: u16) -> f64 {
    let g = gamma();
    2.0 * g.powi(i as i32) / (g + 1.0)
}

/// The smallest and largest whole span of each bucket (`lo > hi` for the low buckets that
/// hold no whole microsecond), as `bucket_of` places them.
fn bucket_bounds() -> &'static [(i64, i64)] {
    static BOUNDS: OnceLock<Vec<(i64, i64)>> = OnceLock::new();
    BOUNDS.get_or_init(|| {
        let mut out = Vec::with_capacity(MAX_BUCKET as usize + 1);
        let mut next = 1i64; // the smallest span not yet placed
        for i in 0..=MAX_BUCKET {
            if bucket_of(next) != i {
                out.push((1, 0)); // no whole span in this bucket
                continue;
            }
            let lo = next;
            // the largest x with bucket_of(x) == i: from the float bound, then exactly
            let g = gamma();
            let mut hi =
                (g.powi(i as i32).floor() as i128).clamp(lo as i128, i64::MAX as i128) as i64;
            while hi > lo && bucket_of(hi) > i {
                hi -= 1;
            }
            while hi < i64::MAX && bucket_of(hi + 1) == i {
                hi += 1;
            }
            out.push((lo, hi));
            next = hi.saturating_add(1);
        }
        out
    })
}

fn read_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}
fn read_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn read_i64(b: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}
fn read_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}
fn write_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
fn write_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
fn write_i64(b: &mut [u8], at: usize, v: i64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}
fn write_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn corrupt(what: &str) -> KpiError {
    crate::error::corrupt_value("duration_sketch", what)
}

/// A read-only view of a flat state. `View::new` checks the layout (cheap, run on every
/// row); `View::checked` also checks that the value is one the aggregate can produce.
#[derive(Clone, Copy)]
pub struct View<'a> {
    b: &'a [u8],
}

impl<'a> View<'a> {
    /// Checks the layout: format byte, entries or window within their bounds, the length,
    /// and the counts.
    pub fn new(b: &'a [u8]) -> Result<Self, KpiError> {
        if b.len() < HEADER {
            return Err(corrupt("too short"));
        }
        match b[FORMAT] {
            DENSE_LAYOUT => {
                let (lo, len) = (read_u16(b, LO) as usize, read_u32(b, LEN) as usize);
                if lo + len > MAX_BUCKET as usize + 1 || b.len() != HEADER + SLOT * len {
                    return Err(corrupt("bucket window does not match its length"));
                }
            }
            SPARSE_LAYOUT => {
                let (used, cap) = (read_u16(b, LO) as usize, read_u32(b, LEN) as usize);
                if used > cap || cap > MAX_BUCKET as usize + 1 || b.len() != HEADER + SLOT * cap
                {
                    return Err(corrupt("bucket entries do not match their length"));
                }
            }
            other => {
                return Err(KpiError::invalid_binary(format!(
                    "duration_sketch value has format {other}, this build reads formats {DENSE_LAYOUT} and {SPARSE_LAYOUT}"
                ))
                .with_hint("It was made by a later support_kpi; update the extension to read it."))
            }
        }
        let v = View { b };
        v.read_durations().map_err(|e| corrupt(&e.message))?;
        Ok(v)
    }

    /// A view of a value from outside the aggregate being computed (text or binary input, a
    /// stored value, an accessor's argument): the layout and every rule of [`View::check`].
    pub fn checked(b: &'a [u8]) -> Result<Self, KpiError> {
        let v = View::new(b)?;
        v.check_parts().map_err(|what| {
            KpiError::invalid_binary(format!("invalid duration_sketch value: {what}"))
                .with_hint("The value was not made by support_kpi, or was damaged.")
        })?;
        Ok(v)
    }

    fn read_durations(&self) -> Result<Durations, KpiError> {
        let sum = ((read_i64(self.b, SUM_HI) as i128) << 64) | read_u64(self.b, SUM_LO) as i128;
        Durations::from_parts(read_i64(self.b, COMPLETED), read_i64(self.b, PENDING), sum)
    }

    /// The exact counts and sum (checked by `View::new`).
    pub fn durations(&self) -> Durations {
        self.read_durations().expect("checked by View::new")
    }
    pub fn completed(&self) -> i64 {
        read_i64(self.b, COMPLETED)
    }
    pub fn pending(&self) -> i64 {
        read_i64(self.b, PENDING)
    }
    pub fn zeros(&self) -> u64 {
        read_u64(self.b, ZEROS)
    }
    pub fn min(&self) -> i64 {
        read_i64(self.b, MIN)
    }
    pub fn max(&self) -> i64 {
        read_i64(self.b, MAX)
    }
    pub fn is_empty(&self) -> bool {
        self.completed() == 0
    }
    /// Whether the value has the sparse layout.
    pub fn is_sparse(&self) -> bool {
        self.b[FORMAT] == SPARSE_LAYOUT
    }
    /// Dense: the window `(lo, len)`; sparse: `(entries in use, entries allocated)`.
    fn slots(&self) -> (usize, usize) {
        (
            read_u16(self.b, LO) as usize,
            read_u32(self.b, LEN) as usize,
        )
    }
    /// The sparse entry `k`: (bucket, count).
    fn entry(&self, k: usize) -> (u16, u64) {
        let at = HEADER + SLOT * k;
        (read_u16(self.b, at), read_u32(self.b, at + 4) as u64)
    }
    /// The non-empty buckets, lowest first (in a checked value; as stored otherwise).
    pub fn buckets(&self) -> Buckets<'a> {
        Buckets { v: *self, k: 0 }
    }
    pub fn bytes(&self) -> &'a [u8] {
        self.b
    }

    /// The `q` percentile (0 <= q <= 1) in microseconds, like `percentile_disc(q)`; `None`
    /// without completed spans.
    pub fn percentile(&self, q: f64) -> Option<i64> {
        let n = self.completed() as u64;
        if n == 0 {
            return None;
        }
        // percentile_disc: the first row whose 1-based position reaches q n
        let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
        if rank == 1 {
            return Some(self.min());
        }
        if rank == n {
            return Some(self.max());
        }
        if rank <= self.zeros() {
            return Some(0);
        }
        let mut seen = self.zeros();
        for (i, c) in self.buckets() {
            seen = seen.saturating_add(c);
            if rank <= seen {
                let v = bucket_value(i).round() as i64;
                return Some(v.max(self.min()).min(self.max()));
            }
        }
        Some(self.max())
    }

    /// What a sketch the aggregate made always holds: buckets in order, each with spans it
    /// can hold; buckets and zeros adding up to the completed cases; the smallest and largest
    /// span in the lowest and highest bucket (or the zeros); and a sum that spans within
    /// those buckets and extremes can add up to.
    fn check_parts(&self) -> Result<(), String> {
        let bounds = bucket_bounds();
        let n = self.completed() as u128;
        let (min, max, zeros) = (self.min(), self.max(), self.zeros());
        let mut total = zeros as u128;
        let (mut first, mut last): (Option<u16>, Option<u16>) = (None, None);
        // the least and most the spans can add up to, each within its bucket and [min, max]
        let (mut least, mut most) = (0i128, 0i128);
        for (i, c) in self.buckets() {
            if c == 0 {
                return Err(format!("bucket {i} has a count of 0"));
            }
            if last.is_some_and(|l| i <= l) || i > MAX_BUCKET {
                return Err("buckets out of order".into());
            }
            let (lo, hi) = bounds[i as usize];
            if lo > hi {
                return Err(format!("bucket {i} holds no whole microsecond"));
            }
            total += c as u128;
            first.get_or_insert(i);
            last = Some(i);
            least = least.saturating_add((c as i128).saturating_mul(lo.max(min) as i128));
            most = most.saturating_add((c as i128).saturating_mul(hi.min(max) as i128));
        }
        if total != n {
            return Err(format!(
                "{total} spans in the buckets and zeros, {n} completed"
            ));
        }
        if n == 0 {
            return if min == 0 && max == 0 {
                Ok(())
            } else {
                Err("smallest or largest span without completed cases".into())
            };
        }
        let lowest_ok = if zeros > 0 {
            min == 0
        } else {
            min > 0 && Some(bucket_of(min)) == first
        };
        let highest_ok = match last {
            None => max == 0,
            Some(i) => max > 0 && bucket_of(max) == i,
        };
        if !lowest_ok || !highest_ok || min > max || (n == 1 && min != max) {
            return Err(format!(
                "smallest span {min} or largest {max} (microseconds) is not in its bucket"
            ));
        }
        // one span is exactly the largest and one exactly the smallest (for one span, the
        // same: then least = max and most = min, checked equal above)
        let top = last.map_or(0, |i| bounds[i as usize].0.max(min));
        let bottom = if zeros > 0 {
            0
        } else {
            first.map_or(0, |i| bounds[i as usize].1.min(max))
        };
        least += (max - top) as i128;
        most -= (bottom - min) as i128;
        let sum = self.durations().sum();
        if sum < least || sum > most {
            return Err(format!(
                "sum {sum} is not one the spans of its buckets can add up to ({least} to {most} microseconds)"
            ));
        }
        Ok(())
    }
}

/// The non-empty buckets of a state, as `(bucket, count)`, lowest first.
pub struct Buckets<'a> {
    v: View<'a>,
    k: usize,
}

impl Iterator for Buckets<'_> {
    type Item = (u16, u64);
    fn next(&mut self) -> Option<(u16, u64)> {
        let (a, n) = self.v.slots();
        if self.v.is_sparse() {
            (self.k < a).then(|| {
                self.k += 1;
                self.v.entry(self.k - 1)
            })
        } else {
            while self.k < n {
                let c = read_u64(self.v.b, HEADER + SLOT * self.k);
                self.k += 1;
                if c > 0 {
                    return Some(((a + self.k - 1) as u16, c));
                }
            }
            None
        }
    }
}

/// A new flat state without spans: sparse, with room for 7 buckets (one 128-byte
/// allocation), so that an aggregate's initial value takes a group's first spans in place.
pub fn empty() -> Vec<u8> {
    sparse_with(next_capacity(0))
}

fn sparse_with(cap: usize) -> Vec<u8> {
    let mut b = vec![0u8; HEADER + SLOT * cap];
    b[FORMAT] = SPARSE_LAYOUT;
    write_u32(&mut b, LEN, cap as u32);
    b
}

/// The entries of the next sparse size: the most that fit the next power-of-two allocation
/// (PostgreSQL's allocator rounds small requests up to one), at least 7.
fn next_capacity(cap: usize) -> usize {
    (filled_payload(HEADER + SLOT * (cap + 1)) - HEADER) / SLOT
}

/// The dense window `[lo, hi)` that holds buckets `first..=last`, in steps of `STEP`.
fn window(first: u16, last: u16) -> (u16, u16) {
    let lo = first / STEP * STEP;
    let hi = ((last + 1).div_ceil(STEP) * STEP).min(MAX_BUCKET + 1);
    (lo, hi)
}

/// A state with `v`'s counts, sum and extremes and the given buckets (sorted, non-empty), in
/// the layout that takes less room: sparse with room for `cap` entries (at least the
/// buckets), or dense when its window is no larger. A dense `v` stays dense.
fn rebuilt(v: &View<'_>, buckets: &[(u16, u64)], cap: usize) -> Vec<u8> {
    let cap = if v.is_sparse() {
        cap.max(buckets.len())
    } else {
        0
    };
    let fits_sparse = buckets.iter().all(|(_, c)| *c <= u32::MAX as u64);
    let dense = match (buckets.first(), buckets.last()) {
        (Some(&(f, _)), Some(&(l, _))) => {
            let (lo, hi) = window(f, l);
            Some((lo, (hi - lo) as usize))
        }
        _ => None,
    };
    let mut b = match dense {
        Some((lo, len)) if !v.is_sparse() || !fits_sparse || len <= cap => {
            let mut b = vec![0u8; HEADER + SLOT * len];
            b[FORMAT] = DENSE_LAYOUT;
            write_u16(&mut b, LO, lo);
            write_u32(&mut b, LEN, len as u32);
            for &(i, c) in buckets {
                write_u64(&mut b, HEADER + SLOT * (i - lo) as usize, c);
            }
            b
        }
        _ => {
            let mut b = sparse_with(cap);
            write_u16(&mut b, LO, buckets.len() as u16);
            for (k, &(i, c)) in buckets.iter().enumerate() {
                write_u16(&mut b, HEADER + SLOT * k, i);
                write_u32(&mut b, HEADER + SLOT * k + 4, c as u32);
            }
            b
        }
    };
    b[COMPLETED..HEADER].copy_from_slice(&v.b[COMPLETED..HEADER]);
    b
}

fn set_durations(b: &mut [u8], d: &Durations) {
    write_i64(b, COMPLETED, d.completed);
    write_i64(b, PENDING, d.pending);
    write_i64(b, SUM_HI, (d.sum() >> 64) as i64);
    write_u64(b, SUM_LO, d.sum() as u64);
}

/// Counts one span in bucket `i` in place: `false` when the state has no room for it.
fn count_in_place(b: &mut [u8], i: u16, n: u64) -> Result<bool, KpiError> {
    let v = View { b };
    let (a, len) = v.slots();
    if !v.is_sparse() {
        let lo = a as u16;
        if i < lo || i as usize >= a + len {
            return Ok(false);
        }
        let at = HEADER + SLOT * (i - lo) as usize;
        let c = read_u64(b, at)
            .checked_add(n)
            .ok_or_else(KpiError::overflow)?;
        write_u64(b, at, c);
        return Ok(true);
    }
    // sparse: binary search of the entries in use
    let (mut l, mut r) = (0usize, a);
    while l < r {
        let m = (l + r) / 2;
        if read_u16(b, HEADER + SLOT * m) < i {
            l = m + 1;
        } else {
            r = m;
        }
    }
    let at = HEADER + SLOT * l;
    if l < a && read_u16(b, at) == i {
        let c = read_u32(b, at + 4) as u64 + n;
        if c > u32::MAX as u64 {
            return Ok(false);
        }
        write_u32(b, at + 4, c as u32);
        return Ok(true);
    }
    if a == len || n > u32::MAX as u64 {
        return Ok(false);
    }
    b.copy_within(at..HEADER + SLOT * a, at + SLOT);
    write_u16(b, at, i);
    write_u16(b, at + 2, 0);
    write_u32(b, at + 4, n as u32);
    write_u16(b, LO, (a + 1) as u16);
    Ok(true)
}

/// Counts one completed span of `us` microseconds (not negative) into the flat state `b`
/// (checked by `View::new`). `Ok(None)`: updated in place; `Ok(Some(copy))`: the state had
/// no room, the copy is a larger state holding the span, `b` is unchanged.
pub fn add_span(b: &mut [u8], us: i128) -> Result<Option<Vec<u8>>, KpiError> {
    let us = i64::try_from(us).map_err(|_| interval_out_of_range("span"))?;
    debug_assert!(us >= 0);
    let v = View { b };
    let mut d = v.durations();
    d.add_span(us as i128)?;
    let first = v.completed() == 0;
    if us == 0 {
        let zeros = v.zeros().checked_add(1).ok_or_else(KpiError::overflow)?;
        write_u64(b, ZEROS, zeros);
    } else {
        let i = bucket_of(us);
        if !count_in_place(b, i, 1)? {
            let v = View { b };
            let mut buckets = sorted_buckets(&v)?;
            match buckets.binary_search_by_key(&i, |e| e.0) {
                Ok(k) => buckets[k].1 += 1,
                Err(k) => buckets.insert(k, (i, 1)),
            }
            let cap = next_capacity(v.slots().1);
            let mut copy = rebuilt(&v, &buckets, cap);
            finish_add(&mut copy, us, &d, first);
            return Ok(Some(copy));
        }
    }
    finish_add(b, us, &d, first);
    Ok(None)
}

/// The buckets of a state that passed `View::new` only, checked to be in order and in range
/// before a rebuild lays them out.
fn sorted_buckets(v: &View<'_>) -> Result<Vec<(u16, u64)>, KpiError> {
    let buckets: Vec<(u16, u64)> = v.buckets().collect();
    if buckets.windows(2).any(|w| w[0].0 >= w[1].0)
        || buckets.last().is_some_and(|e| e.0 > MAX_BUCKET)
        || buckets.iter().any(|e| e.1 == 0)
    {
        return Err(corrupt("buckets out of order"));
    }
    Ok(buckets)
}

/// The counts, sum and extremes after adding a span of `us`.
fn finish_add(b: &mut [u8], us: i64, d: &Durations, first: bool) {
    set_durations(b, d);
    let (min, max) = (read_i64(b, MIN), read_i64(b, MAX));
    if first || us < min {
        write_i64(b, MIN, us);
    }
    if first || us > max {
        write_i64(b, MAX, us);
    }
}

/// Counts one pending case (a start without an end).
pub fn add_pending(b: &mut [u8]) -> Result<(), KpiError> {
    let pending = checked_sum(View { b }.pending(), 1)?;
    write_i64(b, PENDING, pending);
    Ok(())
}

/// Adds `other` into `b`: `Ok(None)` when `b` has room for `other`'s buckets (updated in
/// place), else `Ok(Some(copy))`, a larger state holding both, with `b` unchanged.
pub fn merge_into(b: &mut [u8], other: &View<'_>) -> Result<Option<Vec<u8>>, KpiError> {
    let v = View { b };
    let mut d = v.durations();
    d.merge(&other.durations())?;
    let zeros = v
        .zeros()
        .checked_add(other.zeros())
        .ok_or_else(KpiError::overflow)?;
    let was_empty = v.completed() == 0;
    let (min, max) = if was_empty {
        (other.min(), other.max())
    } else if other.completed() == 0 {
        (v.min(), v.max())
    } else {
        (v.min().min(other.min()), v.max().max(other.max()))
    };
    let finish = |b: &mut [u8]| {
        set_durations(b, &d);
        write_u64(b, ZEROS, zeros);
        write_i64(b, MIN, min);
        write_i64(b, MAX, max);
    };
    let own = sorted_buckets(&v)?;
    let theirs = sorted_buckets(other)?;
    let mut sums: BTreeMap<u16, u64> = own.iter().copied().collect();
    for &(i, c) in &theirs {
        let sum = sums.entry(i).or_insert(0);
        *sum = sum.checked_add(c).ok_or_else(KpiError::overflow)?;
    }
    let merged: Vec<(u16, u64)> = sums.into_iter().collect();
    // in place when every bucket of `other` already has its slot: a dense window holding
    // them, or sparse entries present whose sums still fit
    let in_place = if v.is_sparse() {
        merged.len() == own.len() && merged.iter().all(|(_, c)| *c <= u32::MAX as u64)
    } else {
        let (lo, len) = v.slots();
        theirs
            .iter()
            .all(|(i, _)| (*i as usize) >= lo && (*i as usize) < lo + len)
    };
    if in_place {
        for (i, c) in theirs {
            count_in_place(b, i, c)?;
        }
        finish(b);
        return Ok(None);
    }
    let mut cap = v.slots().1;
    while cap < merged.len() {
        cap = next_capacity(cap);
    }
    let mut copy = rebuilt(&v, &merged, cap);
    finish(&mut copy);
    Ok(Some(copy))
}

/// A state built from its parts, checked by the one rule of `View::checked`; `Err` of the
/// kind `bad` makes.
fn from_parts(
    d: Durations,
    zeros: u64,
    min: i64,
    max: i64,
    buckets: &BTreeMap<u16, u64>,
    bad: fn(String) -> KpiError,
) -> Result<Vec<u8>, KpiError> {
    if let Some((&last, _)) = buckets.last_key_value() {
        if last > MAX_BUCKET {
            return Err(bad(format!(
                "invalid duration_sketch: bucket {last} is above the last bucket, {MAX_BUCKET}"
            )));
        }
    }
    if let Some((i, _)) = buckets.iter().find(|(_, c)| **c == 0) {
        return Err(bad(format!(
            "invalid duration_sketch: bucket {i} has a count of 0"
        )));
    }
    let mut head = empty();
    set_durations(&mut head, &d);
    write_u64(&mut head, ZEROS, zeros);
    write_i64(&mut head, MIN, min);
    write_i64(&mut head, MAX, max);
    let list: Vec<(u16, u64)> = buckets.iter().map(|(i, c)| (*i, *c)).collect();
    // exactly the buckets' room; an empty sketch (an aggregate's initial value) has room
    // for a group's first spans
    let cap = if list.is_empty() { next_capacity(0) } else { 0 };
    let b = rebuilt(&View { b: &head }, &list, cap);
    View::checked(&b).map_err(|e| {
        bad(e.message.replace("invalid duration_sketch value", "invalid duration_sketch"))
            .with_hint("A sketch's buckets and zeros add up to its completed cases, its smallest and largest spans lie in its lowest and highest buckets, and its sum is one those spans can add up to.")
    })?;
    Ok(b)
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SketchText {
    relative_accuracy: f64,
    completed: i64,
    pending: i64,
    sum_us: i128,
    min_us: Option<i64>,
    max_us: Option<i64>,
    zeros: u64,
    /// bucket index -> count, non-empty buckets only
    buckets: BTreeMap<u16, u64>,
}

/// The text form: JSON with the exact counts, the smallest and largest span, and the
/// non-empty buckets.
pub fn to_text(v: &View<'_>) -> String {
    let has = v.completed() > 0;
    serde_json::to_string(&SketchText {
        relative_accuracy: RELATIVE_ACCURACY,
        completed: v.completed(),
        pending: v.pending(),
        sum_us: v.durations().sum(),
        min_us: has.then(|| v.min()),
        max_us: has.then(|| v.max()),
        zeros: v.zeros(),
        buckets: v.buckets().collect(),
    })
    .expect("numbers always serialize")
}

pub fn from_text(text: &str) -> Result<Vec<u8>, KpiError> {
    let t: SketchText = serde_json::from_str(text).map_err(|e| {
        KpiError::invalid_text(format!("invalid duration_sketch \"{}\": {e}", crate::error::excerpt(text), e = crate::error::excerpt(&e.to_string()))).with_hint(
            "Write it as {\"relative_accuracy\": 0.01, \"completed\": 2, \"pending\": 0, \"sum_us\": 7200000000, \"min_us\": 3600000000, \"max_us\": 3600000000, \"zeros\": 0, \"buckets\": {\"1101\": 2}}, as a duration_sketch prints.",
        )
    })?;
    if t.relative_accuracy != RELATIVE_ACCURACY {
        return Err(KpiError::invalid_text(format!(
            "duration_sketch with a relative accuracy of {}: this build reads {RELATIVE_ACCURACY}",
            t.relative_accuracy
        )));
    }
    let d = Durations::from_parts(t.completed, t.pending, t.sum_us)?;
    from_parts(
        d,
        t.zeros,
        t.min_us.unwrap_or(0),
        t.max_us.unwrap_or(0),
        &t.buckets,
        KpiError::invalid_text,
    )
}

/// The binary form: format byte, counts, sum, zeros, smallest and largest span, then the
/// number of non-empty buckets and each as (index, count), big-endian.
pub fn to_bytes(v: &View<'_>) -> Vec<u8> {
    let buckets: Vec<(u16, u64)> = v.buckets().collect();
    let mut out = Vec::with_capacity(1 + 8 * 6 + 16 + 2 + 10 * buckets.len());
    put_u8(&mut out, BINARY_FORMAT);
    put_i64(&mut out, v.completed());
    put_i64(&mut out, v.pending());
    out.extend_from_slice(&v.durations().sum().to_be_bytes());
    put_i64(&mut out, v.zeros() as i64);
    put_i64(&mut out, v.min());
    put_i64(&mut out, v.max());
    out.extend_from_slice(&(buckets.len() as u16).to_be_bytes());
    for (i, c) in buckets {
        out.extend_from_slice(&i.to_be_bytes());
        put_i64(&mut out, c as i64);
    }
    out
}

pub fn from_bytes(bytes: &[u8]) -> Result<Vec<u8>, KpiError> {
    let mut r = Reader::new(bytes);
    let format = r.u8()?;
    if format != BINARY_FORMAT {
        return Err(KpiError::invalid_binary(format!(
            "binary duration_sketch has format {format}, this build reads format {BINARY_FORMAT}"
        )));
    }
    let completed = r.i64()?;
    let pending = r.i64()?;
    let sum = i128::from_be_bytes(r.take(16)?.try_into().unwrap());
    let zeros = r.i64()? as u64;
    let min = r.i64()?;
    let max = r.i64()?;
    let n = u16::from_be_bytes(r.take(2)?.try_into().unwrap()) as usize;
    let mut buckets = BTreeMap::new();
    for _ in 0..n {
        let i = u16::from_be_bytes(r.take(2)?.try_into().unwrap());
        let c = r.i64()? as u64;
        if buckets.insert(i, c).is_some() {
            return Err(KpiError::invalid_binary(format!(
                "binary duration_sketch repeats bucket {i}"
            )));
        }
    }
    r.finish()?;
    let d = Durations::from_parts(completed, pending, sum)
        .map_err(|e| KpiError::invalid_binary(e.message))?;
    from_parts(d, zeros, min, max, &buckets, KpiError::invalid_binary)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// percentile_disc: the value of 1-based rank ceil(q n) in sorted order.
    fn percentile_disc(sorted: &[i64], q: f64) -> i64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
        sorted[rank - 1]
    }

    fn add(b: &mut Vec<u8>, us: i64) {
        if let Some(copy) = add_span(b, us as i128).unwrap() {
            *b = copy;
        }
    }

    fn merge(b: &mut Vec<u8>, other: &[u8]) {
        if let Some(copy) = merge_into(b, &View::new(other).unwrap()).unwrap() {
            *b = copy;
        }
    }

    #[test]
    fn every_bucket_holds_spans_within_the_relative_error() {
        for us in [
            1i64,
            2,
            3,
            999,
            1_000_000,
            86_400_000_000,
            i64::MAX / 3,
            i64::MAX,
        ] {
            let v = bucket_value(bucket_of(us));
            assert!(
                (v - us as f64).abs() <= RELATIVE_ACCURACY * us as f64 * (1.0 + 1e-12),
                "{us}: {v}"
            );
        }
        assert_eq!(bucket_of(1), 0);
        assert_eq!(bucket_of(i64::MAX), MAX_BUCKET);
        // every span lies within its bucket's bounds
        let g = gamma();
        let mut rng = Rng(7);
        for _ in 0..100_000 {
            let us = (rng.next() >> (1 + rng.next() % 63)).max(1) as i64;
            let i = bucket_of(us) as i32;
            assert!(
                g.powi(i) >= us as f64 && (i == 0 || g.powi(i - 1) < us as f64),
                "{us}"
            );
        }
    }

    #[test]
    fn percentiles_of_heavy_tailed_spans_are_within_one_percent_and_roll_up_exactly() {
        let mut rng = Rng(20261201);
        for round in 0..25 {
            let n = [1usize, 2, 3, 10, 1000, 50_000][round % 6];
            // from a second to months, log-uniform, with some zeros and exact repeats
            let values: Vec<i64> = (0..n)
                .map(|_| match rng.next() % 20 {
                    0 => 0,
                    1 => 3_600_000_000,
                    _ => (1e6 * (1e7f64).powf(rng.unit())) as i64,
                })
                .collect();
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let mut whole = empty();
            let mut parts = vec![empty(); 7];
            for (k, v) in values.iter().enumerate() {
                add(&mut whole, *v);
                add(&mut parts[k % 7], *v);
            }
            add_pending(&mut parts[3]).unwrap();
            add_pending(&mut whole).unwrap();
            let mut merged = empty();
            for p in parts.iter().rev() {
                merge(&mut merged, p);
            }
            let (w, m) = (View::new(&whole).unwrap(), View::new(&merged).unwrap());
            assert_eq!(to_text(&m), to_text(&w));
            assert_eq!(w.completed() as usize, n);
            assert_eq!(
                w.durations().sum(),
                values.iter().map(|v| *v as i128).sum::<i128>()
            );
            for q in [0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 1.0] {
                let truth = percentile_disc(&sorted, q);
                let est = w.percentile(q).unwrap();
                assert!(
                    (est - truth).abs() as f64 <= RELATIVE_ACCURACY * truth as f64 + 0.5,
                    "q {q}: {est} vs {truth}"
                );
                assert_eq!(m.percentile(q), Some(est));
            }
            assert_eq!(w.percentile(0.0), Some(sorted[0]));
            assert_eq!(w.percentile(1.0), Some(sorted[n - 1]));
            assert!(whole.len() <= HEADER + 8 * 900, "{}", whole.len());
            // text and binary forms round-trip and are checked
            View::checked(&whole).unwrap();
            View::checked(&merged).unwrap();
            let text = to_text(&w);
            assert_eq!(
                to_text(&View::new(&from_text(&text).unwrap()).unwrap()),
                text
            );
            assert_eq!(
                to_text(&View::new(&from_bytes(&to_bytes(&w)).unwrap()).unwrap()),
                text
            );
        }
        assert_eq!(View::new(&empty()).unwrap().percentile(0.5), None);
    }

    #[test]
    fn small_sketches_are_sparse_and_large_ones_dense_and_never_larger() {
        let mut b = empty();
        assert_eq!(b.len(), HEADER + 8 * 7);
        add(&mut b, 60_000_000);
        // one 128-byte allocation with PostgreSQL's 4-byte header: 7 entries
        assert_eq!(b.len(), HEADER + 8 * 7);
        assert!(b.len() + crate::codec::VARHDR <= 128);
        for us in [1i64, 120_000_000, 5, 7_000_000_000] {
            add(&mut b, us);
        }
        assert_eq!(b.len(), HEADER + 8 * 7);
        let v = View::new(&b).unwrap();
        assert!(v.is_sparse());
        assert_eq!(v.percentile(0.0), Some(1));
        assert_eq!(v.percentile(1.0), Some(7_000_000_000));
        // many distinct buckets: sparse until the dense window is no larger, then dense
        let mut rng = Rng(99);
        let spans: Vec<i64> = (0..20_000)
            .map(|_| (1e6 * (1e6f64).powf(rng.unit())) as i64)
            .collect();
        for &us in &spans {
            add(&mut b, us);
            let v = View::new(&b).unwrap();
            let (first, last) = (v.buckets().next().unwrap().0, v.buckets().last().unwrap().0);
            let (lo, hi) = window(first, last);
            assert!(
                b.len() <= HEADER + 8 * (hi - lo) as usize,
                "never above the dense size"
            );
        }
        // spans of 1 µs to 11 days: about 1,400 buckets wide, half of them used: still sparse
        assert!(View::checked(&b).unwrap().is_sparse());
        // a second to 11 days: 700 buckets wide, nearly all used: dense
        let mut d = empty();
        for &us in &spans {
            add(&mut d, us);
        }
        assert!(!View::checked(&d).unwrap().is_sparse());
        assert_eq!(to_text(&View::new(&d).unwrap()), {
            let mut s = empty();
            for (k, &us) in spans.iter().enumerate() {
                add(&mut s, us);
                if k % 997 == 0 {
                    s = from_text(&to_text(&View::new(&s).unwrap())).unwrap();
                }
            }
            to_text(&View::new(&s).unwrap())
        });
        assert!(b.len() <= HEADER + 8 * (MAX_BUCKET as usize + 1));
        add(&mut b, i64::MAX);
        add(&mut b, 1);
        assert!(b.len() <= HEADER + 8 * (MAX_BUCKET as usize + 1));
        assert_eq!(View::checked(&b).unwrap().percentile(1.0), Some(i64::MAX));
        assert!(add_span(&mut b, i64::MAX as i128 + 1).is_err());
        // a sparse entry past u32::MAX turns the state dense, with the same answers
        let mut s = empty();
        add(&mut s, 1000);
        let big = from_text(&format!(
            r#"{{"relative_accuracy":0.01,"completed":{n},"pending":0,"sum_us":{sum},"min_us":1000,"max_us":1000,"zeros":0,"buckets":{{"{i}":{n}}}}}"#,
            n = u32::MAX as u64,
            sum = 1000u128 * u32::MAX as u128,
            i = bucket_of(1000)
        ))
        .unwrap();
        merge(&mut s, &big);
        let v = View::checked(&s).unwrap();
        assert_eq!(v.completed(), u32::MAX as i64 + 1);
        assert_eq!(v.percentile(0.5), Some(1000));
    }

    #[test]
    fn sketches_of_0_5_0_dense_layout_are_read_and_merged() {
        // 0.5.0 wrote only the dense layout: format byte 1, window of 32 from bucket 1088
        let mut old = vec![0u8; HEADER + 8 * 32];
        old[FORMAT] = DENSE_LAYOUT;
        write_u16(&mut old, LO, 1088);
        write_u32(&mut old, LEN, 32);
        let i = bucket_of(3_600_000_000);
        write_u64(&mut old, HEADER + 8 * (i - 1088) as usize, 2);
        set_durations(
            &mut old,
            &Durations::from_parts(2, 1, 7_200_000_000).unwrap(),
        );
        write_i64(&mut old, MIN, 3_600_000_000);
        write_i64(&mut old, MAX, 3_600_000_000);
        let v = View::checked(&old).unwrap();
        assert!(!v.is_sparse());
        assert_eq!(
            to_text(&v),
            format!(
                r#"{{"relative_accuracy":0.01,"completed":2,"pending":1,"sum_us":7200000000,"min_us":3600000000,"max_us":3600000000,"zeros":0,"buckets":{{"{i}":2}}}}"#
            )
        );
        let mut s = empty();
        add(&mut s, 60_000_000);
        merge(&mut s, &old);
        add(&mut old, 60_000_000);
        assert_eq!(
            to_text(&View::new(&s).unwrap()),
            to_text(&View::new(&old).unwrap())
        );
    }

    #[test]
    fn bucket_bounds_agree_with_bucket_of() {
        let bounds = bucket_bounds();
        assert_eq!(bounds.len(), MAX_BUCKET as usize + 1);
        assert_eq!(bounds[0], (1, 1));
        assert!(
            bounds[1].0 > bounds[1].1,
            "bucket 1 holds no whole microsecond"
        );
        assert_eq!(bounds[MAX_BUCKET as usize].1, i64::MAX);
        let mut next = 1i64;
        for (i, &(lo, hi)) in bounds.iter().enumerate() {
            if lo > hi {
                continue;
            }
            assert_eq!(lo, next, "bucket {i}");
            assert_eq!(bucket_of(lo) as usize, i);
            assert_eq!(bucket_of(hi) as usize, i);
            if hi < i64::MAX {
                let next_holding = (i + 1..bounds.len()).find(|&j| bounds[j].0 <= bounds[j].1);
                assert_eq!(Some(bucket_of(hi + 1) as usize), next_holding);
            }
            next = hi.saturating_add(1);
        }
    }

    #[test]
    fn rejects_impossible_states() {
        let good = r#"{"relative_accuracy":0.01,"completed":2,"pending":1,"sum_us":7200000000,"min_us":3600000000,"max_us":3600000000,"zeros":0,"buckets":{"1101":2}}"#;
        let b = from_text(good).unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(to_text(&View::new(&b).unwrap()), good);
        for bad in [
            good.replace("0.01", "0.02"),
            good.replace("\"1101\":2", "\"1101\":3"),
            good.replace("\"1101\":2", "\"1200\":2"),
            good.replace("\"1101\":2", "\"1101\":1,\"1113\":1"),
            good.replace("\"min_us\":3600000000", "\"min_us\":1"),
            good.replace("7200000000", "7200000001"),
            good.replace("\"1101\":2", "\"9999\":2"),
            // one span: the smallest, the largest and the sum are the same
            good.replace("\"completed\":2", "\"completed\":1").replace("\"1101\":2", "\"1101\":1"),
            // a sum no spans of these buckets can add up to (zeros and a bucket)
            r#"{"relative_accuracy":0.01,"completed":5,"pending":0,"sum_us":0,"min_us":0,"max_us":3600000000,"zeros":1,"buckets":{"1101":4}}"#.to_string(),
            // a bucket with no whole microsecond in it
            r#"{"relative_accuracy":0.01,"completed":1,"pending":0,"sum_us":1,"min_us":1,"max_us":1,"zeros":0,"buckets":{"1":1}}"#.to_string(),
            // the largest span is not in the highest bucket
            r#"{"relative_accuracy":0.01,"completed":2,"pending":0,"sum_us":7260000000,"min_us":60000000,"max_us":60000000,"zeros":0,"buckets":{"895":1,"1101":1}}"#.to_string(),
            good.replace(
                "\"buckets\":{\"1101\":2}",
                "\"buckets\":{\"1101\":2,\"5\":0}",
            ),
            good.replace("\"zeros\":0", "\"zeros\":0,\"extra\":1"),
        ] {
            assert!(from_text(&bad).is_err(), "{bad}");
        }
        let mut bytes = to_bytes(&View::new(&b).unwrap());
        assert!(from_bytes(&bytes[..bytes.len() - 1]).is_err());
        bytes[0] = 2;
        assert!(from_bytes(&bytes).is_err());
        let mut flat = b.clone();
        flat[0] = 3;
        assert!(View::new(&flat).is_err());
        assert!(View::new(&b[..b.len() - 8]).is_err());
        // counts that cannot be are refused by the view, not read as an empty state
        let mut flat = b.clone();
        flat[COMPLETED..COMPLETED + 8].copy_from_slice(&(-1i64).to_le_bytes());
        assert!(View::new(&flat).is_err());
    }
}

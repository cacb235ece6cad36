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
//! Spans from 1 µs to 2^63 µs fall in buckets 0 to 2,184. The state keeps a window of buckets
//! (from the lowest to the highest it has seen, in steps of 32), each an 8-byte count: about
//! 4.3 kB for spans from a minute to a month, 7 kB from a second to a year, 17.7 kB at most.
//!
//! The state is one flat byte string, the payload of the SQL value, in native byte order
//! (`View` reads it, `add_span` and `merge_into` update it in place while the window holds
//! the bucket, and return a larger copy otherwise). Its binary form (`to_bytes`) is portable:
//! big-endian, with only the non-empty buckets.

use crate::codec::{put_i64, put_u8, Reader};
use crate::duration::Durations;
use crate::error::{checked_sum, KpiError, KpiErrorKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The guaranteed relative error.
pub const RELATIVE_ACCURACY: f64 = 0.01;
/// The format byte of the flat state and of the binary form.
pub const SKETCH_FORMAT: u8 = 1;
/// The bucket of the longest span, `i64::MAX` microseconds.
pub const MAX_BUCKET: u16 = 2184;
/// Windows grow in steps of this many buckets, so a state is rebuilt at most a few dozen times.
const STEP: u16 = 32;

// Flat layout: offsets in the payload.
const FORMAT: usize = 0; // u8
const LO: usize = 2; // u16: first bucket of the window
const LEN: usize = 4; // u32: buckets in the window
const COMPLETED: usize = 8; // i64
const PENDING: usize = 16; // i64
const SUM_HI: usize = 24; // i64
const SUM_LO: usize = 32; // u64
const ZEROS: usize = 40; // u64: spans of zero
const MIN: usize = 48; // i64: smallest span (0 when there is none)
const MAX: usize = 56; // i64: largest span
/// Bytes before the counts.
pub const HEADER: usize = 64;

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

fn read_u16(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes(b[at..at + 2].try_into().unwrap())
}
fn read_u32(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(b[at..at + 4].try_into().unwrap())
}
fn read_i64(b: &[u8], at: usize) -> i64 {
    i64::from_ne_bytes(b[at..at + 8].try_into().unwrap())
}
fn read_u64(b: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(b[at..at + 8].try_into().unwrap())
}
fn write_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_ne_bytes());
}
fn write_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_ne_bytes());
}
fn write_i64(b: &mut [u8], at: usize, v: i64) {
    b[at..at + 8].copy_from_slice(&v.to_ne_bytes());
}
fn write_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_ne_bytes());
}

fn corrupt(what: &str) -> KpiError {
    crate::error::corrupt_value("duration_sketch", what)
}

/// A read-only view of a flat state, checked once (`View::new`) so that every read after is
/// in bounds.
#[derive(Clone, Copy)]
pub struct View<'a> {
    b: &'a [u8],
}

impl<'a> View<'a> {
    /// Checks the layout: format byte, window within the bucket range and the length.
    pub fn new(b: &'a [u8]) -> Result<Self, KpiError> {
        crate::error::check_flat_header("duration_sketch", b, HEADER, SKETCH_FORMAT)?;
        let (lo, len) = (read_u16(b, LO) as usize, read_u32(b, LEN) as usize);
        if lo + len > MAX_BUCKET as usize + 1 || b.len() != HEADER + 8 * len {
            return Err(corrupt("bucket window does not match its length"));
        }
        let v = View { b };
        v.read_durations().map_err(|e| corrupt(&e.message))?;
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
    pub fn lo(&self) -> u16 {
        read_u16(self.b, LO)
    }
    pub fn window_len(&self) -> u16 {
        read_u32(self.b, LEN) as u16
    }
    pub fn is_empty(&self) -> bool {
        self.completed() == 0
    }
    /// The count of the window's `k`-th bucket (bucket `lo + k`).
    pub fn count_at(&self, k: usize) -> u64 {
        read_u64(self.b, HEADER + 8 * k)
    }
    /// The non-empty buckets, lowest first.
    pub fn buckets(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        (0..self.window_len() as usize)
            .map(|k| (self.lo() + k as u16, self.count_at(k)))
            .filter(|(_, c)| *c > 0)
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
            seen += c;
            if rank <= seen {
                let v = bucket_value(i).round() as i64;
                return Some(v.clamp(self.min(), self.max()));
            }
        }
        Some(self.max())
    }

    /// Full consistency check, for values read from text or binary input.
    fn check(&self) -> Result<(), KpiError> {
        self.check_parts().map_err(|what| {
            KpiError::invalid_text(format!("invalid duration_sketch: {what}")).with_hint(
                "A sketch's buckets and zeros add up to its completed cases, and its smallest and largest spans lie in its lowest and highest buckets.",
            )
        })
    }

    fn check_parts(&self) -> Result<(), String> {
        let mut total = self.zeros() as u128;
        let (mut first, mut last) = (None, None);
        for (i, c) in self.buckets() {
            total += c as u128;
            first.get_or_insert(i);
            last = Some(i);
        }
        if total != self.completed() as u128 {
            return Err(format!(
                "{total} spans in the buckets and zeros, {} completed",
                self.completed()
            ));
        }
        let (min, max) = (self.min(), self.max());
        if self.completed() == 0 {
            return if min == 0 && max == 0 {
                Ok(())
            } else {
                Err("smallest or largest span without completed cases".into())
            };
        }
        let lowest_ok = if self.zeros() > 0 {
            min == 0
        } else {
            min > 0 && Some(bucket_of(min)) == first
        };
        let highest_ok = match last {
            None => max == 0,
            Some(i) => max > 0 && bucket_of(max) == i,
        };
        if !lowest_ok || !highest_ok || min > max {
            return Err(format!(
                "smallest span {min} µs or largest {max} µs is not in its bucket"
            ));
        }
        let sum = self.durations().sum();
        let n = self.completed() as i128;
        if sum < n * min as i128 || sum > n * max as i128 {
            return Err(format!(
                "sum {sum} µs is outside completed × smallest..largest"
            ));
        }
        Ok(())
    }
}

/// A new flat state without spans.
pub fn empty() -> Vec<u8> {
    let mut b = vec![0u8; HEADER];
    b[FORMAT] = SKETCH_FORMAT;
    b
}

/// The window `[lo, hi)` that holds both the current one and bucket `i`, in steps of `STEP`.
fn window_for(v: &View<'_>, i: u16) -> (u16, u16) {
    let (lo, hi) = if v.window_len() == 0 {
        (i, i + 1)
    } else {
        (v.lo().min(i), (v.lo() + v.window_len()).max(i + 1))
    };
    let lo = lo / STEP * STEP;
    let hi = (hi.div_ceil(STEP) * STEP).min(MAX_BUCKET + 1);
    (lo, hi)
}

/// A copy of `v` with the window `[lo, hi)` (which holds `v`'s).
fn widened(v: &View<'_>, lo: u16, hi: u16) -> Vec<u8> {
    let len = (hi - lo) as usize;
    let mut b = vec![0u8; HEADER + 8 * len];
    b[..HEADER].copy_from_slice(&v.b[..HEADER]);
    write_u16(&mut b, LO, lo);
    write_u32(&mut b, LEN, len as u32);
    if v.window_len() > 0 {
        let shift = (v.lo() - lo) as usize;
        let old = &v.b[HEADER..];
        b[HEADER + 8 * shift..HEADER + 8 * shift + old.len()].copy_from_slice(old);
    }
    b
}

fn set_durations(b: &mut [u8], d: &Durations) {
    write_i64(b, COMPLETED, d.completed);
    write_i64(b, PENDING, d.pending);
    write_i64(b, SUM_HI, (d.sum() >> 64) as i64);
    write_u64(b, SUM_LO, d.sum() as u64);
}

/// Counts one completed span of `us` microseconds (not negative) into the flat state `b`
/// (checked by `View::new`). `Ok(None)`: updated in place; `Ok(Some(copy))`: the bucket is
/// outside the window, the copy is a larger state holding the span, `b` is unchanged.
pub fn add_span(b: &mut [u8], us: i128) -> Result<Option<Vec<u8>>, KpiError> {
    let us = i64::try_from(us).map_err(|_| {
        KpiError::new(
            KpiErrorKind::Overflow,
            "span out of range for a duration_sketch",
        )
    })?;
    debug_assert!(us >= 0);
    let v = View { b };
    let mut d = v.durations();
    d.add_span(us as i128)?;
    let first = v.completed() == 0;
    if us == 0 {
        write_u64(b, ZEROS, v.zeros() + 1);
    } else {
        let i = bucket_of(us);
        let (lo, len) = (v.lo(), v.window_len());
        if i < lo || i >= lo + len {
            let (lo, hi) = window_for(&v, i);
            let mut copy = widened(&v, lo, hi);
            add_span(&mut copy, us as i128).map(|r| debug_assert!(r.is_none()))?;
            return Ok(Some(copy));
        }
        let at = HEADER + 8 * (i - lo) as usize;
        write_u64(b, at, read_u64(b, at) + 1);
    }
    set_durations(b, &d);
    let (min, max) = (read_i64(b, MIN), read_i64(b, MAX));
    if first || us < min {
        write_i64(b, MIN, us);
    }
    if first || us > max {
        write_i64(b, MAX, us);
    }
    Ok(None)
}

/// Counts one pending case (a start without an end).
pub fn add_pending(b: &mut [u8]) -> Result<(), KpiError> {
    let pending = checked_sum(View { b }.pending(), 1)?;
    write_i64(b, PENDING, pending);
    Ok(())
}

/// Adds `other` into `b`: `Ok(None)` when `b`'s window holds `other`'s buckets (updated in
/// place), else `Ok(Some(copy))`, a larger state holding both, with `b` unchanged.
pub fn merge_into(b: &mut [u8], other: &View<'_>) -> Result<Option<Vec<u8>>, KpiError> {
    let v = View { b };
    let occupied: Vec<(u16, u64)> = other.buckets().collect();
    if let (Some(&(first, _)), Some(&(last, _))) = (occupied.first(), occupied.last()) {
        if first < v.lo() || last >= v.lo() + v.window_len() {
            let (lo, hi) = window_for(&v, first);
            let (lo2, hi2) = window_for(&v, last);
            let mut copy = widened(&v, lo.min(lo2), hi.max(hi2));
            merge_into(&mut copy, other).map(|r| debug_assert!(r.is_none()))?;
            return Ok(Some(copy));
        }
    }
    let mut d = v.durations();
    d.merge(&other.durations())?;
    let zeros = v
        .zeros()
        .checked_add(other.zeros())
        .ok_or_else(KpiError::overflow)?;
    let (lo, was_empty) = (v.lo(), v.completed() == 0);
    let (min, max) = (v.min(), v.max());
    for (i, c) in occupied {
        let at = HEADER + 8 * (i - lo) as usize;
        let sum = read_u64(b, at)
            .checked_add(c)
            .ok_or_else(KpiError::overflow)?;
        write_u64(b, at, sum);
    }
    write_u64(b, ZEROS, zeros);
    if other.completed() > 0 {
        write_i64(
            b,
            MIN,
            if was_empty {
                other.min()
            } else {
                min.min(other.min())
            },
        );
        write_i64(
            b,
            MAX,
            if was_empty {
                other.max()
            } else {
                max.max(other.max())
            },
        );
    }
    set_durations(b, &d);
    Ok(None)
}

/// A state built from its parts, checked.
fn from_parts(
    d: Durations,
    zeros: u64,
    min: i64,
    max: i64,
    buckets: &BTreeMap<u16, u64>,
) -> Result<Vec<u8>, KpiError> {
    let mut b = empty();
    if let (Some((&first, _)), Some((&last, _))) =
        (buckets.first_key_value(), buckets.last_key_value())
    {
        if last > MAX_BUCKET {
            return Err(KpiError::invalid_text(format!(
                "invalid duration_sketch: bucket {last} is above the last bucket, {MAX_BUCKET}"
            )));
        }
        let lo = first / STEP * STEP;
        let hi = ((last + 1).div_ceil(STEP) * STEP).min(MAX_BUCKET + 1);
        b = widened(&View { b: &b }, lo, hi);
        for (&i, &c) in buckets {
            if c == 0 {
                return Err(KpiError::invalid_text(format!(
                    "invalid duration_sketch: bucket {i} has a count of 0"
                )));
            }
            write_u64(&mut b, HEADER + 8 * (i - lo) as usize, c);
        }
    }
    set_durations(&mut b, &d);
    write_u64(&mut b, ZEROS, zeros);
    write_i64(&mut b, MIN, min);
    write_i64(&mut b, MAX, max);
    View::new(&b)?.check()?;
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
        KpiError::invalid_text(format!("invalid duration_sketch \"{text}\": {e}")).with_hint(
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
    )
}

/// The binary form: format byte, counts, sum, zeros, smallest and largest span, then the
/// number of non-empty buckets and each as (index, count), big-endian.
pub fn to_bytes(v: &View<'_>) -> Vec<u8> {
    let buckets: Vec<(u16, u64)> = v.buckets().collect();
    let mut out = Vec::with_capacity(1 + 8 * 6 + 16 + 2 + 10 * buckets.len());
    put_u8(&mut out, SKETCH_FORMAT);
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
    if format != SKETCH_FORMAT {
        return Err(KpiError::invalid_binary(format!(
            "binary duration_sketch has format {format}, this build reads format {SKETCH_FORMAT}"
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
    from_parts(d, zeros, min, max, &buckets).map_err(|e| KpiError::invalid_binary(e.message))
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
            assert!(w.window_len() <= 900, "{}", w.window_len());
            // text and binary forms round-trip and are checked
            assert_eq!(from_text(&to_text(&w)).unwrap(), trimmed(&whole));
            assert_eq!(from_bytes(&to_bytes(&w)).unwrap(), trimmed(&whole));
        }
        assert_eq!(View::new(&empty()).unwrap().percentile(0.5), None);
    }

    /// The state as text input rebuilds it: the narrowest window in steps.
    fn trimmed(b: &[u8]) -> Vec<u8> {
        let v = View::new(b).unwrap();
        let buckets: BTreeMap<u16, u64> = v.buckets().collect();
        from_parts(v.durations(), v.zeros(), v.min(), v.max(), &buckets).unwrap()
    }

    #[test]
    fn windows_grow_in_steps_and_stay_bounded() {
        let mut b = empty();
        add(&mut b, 60_000_000);
        let v = View::new(&b).unwrap();
        assert_eq!(v.window_len(), STEP);
        for us in [1i64, i64::MAX, 5, 1 << 40] {
            add(&mut b, us);
        }
        let v = View::new(&b).unwrap();
        assert_eq!((v.lo(), v.window_len()), (0, MAX_BUCKET + 1));
        assert_eq!(b.len(), HEADER + 8 * (MAX_BUCKET as usize + 1));
        assert_eq!(v.percentile(0.0), Some(1));
        assert_eq!(v.percentile(1.0), Some(i64::MAX));
        assert!(add_span(&mut b, i64::MAX as i128 + 1).is_err());
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
        flat[0] = 2;
        assert!(View::new(&flat).is_err());
        assert!(View::new(&b[..b.len() - 8]).is_err());
        // counts that cannot be are refused by the view, not read as an empty state
        let mut flat = b.clone();
        flat[COMPLETED..COMPLETED + 8].copy_from_slice(&(-1i64).to_ne_bytes());
        assert!(View::new(&flat).is_err());
    }
}

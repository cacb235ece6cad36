//! State of the time KPIs (average first-response, resolution and handling time): how many
//! cases have both ends of the span, the sum of their spans in microseconds, and how many
//! have a start but no end yet (pending: left out of the average, counted separately).
//!
//! PostgreSQL keeps timestamps as microseconds, so a span is an exact integer and the sum is
//! exact too (in 128 bits: ten million cases of a month each would overflow 64). The average
//! is rounded half away from zero to the microsecond, like `round(numeric, 6)` on seconds.

use crate::codec::{put_i64, put_u8, Reader, BINARY_FORMAT};
use crate::error::{checked_sum, KpiError, MAX_COUNT};
use serde::{Deserialize, Serialize};

pub const USECS_PER_DAY: i64 = 86_400_000_000;
/// PostgreSQL compares intervals with a month counted as 30 days (`interval_cmp`).
pub const DAYS_PER_MONTH: i64 = 30;

/// Size of the SQL value and of its binary form minus the version byte.
pub const DURATIONS_BYTES: usize = 32;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Durations {
    /// Cases with a start and an end.
    pub completed: i64,
    /// Cases with a start and no end yet.
    pub pending: i64,
    /// Sum of the completed spans in microseconds, as two halves of an i128 so that the
    /// struct needs only the 8-byte alignment PostgreSQL gives a pass-by-reference value.
    sum_hi: i64,
    sum_lo: u64,
}

/// Why a span cannot be measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanError {
    /// One end is `infinity` or `-infinity`.
    Infinite,
    /// The end is before the start.
    Negative,
}

/// Microseconds from `start` to `end` (PostgreSQL timestamps, microseconds since 2000).
pub fn span_micros(start: i64, end: i64) -> Result<i128, SpanError> {
    // DT_NOBEGIN and DT_NOEND are i64::MIN and i64::MAX.
    if [start, end]
        .iter()
        .any(|t| *t == i64::MIN || *t == i64::MAX)
    {
        return Err(SpanError::Infinite);
    }
    let span = end as i128 - start as i128;
    if span < 0 {
        return Err(SpanError::Negative);
    }
    Ok(span)
}

/// The length of an interval in microseconds, as PostgreSQL compares intervals: a day is
/// 24 hours and a month 30 days.
pub fn interval_micros(time: i64, days: i32, months: i32) -> i128 {
    time as i128 + (days as i128 + months as i128 * DAYS_PER_MONTH as i128) * USECS_PER_DAY as i128
}

/// Splits microseconds into (days, time) the way `justify_hours` does, so an average reads
/// "1 day 02:00:00" rather than "26:00:00"; `None` if the days do not fit an interval.
pub fn micros_to_days_time(micros: i64) -> Option<(i32, i64)> {
    let days = i32::try_from(micros / USECS_PER_DAY).ok()?;
    Some((days, micros % USECS_PER_DAY))
}

impl Durations {
    pub fn sum(&self) -> i128 {
        ((self.sum_hi as i128) << 64) | self.sum_lo as i128
    }

    fn set_sum(&mut self, sum: i128) {
        self.sum_hi = (sum >> 64) as i64;
        self.sum_lo = sum as u64;
    }

    pub fn from_parts(completed: i64, pending: i64, sum: i128) -> Result<Self, KpiError> {
        let mut d = Durations {
            completed,
            pending,
            ..Default::default()
        };
        d.set_sum(sum);
        d.check()
    }

    /// One case with a measured span (non-negative microseconds).
    pub fn add_span(&mut self, micros: i128) -> Result<(), KpiError> {
        let sum = self
            .sum()
            .checked_add(micros)
            .ok_or_else(KpiError::overflow)?;
        self.completed = checked_sum(self.completed, 1)?;
        self.set_sum(sum);
        Ok(())
    }

    pub fn add_pending(&mut self) -> Result<(), KpiError> {
        self.pending = checked_sum(self.pending, 1)?;
        Ok(())
    }

    pub fn merge(&mut self, other: &Durations) -> Result<(), KpiError> {
        let sum = self
            .sum()
            .checked_add(other.sum())
            .ok_or_else(KpiError::overflow)?;
        self.completed = checked_sum(self.completed, other.completed)?;
        self.pending = checked_sum(self.pending, other.pending)?;
        self.set_sum(sum);
        Ok(())
    }

    /// The mean span in microseconds, rounded half away from zero; `None` without completed
    /// cases. `Err` if the mean does not fit a 64-bit microsecond count.
    pub fn average_micros(&self) -> Result<Option<i64>, KpiError> {
        if self.completed == 0 {
            return Ok(None);
        }
        let (sum, n) = (self.sum(), self.completed as i128);
        let (q, r) = (sum / n, sum % n);
        let rounded = if 2 * r.abs() >= n {
            q + sum.signum()
        } else {
            q
        };
        i64::try_from(rounded)
            .map(Some)
            .map_err(|_| crate::error::interval_out_of_range("average time"))
    }

    pub fn check(self) -> Result<Self, KpiError> {
        if self.completed < 0
            || self.pending < 0
            || self.completed > MAX_COUNT
            || self.pending > MAX_COUNT
            || self.sum() < 0
            || (self.completed == 0 && self.sum() != 0)
        {
            return Err(KpiError::invalid_text(format!(
                "invalid duration state: {} completed, {} pending, sum {} us",
                self.completed,
                self.pending,
                self.sum()
            ))
            .with_hint("A duration state needs non-negative counts and sum, and no sum without completed cases."));
        }
        Ok(self)
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string(&DurationsText {
            completed: self.completed,
            pending: self.pending,
            sum_us: self.sum(),
        })
        .expect("integers always serialize")
    }

    pub fn from_text(text: &str) -> Result<Self, KpiError> {
        let t: DurationsText = serde_json::from_str(text).map_err(|e| {
            KpiError::invalid_text(format!(
                "invalid duration state \"{}\": {e}",
                crate::error::excerpt(text),
                e = crate::error::excerpt(&e.to_string())
            ))
            .with_hint("Write it as {\"completed\": 3, \"pending\": 1, \"sum_us\": 5400000000}.")
        })?;
        Self::from_parts(t.completed, t.pending, t.sum_us)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + DURATIONS_BYTES);
        put_u8(&mut out, BINARY_FORMAT);
        put_i64(&mut out, self.completed);
        put_i64(&mut out, self.pending);
        out.extend_from_slice(&self.sum().to_be_bytes());
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KpiError> {
        let mut r = Reader::new(bytes);
        r.version()?;
        let completed = r.i64()?;
        let pending = r.i64()?;
        let sum = i128::from_be_bytes(r.take(16)?.try_into().unwrap());
        r.finish()?;
        Self::from_parts(completed, pending, sum).map_err(|e| KpiError::invalid_binary(e.message))
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DurationsText {
    completed: i64,
    pending: i64,
    sum_us: i128,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_exact_and_refuse_negative_or_infinite() {
        assert_eq!(span_micros(10, 25), Ok(15));
        assert_eq!(span_micros(25, 10), Err(SpanError::Negative));
        assert_eq!(span_micros(0, i64::MAX), Err(SpanError::Infinite));
        assert_eq!(span_micros(i64::MIN, 0), Err(SpanError::Infinite));
    }

    #[test]
    fn interval_length_counts_months_as_30_days() {
        assert_eq!(interval_micros(1, 1, 1), 1 + 31 * USECS_PER_DAY as i128);
        assert_eq!(micros_to_days_time(USECS_PER_DAY + 7), Some((1, 7)));
    }

    #[test]
    fn average_rounds_half_away_from_zero() {
        let mut d = Durations::default();
        assert_eq!(d.average_micros().unwrap(), None);
        d.add_span(1).unwrap();
        d.add_span(2).unwrap();
        assert_eq!(d.average_micros().unwrap(), Some(2)); // 1.5 -> 2
        d.add_span(0).unwrap();
        assert_eq!(d.average_micros().unwrap(), Some(1)); // 1.0
        d.add_pending().unwrap();
        assert_eq!((d.completed, d.pending), (3, 1));
    }

    #[test]
    fn sums_beyond_64_bits_stay_exact() {
        let mut d = Durations::default();
        for _ in 0..4 {
            d.add_span(i64::MAX as i128).unwrap();
        }
        assert_eq!(d.sum(), 4 * i64::MAX as i128);
        assert_eq!(d.average_micros().unwrap(), Some(i64::MAX));
        let mut other = d;
        other.merge(&d).unwrap();
        assert_eq!(other.completed, 8);
    }

    #[test]
    fn text_and_bytes_round_trip() {
        let d = Durations::from_parts(2, 1, 3 * i64::MAX as i128).unwrap();
        assert_eq!(
            d.to_text(),
            r#"{"completed":2,"pending":1,"sum_us":27670116110564327421}"#
        );
        assert_eq!(Durations::from_text(&d.to_text()).unwrap(), d);
        assert_eq!(Durations::from_bytes(&d.to_bytes()).unwrap(), d);
    }

    #[test]
    fn rejects_impossible_states() {
        assert!(Durations::from_text(r#"{"completed":0,"pending":0,"sum_us":5}"#).is_err());
        assert!(Durations::from_text(r#"{"completed":-1,"pending":0,"sum_us":0}"#).is_err());
        assert!(Durations::from_text(r#"{"completed":1,"pending":0}"#).is_err());
        assert!(Durations::from_bytes(&[1, 0, 0]).is_err());
    }
}

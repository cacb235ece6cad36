//! State of the audit-score KPIs (Quality Score, Service Audit Score): the mean of scores on
//! 0-100, with the count, sum and sum of squares that its Student's t interval needs.
//!
//! Scores are integers, so every field is an exact integer: the mean is PostgreSQL's own
//! `avg(integer)` division, and the spread is exact too (the sum of squares of up to 2^56
//! scores of 100 stays far below 2^127). The state has a fixed size: a 32-byte SQL value
//! updated in place.

use crate::codec::{put_i64, put_u8, Reader, BINARY_FORMAT};
use crate::error::{checked_sum, KpiError, KpiErrorKind, MAX_COUNT};
use crate::intervals::t_interval;
use serde::{Deserialize, Serialize};

/// The scale of a score.
pub const LOWEST: i64 = 0;
pub const HIGHEST: i64 = 100;

/// Size of the SQL value and of its binary form minus the version byte.
pub const SCORES_BYTES: usize = 32;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Scores {
    /// Scores counted (non-NULL inputs).
    pub count: i64,
    /// Their sum.
    pub sum: i64,
    /// The sum of their squares, as two halves of an i128 (8-byte alignment, as PostgreSQL
    /// gives a pass-by-reference value).
    squares_hi: i64,
    squares_lo: u64,
}

fn off_scale(score: i64) -> KpiError {
    KpiError::new(
        KpiErrorKind::OutOfRange,
        format!("audit score {score} is outside the scale 0 to 100"),
    )
    .with_hint("Give scores as integers from 0 to 100 (e.g. round(score)), or leave the row out with FILTER.")
}

impl Scores {
    pub fn squares(&self) -> i128 {
        ((self.squares_hi as i128) << 64) | self.squares_lo as i128
    }

    fn set_squares(&mut self, v: i128) {
        self.squares_hi = (v >> 64) as i64;
        self.squares_lo = v as u64;
    }

    #[inline]
    pub fn add(&mut self, score: i64) -> Result<(), KpiError> {
        if !(LOWEST..=HIGHEST).contains(&score) {
            return Err(off_scale(score));
        }
        self.count = checked_sum(self.count, 1)?;
        self.sum += score;
        let squares = self.squares() + (score * score) as i128;
        self.set_squares(squares);
        Ok(())
    }

    /// Takes back one score added earlier (moving-window aggregates).
    pub fn remove(&mut self, score: i64) -> Result<(), KpiError> {
        // what is left must be a state some scores make
        let left = Self::from_parts(
            self.count - 1,
            self.sum - score,
            self.squares() - (score * score) as i128,
        );
        match left {
            Ok(left) if (LOWEST..=HIGHEST).contains(&score) => {
                *self = left;
                Ok(())
            }
            _ => Err(KpiError::nothing_to_take_back()),
        }
    }

    pub fn merge(&mut self, other: &Scores) -> Result<(), KpiError> {
        let count = checked_sum(self.count, other.count)?;
        self.sum += other.sum;
        let squares = self.squares() + other.squares();
        self.set_squares(squares);
        self.count = count;
        Ok(())
    }

    /// What the aggregate can produce: counts within the bound, a sum between 0 and 100 per
    /// score, and a sum of squares between what that sum allows (all scores equal, sum^2 /
    /// count) and 100 times the sum.
    pub fn from_parts(count: i64, sum: i64, squares: i128) -> Result<Self, KpiError> {
        let fits = (0..=MAX_COUNT).contains(&count)
            && sum >= 0
            && sum as i128 <= HIGHEST as i128 * count as i128
            && (0..=HIGHEST as i128 * sum as i128).contains(&squares)
            && (count == 0 && squares == 0
                || count > 0
                    && squares
                        .checked_mul(count as i128)
                        .is_some_and(|v| v >= sum as i128 * sum as i128));
        if !fits {
            return Err(KpiError::invalid_text(format!(
                "invalid score state: {count} scores, sum {sum}, sum of squares {squares}"
            ))
            .with_hint("A score state holds scores on 0-100: 0 <= sum <= 100 * scores, and sum^2 <= scores * sum of squares <= 100 * scores * sum."));
        }
        let mut s = Scores {
            count,
            sum,
            ..Default::default()
        };
        s.set_squares(squares);
        Ok(s)
    }

    /// The mean score; `None` without scores.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }

    /// The interval of the mean score, within the scale; `None` without scores.
    ///
    /// Student's t interval of the scores with one score more at 0 and one at 100, the
    /// adjustment the CES interval makes on its 1-7 scale (`intervals::mean_interval`). The
    /// plain t interval is far too short when scores pile up at one end: pass/fail audits
    /// scored 0 or 100 with 95% passing gave a "95%" interval that held the true mean in 10%
    /// of samples of 2 scores and 40% of 10 (an all-100 sample has no spread, so a
    /// zero-width interval), and 88% of 100. With the two scores added it holds at least
    /// 0.937 at 95% and 0.881 at 90% over pass/fail audits of 0.5% to 99.5% passing and 1 to
    /// 1,000 scores, computed exactly, and over skewed, flat and concentrated mixes
    /// (tests/client/test_coverage.py). A single score gets a wide interval, and scores that
    /// are all equal one wider than nothing.
    pub fn t_interval(&self, confidence: f64) -> Option<(f64, f64)> {
        if self.count < 1 {
            return None;
        }
        let n = self.count as i128 + 2;
        let sum = self.sum as i128 + HIGHEST as i128;
        let squares = self.squares() + (HIGHEST * HIGHEST) as i128;
        let nf = n as f64;
        // (n * sum of squares - sum^2) / (n (n - 1)), exact up to the last division
        let spread = squares * n - sum * sum;
        t_interval(
            nf,
            sum as f64 / nf,
            spread as f64 / (nf * (nf - 1.0)),
            (LOWEST as f64, HIGHEST as f64),
            confidence,
        )
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string(&ScoresText {
            scores: self.count,
            sum: self.sum,
            sum_of_squares: self.squares(),
        })
        .expect("integers always serialize")
    }

    pub fn from_text(text: &str) -> Result<Self, KpiError> {
        let t: ScoresText = serde_json::from_str(text).map_err(|e| {
            KpiError::invalid_text(format!(
                "invalid score state \"{}\": {e}",
                crate::error::excerpt(text),
                e = crate::error::excerpt(&e.to_string())
            ))
            .with_hint("Write it as {\"scores\": 3, \"sum\": 255, \"sum_of_squares\": 21725}.")
        })?;
        Self::from_parts(t.scores, t.sum, t.sum_of_squares)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + SCORES_BYTES);
        put_u8(&mut out, BINARY_FORMAT);
        put_i64(&mut out, self.count);
        put_i64(&mut out, self.sum);
        out.extend_from_slice(&self.squares().to_be_bytes());
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KpiError> {
        let mut r = Reader::new(bytes);
        r.version()?;
        let count = r.i64()?;
        let sum = r.i64()?;
        let squares = i128::from_be_bytes(r.take(16)?.try_into().unwrap());
        r.finish()?;
        Self::from_parts(count, sum, squares).map_err(|e| KpiError::invalid_binary(e.message))
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoresText {
    scores: i64,
    sum: i64,
    sum_of_squares: i128,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(scores: &[i64]) -> Scores {
        let mut s = Scores::default();
        for &x in scores {
            s.add(x).unwrap();
        }
        s
    }

    #[test]
    fn counts_sums_and_takes_back() {
        let mut s = of(&[80, 90, 85]);
        assert_eq!((s.count, s.sum, s.squares()), (3, 255, 21725));
        assert_eq!(s.mean(), Some(85.0));
        s.remove(90).unwrap();
        assert_eq!((s.count, s.sum, s.squares()), (2, 165, 13625));
        assert!(s.remove(100).is_err());
        assert!(of(&[]).mean().is_none());
        assert!(Scores::default().add(101).is_err() && Scores::default().add(-1).is_err());
    }

    #[test]
    fn t_interval_matches_published_values() {
        // 80, 90, 85 and the two added scores 0 and 100: mean 71, sample variance 1630,
        // scipy.stats.t.interval(0.95, 4, loc=71, scale=sqrt(1630 / 5))
        //   = (20.86997845971306, 121.13002154028695), clipped to 100
        let (lo, hi) = of(&[80, 90, 85]).t_interval(0.95).unwrap();
        assert!((lo - 20.869_978_459_713_06).abs() < 1e-9, "{lo}");
        assert!((hi - 100.0).abs() < 1e-12, "{hi}");
        // 50 scores of 80 and the two added: no longer zero width,
        // scipy.stats.t.interval(0.95, 51, ...) = (75.6478533414929, 82.04445435081477)
        let (lo, hi) = of(&[80; 50]).t_interval(0.95).unwrap();
        assert!((lo - 75.647_853_341_492_9).abs() < 1e-9, "{lo}");
        assert!((hi - 82.044_454_350_814_77).abs() < 1e-9, "{hi}");
        // one score: an interval, here the whole scale (0, 70, 100: half-width 125); none
        // without scores
        assert!(of(&[70]).t_interval(0.95).is_some());
        assert_eq!(of(&[70]).t_interval(0.95), Some((0.0, 100.0)));
        assert_eq!(of(&[]).t_interval(0.95), None);
        // clipped to the scale
        let (lo, hi) = of(&[0, 100]).t_interval(0.95).unwrap();
        assert_eq!((lo, hi), (0.0, 100.0));
    }

    #[test]
    fn merge_text_and_bytes_round_trip() {
        let mut a = of(&[10, 20]);
        a.merge(&of(&[30])).unwrap();
        assert_eq!(a, of(&[10, 20, 30]));
        assert_eq!(
            a.to_text(),
            r#"{"scores":3,"sum":60,"sum_of_squares":1400}"#
        );
        assert_eq!(Scores::from_text(&a.to_text()).unwrap(), a);
        assert_eq!(Scores::from_bytes(&a.to_bytes()).unwrap(), a);
        assert_eq!(
            Scores::from_text(r#"{"scores":0,"sum":0,"sum_of_squares":0}"#).unwrap(),
            Scores::default()
        );
    }

    #[test]
    fn refuses_states_the_aggregate_cannot_make() {
        for text in [
            r#"{"scores":1,"sum":101,"sum_of_squares":10201}"#, // a score above 100
            r#"{"scores":2,"sum":100,"sum_of_squares":4000}"#,  // squares below sum^2 / count
            r#"{"scores":2,"sum":100,"sum_of_squares":10001}"#, // squares above 100 * sum
            r#"{"scores":-1,"sum":0,"sum_of_squares":0}"#,
            r#"{"scores":0,"sum":0,"sum_of_squares":1}"#,
            r#"{"scores":1,"sum":5}"#,
        ] {
            assert!(Scores::from_text(text).is_err(), "{text}");
        }
        assert!(Scores::from_bytes(&[1, 0, 0]).is_err());
    }
}

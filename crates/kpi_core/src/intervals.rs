//! Confidence intervals of the KPIs that are not a plain share (shares use
//! [`crate::wilson`]): how far the true value behind a small sample may be from the observed.
//!
//! - Per-customer rates (events per customer): the exact Poisson interval of the event count
//!   (Garwood 1936), divided by the customers. `k` events give the Poisson means between the
//!   α/2 quantile of Gamma(k) and the 1 − α/2 quantile of Gamma(k + 1).
//! - NPS (% promoters − % detractors of one sample): the adjusted Wald interval, which adds 3
//!   answers, ¾ of a promoter and ¾ of a detractor, then uses the variance of a difference of
//!   two shares of one multinomial sample (Rocks 2016, The American Statistician, found it the
//!   best of six methods), with a continuity term 1/(n + 3) ([`nps_interval`]).
//! - CES (a mean answer): Student's t interval of the answers with one answer more at each
//!   end of the scale, clipped to the scale ([`mean_interval`]).
//!
//! The special functions are computed to near machine precision for the sample sizes KPIs
//! have; the tests compare with published quantiles, and the client tests with scipy.

use crate::special::{gamma_quantile, normal_quantile, t_quantile};

/// The exact (Garwood) interval of the mean of a Poisson count `k`.
pub fn poisson_interval(k: i64, confidence: f64) -> (f64, f64) {
    let alpha = 1.0 - confidence;
    let lower = if k == 0 {
        0.0
    } else {
        gamma_quantile(k as f64, alpha / 2.0)
    };
    (lower, gamma_quantile(k as f64 + 1.0, 1.0 - alpha / 2.0))
}

/// The interval of a rate `events / exposure * scale`; `None` when `exposure` is 0.
pub fn rate_interval(
    events: i64,
    exposure: i64,
    scale: f64,
    confidence: f64,
) -> Option<(f64, f64)> {
    if exposure <= 0 {
        return None;
    }
    let (lo, hi) = poisson_interval(events, confidence);
    let per = scale / exposure as f64;
    Some((lo * per, hi * per))
}

/// The interval of the mean answer of a bounded scale (CES), from the answers given as a
/// histogram (`counts[i]` answers of score `lowest + i`); `None` without answers.
///
/// Student's t interval of the answers with one answer more at each end of the scale (an
/// adjustment in the spirit of Agresti & Coull's added successes and failures for a share),
/// clipped to the scale. The plain t interval says 95% but holds 0.79 to 0.92 of the time on
/// skewed answers over 5 to 30 answers, and has no width when all answers are equal; with the
/// two added answers it holds at least 0.94 over the simulated grid of
/// tests/client/test_coverage.py (skewed, flat, two-peaked and single-valued answers, 1 to
/// 100 answers), at the price of a wider interval over few answers.
pub fn mean_interval(counts: &[i64], lowest: i64, confidence: f64) -> Option<(f64, f64)> {
    let answered: i64 = counts.iter().sum();
    if answered < 1 || counts.is_empty() {
        return None;
    }
    let last = counts.len() - 1;
    let count = |i: usize| counts[i] as f64 + if i == 0 || i == last { 1.0 } else { 0.0 };
    let nf = answered as f64 + 2.0;
    let score = |i: usize| (lowest + i as i64) as f64;
    let mean = (0..counts.len()).map(|i| score(i) * count(i)).sum::<f64>() / nf;
    let squares: f64 = (0..counts.len())
        .map(|i| (score(i) - mean).powi(2) * count(i))
        .sum();
    let highest = (lowest + last as i64) as f64;
    t_interval(
        nf,
        mean,
        squares / (nf - 1.0),
        (lowest as f64, highest),
        confidence,
    )
}

/// Student's t interval of a mean of `n` (at least two) values with sample variance
/// `variance`, clipped to the scale `(lowest, highest)`: CES answers, audit scores.
pub fn t_interval(
    n: f64,
    mean: f64,
    variance: f64,
    (lowest, highest): (f64, f64),
    confidence: f64,
) -> Option<(f64, f64)> {
    let half = t_quantile(0.5 + confidence / 2.0, n - 1.0) * variance.sqrt() / n.sqrt();
    Some(((mean - half).max(lowest), (mean + half).min(highest)))
}

/// The interval of NPS as fractions (-1 to 1); `None` without answers.
///
/// The adjusted Wald interval (Rocks 2016), with a continuity term of 1/(n + 3) added to its
/// half-width, and the whole range below 4 answers. The plain adjusted Wald interval says 95%
/// but held 0.90 to 0.93 over 5 to 10 answers when 90% or more were promoters (or
/// detractors), and far less over 1 to 3 (one promoter's interval stopped short of +100); with
/// the term it holds at least 0.949 at 95% (0.899 at 90%) from 4 answers on, over the mixes of
/// tests/client/test_coverage.py, at the price of an interval about 10% wider over 30 answers.
pub fn nps_interval(
    promoters: i64,
    detractors: i64,
    answers: i64,
    confidence: f64,
) -> Option<(f64, f64)> {
    if answers <= 0 {
        return None;
    }
    if answers < 4 {
        return Some((-1.0, 1.0));
    }
    let n = answers as f64 + 3.0;
    let p = (promoters as f64 + 0.75) / n;
    let d = (detractors as f64 + 0.75) / n;
    let net = p - d;
    let half = normal_quantile(0.5 + confidence / 2.0) * ((p + d - net * net) / n).sqrt() + 1.0 / n;
    Some(((net - half).max(-1.0), (net + half).min(1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn garwood_interval_of_small_counts() {
        // scipy.stats.gamma.ppf: 0 events -> (0, 3.689), 1 -> (0.0253, 5.572), 10 -> (4.795, 18.39)
        let (lo, hi) = poisson_interval(0, 0.95);
        assert_eq!(lo, 0.0);
        assert!(close(hi, 3.688_879_454_113_935_4, 1e-9), "{hi}");
        let (lo, hi) = poisson_interval(1, 0.95);
        assert!(
            close(lo, 0.025_317_807_984_289_876, 1e-9) && close(hi, 5.571_643_390_938_898, 1e-9)
        );
        let (lo, hi) = poisson_interval(10, 0.95);
        assert!(
            close(lo, 4.795_388_696_132_433_5, 1e-9) && close(hi, 18.390_356_042_017_78, 1e-9),
            "{lo} {hi}"
        );
        assert_eq!(rate_interval(3, 0, 1000.0, 0.95), None);
    }

    #[test]
    fn large_counts_are_fast_and_near_the_normal_interval() {
        let k = 50_000_000;
        let (lo, hi) = poisson_interval(k, 0.95);
        let sd = (k as f64).sqrt();
        assert!(
            (lo - (k as f64 - 1.96 * sd)).abs() < 5.0 && (hi - (k as f64 + 1.96 * sd)).abs() < 5.0
        );
        let (lo, hi) = poisson_interval(2_000_000, 0.95);
        assert!(lo < 2_000_000.0 && hi > 2_000_000.0 && hi - lo < 6000.0);
    }

    #[test]
    fn mean_and_nps_intervals() {
        assert_eq!(mean_interval(&[0, 0, 0, 0, 0, 0, 0], 1, 0.95), None);
        // one answer of 3: with 1 and 7 added, 3.667 +- 7.5, the whole scale
        assert_eq!(
            mean_interval(&[0, 0, 1, 0, 0, 0, 0], 1, 0.95),
            Some((1.0, 7.0))
        );
        // 30 answers, all 4: 1 and 7 added, mean 4, sd sqrt(18/31), t(31) 2.0395: 4 +- 0.2775
        let (lo, hi) = mean_interval(&[0, 0, 0, 30, 0, 0, 0], 1, 0.95).unwrap();
        let half = 2.039_513_446_396_408 * (18.0f64 / 31.0).sqrt() / 32f64.sqrt();
        assert!(
            (lo - (4.0 - half)).abs() < 1e-9 && (hi - (4.0 + half)).abs() < 1e-9,
            "{lo} {hi}"
        );
        let (lo, hi) = nps_interval(0, 0, 0, 0.95).map_or((9.0, 9.0), |x| x);
        assert_eq!((lo, hi), (9.0, 9.0));
        // 3 promoters of 3: the whole range; 10 of 10: up to +100
        assert_eq!(nps_interval(3, 0, 3, 0.95), Some((-1.0, 1.0)));
        let (lo, hi) = nps_interval(10, 0, 10, 0.95).unwrap();
        assert!(lo < 0.75 && hi == 1.0, "{lo} {hi}");
    }
}

//! The Wilson score interval of a share (Wilson 1927; recommended by Brown, Cai & DasGupta,
//! Statistical Science 2001): how far the true rate behind `hits` of `total` may be from the
//! observed one. A rate over a small group is noisy: 1 escalation in 12 cases is 8.3%, but
//! its 95% interval runs from about 1.5% to 35%.

use crate::special::normal_quantile;

/// The interval as fractions (0 to 1), or `None` when `total` is 0.
/// `confidence` is the two-sided level, e.g. 0.95; the caller checks 0 < confidence < 1.
pub fn wilson_interval(hits: i64, total: i64, confidence: f64) -> Option<(f64, f64)> {
    if total <= 0 {
        return None;
    }
    let n = total as f64;
    let p = hits as f64 / n;
    let z = normal_quantile(0.5 + confidence / 2.0);
    let z2 = z * z;
    let centre = p + z2 / (2.0 * n);
    let half_width = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let denominator = 1.0 + z2 / n;
    let lower = ((centre - half_width) / denominator).max(0.0);
    let upper = ((centre + half_width) / denominator).min(1.0);
    Some((lower, upper))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_in_twelve_is_noisy() {
        // the spec's example: 1 of 12 is 8.3%, its 95% interval about 1.5% to 35%
        let (lo, hi) = wilson_interval(1, 12, 0.95).unwrap();
        assert!((lo - 0.014865).abs() < 1e-5, "{lo}");
        assert!((hi - 0.353880).abs() < 1e-5, "{hi}");
    }

    #[test]
    fn edges_stay_within_zero_and_one() {
        let (lo, hi) = wilson_interval(0, 50, 0.95).unwrap();
        assert_eq!(lo, 0.0);
        assert!(hi > 0.0 && hi < 0.1);
        let (lo, hi) = wilson_interval(50, 50, 0.95).unwrap();
        assert!(lo > 0.9 && hi > 0.999_999_999 && hi <= 1.0);
        assert_eq!(wilson_interval(0, 0, 0.95), None);
    }
}

//! The Wilson score interval of a share (Wilson 1927; recommended by Brown, Cai & DasGupta,
//! Statistical Science 2001): how far the true rate behind `hits` of `total` may be from the
//! observed one. A rate over a small group is noisy: 1 escalation in 12 cases is 8.3%, but
//! its 95% interval runs from about 1.5% to 35%.

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

/// The standard normal quantile (inverse CDF) for 0 < p < 1: P. J. Acklam's rational
/// approximation (relative error below 1.2e-9), then one Halley step on the exact normal
/// CDF, which brings it to about machine precision.
pub fn normal_quantile(p: f64) -> f64 {
    let x = acklam(p);
    let e = normal_cdf(x) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// The standard normal CDF, from the regularized incomplete gamma function.
pub fn normal_cdf(x: f64) -> f64 {
    let half = 0.5 * crate::intervals::gamma_p(0.5, x * x / 2.0);
    if x < 0.0 {
        0.5 - half
    } else {
        0.5 + half
    }
}

fn acklam(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.383_577_518_672_69e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    const LOW: f64 = 0.02425;
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - LOW {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_published_values() {
        // scipy.stats.norm.ppf
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-14);
        assert!((normal_quantile(0.995) - 2.575_829_303_548_900_4).abs() < 1e-14);
        assert!((normal_quantile(0.5)).abs() < 1e-15);
        assert!((normal_quantile(0.01) + 2.326_347_874_040_840_8).abs() < 1e-14);
    }

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

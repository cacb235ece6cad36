//! Confidence intervals of the KPIs that are not a plain share (shares use
//! [`crate::wilson`]): how far the true value behind a small sample may be from the observed.
//!
//! - Per-customer rates (events per customer): the exact Poisson interval of the event count
//!   (Garwood 1936), divided by the customers. `k` events give the Poisson means between the
//!   α/2 quantile of Gamma(k) and the 1 − α/2 quantile of Gamma(k + 1).
//! - NPS (% promoters − % detractors of one sample): the adjusted Wald interval, which adds 3
//!   answers, ¾ of a promoter and ¾ of a detractor, then uses the variance of a difference of
//!   two shares of one multinomial sample (Rocks 2016, The American Statistician, found it the
//!   best of six methods).
//! - CES (a mean answer): Student's t interval of the mean, clipped to the scale.
//!
//! The special functions are computed to near machine precision for the sample sizes KPIs
//! have; the tests compare with published quantiles, and the client tests with scipy.

use crate::wilson::normal_quantile;

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error about 1e-15).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // reflection
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularized lower incomplete gamma function P(a, x), a > 0, x >= 0.
pub fn gamma_p(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let log_prefix = a * x.ln() - x - ln_gamma(a);
    if x < a + 1.0 {
        // series: sum of x^n / (a (a+1) ... (a+n))
        let (mut term, mut sum, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..100_000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-17 {
                break;
            }
        }
        (sum.ln() + log_prefix).exp().min(1.0)
    } else {
        // continued fraction for Q(a, x)
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..100_000 {
            b += 2.0;
            let delta = lentz(-(i as f64) * (i as f64 - a), b, &mut c, &mut d);
            h *= delta;
            if (delta - 1.0).abs() < 1e-17 {
                break;
            }
        }
        (1.0 - (h.ln() + log_prefix).exp()).max(0.0)
    }
}

/// Solves `f(x) = p` for an increasing `f` on `[lo, hi]` by bisection to the last bit.
fn bisect(f: impl Fn(f64) -> f64, p: f64, mut lo: f64, mut hi: f64) -> f64 {
    for _ in 0..2_000 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if f(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The p quantile of Gamma(shape a, scale 1).
pub fn gamma_quantile(a: f64, p: f64) -> f64 {
    if a > 1e7 {
        // Wilson-Hilferty: a chi-square of 2a degrees of freedom, cube-root normal; at this
        // size its relative error is far below the precision a rate is reported with
        let z = normal_quantile(p);
        let v = 1.0 / (9.0 * a);
        return a * (1.0 - v + z * v.sqrt()).powi(3);
    }
    let mut hi = a + 10.0 * a.sqrt() + 10.0;
    while gamma_p(a, hi) < p {
        hi *= 2.0;
    }
    bisect(|x| gamma_p(a, x), p, 0.0, hi)
}

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

/// The regularized incomplete beta function I_x(a, b).
pub fn beta_inc(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    // the continued fraction converges fast for x < (a + 1) / (a + b + 2)
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..100_000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        h *= lentz(
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            1.0,
            &mut c,
            &mut d,
        );
        let delta = lentz(
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
            1.0,
            &mut c,
            &mut d,
        );
        h *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// Keeps the modified Lentz method's terms away from zero.
const TINY: f64 = 1e-300;

/// One step of the modified Lentz method for a continued fraction with partial numerator `a`
/// and denominator `b`: updates `c` and `d` and returns the factor for the running value.
fn lentz(a: f64, b: f64, c: &mut f64, d: &mut f64) -> f64 {
    *d = b + a * *d;
    if d.abs() < TINY {
        *d = TINY;
    }
    *c = b + a / *c;
    if c.abs() < TINY {
        *c = TINY;
    }
    *d = 1.0 / *d;
    *d * *c
}

/// P(T <= t) for Student's t with `df` degrees of freedom.
pub fn t_cdf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * beta_inc(df / 2.0, 0.5, df / (df + t * t));
    if t >= 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// The p quantile of Student's t with `df` degrees of freedom, 0.5 <= p < 1.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    let mut hi = 10.0;
    while t_cdf(hi, df) < p {
        hi *= 2.0;
    }
    bisect(|t| t_cdf(t, df), p, 0.0, hi)
}

/// Student's t interval of the mean of answers given as a histogram (`counts[i]` answers of
/// score `lowest + i`), clipped to the scale; `None` below two answers.
pub fn mean_interval(counts: &[i64], lowest: i64, confidence: f64) -> Option<(f64, f64)> {
    let n: i64 = counts.iter().sum();
    if n < 2 {
        return None;
    }
    let nf = n as f64;
    let score = |i: usize| (lowest + i as i64) as f64;
    let mean = counts
        .iter()
        .enumerate()
        .map(|(i, c)| score(i) * *c as f64)
        .sum::<f64>()
        / nf;
    let squares: f64 = counts
        .iter()
        .enumerate()
        .map(|(i, c)| (score(i) - mean).powi(2) * *c as f64)
        .sum();
    let sd = (squares / (nf - 1.0)).sqrt();
    let half = t_quantile(0.5 + confidence / 2.0, nf - 1.0) * sd / nf.sqrt();
    let highest = (lowest + counts.len() as i64 - 1) as f64;
    Some(((mean - half).max(lowest as f64), (mean + half).min(highest)))
}

/// The adjusted Wald interval of NPS as fractions (-1 to 1); `None` without answers.
pub fn nps_interval(
    promoters: i64,
    detractors: i64,
    answers: i64,
    confidence: f64,
) -> Option<(f64, f64)> {
    if answers <= 0 {
        return None;
    }
    let n = answers as f64 + 3.0;
    let p = (promoters as f64 + 0.75) / n;
    let d = (detractors as f64 + 0.75) / n;
    let net = p - d;
    let half = normal_quantile(0.5 + confidence / 2.0) * ((p + d - net * net) / n).sqrt();
    Some(((net - half).max(-1.0), (net + half).min(1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn gamma_quantiles_match_published_chi_square_values() {
        // chi2.ppf(q, 2a) / 2 = gamma quantile; (df, q, scipy.stats.chi2.ppf(q, df))
        for (df, q, value) in [
            (2.0, 0.975, 7.377_758_908_227_871),
            (2.0, 0.025, 0.050_635_615_968_579_75),
            (10.0, 0.025, 3.246_972_780_236_841_3),
            (10.0, 0.975, 20.483_177_350_807_388),
            (200.0, 0.975, 241.057_895_506_310_93),
        ] {
            let x = 2.0 * gamma_quantile(df / 2.0, q);
            assert!(close(x, value, 1e-9), "chi2({df}) {q}: {x} vs {value}");
        }
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
    fn t_quantiles_match_published_values() {
        for (df, q, value) in [
            (1.0, 0.975, 12.706_204_736_174_694),
            (4.0, 0.975, 2.776_445_105_197_793_4),
            (29.0, 0.995, 2.756_385_903_670_605),
            (1000.0, 0.975, 1.962_339_080_826_408_3),
        ] {
            let t = t_quantile(q, df);
            assert!(close(t, value, 1e-9), "t({df}) {q}: {t} vs {value}");
        }
    }

    #[test]
    fn mean_and_nps_intervals() {
        assert_eq!(mean_interval(&[0, 0, 1, 0, 0, 0, 0], 1, 0.95), None);
        let (lo, hi) = mean_interval(&[0, 0, 0, 0, 0, 1, 1], 1, 0.95).unwrap();
        assert_eq!((lo, hi), (1.0, 7.0)); // two answers: 6.5 +- 6.35, clipped to the scale
        let (lo, hi) = nps_interval(0, 0, 0, 0.95).map_or((9.0, 9.0), |x| x);
        assert_eq!((lo, hi), (9.0, 9.0));
        // 3 promoters of 3: never a bare +100
        let (lo, hi) = nps_interval(3, 0, 3, 0.95).unwrap();
        assert!(lo < 0.4 && hi == 1.0, "{lo} {hi}");
    }
}

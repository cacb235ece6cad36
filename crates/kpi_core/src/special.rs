//! The special functions behind the intervals, for the sample sizes KPIs have: the gamma
//! function and regularized incomplete gamma and beta functions, the quantiles of the gamma,
//! normal and Student's t distributions. Both interval modules ([`crate::wilson`],
//! [`crate::intervals`]) build on this one, which imports neither.

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
        (1.0 - upper_fraction(a, x)).max(0.0)
    }
}

/// The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x), computed directly
/// where it is small (no cancellation: the tail probabilities of the change tests).
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if x < a + 1.0 {
        1.0 - gamma_p(a, x)
    } else {
        upper_fraction(a, x)
    }
}

/// Q(a, x) by its continued fraction (x >= a + 1).
fn upper_fraction(a: f64, x: f64) -> f64 {
    let log_prefix = a * x.ln() - x - ln_gamma(a);
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
    (h.ln() + log_prefix).exp()
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
    let half = 0.5 * gamma_p(0.5, x * x / 2.0);
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

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn normal_quantiles_match_published_values() {
        // scipy.stats.norm.ppf
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-14);
        assert!((normal_quantile(0.995) - 2.575_829_303_548_900_4).abs() < 1e-14);
        assert!((normal_quantile(0.5)).abs() < 1e-15);
        assert!((normal_quantile(0.01) + 2.326_347_874_040_840_8).abs() < 1e-14);
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
}

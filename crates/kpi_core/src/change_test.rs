//! The change tests of the KPI history: is a period's value different from the previous
//! period's, beyond what the samples' noise explains? Each family is tested in its own terms,
//! two-sided:
//! - shares (escalations among cases, CSAT's satisfied answers among answers): Fisher's exact
//!   test of the 2x2 table;
//! - per-customer rates (events per customer): the exact conditional binomial test of two
//!   Poisson rates (given k1 + k2 events, k1 follows Binomial(k1 + k2, n1 / (n1 + n2)) when
//!   the rates are equal);
//! - NPS: the z test of the difference of two adjusted-Wald estimates (3/4 of a promoter and
//!   of a detractor added to each survey, 3 answers to its size);
//! - means (CES, audit scores): Welch's t test.
//!
//! The exact tests give the p-value that sums the probabilities of every outcome at most as
//! likely as the observed one (the "minimum likelihood" two-sided p-value, with a relative
//! tolerance of 1e-7 for ties, as R's fisher.test and SciPy's fisher_exact and binomtest
//! compute it). They walk the distribution from its mode with the ratio of consecutive
//! probabilities: one multiplication per outcome, no factorials, and outcomes below 1e-300 of
//! the mode's probability (which change no p-value worth reporting) are not visited. Their
//! work is bounded whatever the counts: an observed outcome less likely than 1e-300 of the
//! mode's gives 0 at once, and a distribution whose standard deviation passes 100,000 (some
//! 10^10 cases) is tested by its normal approximation, exact to far more digits than a
//! p-value needs there. Counts up to 2^53 (`MAX_COUNT`): the callers refuse larger ones.

use crate::special::{beta_inc, gamma_q};

/// The largest count the tests take (every count is then exact as an f64).
pub const MAX_COUNT: u64 = 1 << 53;
/// Relative tolerance under which two outcomes count as equally likely.
const TIES: f64 = 1.0 + 1e-7;
/// Probabilities (relative to the mode's) below this are not visited.
const NEGLIGIBLE: f64 = 1e-300;
/// Beyond this standard deviation, the normal approximation (the walk would take millions of
/// steps).
const MAX_EXACT_SD: f64 = 1e5;

/// The two-sided minimum-likelihood p-value of a discrete unimodal distribution on
/// `lo..=hi` with mode `mode`, mean `mean` and standard deviation `sd`, given `ratio(x)` =
/// P(x + 1) / P(x) and the observed `x`.
fn min_likelihood_p(
    (lo, hi, mode): (u64, u64, u64),
    (mean, sd): (f64, f64),
    observed: u64,
    ratio: impl Fn(u64) -> f64,
) -> f64 {
    if sd > MAX_EXACT_SD {
        return normal_two_sided((observed as f64 - mean) / sd);
    }
    // the observed outcome's probability relative to the mode's (in logs: it may underflow);
    // below NEGLIGIBLE it is less likely than every outcome the walk visits: p is 0
    let mut log_observed = 0.0f64;
    let floor = NEGLIGIBLE.ln();
    if observed > mode {
        for x in mode..observed {
            log_observed += ratio(x).ln();
            if log_observed < floor {
                return 0.0;
            }
        }
    } else {
        for x in observed..mode {
            log_observed -= ratio(x).ln();
            if log_observed < floor {
                return 0.0;
            }
        }
    }
    let threshold = log_observed.exp() * TIES;
    let (mut total, mut tail) = (1.0f64, if 1.0 <= threshold { 1.0 } else { 0.0 });
    // upwards from the mode
    let mut w = 1.0f64;
    let mut x = mode;
    while x < hi {
        w *= ratio(x);
        x += 1;
        if w < NEGLIGIBLE {
            break;
        }
        total += w;
        if w <= threshold {
            tail += w;
        }
    }
    // downwards from the mode
    let mut w = 1.0f64;
    let mut x = mode;
    while x > lo {
        x -= 1;
        w /= ratio(x);
        if w < NEGLIGIBLE {
            break;
        }
        total += w;
        if w <= threshold {
            tail += w;
        }
    }
    (tail / total).min(1.0)
}

/// Fisher's exact test of the table [[a, b], [c, d]] (e.g. this period's hits and misses,
/// then the previous period's), two-sided. 1 when a row or a column is empty.
pub fn fisher_exact(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let (r1, r2, c1) = (a + b, c + d, a + c);
    let n = r1 + r2;
    let c2 = n - c1;
    if r1 == 0 || r2 == 0 || c1 == 0 || c2 == 0 {
        return 1.0;
    }
    // a follows the hypergeometric distribution on lo..=hi
    let lo = c1.saturating_sub(r2);
    let hi = r1.min(c1);
    let ratio =
        |x: u64| ((r1 - x) as f64 * (c1 - x) as f64) / ((x + 1) as f64 * (r2 + x + 1 - c1) as f64);
    // the mode: floor((r1 + 1)(c1 + 1) / (n + 2)), kept within the support
    let mode = (((r1 + 1) as f64 * (c1 + 1) as f64 / (n + 2) as f64).floor() as u64).clamp(lo, hi);
    let (nf, r1f, c1f) = (n as f64, r1 as f64, c1 as f64);
    let mean = r1f * c1f / nf;
    let sd = (r1f * c1f * r2 as f64 * c2 as f64 / (nf * nf * (nf - 1.0))).sqrt();
    min_likelihood_p((lo, hi, mode), (mean, sd), a, ratio)
}

/// The exact binomial test of k successes in n trials against probability p (0 < p < 1),
/// two-sided. 1 when n is 0.
pub fn binomial_test(k: u64, n: u64, p: f64) -> f64 {
    if n == 0 {
        return 1.0;
    }
    let odds = p / (1.0 - p);
    let ratio = |x: u64| (n - x) as f64 / (x + 1) as f64 * odds;
    let mode = (((n + 1) as f64 * p).floor() as u64).min(n);
    let (mean, sd) = (n as f64 * p, (n as f64 * p * (1.0 - p)).sqrt());
    min_likelihood_p((0, n, mode), (mean, sd), k, ratio)
}

/// Two Poisson rates, k1 events over exposure n1 (customers) against k2 over n2: the exact
/// conditional binomial test, two-sided. None without exposure on either side.
pub fn poisson_rate_test(k1: u64, n1: u64, k2: u64, n2: u64) -> Option<f64> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    Some(binomial_test(k1, k1 + k2, n1 as f64 / (n1 + n2) as f64))
}

/// The two-sided p-value of a standard normal statistic, without cancellation in the tails.
pub fn normal_two_sided(z: f64) -> f64 {
    gamma_q(0.5, z * z / 2.0).min(1.0)
}

/// NPS of two surveys (promoters, detractors, answers): the z test of the difference of their
/// adjusted-Wald estimates. None for a survey without answers.
pub fn nps_test(p1: u64, d1: u64, n1: u64, p2: u64, d2: u64, n2: u64) -> Option<f64> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let adjusted = |p: u64, d: u64, n: u64| {
        let m = n as f64 + 3.0;
        let (pp, pd) = ((p as f64 + 0.75) / m, (d as f64 + 0.75) / m);
        (pp - pd, (pp + pd - (pp - pd) * (pp - pd)) / m)
    };
    let (nps1, var1) = adjusted(p1, d1, n1);
    let (nps2, var2) = adjusted(p2, d2, n2);
    Some(normal_two_sided((nps1 - nps2) / (var1 + var2).sqrt()))
}

/// Welch's t test of two samples given by their size, sum and sum of squares. None for a
/// sample of fewer than 2 values, or when neither sample varies.
pub fn welch_t_test(
    n1: f64,
    sum1: f64,
    squares1: f64,
    n2: f64,
    sum2: f64,
    squares2: f64,
) -> Option<f64> {
    if n1 < 2.0 || n2 < 2.0 {
        return None;
    }
    let moments = |n: f64, sum: f64, squares: f64| {
        let mean = sum / n;
        (mean, ((squares - sum * mean) / (n - 1.0)).max(0.0))
    };
    let (m1, v1) = moments(n1, sum1, squares1);
    let (m2, v2) = moments(n2, sum2, squares2);
    let (s1, s2) = (v1 / n1, v2 / n2);
    if s1 + s2 <= 0.0 {
        return None;
    }
    let t = (m1 - m2) / (s1 + s2).sqrt();
    let df = (s1 + s2) * (s1 + s2) / (s1 * s1 / (n1 - 1.0) + s2 * s2 / (n2 - 1.0));
    Some(beta_inc(df / 2.0, 0.5, df / (df + t * t)).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64) {
        assert!(
            (got - want).abs() <= 1e-9 * want.abs().max(1e-300) || (got - want).abs() < 1e-14,
            "got {got}, want {want}"
        );
    }

    // Values from SciPy 1.x (fisher_exact, binomtest, norm.sf, ttest_ind(equal_var=False));
    // tests/client/test_change_tests.py checks many more, through SQL.
    #[test]
    fn fisher_matches_published_values() {
        // Fisher's tea-tasting table
        close(fisher_exact(3, 1, 1, 3), 0.485_714_285_714_285_7);
        close(fisher_exact(1, 9, 11, 3), 0.002_759_456_185_220_083);
        assert_eq!(fisher_exact(0, 0, 5, 5), 1.0);
        assert_eq!(fisher_exact(5, 5, 5, 5), 1.0);
    }

    #[test]
    fn binomial_matches_published_values() {
        close(binomial_test(682, 925, 0.75), 0.382_491_559_574_851_7);
        close(binomial_test(2, 10, 0.5), 0.109_375);
        assert_eq!(binomial_test(0, 0, 0.5), 1.0);
    }

    #[test]
    fn the_normal_tail_keeps_its_precision() {
        close(normal_two_sided(1.959_963_984_540_054), 0.05);
        close(normal_two_sided(10.0), 1.523_970_604_832_094e-23);
        assert_eq!(normal_two_sided(0.0), 1.0);
    }

    #[test]
    fn welch_matches_a_textbook_value() {
        // samples 1..=5 and 3..=9
        let (n1, s1, q1) = (5.0, 15.0, 55.0);
        let (n2, s2, q2) = (7.0, 42.0, (3..=9).map(|x| x * x).sum::<i32>() as f64);
        let p = welch_t_test(n1, s1, q1, n2, s2, q2).unwrap();
        close(p, 0.019_594_474_530_359_892);
        assert_eq!(welch_t_test(1.0, 1.0, 1.0, 5.0, 5.0, 5.0), None);
        assert_eq!(welch_t_test(3.0, 3.0, 3.0, 3.0, 3.0, 3.0), None);
    }

    #[test]
    fn any_counts_end_quickly() {
        let start = std::time::Instant::now();
        // far in a tail: 0 at once, not a walk of a billion steps
        assert_eq!(fisher_exact(0, 1_000_000_000, 1_000_000_000, 0), 0.0);
        assert_eq!(
            binomial_test(1_000_000_000_000, 1_000_000_000_000, 0.5),
            0.0
        );
        assert_eq!(binomial_test(MAX_COUNT, MAX_COUNT, 1e-9), 0.0);
        // a huge spread: the normal approximation
        let p = fisher_exact(MAX_COUNT / 4, MAX_COUNT / 4, MAX_COUNT / 4, MAX_COUNT / 4);
        close(p, 1.0);
        let p = binomial_test(MAX_COUNT / 2 + 100_000_000, MAX_COUNT, 0.5);
        close(p, normal_two_sided(2e8 / (MAX_COUNT as f64).sqrt()));
        assert!(start.elapsed().as_secs_f64() < 2.0, "{:?}", start.elapsed());
    }

    #[test]
    fn large_samples_are_fast_and_sane() {
        let p = fisher_exact(500_000, 500_000, 499_000, 501_000);
        close(p, 0.157_714_504_869_766_57);
        assert_eq!(fisher_exact(1_000_000, 0, 0, 1_000_000), 0.0);
        let p = binomial_test(5_000_000, 10_000_000, 0.5);
        assert!((p - 1.0).abs() < 1e-9, "{p}");
    }
}

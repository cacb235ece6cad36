"""Every rate-like KPI's interval equals an independent computation with scipy, and the
sample-aware verdict kpi_band(kpi, summary) names exactly the bands its interval touches.

- per-customer rates and segments: the exact Poisson (Garwood) interval from chi-square
  quantiles, chi2.ppf(a/2, 2k) / 2 and chi2.ppf(1 - a/2, 2k + 2) / 2, per customer;
- escalation and CSAT: scipy's Wilson interval with continuity correction
  (binomtest(...).proportion_ci(method='wilsoncc'));
- NPS: the adjusted Wald interval (3 answers more, 3/4 promoter and detractor more) with a
  continuity term 1/(n + 3), the whole range below 4 answers;
- CES: scipy's Student's t interval of the answers with one answer more at 1 and at 7,
  within the scale 1 to 7;
- audit scores (quality_score, service_audit_score): the same within 0 to 100."""

import math
import random

import pytest
from scipy import stats

SEEDS = range(12)
REL = 1e-9


def close(ours, reference):
    if reference is None or ours is None:
        return ours is None and reference is None
    return math.isclose(float(ours), reference, rel_tol=REL, abs_tol=1e-12)


def garwood(k, n, scale, confidence):
    a = 1 - confidence
    lower = 0.0 if k == 0 else stats.chi2.ppf(a / 2, 2 * k) / 2
    upper = stats.chi2.ppf(1 - a / 2, 2 * k + 2) / 2
    return lower / n * scale, upper / n * scale


def wilson(k, n, confidence):
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilsoncc")
    return ci.low * 100, ci.high * 100


def adjusted_wald_nps(promoters, detractors, n, confidence):
    if n < 4:
        return -100.0, 100.0
    z = stats.norm.ppf(0.5 + confidence / 2)
    m = n + 3
    p, d = (promoters + 0.75) / m, (detractors + 0.75) / m
    half = z * math.sqrt((p + d - (p - d) ** 2) / m) + 1 / m
    return max(p - d - half, -1) * 100, min(p - d + half, 1) * 100


def t_mean(answers, confidence, scale=(1, 7)):
    n = len(answers)
    mean = sum(answers) / n
    sem = math.sqrt(sum((a - mean) ** 2 for a in answers) / (n - 1) / n) if n > 1 else 0
    if sem == 0:
        return mean, mean
    lower, upper = stats.t.interval(confidence, n - 1, loc=mean, scale=sem)
    return max(lower, scale[0]), min(upper, scale[1])


def verdict(conn, kpi, lower, upper):
    """The bands of the catalog the interval [lower, upper] touches, computed here."""
    labels, edges, belongs = conn.execute(
        "SELECT band_labels, band_edges, edge_belongs_to FROM kpi_catalog WHERE kpi = %s", [kpi]).fetchone()

    def band(v):
        for i, e in enumerate(edges):
            if v < e or (v == e and belongs[i] == "lower"):
                return i
        return len(labels) - 1

    lo, hi = band(lower), band(upper)
    touched = labels[lo:hi + 1]
    return touched[0] if len(touched) == 1 else ", ".join(touched[:-1]) + " or " + touched[-1]


@pytest.mark.parametrize("seed", SEEDS)
def test_per_customer_rate_intervals_equal_scipy(conn, seed):
    rng = random.Random(seed)
    customers = rng.choice([1, 7, 40, 300, 5000])
    events = rng.choice([0, 1, 2, rng.randint(0, 3 * customers)])
    confidence = rng.choice([0.8, 0.9, 0.95, 0.99])
    conn.execute("DROP TABLE IF EXISTS r")
    conn.execute("CREATE TABLE r AS SELECT g AS customer_id, NULL::bigint AS event_id FROM generate_series(1, %s) g",
                 [customers])
    conn.execute("INSERT INTO r SELECT 1 + (hashint4(g + %s) & 1048575) %% %s, g FROM generate_series(1, %s) g",
                 [seed, customers, events])
    for kpi, scale in [("incident_rate", 1000), ("contact_rate", 100), ("interaction_rate", 100)]:
        summary = kpi.replace("_rate", "_summary")
        lower, upper, verdict_ours, value = conn.execute(
            f"SELECT (ci).lower, (ci).upper, kpi_band(%s, s, %s), kpi_value(%s, s) "
            f"FROM (SELECT s, {kpi}_ci(s, %s) AS ci FROM (SELECT {summary}(customer_id, event_id) s FROM r) x) y",
            [kpi, confidence, kpi, confidence]).fetchone()
        ref = garwood(events, customers, scale, confidence)
        assert close(lower, ref[0]) and close(upper, ref[1]), (kpi, lower, upper, ref)
        assert value == conn.execute(f"SELECT count(event_id) * {scale}.0 / count(DISTINCT customer_id) FROM r").fetchone()[0]
        assert verdict_ours == verdict(conn, kpi, lower, upper)
    # per segment: each segment's interval from its own counts
    rows = conn.execute(
        "SELECT (c).segment, (c).lower, (c).upper FROM (SELECT contact_rate_by_segment_ci("
        "contact_summary_by_segment(CASE WHEN customer_id %% 3 = 0 THEN 'a' ELSE 'b' END, customer_id, event_id), %s) c "
        "FROM r) x", [confidence]).fetchall()
    counts = dict(((s, (n, k)) for s, n, k in conn.execute(
        "SELECT CASE WHEN customer_id % 3 = 0 THEN 'a' ELSE 'b' END, count(DISTINCT customer_id), count(event_id) "
        "FROM r GROUP BY 1")))
    assert [r[0] for r in rows] == sorted(counts)
    for segment, lower, upper in rows:
        n, k = counts[segment]
        ref = garwood(k, n, 100, confidence)
        assert close(lower, ref[0]) and close(upper, ref[1]), (segment, lower, upper, ref)


@pytest.mark.parametrize("seed", SEEDS)
def test_share_and_survey_intervals_equal_scipy(conn, seed):
    rng = random.Random(seed)
    n = rng.choice([1, 2, 5, 12, 60, 900])
    confidence = rng.choice([0.9, 0.95, 0.99])
    nps_answers = [rng.choice([0, 3, 6, 7, 8, 9, 10, 10]) for _ in range(n)]
    csat_answers = [rng.choice([1, 2, 3, 4, 5, 5]) for _ in range(n)]
    ces_answers = [rng.choice([1, 4, 5, 6, 7, 7]) for _ in range(n)]
    escalated = [rng.random() < 0.07 for _ in range(n)]

    def one(sql, values):
        return conn.execute(sql, [confidence, values]).fetchone()

    lo, hi = one("SELECT (escalation_rate_ci(escalation_summary(e), %s)).* FROM unnest(%s::boolean[]) e", escalated)
    ref = wilson(sum(escalated), n, confidence)
    assert close(lo, ref[0]) and close(hi, ref[1]), (lo, hi, ref)

    lo, hi = one("SELECT (csat_ci(csat_summary(a), %s)).* FROM unnest(%s::int[]) a", csat_answers)
    ref = wilson(sum(a >= 4 for a in csat_answers), n, confidence)
    assert close(lo, ref[0]) and close(hi, ref[1]), (lo, hi, ref)

    lo, hi = one("SELECT (nps_ci(nps_summary(a), %s)).* FROM unnest(%s::int[]) a", nps_answers)
    ref = adjusted_wald_nps(sum(a >= 9 for a in nps_answers), sum(a <= 6 for a in nps_answers), n, confidence)
    assert close(lo, ref[0]) and close(hi, ref[1]), (lo, hi, ref)

    lo, hi = one("SELECT (ces_ci(ces_summary(a), %s)).* FROM unnest(%s::int[]) a", ces_answers)
    # CES: Student's t with one answer more at each end of the scale (1 and 7)
    ref = t_mean(ces_answers + [1, 7], confidence)
    assert close(lo, ref[0]) and close(hi, ref[1]), (lo, hi, ref)

    # audit scores on 0-100: Student's t with one score more at each end (0 and 100), within
    # 0-100; a single score has an interval too
    scores = [rng.choice([0, 55, 70, 85, 90, 100]) for _ in range(n)]
    for kpi in ("quality_score", "service_audit_score"):
        lo, hi = one(f"SELECT ({kpi}_ci({kpi}_summary(a), %s)).* FROM unnest(%s::int[]) a", scores)
        ref = t_mean(scores + [0, 100], confidence, (0, 100))
        assert close(lo, ref[0]) and close(hi, ref[1]), (kpi, lo, hi, ref)
    # without scores: none
    assert one("SELECT (quality_score_ci(quality_score_summary(a), %s)).* FROM unnest(%s::int[]) a", []) == (None, None)


def test_verdicts_of_small_and_large_samples(conn):
    """The spec's example and its opposite: 1 escalation in 12 cases is never a bare
    'concern'; 1% of 10,000 cases is plainly 'excellent'; the verdict is the point band
    whenever the interval stays in one band."""
    small = conn.execute("SELECT kpi_band('escalation_rate', escalation_rate(s)), kpi_band('escalation_rate', s) "
                         "FROM (SELECT escalation_summary(g = 1) s FROM generate_series(1, 12) g) x").fetchone()
    assert small == ("concern", "excellent, acceptable or concern")
    large = conn.execute("SELECT kpi_band('escalation_rate', escalation_summary(g <= 100)) "
                         "FROM generate_series(1, 10000) g").fetchone()
    assert large == ("excellent",)
    for hits, total in [(0, 12), (1, 12), (3, 100), (40, 1000), (700, 10000), (12, 12)]:
        point, ours, lo, hi = conn.execute(
            "SELECT kpi_band('escalation_rate', escalation_rate(s)), kpi_band('escalation_rate', s), "
            "(escalation_rate_ci(s)).* FROM (SELECT escalation_summary(g <= %s) s FROM generate_series(1, %s) g) x",
            [hits, total]).fetchone()
        assert ours == verdict(conn, "escalation_rate", lo, hi)
        assert point in ours

"""A 95% interval must contain the true value in about 95% of samples: the coverage of the
extension's intervals, computed exactly.

For a true value and a sample size, every possible sample is enumerated (every count of hits
of n cases, every count of events over m customers up to a negligible tail, every split of n
NPS answers), its interval is asked from the server (the KPI's `*_ci` function; `kpi_interval`
gives the same for every sample, and for the shares its coverage is computed too), and the probabilities of the samples whose interval holds the
true value are added up. No simulation noise: the coverage is known exactly. The check fails
when any setting is below 0.93 at 95%, or below 0.88 at 90%.

`test_coverage_table` prints the table that docs/intervals-and-history.md shows
(`pytest -s tests/client/test_coverage.py -k table`).

CES answers (7 categories) are too many to enumerate beyond a few answers: a setting with more
than 20,000 possible samples (30 or 100 answers spread over many of the 7 answers) is
simulated, 4,000 samples from a fixed seed (a standard error of 0.0035 at 95%); the others
are enumerated like the rest.

Audit scores (0-100, `quality_score_ci`): pass/fail audits scored only 0 or 100, the extreme
case for a mean on a bounded scale, are enumerated exactly over the same grid as the shares;
mixes of many scores (skewed with automatic fails, piled at 100, flat, concentrated, one
value) are simulated, 4,000 samples each from a fixed seed."""

import math

import numpy as np
import pytest
from scipy import stats

BARS = {0.95: 0.93, 0.90: 0.88}
SHARE_RATES = [0.005, 0.01, 0.03, 0.1, 0.3, 0.5, 0.7, 0.9, 0.97, 0.99, 0.995]
SHARE_SIZES = [1, 2, 5, 12, 30, 50, 100, 200, 1000]
# events per 100 customers, and customers
CUSTOMER_RATES = [0.3, 1, 2, 5, 30]
CUSTOMER_COUNTS = [20, 100, 1000]
# promoters, passives, detractors
NPS_MIXES = [(0.5, 0.3, 0.2), (0.2, 0.3, 0.5), (0.7, 0.2, 0.1), (1 / 3, 1 / 3, 1 / 3), (0.1, 0.8, 0.1),
             (0.9, 0.08, 0.02), (0.98, 0.01, 0.01), (0.05, 0.05, 0.9), (0.95, 0.05, 0), (0.6, 0, 0.4)]
NPS_SIZES = [1, 2, 3, 5, 10, 30, 100]


def share_intervals(conn, n, confidence, sql):
    """{hits: (lower, upper)} in percent of `sql` (over the share summary `s` of k hits of n
    cases, and the confidence `c`) for every count of hits k of n cases."""
    rows = conn.execute("SELECT x.k, ci.lower, ci.upper FROM (SELECT k, %(n)s AS n, %(c)s::float8 AS c, "
                        "format('{\"hits\":%%s,\"total\":%%s}', k, %(n)s)::share_summary AS s "
                        f"FROM generate_series(0, %(n)s) k) x, LATERAL {sql} ci",
                        {"n": n, "c": confidence}).fetchall()
    return {k: (float(lo), float(hi)) for k, lo, hi in rows}


def share_coverage(intervals, n, p):
    return sum(stats.binom.pmf(k, n, p) for k, (lo, hi) in intervals.items() if lo <= p * 100 <= hi)


# in SQL passed with parameters: a literal % is written %%
SHARE_SQL = {
    "escalation_rate_ci": "escalation_rate_ci(s, c)",
    "kpi_interval('escalation_rate')": "kpi_interval('escalation_rate', s, c)",
    "csat_ci": "csat_ci(format('{\"survey\":\"csat\",\"counts\":[%%s,0,0,0,%%s]}', n - k, k)::survey_summary, c)",
}


def shares(conn, confidence):
    out = []
    for name, sql in SHARE_SQL.items():
        for n in SHARE_SIZES:
            intervals = share_intervals(conn, n, confidence, sql)
            assert len(intervals) == n + 1
            out += [(name, f"{p:.1%} of {n}", share_coverage(intervals, n, p)) for p in SHARE_RATES]
    return out


def customer_rates(conn, confidence):
    """incident_rate_ci (events per 1,000 customers) over m customers at a true rate of r per
    100 customers: Poisson events with mean r / 100 * m."""
    out = []
    for m in CUSTOMER_COUNTS:
        keys = ",".join(str(i) for i in range(m))
        for r in CUSTOMER_RATES:
            mean = r / 100 * m
            top = int(stats.poisson.isf(1e-12, mean)) + 1
            rows = conn.execute(
                "SELECT k, ci.lower, ci.upper, ki.lower = ci.lower AND ki.upper = ci.upper FROM generate_series(0, %s) k, "
                "LATERAL (SELECT format('{\"key_type\":\"bigint\",\"events\":%%s,\"customers\":[%%s]}', k, %s::text)"
                "::customer_rate_summary AS s) x, LATERAL incident_rate_ci(x.s, %s) ci, "
                "LATERAL kpi_interval('incident_rate', x.s, %s) ki", [top, keys, confidence, confidence]).fetchall()
            assert all(r[3] for r in rows), "kpi_interval('incident_rate') differs from incident_rate_ci"
            true = r * 10  # per 1,000 customers
            covered = sum(stats.poisson.pmf(k, mean) for k, lo, hi, _ in rows if float(lo) <= true <= float(hi))
            out.append(("incident_rate_ci", f"{r:g} per 100 customers, {m} customers", covered))
    return out


def nps(conn, confidence):
    out = []
    for n in NPS_SIZES:
        rows = conn.execute(
            "SELECT p, d, ci.lower, ci.upper, ki.lower = ci.lower AND ki.upper = ci.upper "
            "FROM generate_series(0, %s) p, generate_series(0, %s - p) d, "
            "LATERAL (SELECT format('{\"survey\":\"nps\",\"counts\":[%%s,0,0,0,0,0,0,%%s,0,%%s,0]}', d, %s - p - d, p)"
            "::survey_summary AS s) x, LATERAL nps_ci(x.s, %s) ci, LATERAL kpi_interval('nps', x.s, %s) ki",
            [n, n, n, confidence, confidence]).fetchall()
        assert len(rows) == (n + 1) * (n + 2) // 2
        assert all(r[4] for r in rows), "kpi_interval('nps') differs from nps_ci"
        for mix in NPS_MIXES:
            true = (mix[0] - mix[2]) * 100
            covered = sum(stats.multinomial.pmf([p, n - p - d, d], n, mix)
                          for p, d, lo, hi, _ in rows if float(lo) - 1e-9 <= true <= float(hi) + 1e-9)
            out.append(("nps_ci", f"{mix[0]:.0%}/{mix[1]:.0%}/{mix[2]:.0%} of {n}", covered))
    return out


# answers 1 to 7: skewed to 1 (60%) and to 7, centred, high, almost all 1, flat, two peaks
CES_MIXES = {
    "60% say 1": [0.6] + [0.4 / 6] * 6,
    "60% say 7": [0.4 / 6] * 6 + [0.6],
    "centred on 4-5": [0.02, 0.05, 0.13, 0.3, 0.3, 0.15, 0.05],
    "high": [0.01, 0.01, 0.02, 0.06, 0.2, 0.4, 0.3],
    "90% say 1, 10% say 2": [0.9, 0.1, 0, 0, 0, 0, 0],
    "flat": [1 / 7] * 7,
    "half 1, half 7": [0.5, 0, 0, 0, 0, 0, 0.5],
    "90% say 1, 10% say 7": [0.9, 0, 0, 0, 0, 0, 0.1],
    "all say 4": [0, 0, 0, 1, 0, 0, 0],
}
CES_SIZES = [1, 2, 5, 10, 30, 100]
CES_SAMPLES = 4000
# settings of at most this many possible samples are enumerated, the others simulated
CES_EXACT = 20000


def compositions(n, parts):
    """Every way to split n answers over `parts` categories."""
    if parts == 1:
        yield (n,)
        return
    for first in range(n + 1):
        for rest in compositions(n - first, parts - 1):
            yield (first,) + rest


def ces_samples(rng, p, n):
    """[(counts of answers 1 to 7, probability)]: every possible sample when there are at most
    CES_EXACT of them, else CES_SAMPLES drawn ones of weight 1 / CES_SAMPLES."""
    support = [i for i, q in enumerate(p) if q > 0]
    if math.comb(n + len(support) - 1, len(support) - 1) <= CES_EXACT:
        out = []
        for split in compositions(n, len(support)):
            counts = [0] * 7
            for i, c in zip(support, split):
                counts[i] = c
            out.append((tuple(counts), stats.multinomial.pmf(counts, n, p)))
        return out
    return [(tuple(c), 1 / CES_SAMPLES) for c in rng.multinomial(n, p, size=CES_SAMPLES)]


def ces(conn, confidence):
    rng = np.random.default_rng(20261203)
    samples = {(name, n): ces_samples(rng, p, n) for name, p in CES_MIXES.items() for n in CES_SIZES}
    distinct = sorted({c for drawn in samples.values() for c, _ in drawn})
    rows = conn.execute("SELECT t.i, ci.lower, ci.upper, ki.lower = ci.lower AND ki.upper = ci.upper "
                        "FROM unnest(%s::text[]) WITH ORDINALITY t(c, i), "
                        "LATERAL (SELECT format('{\"survey\":\"ces\",\"counts\":[%%s]}', t.c)::survey_summary AS s) x, "
                        "LATERAL ces_ci(x.s, %s) ci, LATERAL kpi_interval('ces', x.s, %s) ki",
                        [[",".join(map(str, c)) for c in distinct], confidence, confidence]).fetchall()
    assert all(r[3] for r in rows), "kpi_interval('ces') differs from ces_ci"
    interval = {distinct[i - 1]: (float(lo), float(hi)) for i, lo, hi, _ in rows}
    out = []
    for (name, n), drawn in samples.items():
        true = sum((i + 1) * p for i, p in enumerate(CES_MIXES[name]))
        held = sum(w for c, w in drawn if interval[c][0] - 1e-9 <= true <= interval[c][1] + 1e-9)
        out.append(("ces_ci", f"{name}, {n} answers", held))
    return out


# audit scores on 0-100: mixes of (weight, lowest score, highest score), weight spread evenly
AUDIT_MIXES = {
    "85-100, 10% automatic fails (0)": [(0.9, 85, 100), (0.1, 0, 0)],
    "70% at 100, the rest 60-99": [(0.7, 100, 100), (0.3, 60, 99)],
    "flat 0-100": [(1, 0, 100)],
    "concentrated 70-80": [(1, 70, 80)],
    "all 80": [(1, 80, 80)],
    "0-20, 10% at 100": [(0.9, 0, 20), (0.1, 100, 100)],
}
AUDIT_SIZES = [1, 2, 5, 10, 30, 100]
AUDIT_SAMPLES = 4000


def audit_mix(parts):
    p = np.zeros(101)
    for weight, lo, hi in parts:
        p[lo:hi + 1] += weight / (hi - lo + 1)
    return p / p.sum()


def audit_intervals(conn, summaries, confidence):
    """{(scores, sum, sum of squares): (lower, upper)} from quality_score_ci, checked equal to
    kpi_interval('quality_score')."""
    summaries = sorted(set(summaries))
    rows = conn.execute(
        "SELECT t.n, t.s, t.q, ci.lower, ci.upper, ki.lower = ci.lower AND ki.upper = ci.upper "
        "FROM unnest(%s::bigint[], %s::bigint[], %s::numeric[]) t(n, s, q), "
        "LATERAL (SELECT format('{\"scores\":%%s,\"sum\":%%s,\"sum_of_squares\":%%s}', t.n, t.s, t.q)"
        "::score_summary AS x) x, LATERAL quality_score_ci(x.x, %s) ci, "
        "LATERAL kpi_interval('quality_score', x.x, %s) ki",
        [[n for n, _, _ in summaries], [s for _, s, _ in summaries], [q for _, _, q in summaries],
         confidence, confidence]).fetchall()
    assert len(rows) == len(summaries)
    assert all(r[5] for r in rows), "kpi_interval('quality_score') differs from quality_score_ci"
    return {(n, s, int(q)): (float(lo), float(hi)) for n, s, q, lo, hi, _ in rows}


def audit_scores(conn, confidence):
    out = []
    # pass/fail audits: k of n scored 100, the others 0; exact
    intervals = audit_intervals(conn, [(n, 100 * k, 10000 * k) for n in SHARE_SIZES for k in range(n + 1)], confidence)
    for n in SHARE_SIZES:
        bounds = [intervals[(n, 100 * k, 10000 * k)] for k in range(n + 1)]
        for p in SHARE_RATES:
            held = sum(stats.binom.pmf(k, n, p) for k, (lo, hi) in enumerate(bounds) if lo - 1e-9 <= 100 * p <= hi + 1e-9)
            out.append(("quality_score_ci", f"pass/fail, {p:.1%} pass, {n} scores", held))
    # mixes: simulated
    rng = np.random.default_rng(20261203)
    drawn = {}
    for name, parts in AUDIT_MIXES.items():
        p = audit_mix(parts)
        for n in AUDIT_SIZES:
            x = rng.choice(101, size=(AUDIT_SAMPLES, n), p=p).astype(np.int64)
            drawn[(name, n)] = list(zip([n] * AUDIT_SAMPLES, x.sum(1).tolist(), (x * x).sum(1).tolist()))
    intervals = audit_intervals(conn, [t for ts in drawn.values() for t in ts], confidence)
    for (name, n), summaries in drawn.items():
        true = float((np.arange(101) * audit_mix(AUDIT_MIXES[name])).sum())
        held = np.mean([intervals[t][0] - 1e-9 <= true <= intervals[t][1] + 1e-9 for t in summaries])
        out.append(("quality_score_ci", f"{name}, {n} scores", float(held)))
    return out


_computed = {}


def all_settings(conn, confidence):
    """Every setting's (interval, setting, coverage) at `confidence`, computed once per run."""
    if confidence not in _computed:
        _computed[confidence] = (shares(conn, confidence) + customer_rates(conn, confidence)
                                 + nps(conn, confidence) + ces(conn, confidence) + audit_scores(conn, confidence))
    return _computed[confidence]


@pytest.mark.parametrize("confidence", sorted(BARS))
def test_every_interval_holds_its_coverage_over_the_grid(conn, confidence):
    settings = all_settings(conn, confidence)
    assert len(settings) == 3 * len(SHARE_SIZES) * len(SHARE_RATES) + len(CUSTOMER_COUNTS) * len(CUSTOMER_RATES) \
        + len(NPS_SIZES) * len(NPS_MIXES) + len(CES_SIZES) * len(CES_MIXES) \
        + len(SHARE_SIZES) * len(SHARE_RATES) + len(AUDIT_SIZES) * len(AUDIT_MIXES)
    below = [(name, setting, round(c, 4)) for name, setting, c in settings if c < BARS[confidence]]
    assert not below, below
    # and the plain Wilson interval, which the shares used before 0.5.1, fails the same check:
    # the check can tell (exact coverage 0.886 at 1% of 12)
    z = stats.norm.ppf(0.5 + confidence / 2)

    def plain_wilson(k, n):
        p = k / n
        centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return 100 * (centre - half) / (1 + z * z / n), 100 * (centre + half) / (1 + z * z / n)
    worst = min(share_coverage({k: plain_wilson(k, n) for k in range(n + 1)}, n, p)
                for n in SHARE_SIZES for p in SHARE_RATES)
    assert worst < BARS[confidence], worst
    # and so does the plain Student's t interval of CES (before 0.5.1), on 60% saying 1 over 5
    drawn = np.random.default_rng(20261203).multinomial(5, CES_MIXES["60% say 1"], size=CES_SAMPLES)
    scores = np.arange(1, 8)
    mean = (drawn * scores).sum(1) / 5
    sd = np.sqrt((drawn * (scores[None, :] - mean[:, None]) ** 2).sum(1) / 4)
    half = stats.t.ppf(0.5 + confidence / 2, 4) * sd / math.sqrt(5)
    true = sum((i + 1) * p for i, p in enumerate(CES_MIXES["60% say 1"]))
    assert np.mean((mean - half <= true) & (true <= mean + half)) < BARS[confidence]
    # and so does the plain Student's t interval of the audit scores (before this change), on
    # pass/fail audits with 95% passing over 10 scores: exact coverage 0.40
    plain = 0.0
    for k in range(11):
        mean = 10 * k
        sd = math.sqrt((k * (100 - mean) ** 2 + (10 - k) * mean ** 2) / 9)
        half = stats.t.ppf(0.5 + confidence / 2, 9) * sd / math.sqrt(10)
        plain += stats.binom.pmf(k, 10, 0.95) * (mean - half <= 95 <= mean + half)
    assert plain < 0.5, plain


def test_coverage_table(conn):
    """The coverage table of docs/intervals-and-history.md: the lowest coverage of each
    interval over the grid, at 95% and 90%."""
    lines = ["| interval | grid | lowest coverage at 95% | lowest at 90% |", "|---|---|---|---|"]
    grids = {"escalation_rate_ci": f"rates {SHARE_RATES[0]:.1%} to {SHARE_RATES[-1]:.1%}, "
                                   f"{SHARE_SIZES[0]} to {SHARE_SIZES[-1]:,} cases",
             "kpi_interval('escalation_rate')": "the same",
             "csat_ci": "the same",
             "incident_rate_ci": f"{CUSTOMER_RATES[0]} to {CUSTOMER_RATES[-1]} events per 100 customers, "
                                 f"{CUSTOMER_COUNTS[0]} to {CUSTOMER_COUNTS[-1]:,} customers",
             "nps_ci": f"{len(NPS_MIXES)} mixes, {NPS_SIZES[0]} to {NPS_SIZES[-1]} answers",
             "ces_ci": f"{len(CES_MIXES)} mixes (skewed, flat, two peaks, one value), {CES_SIZES[0]} to "
                       f"{CES_SIZES[-1]} answers (simulated where too many to enumerate)",
             "quality_score_ci": f"pass/fail audits (0 or 100) of {SHARE_RATES[0]:.1%} to {SHARE_RATES[-1]:.1%} "
                                 f"passing, {SHARE_SIZES[0]} to {SHARE_SIZES[-1]:,} scores, and {len(AUDIT_MIXES)} mixes "
                                 f"of {AUDIT_SIZES[0]} to {AUDIT_SIZES[-1]} scores (simulated)"}
    lowest = {}
    for confidence in (0.95, 0.90):
        for name, setting, c in all_settings(conn, confidence):
            best = lowest.setdefault((name, confidence), (c, setting))
            if c < best[0]:
                lowest[(name, confidence)] = (c, setting)
    for name, grid in grids.items():
        (c95, s95), (c90, s90) = lowest[(name, 0.95)], lowest[(name, 0.90)]
        lines.append(f"| `{name}` | {grid} | {c95:.3f} ({s95}) | {c90:.3f} ({s90}) |")
    print("\n" + "\n".join(lines))
    assert all(c >= BARS[conf] for (_, conf), (c, _) in lowest.items())

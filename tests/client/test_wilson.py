"""escalation_rate_ci() equals the Wilson score interval with continuity correction (Newcombe
1998, method 4) computed independently here (with Python's own normal quantile), over many
hits/total pairs and confidence levels."""

import math
import random
from statistics import NormalDist


def wilson(hits, total, confidence):
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    n, p = total, hits / total
    q = 1 - p
    d = 2 * (n + z * z)
    lower = 0.0 if hits == 0 else max(0.0, (2 * n * p + z * z - 1 - z * math.sqrt(z * z - 2 - 1 / n + 4 * p * (n * q + 1))) / d)
    upper = 1.0 if hits == total else min(1.0, (2 * n * p + z * z + 1 + z * math.sqrt(z * z + 2 - 1 / n + 4 * p * (n * q - 1))) / d)
    return lower * 100, upper * 100


def test_wilson_interval_matches_reference(conn):
    rng = random.Random(7)
    cases = [(1, 12, 0.95), (0, 1, 0.95), (1, 1, 0.9), (0, 100, 0.99), (100, 100, 0.8)]
    cases += [(k, n, c) for n in (rng.randint(1, 10**6) for _ in range(200))
              for k in [rng.randint(0, n)] for c in [rng.choice([0.8, 0.9, 0.95, 0.99, 0.999])]]
    for hits, total, confidence in cases:
        lower, upper = conn.execute(
            "SELECT lower, upper FROM escalation_rate_ci(%s::share_summary, %s)",
            [f'{{"hits":{hits},"total":{total}}}', confidence],
        ).fetchone()
        ref_lower, ref_upper = wilson(hits, total, confidence)
        assert math.isclose(float(lower), ref_lower, rel_tol=1e-7, abs_tol=1e-9), (hits, total, confidence)
        assert math.isclose(float(upper), ref_upper, rel_tol=1e-7, abs_tol=1e-9), (hits, total, confidence)
        rate = hits / total * 100
        assert float(lower) <= rate + 1e-9 and rate - 1e-9 <= float(upper)

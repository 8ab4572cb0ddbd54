"""EU nanomaterial screen and the Clopper-Pearson interval."""

import numpy as np
import pytest

from nanosizer.stats import clopper_pearson, eu_nanomaterial_screen


def test_clopper_pearson_known_values():
    assert clopper_pearson(5, 10) == pytest.approx((0.187086, 0.812914), abs=1e-6)
    assert clopper_pearson(0, 10)[0] == 0.0
    assert clopper_pearson(10, 10) == pytest.approx((0.691503, 1.0), abs=1e-6)


@pytest.mark.parametrize(
    ("below", "above", "verdict"),
    [
        (90, 10, "nanomaterial"),
        (10, 90, "not nanomaterial"),
        (52, 48, "borderline"),
        (1, 0, "borderline"),  # one particle: interval (0.025, 1) straddles 50 %
    ],
)
def test_verdicts(below, above, verdict):
    x = np.r_[np.full(below, 40.0), np.full(above, 250.0)]
    res = eu_nanomaterial_screen(x)
    assert res.verdict == verdict
    assert res.n == below + above and res.n_below == below
    assert res.share_below == pytest.approx(below / (below + above))
    assert res.ci_low <= res.share_below <= res.ci_high


def test_threshold_is_strict():
    res = eu_nanomaterial_screen([100.0, 99.9, 100.1])
    assert res.n_below == 1


def test_undetermined():
    assert eu_nanomaterial_screen([]).verdict == "undetermined"
    res = eu_nanomaterial_screen([10.0, 20.0], unit="px")
    assert res.verdict == "undetermined" and np.isnan(res.share_below)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (150, 300), (299, 300), (10, 10), (1, 1)])
def test_clopper_pearson_equals_the_beta_quantiles(k, n):
    from scipy.stats import beta

    lo, hi = clopper_pearson(k, n, ci=0.9)
    assert lo == (0.0 if k == 0 else pytest.approx(beta.ppf(0.05, k, n - k + 1), abs=1e-14))
    assert hi == (1.0 if k == n else pytest.approx(beta.ppf(0.95, k + 1, n - k), abs=1e-14))

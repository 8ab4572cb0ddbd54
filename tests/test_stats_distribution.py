"""size_distribution: summary statistics, lognormal fit and bootstrap intervals."""

import numpy as np
import pytest
import scipy.stats

from nanosizer.stats import size_distribution


def test_hand_computed_percentiles():
    d = size_distribution(np.arange(1.0, 11.0), "nm", n_boot=0)
    assert d.n == 10
    assert (d.mean, d.median, d.min, d.max) == (5.5, 5.5, 1.0, 10.0)
    assert d.std == pytest.approx(np.sqrt(55 / 6))  # sample std of 1..10
    assert (d.d10, d.d50, d.d90) == pytest.approx((1.9, 5.5, 9.1))
    assert np.isnan(d.mean_ci_low) and np.isnan(d.median_ci_high)
    assert d.hist_counts.sum() == 10
    assert len(d.hist_edges) == len(d.hist_counts) + 1


def test_lognormal_recovered():
    median, gsd = 50.0, 1.5
    x = np.random.default_rng(7).lognormal(np.log(median), np.log(gsd), 20000)
    d = size_distribution(x, "nm", n_boot=200, rng=1)
    assert d.geo_mean == pytest.approx(median, rel=0.01)
    assert d.geo_std == pytest.approx(gsd, rel=0.01)
    assert d.d50 == pytest.approx(median, rel=0.02)
    assert d.d90 == pytest.approx(median * gsd ** scipy.stats.norm.ppf(0.9), rel=0.02)
    s, loc, scale = scipy.stats.lognorm.fit(x, floc=0)
    assert d.lognorm_sigma == pytest.approx(s, rel=1e-6)
    assert np.exp(d.lognorm_mu) == pytest.approx(scale, rel=1e-6)
    assert d.median_ci_low < median < d.median_ci_high
    pdf = d.lognormal_pdf(np.array([median]))
    assert pdf[0] == pytest.approx(scipy.stats.lognorm.pdf(median, s, scale=scale), rel=1e-6)


def test_empty_and_single():
    empty = size_distribution([], "nm")
    assert empty.n == 0
    assert all(np.isnan(v) for k, v in empty.to_dict().items() if k not in ("n", "ci_level"))
    assert empty.hist_counts.size == 0
    one = size_distribution([42.0], "px")
    assert one.n == 1 and one.mean == 42.0 and one.median == 42.0 and one.d90 == 42.0
    assert np.isnan(one.std) and np.isnan(one.mean_ci_low) and np.isnan(one.geo_std)
    assert one.hist_counts.sum() == 1


def test_bootstrap_reproducible_and_sized():
    x = np.random.default_rng(3).normal(100, 10, 400)
    a = size_distribution(x, rng=5)
    b = size_distribution(x, rng=np.random.default_rng(5))
    assert a.mean_ci_low == b.mean_ci_low and a.median_ci_high == b.median_ci_high
    assert a.mean_ci_low < a.mean < a.mean_ci_high
    expected = 2 * 1.96 * x.std(ddof=1) / np.sqrt(x.size)
    assert a.mean_ci_high - a.mean_ci_low == pytest.approx(expected, rel=0.15)


def test_bootstrap_coverage():
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(200):
        x = rng.lognormal(np.log(30), 0.3, 60)
        d = size_distribution(x, n_boot=400, rng=rng)
        hits += d.mean_ci_low <= 30 * np.exp(0.3**2 / 2) <= d.mean_ci_high
    assert 0.85 <= hits / 200 <= 0.99


def test_to_dict_prefix():
    d = size_distribution([10.0, 20.0, 30.0], "nm", n_boot=50).to_dict(prefix="feret_")
    assert d["feret_n"] == 3 and d["feret_d50"] == 20.0
    assert {"feret_mean_ci_low", "feret_geo_std", "feret_lognorm_sigma"} <= set(d)


def test_invalid():
    with pytest.raises(ValueError, match="positive"):
        size_distribution([1.0, -2.0])
    with pytest.raises(ValueError, match="positive"):
        size_distribution([1.0, np.nan])
    with pytest.raises(ValueError, match="ci"):
        size_distribution([1.0, 2.0], ci=1.5)

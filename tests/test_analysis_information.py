"""The MI estimators against values worked out by hand or by numerical integration."""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from nwnrc.analysis import (
    StreamingMI,
    bin_edges,
    binned_mutual_information,
    class_entropy_bits,
    ksg_mutual_information,
    label_shuffle_baseline,
    mutual_information_from_counts,
    quantile_range,
    specific_information_from_counts,
)
from nwnrc.errors import ConfigError, NotFittedError, NumericalWarning, StreamError

LN2 = math.log(2.0)


def _balanced_labels(per_class: int, n_classes: int = 10) -> np.ndarray:
    return np.repeat(np.arange(n_classes), per_class)


# ---------------------------------------------------------------------------------
# hand-worked tables


def test_plug_in_and_miller_madow_on_a_two_by_two_table() -> None:
    # n(x, c) = [[3, 1], [1, 3]]: p(x) = p(c) = 1/2, so I = 1 - H2(3/4) bits
    h2 = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    plug_in = 1.0 - h2  # 0.18872...
    assert mutual_information_from_counts([[3, 1], [1, 3]], "none") == pytest.approx(
        plug_in, abs=1e-12
    )
    # Miller-Madow: + [(m_x - 1) + (m_c - 1) - (m_xc - 1)] / (2 N ln 2) with
    # m_x = m_c = 2, m_xc = 4, N = 8
    corrected = plug_in + (1 + 1 - 3) / (2 * 8 * LN2)
    assert mutual_information_from_counts([[3, 1], [1, 3]]) == pytest.approx(
        corrected, abs=1e-12
    )


def test_specific_surprise_by_hand() -> None:
    # bins are rows, classes columns; N = 4, p(x) = (3/4, 1/4)
    counts = [[2, 1], [0, 1]]
    i0 = math.log2(1 / 0.75)  # class 0 always in bin 0
    i1 = 0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(0.5 / 0.25)
    got = specific_information_from_counts(counts, "none")
    assert got == pytest.approx([i0, i1], abs=1e-12)
    # the class-weighted mean of the specific surprise is the mutual information
    assert 0.5 * got[0] + 0.5 * got[1] == pytest.approx(
        float(mutual_information_from_counts(counts, "none")), abs=1e-12
    )


def test_corrected_specific_information_averages_to_corrected_mi() -> None:
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, 3000)
    values = rng.normal(labels * 0.7, 1.0)
    est = StreamingMI(n_bins=8, n_classes=3).update_range(values)
    est.partial_fit(values, labels)
    p_c = np.bincount(labels) / labels.size
    spec = est.specific_information()[0]
    assert np.all(spec > 0)  # no clipping in this example
    assert float(p_c @ spec) == pytest.approx(float(est.mutual_information()[0]))


def test_class_entropy() -> None:
    assert class_entropy_bits(_balanced_labels(7)) == pytest.approx(math.log2(10))
    assert class_entropy_bits([0, 0, 1, 1, 1, 1]) == pytest.approx(
        -(1 / 3) * math.log2(1 / 3) - (2 / 3) * math.log2(2 / 3)
    )


# ---------------------------------------------------------------------------------
# limits


def test_readout_that_determines_the_class_gives_h_class() -> None:
    labels = _balanced_labels(200)
    rng = np.random.default_rng(0)
    # one level per class: each equal-frequency edge is one of the levels, so no bin
    # holds two classes
    for correction in ("miller-madow", "none"):
        got = binned_mutual_information(labels * 1.5, labels, correction=correction)
        assert got == pytest.approx(math.log2(10), abs=1e-12)
    # levels with a spread below a sixteenth of their range: equal-width bins keep
    # the classes apart (10 levels in 16 bins)
    values = labels * 1.0 + rng.uniform(-0.05, 0.05, labels.size)
    for correction in ("miller-madow", "none"):
        got = binned_mutual_information(
            values, labels, binning="width", correction=correction
        )
        assert got == pytest.approx(math.log2(10), abs=1e-12)
    # unequal classes: H(class) of the sample, not log2(10)
    labels = np.repeat(np.arange(4), [10, 20, 30, 40])
    got = binned_mutual_information(labels * 1.0, labels, n_bins=4)
    assert got == pytest.approx(class_entropy_bits(labels), abs=1e-12)
    # the KSG estimate of a class-determining value: H(class) up to its small bias
    labels = _balanced_labels(300)
    values = labels * 10.0 + rng.normal(0, 1, labels.size)
    assert ksg_mutual_information(values, labels) == pytest.approx(
        math.log2(10), abs=0.01
    )


def test_independent_readout_gives_zero_within_the_stated_bias() -> None:
    # For an independent pair, 2 N ln2 * (plug-in I) follows a chi-square law with
    # (B - 1)(K - 1) degrees of freedom (the G-test): the plug-in bias is
    # dof / (2 N ln 2) and the spread of one estimate sqrt(2 dof) / (2 N ln 2).
    n, bins, classes, cells = 20_000, 16, 10, 50
    rng = np.random.default_rng(7)
    labels = rng.integers(0, classes, n)
    values = rng.normal(size=(n, cells))
    dof = (bins - 1) * (classes - 1)
    bias = dof / (2 * n * LN2)  # 0.00487 bits
    sd = math.sqrt(2 * dof) / (2 * n * LN2)  # 0.00059 bits

    plug_in = binned_mutual_information(values, labels, bins, correction="none")
    assert plug_in.mean() == pytest.approx(bias, abs=4 * sd / math.sqrt(cells))
    corrected = binned_mutual_information(values, labels, bins)
    assert np.all(corrected >= 0)
    assert np.all(corrected < 5 * sd)
    # the clipped estimate keeps a positive bias of E[max(0, Z)] = sd / sqrt(2 pi)
    assert corrected.mean() < sd / math.sqrt(2 * math.pi) + 4 * sd / math.sqrt(cells)
    # the label-shuffle floor of an informative value is of the same size
    informative = labels + rng.normal(0, 1, n)
    floor = label_shuffle_baseline(informative, labels, bins, seed=1)
    assert 0 <= floor < 5 * sd


def test_estimates_lie_between_zero_and_h_class() -> None:
    rng = np.random.default_rng(11)
    for n in (3, 10, 40, 300):
        labels = rng.integers(0, 5, n)
        values = np.concatenate(
            [rng.normal(size=(n, 20)), labels[:, None] + rng.normal(0, 0.3, (n, 20))],
            axis=1,
        )
        h = class_entropy_bits(labels)
        lone = np.any(np.bincount(labels) == 1)
        with pytest.warns(NumericalWarning) if lone else contextlib.nullcontext():
            got = binned_mutual_information(values, labels, 16)
        assert np.all(got >= 0)
        assert np.all(got <= h)


def test_constant_readout_gives_exactly_zero() -> None:
    labels = _balanced_labels(30)
    for correction in ("miller-madow", "none"):
        assert (
            binned_mutual_information(
                np.full(labels.size, 0.37), labels, correction=correction
            )
            == 0.0
        )
    assert ksg_mutual_information(np.full(labels.size, 2.0), labels) == 0.0
    # and inside a streaming estimator, beside informative cells
    rng = np.random.default_rng(2)
    values = np.stack(
        [np.full(labels.size, -1.5), labels + rng.normal(0, 0.1, labels.size)], axis=1
    )
    est = StreamingMI().update_range(values).partial_fit(values, labels)
    mi = est.mutual_information()
    assert mi[0] == 0.0
    assert mi[1] > 3.0
    spec = est.specific_information()
    assert np.all(spec[0] == 0.0)


def test_integer_and_float_inputs_give_the_same_answer() -> None:
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 10, 2000)
    pixels = np.clip(labels * 20 + rng.integers(-40, 40, 2000), 0, 255).astype(np.uint8)
    ref = binned_mutual_information(pixels, labels)
    assert ref > 0.5
    assert binned_mutual_information(pixels.astype(np.int64), labels) == ref
    assert binned_mutual_information(pixels.astype(np.float64), labels) == ref
    # the same pixels in [0, 1]: the bins scale with the range, so no value changes
    # bin (x * 16 / 255 is never within rounding of a bin edge for integer x)
    assert binned_mutual_information(pixels / 255.0, labels) == ref
    # float labels with whole values are class indices too
    assert binned_mutual_information(pixels, labels.astype(float)) == ref
    assert ksg_mutual_information(pixels, labels) == ksg_mutual_information(
        pixels.astype(np.float64), labels
    )


def test_a_class_with_one_sample_is_reported() -> None:
    rng = np.random.default_rng(1)
    labels = np.r_[np.repeat([0, 1], 200), 2]
    values = rng.normal(labels * 3.0, 1.0)
    with pytest.warns(NumericalWarning, match=r"class\(es\) \[2\] have a single"):
        binned = binned_mutual_information(values, labels)
    assert 0 < binned <= class_entropy_bits(labels)
    # KSG leaves the lone sample out: the same as the estimate without it
    with pytest.warns(NumericalWarning, match="left out"):
        with_lone = ksg_mutual_information(values, labels, seed=4)
    without = ksg_mutual_information(values[:-1], labels[:-1], seed=4)
    assert with_lone == pytest.approx(without, abs=0.02)


def test_bad_input_raises_typed_errors() -> None:
    labels = _balanced_labels(10)
    with pytest.raises(StreamError, match="NaN"):
        binned_mutual_information(np.r_[np.nan, np.ones(99)], labels)
    with pytest.raises(StreamError, match="shape"):
        binned_mutual_information(np.ones(50), labels)
    with pytest.raises(StreamError, match="whole numbers"):
        binned_mutual_information(np.ones(100), labels + 0.5)
    with pytest.raises(ConfigError, match="n_bins"):
        binned_mutual_information(np.ones(100), labels, n_bins=1)
    with pytest.raises(StreamError, match="n_classes"):
        StreamingMI(n_classes=5).update_range(np.ones(100)).partial_fit(
            np.ones(100), labels
        )
    with pytest.raises(NotFittedError, match="update_range"):
        StreamingMI().partial_fit(np.ones(100), labels)
    with pytest.raises(ConfigError, match="quantile"):
        quantile_range(np.ones(10), 0.5)


# ---------------------------------------------------------------------------------
# streaming


def test_stream_in_chunks_and_groups_equals_one_shot_on_each_prefix() -> None:
    rng = np.random.default_rng(8)
    n = 3000
    labels = rng.integers(0, 10, n)
    values = np.stack(
        [labels + rng.normal(0, 2, n), rng.normal(size=n), np.sqrt(labels) * 1.0],
        axis=1,
    ).reshape(n, 3, 1)
    stops = [10, 100, 1000, 3000]
    groups = np.searchsorted(stops, np.arange(n), side="right")
    lo, hi = quantile_range(values)
    est = StreamingMI(n_classes=10, n_groups=len(stops)).set_range(lo, hi)
    for a in range(0, n, 257):
        est.partial_fit(values[a : a + 257], labels[a : a + 257], groups[a : a + 257])
    curve = est.mutual_information_curve()
    assert curve.shape == (4, 3, 1)
    for g, stop in enumerate(stops):
        one = StreamingMI(n_classes=10).set_range(lo, hi)
        one.partial_fit(values[:stop], labels[:stop])
        assert np.array_equal(one.counts(), est.counts(g))
        np.testing.assert_allclose(curve[g], one.mutual_information(), atol=1e-15)
    assert est.n_samples_ == n


def test_bins_are_numpy_searchsorted_and_shared_binning_counts_alike() -> None:
    rng = np.random.default_rng(9)
    values = np.round(rng.normal(size=(500, 4)), 1)  # ties on the edges
    edges = bin_edges(values, 8)
    est = StreamingMI(n_bins=8).set_edges(edges)
    bins = est.bin_indices(values)
    for j in range(4):
        ref = np.searchsorted(edges[j], values[:, j], side="right")
        np.testing.assert_array_equal(bins[:, j], ref)
    labels = rng.integers(0, 10, 500)
    shuffled = rng.permutation(labels)
    a = StreamingMI(n_bins=8).set_edges(edges).partial_fit(values, labels)
    b = StreamingMI(n_bins=8).set_edges(edges).partial_fit(values, shuffled)
    shared = StreamingMI(n_bins=8).set_edges(edges).count_bins(bins, labels)
    np.testing.assert_array_equal(shared.counts(), a.counts())
    shared_b = StreamingMI(n_bins=8).set_edges(edges).count_bins(bins, shuffled)
    np.testing.assert_array_equal(shared_b.counts(), b.counts())


def test_quantile_range_skips_outliers_and_falls_back_to_extremes() -> None:
    x = np.r_[1e-7, np.linspace(1.0, 2.0, 999)]  # one outlier far below
    lo, hi = quantile_range(x, 0.005)
    assert lo == pytest.approx(np.quantile(x, 0.005))
    assert hi == pytest.approx(np.quantile(x, 0.995))
    assert lo > 1.0
    # a nearly always black pixel: the quantiles coincide, so the extremes are used
    pixel = np.r_[np.zeros(998), 0.5, 1.0]
    assert quantile_range(pixel, 0.005) == (0.0, 1.0)
    assert quantile_range(pixel, 0.005, fallback=(-1.0, 3.0)) == (-1.0, 3.0)


# ---------------------------------------------------------------------------------
# Gaussian mixtures with known information


def _mixture_truth(
    p: list[float], mu: list[float], sd: list[float]
) -> tuple[float, float]:
    """I(C; X) in bits and the variance of the information density, by quadrature."""
    pa, ma, sa = np.asarray(p), np.asarray(mu), np.asarray(sd)
    lo, hi = float(np.min(ma - 10 * sa)), float(np.max(ma + 10 * sa))

    def info_moment(x: float, power: int) -> float:
        # in logs, so that a class density far in its tail does not underflow
        log_pdf = stats.norm.logpdf(x, ma, sa)
        log_f = special.logsumexp(log_pdf, b=pa)
        dens = (log_pdf - log_f) / LN2
        return float(np.sum(pa * np.exp(log_pdf) * dens**power))

    quad = {"limit": 200, "points": list(mu)}
    mi = integrate.quad(info_moment, lo, hi, args=(1,), **quad)[0]
    second = integrate.quad(info_moment, lo, hi, args=(2,), **quad)[0]
    return mi, second - mi**2


def _binned_truth(
    p: list[float], mu: list[float], sd: list[float], edges: np.ndarray
) -> tuple[float, float]:
    """I(C; bin of X) in bits (and its information-density variance), exactly."""
    cdf = stats.norm.cdf(edges[:, None], np.asarray(mu), np.asarray(sd))
    p_x_c = np.diff(cdf, axis=0)  # (bins, classes)
    joint = p_x_c * np.asarray(p)
    p_x = joint.sum(axis=1, keepdims=True)
    ok = joint > 0
    dens = np.log2(np.where(ok, p_x_c / np.where(p_x > 0, p_x, 1), 1.0))
    mi = float(np.sum(joint * dens))
    return mi, float(np.sum(joint * dens**2)) - mi**2


MIXTURES = {
    "two classes, 2 sd apart": ([0.5, 0.5], [0.0, 2.0], [1.0, 1.0]),
    "three unequal classes": ([0.5, 0.3, 0.2], [-2.0, 0.0, 3.0], [1.0, 0.5, 1.5]),
}


@pytest.mark.parametrize("binning", ["quantile", "width"])
@pytest.mark.parametrize("name", list(MIXTURES))
def test_binned_estimate_matches_the_exact_binned_information(
    name: str, binning: str
) -> None:
    p, mu, sd = MIXTURES[name]
    n = 20_000
    rng = np.random.default_rng(21)
    c = rng.choice(len(p), size=n, p=p)
    x = rng.normal(np.asarray(mu)[c], np.asarray(sd)[c])
    got = binned_mutual_information(x, c, 16, binning=binning)

    # the bins the estimator uses: the k/16 quantiles of the sample, or 16 equal
    # widths over its 0.5% / 99.5% quantiles
    if binning == "quantile":
        inner = np.quantile(x, np.arange(1, 16) / 16)
    else:
        lo, hi = np.quantile(x, [0.005, 0.995])
        inner = np.linspace(lo, hi, 17)[1:-1]
    edges = np.r_[-np.inf, inner, np.inf]
    exact_binned, var = _binned_truth(p, mu, sd, edges)
    truth, _ = _mixture_truth(p, mu, sd)
    sampling_sd = math.sqrt(var / n)  # delta method: about 0.006 bits here

    # estimator error: sampling noise only (the Miller-Madow residual bias is
    # O(1/N^2), far below it)
    assert got == pytest.approx(exact_binned, abs=4 * sampling_sd)
    # binning loses information, never adds it (data processing), and 16 bins lose
    # little for these mixtures
    assert exact_binned <= truth
    assert truth - exact_binned < 0.03
    assert got == pytest.approx(truth, abs=(truth - exact_binned) + 4 * sampling_sd)


@pytest.mark.parametrize("name", list(MIXTURES))
def test_ksg_estimate_matches_the_truth(name: str) -> None:
    p, mu, sd = MIXTURES[name]
    n = 10_000
    rng = np.random.default_rng(22)
    c = rng.choice(len(p), size=n, p=p)
    x = rng.normal(np.asarray(mu)[c], np.asarray(sd)[c])
    truth, var = _mixture_truth(p, mu, sd)
    # tolerance: 4 sampling standard deviations of any MI estimate at this N (delta
    # method, about 0.008-0.01 bits) plus 0.01 bits for the nearest-neighbour
    # estimator's own bias, which shrinks with N and is small at k = 3
    tol = 4 * math.sqrt(var / n) + 0.01
    assert ksg_mutual_information(x, c, k=3) == pytest.approx(truth, abs=tol)


def test_mixture_truth_by_hand_for_separated_classes() -> None:
    # the quadrature helper itself: classes 40 sd apart carry H(class) exactly
    mi, var = _mixture_truth([0.25, 0.75], [0.0, 40.0], [1.0, 1.0])
    assert mi == pytest.approx(-(0.25 * math.log2(0.25) + 0.75 * math.log2(0.75)))
    assert var == pytest.approx(0.25 * 4 + 0.75 * math.log2(4 / 3) ** 2 - mi**2)

"""Recursive least squares: hand-worked cases, a textbook reference, ridge, failures."""

from __future__ import annotations

import numpy as np
import pytest

from nwnrc.errors import (
    ConfigError,
    ConvergenceWarning,
    NotFittedError,
    NumericalError,
    StreamError,
)
from nwnrc.learn import RidgeRegressor, RLSClassifier, RLSRegressor


def textbook_rls(
    X: np.ndarray, Y: np.ndarray, delta: float, lam: float, intercept: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample exponentially weighted RLS with full matrices, written out plainly."""
    if intercept:
        X = np.hstack([X, np.ones((X.shape[0], 1))])
    d = X.shape[1]
    P = np.eye(d) / delta
    W = np.zeros((Y.shape[1], d))
    for x, y in zip(X, Y, strict=True):
        Px = P @ x
        gain = Px / (lam + x @ Px)
        W = W + np.outer(y - W @ x, gain)
        P = (P - np.outer(gain, Px)) / lam
    return W, P


def weighted_least_squares(
    X: np.ndarray, Y: np.ndarray, delta: float, lam: float
) -> tuple[np.ndarray, np.ndarray]:
    """The exponentially weighted ridge problem that RLS solves, in closed form."""
    n, d = X.shape
    weights = lam ** np.arange(n - 1, -1, -1)
    R = lam**n * delta * np.eye(d) + (X * weights[:, None]).T @ X
    r = (X * weights[:, None]).T @ Y
    return np.linalg.solve(R, r).T, np.linalg.inv(R)


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


@pytest.fixture
def stream() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(60, 6)) + 0.3
    W_true = rng.normal(size=(3, 6))
    Y = X @ W_true.T + 0.5 + 0.1 * rng.normal(size=(60, 3))
    return X, Y


# ------------------------------------------------------------------ worked by hand


def test_two_samples_by_hand_no_forgetting() -> None:
    # P0 = 1, W0 = 0. Sample (x=1, y=2): gain = 1/(1+1) = 1/2, W1 = 2 * 1/2 = 1,
    # P1 = 1 - 1/2 = 1/2. Sample (x=2, y=1): P1 x = 1, s = 1 + 2 * 1 = 3,
    # gain = 1/3, W2 = 1 + (1 - 2) / 3 = 2/3, P2 = 1/2 - (1/3) * 2 * (1/2) = 1/6.
    rls = RLSRegressor(delta=1.0, fit_intercept=False, block_size=1)
    rls.partial_fit([[1.0]], [[2.0]])
    assert rls.coef_[0, 0] == pytest.approx(1.0, rel=1e-14)
    assert rls.P_[0, 0] == pytest.approx(0.5, rel=1e-14)
    assert rls.last_dw_abs_mean_ == pytest.approx(1.0, rel=1e-14)
    rls.partial_fit([[2.0]], [[1.0]])
    assert rls.coef_[0, 0] == pytest.approx(2.0 / 3.0, rel=1e-14)
    assert rls.P_[0, 0] == pytest.approx(1.0 / 6.0, rel=1e-14)
    assert rls.last_dw_abs_mean_ == pytest.approx(1.0 / 3.0, rel=1e-14)
    assert rls.n_samples_seen_ == 2


@pytest.mark.parametrize("block_size", [1, 2])
def test_two_samples_by_hand_with_forgetting(block_size: int) -> None:
    # lam = 1/2. Sample 1: s = 1/2 + 1 = 3/2, gain = 2/3, W1 = 4/3,
    # P1 = (1 - 2/3) / (1/2) = 2/3. Sample 2 (x=2, y=1): P1 x = 4/3,
    # s = 1/2 + 8/3 = 19/6, gain = 8/19, error = 1 - 8/3 = -5/3,
    # W2 = 4/3 - 40/57 = 12/19, P2 = (2/3 - (8/19) * 2 * (2/3)) / (1/2) = 4/19.
    rls = RLSRegressor(delta=1.0, forgetting=0.5, fit_intercept=False)
    rls.set_params(block_size=block_size)
    rls.partial_fit([[1.0], [2.0]], [2.0, 1.0])
    assert rls.coef_[0, 0] == pytest.approx(12.0 / 19.0, rel=1e-13)
    assert rls.P_[0, 0] == pytest.approx(4.0 / 19.0, rel=1e-13)
    assert rls.predict([[1.0]]) == pytest.approx([12.0 / 19.0], rel=1e-13)


def test_intercept_by_hand() -> None:
    # Samples x=1 -> 2 and x=2 -> 1 with an intercept: augmented a1 = (1, 1),
    # a2 = (2, 1). R = I + a1 a1^T + a2 a2^T = [[6, 3], [3, 3]], det 9,
    # R^-1 = [[3, -3], [-3, 6]] / 9, r = 2 a1 + a2 = (4, 3), w = R^-1 r = (1/3, 2/3).
    rls = RLSRegressor(delta=1.0).partial_fit([[1.0], [2.0]], [2.0, 1.0])
    assert rls.coef_ == pytest.approx(np.array([[1.0 / 3.0]]), rel=1e-13)
    assert rls.intercept_ == pytest.approx([2.0 / 3.0], rel=1e-13)
    expected_P = np.array([[1.0, -1.0], [-1.0, 2.0]]) / 3.0
    np.testing.assert_allclose(rls.P_, expected_P, rtol=1e-13)


# ------------------------------------------------------------------ exactness


@pytest.mark.parametrize("lam", [1.0, 0.99])
@pytest.mark.parametrize("k", [1, 3, 17])
def test_block_equals_per_sample(stream, lam: float, k: int) -> None:
    X, Y = stream
    per_sample = RLSRegressor(delta=0.5, forgetting=lam, block_size=1).fit(X, Y)
    block = RLSRegressor(delta=0.5, forgetting=lam, block_size=k).fit(X, Y)
    W_ref, P_ref = textbook_rls(X, Y, 0.5, lam, intercept=True)

    W_ps = np.hstack([per_sample.coef_, per_sample.intercept_[:, None]])
    W_bl = np.hstack([block.coef_, block.intercept_[:, None]])
    assert relative_error(W_bl, W_ps) < 1e-8
    assert relative_error(W_ps, W_ref) < 1e-8
    assert relative_error(block.P_, P_ref) < 1e-8
    np.testing.assert_array_equal(block.P_, block.P_.T)
    assert block.n_samples_seen_ == 60


def test_block_spans_calls_of_any_length(stream) -> None:
    # Calls of 5, 1 and 54 rows cut the blocks differently; the stream is the same.
    X, Y = stream
    whole = RLSRegressor(forgetting=0.97, block_size=17).fit(X, Y)
    pieces = RLSRegressor(forgetting=0.97, block_size=17)
    for part in (slice(0, 5), slice(5, 6), slice(6, 60)):
        pieces.partial_fit(X[part], Y[part])
    assert relative_error(pieces.coef_, whole.coef_) < 1e-10
    assert relative_error(pieces.P_, whole.P_) < 1e-10


@pytest.mark.parametrize("lam", [1.0, 0.95])
def test_matches_exponentially_weighted_least_squares(stream, lam: float) -> None:
    X, Y = stream
    rls = RLSRegressor(delta=2.0, forgetting=lam, fit_intercept=False).fit(X, Y)
    W_ref, P_ref = weighted_least_squares(X, Y, 2.0, lam)
    assert relative_error(rls.coef_, W_ref) < 1e-9
    assert relative_error(rls.P_, P_ref) < 1e-9


def test_equals_ridge_with_alpha_delta(stream) -> None:
    # RLS penalises every weight by delta, its intercept included (a constant feature
    # 1). The ridge learner leaves its intercept unpenalised, so it is compared on
    # features with a column of ones appended and fit_intercept=False.
    X, Y = stream
    delta = 0.8
    rls = RLSRegressor(delta=delta, fit_intercept=False).fit(X, Y)
    ridge = RidgeRegressor(alpha=delta, fit_intercept=False).fit(X, Y)
    assert relative_error(rls.coef_, ridge.coef_) < 1e-6

    rls_b = RLSRegressor(delta=delta, fit_intercept=True).fit(X, Y)
    X1 = np.hstack([X, np.ones((X.shape[0], 1))])
    ridge_b = RidgeRegressor(alpha=delta, fit_intercept=False).fit(X1, Y)
    W_rls = np.hstack([rls_b.coef_, rls_b.intercept_[:, None]])
    assert relative_error(W_rls, ridge_b.coef_) < 1e-6


def test_one_dimensional_targets_predict_one_dimensional(stream) -> None:
    X, Y = stream
    rls = RLSRegressor().fit(X, Y[:, 0])
    assert rls.coef_.shape == (1, 6)
    assert rls.predict(X[:4]).shape == (4,)


def test_last_dw_is_mean_absolute_change_of_coef(stream) -> None:
    X, Y = stream
    rls = RLSRegressor(block_size=4).partial_fit(X[:10], Y[:10])
    before = rls.coef_.copy()
    rls.partial_fit(X[10:30], Y[10:30])
    assert rls.last_dw_abs_mean_ == pytest.approx(
        float(np.mean(np.abs(rls.coef_ - before))), rel=1e-12
    )
    assert rls.last_dw_abs_mean_ > 0


# ------------------------------------------------------------------ classifier


def test_classifier_is_rls_on_one_hot_targets(stream) -> None:
    X, _ = stream
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, size=X.shape[0])
    clf = RLSClassifier(n_classes=4, delta=0.3, block_size=7).fit(X, y)
    W_ref, _ = textbook_rls(X, np.eye(4)[y], 0.3, 1.0, intercept=True)
    W = np.hstack([clf.coef_, clf.intercept_[:, None]])
    assert relative_error(W, W_ref) < 1e-8
    scores = X @ W_ref[:, :-1].T + W_ref[:, -1]
    np.testing.assert_array_equal(clf.predict(X), np.argmax(scores, axis=1))
    assert clf.score(X, y) == pytest.approx(np.mean(np.argmax(scores, axis=1) == y))
    np.testing.assert_array_equal(clf.classes_, np.arange(4))


def test_classifier_separates_gaussian_clusters() -> None:
    rng = np.random.default_rng(11)
    centres = rng.normal(scale=4.0, size=(10, 20))
    y = rng.integers(0, 10, size=2000)
    X = centres[y] + rng.normal(size=(2000, 20))
    clf = RLSClassifier(delta=1.0).partial_fit(X[:1500], y[:1500])
    assert clf.score(X[1500:], y[1500:]) > 0.95


@pytest.mark.parametrize("bad", [10, -1])
def test_classifier_rejects_labels_outside_range(bad: int) -> None:
    y = np.array([0, 3, bad, 9])
    with pytest.raises(StreamError, match=rf"y\[2\] = {bad} is outside .*0\.\.9"):
        RLSClassifier().partial_fit(np.ones((4, 3)), y)


def test_classifier_rejects_fractional_labels() -> None:
    with pytest.raises(StreamError, match=r"y\[1\] = 2\.5 is not an integer"):
        RLSClassifier().partial_fit(np.ones((2, 3)), np.array([1.0, 2.5]))


# ------------------------------------------------------------------ failures


def test_nan_names_the_sample_and_keeps_earlier_blocks(stream) -> None:
    X, Y = stream
    rls = RLSRegressor(block_size=3).partial_fit(X[:20], Y[:20])
    bad = X[20:30].copy()
    bad[7, 4] = np.nan
    with pytest.raises(NumericalError, match=r"X\[7, 4\] = nan: sample 27 of the"):
        rls.partial_fit(bad, Y[20:30])
    # Blocks of rows 0-2 and 3-5 were learned; the block holding row 7 was not.
    assert rls.n_samples_seen_ == 26
    ref = RLSRegressor(block_size=3).fit(X[:26], Y[:26])
    np.testing.assert_allclose(rls.coef_, ref.coef_, rtol=1e-12)
    assert np.isfinite(rls.P_).all()


def test_infinite_target_names_the_sample(stream) -> None:
    X, Y = stream
    Y = Y.copy()
    Y[3, 1] = np.inf
    with pytest.raises(NumericalError, match=r"Y\[3, 1\] = inf: sample 3 "):
        RLSRegressor().fit(X, Y)


def test_lost_positive_definiteness_raises_and_leaves_state(stream) -> None:
    X, Y = stream
    rls = RLSRegressor(block_size=5).partial_fit(X[:10], Y[:10])
    coef = rls.coef_.copy()
    rls.P_[:] = -np.eye(7)
    with pytest.raises(NumericalError, match="not positive definite"):
        rls.partial_fit(X[10:20], Y[10:20])
    np.testing.assert_array_equal(rls.coef_, coef)
    assert rls.n_samples_seen_ == 10


def test_windup_warns_then_overflow_raises() -> None:
    # Feature 1 is always zero: with forgetting 1/2 its entry of P doubles per sample,
    # passing 1e10 after 34 samples and overflowing after about 1,024.
    X = np.zeros((1200, 2))
    X[:, 0] = np.linspace(-1.0, 1.0, 1200)
    y = 2.0 * X[:, 0]
    rls = RLSRegressor(forgetting=0.5, fit_intercept=False, block_size=8)
    with pytest.warns(ConvergenceWarning, match="wind-up"):
        rls.partial_fit(X[:40], y[:40])
    with pytest.raises(NumericalError, match="lost positive definiteness"):
        rls.partial_fit(X[40:], y[40:])
    with pytest.raises(NumericalError, match="lost positive definiteness"):
        rls.partial_fit(X[:1], y[:1])


def test_bad_shapes_raise_typed_errors() -> None:
    rls = RLSRegressor()
    with pytest.raises(StreamError, match=r"2-D .* got shape \(3,\).*reshape"):
        rls.partial_fit(np.ones(3), np.ones(3))
    with pytest.raises(StreamError, match=r"Y must have shape \(3, n_outputs\)"):
        rls.partial_fit(np.ones((3, 2)), np.ones(4))
    rls.partial_fit(np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(StreamError, match=r"has 5 features per sample .* with 2"):
        rls.partial_fit(np.ones((3, 5)), np.ones((3, 2)))
    with pytest.raises(StreamError, match=r"Y has 1 outputs .* with 2"):
        rls.partial_fit(np.ones((3, 2)), np.ones((3, 1)))
    with pytest.raises(StreamError, match="dtype <U1"):
        rls.predict(np.array([["a", "b"]]))


@pytest.mark.parametrize(
    ("params", "pattern"),
    [
        ({"delta": 0.0}, r"delta must be a finite number > 0, got 0\.0"),
        ({"forgetting": 1.5}, r"forgetting must lie in \(0, 1\]"),
        ({"forgetting": -0.1}, r"forgetting must be a finite number > 0"),
        ({"block_size": 0}, r"block_size must be an integer >= 1, got 0"),
    ],
)
def test_bad_parameters_raise_config_error(params: dict, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        RLSRegressor(**params).partial_fit(np.ones((2, 2)), np.ones(2))


def test_unfitted_learner_raises() -> None:
    rls = RLSRegressor()
    assert not hasattr(rls, "P_")
    with pytest.raises(NotFittedError, match="call fit or partial_fit"):
        rls.predict(np.ones((1, 2)))


def test_params_and_repr() -> None:
    rls = RLSClassifier(forgetting=0.999, n_classes=3)
    assert rls.get_params() == {
        "delta": 1.0,
        "forgetting": 0.999,
        "fit_intercept": True,
        "block_size": None,
        "n_classes": 3,
    }
    assert repr(rls) == "RLSClassifier(forgetting=0.999, n_classes=3)"
    with pytest.raises(ConfigError, match="no parameter 'lam'"):
        rls.set_params(lam=0.5)


def test_mirror_copies_lower_triangle_tile_by_tile() -> None:
    from nwnrc.learn._rls import _mirror_lower

    rng = np.random.default_rng(0)
    lower = np.tril(rng.normal(size=(10, 10)))
    a = np.asfortranarray(lower + np.triu(rng.normal(size=(10, 10)), 1))
    _mirror_lower(a, tile=3)
    np.testing.assert_array_equal(a, lower + np.tril(lower, -1).T)


def test_p_is_updated_in_place(stream) -> None:
    X, Y = stream
    rls = RLSRegressor(block_size=4).partial_fit(X[:10], Y[:10])
    P = rls.P_
    rls.partial_fit(X[10:], Y[10:])
    assert rls.P_ is P
    rls.set_params(block_size=1).partial_fit(X[:3], Y[:3])
    assert rls.P_ is P


@pytest.mark.parametrize(("lam", "k"), [(0.95, 60), (0.6, 60), (0.1, 150)])
def test_strong_forgetting_in_long_blocks(lam: float, k: int) -> None:
    # Blocks longer than the feature count. Asked blocks of 60 at lam = 0.6 and 150
    # at lam = 0.1 are cut to 13 and 3 rows (lam**-k <= 1000); 60 at 0.95 is kept.
    # The reference is the closed form: the plain textbook recursion drifts from it
    # at such strong forgetting (its P update is not kept symmetric).
    rng = np.random.default_rng(9)
    X = rng.normal(size=(150, 3))
    Y = X @ np.array([[1.0, -2.0, 0.5]]).T + rng.normal(size=(150, 1))
    rls = RLSRegressor(forgetting=lam, block_size=k).fit(X, Y)
    X1 = np.hstack([X, np.ones((150, 1))])
    W_ref, P_ref = weighted_least_squares(X1, Y, 1.0, lam)
    W = np.hstack([rls.coef_, rls.intercept_[:, None]])
    assert relative_error(W, W_ref) < 1e-8
    assert relative_error(rls.P_, P_ref) < 1e-8
    per_sample = RLSRegressor(forgetting=lam, block_size=1).fit(X, Y)
    assert relative_error(per_sample.coef_, rls.coef_) < 1e-8

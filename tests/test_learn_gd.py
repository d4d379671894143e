"""Softmax gradient descent: finite-difference gradient, optimum, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize

from nwnrc.errors import ConfigError, NotFittedError, NumericalError, StreamError
from nwnrc.learn import SoftmaxGDClassifier, softmax_loss_grad


def cross_entropy(W: np.ndarray, b: np.ndarray, U: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy of softmax(U W^T + b), written out directly."""
    z = U @ W.T + b
    log_norm = np.log(np.sum(np.exp(z), axis=1))
    return float(np.mean(log_norm - z[np.arange(len(y)), y]))


def logistic_data(
    n: int, seed: int, separation: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from a known multinomial logistic model on offset features."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * np.array([1.0, 0.5, 2.0]) + np.array([3.0, -1.0, 0.5])
    W = separation * np.array([[1.0, -1.0, 0.5], [-0.5, 2.0, 0.0], [0.0, 0.0, -0.7]])
    z = X @ W.T
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=row) for row in p])
    return X, y


@pytest.mark.parametrize("standardised", [False, True])
def test_gradient_matches_finite_differences(standardised: bool) -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(12, 5)) + 2.0
    y = rng.integers(0, 4, size=12)
    W = rng.normal(size=(4, 5))
    b = rng.normal(size=4)
    mean = X.mean(axis=0) if standardised else None
    scale = X.std(axis=0) if standardised else None
    U = (X - mean) / scale if standardised else X

    loss, g_w, g_b = softmax_loss_grad(W, b, X, y, mean, scale)
    assert loss == pytest.approx(cross_entropy(W, b, U, y), rel=1e-12)
    h = 1e-6
    for i in range(4):
        for j in range(5):
            E = np.zeros_like(W)
            E[i, j] = h
            fd = (cross_entropy(W + E, b, U, y) - cross_entropy(W - E, b, U, y)) / (
                2 * h
            )
            assert g_w[i, j] == pytest.approx(fd, abs=1e-8)
        e = np.zeros(4)
        e[i] = h
        fd = (cross_entropy(W, b + e, U, y) - cross_entropy(W, b - e, U, y)) / (2 * h)
        assert g_b[i] == pytest.approx(fd, abs=1e-8)


def reference_optimum(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Minimise the mean cross-entropy with L-BFGS on raw features (W and b)."""

    def objective(theta: np.ndarray) -> float:
        Wb = theta.reshape(3, 4)
        return cross_entropy(Wb[:, :3], Wb[:, 3], X, y)

    res = scipy.optimize.minimize(
        objective, np.zeros(12), method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 0}
    )
    return res.x.reshape(3, 4), float(res.fun)


def test_full_batch_descent_reaches_the_optimum() -> None:
    X, y = logistic_data(300, seed=0)
    Wb, best = reference_optimum(X, y)
    clf = SoftmaxGDClassifier(
        epochs=1500, batch_size=300, learning_rate=2.0, n_classes=3
    ).fit(X, y)

    # The softmax is unchanged by a common shift of the logits: compare differences.
    def centred(A: np.ndarray) -> np.ndarray:
        return A - A.mean(axis=0)

    fitted = np.hstack([clf.coef_, clf.intercept_[:, None]])
    np.testing.assert_allclose(centred(fitted), centred(Wb), atol=1e-5)
    assert clf.loss_curve_[-1] == pytest.approx(best, abs=1e-9)
    assert cross_entropy(clf.coef_, clf.intercept_, X, y) == pytest.approx(
        best, abs=1e-10
    )


def test_paper_settings_come_close_to_the_optimum() -> None:
    X, y = logistic_data(1000, seed=1)
    _, best = reference_optimum(X, y)
    clf = SoftmaxGDClassifier(n_classes=3).fit(X, y)  # 100 epochs, batch 100, lr 0.1
    assert len(clf.loss_curve_) == 100 and clf.n_iter_ == 100
    final = cross_entropy(clf.coef_, clf.intercept_, X, y)
    assert best <= final < best + 2e-3
    assert clf.loss_curve_[0] > clf.loss_curve_[-1]


def test_separable_classes_are_all_learned() -> None:
    rng = np.random.default_rng(8)
    y = rng.integers(0, 4, size=400)
    X = rng.normal(size=(400, 6)) + 6.0 * np.eye(4, 6)[y] + 10.0
    clf = SoftmaxGDClassifier(epochs=30, n_classes=4).fit(X, y)
    assert clf.score(X, y) == 1.0
    np.testing.assert_allclose(clf.predict_proba(X[:5]).sum(axis=1), 1.0, rtol=1e-12)


def test_seed_controls_the_shuffle() -> None:
    X, y = logistic_data(250, seed=2)
    a = SoftmaxGDClassifier(epochs=3, n_classes=3, seed=5).fit(X, y)
    b = SoftmaxGDClassifier(epochs=3, n_classes=3, seed=5).fit(X, y)
    c = SoftmaxGDClassifier(epochs=3, n_classes=3, seed=6).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert not np.array_equal(a.coef_, c.coef_)


def test_float32_follows_float64() -> None:
    X, y = logistic_data(400, seed=3)
    f64 = SoftmaxGDClassifier(epochs=10, n_classes=3).fit(X, y)
    f32 = SoftmaxGDClassifier(epochs=10, n_classes=3, dtype=np.float32).fit(X, y)
    np.testing.assert_allclose(f32.coef_, f64.coef_, rtol=1e-3, atol=1e-4)
    assert f32.coef_.dtype == np.float64


def test_standardisation_statistics_and_constant_feature() -> None:
    X, y = logistic_data(200, seed=4)
    X = np.hstack([X, np.full((200, 1), 7.0)])
    clf = SoftmaxGDClassifier(epochs=2, n_classes=3).fit(X, y)
    np.testing.assert_allclose(clf.mean_, X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(clf.scale_[:3], X[:, :3].std(axis=0), rtol=1e-12)
    assert clf.scale_[3] == 1.0
    np.testing.assert_allclose(clf.coef_[:, 3], 0.0, atol=1e-12)


def test_nan_names_the_sample() -> None:
    X, y = logistic_data(50, seed=5)
    X[31, 2] = np.nan
    with pytest.raises(NumericalError, match=r"X\[31, 2\] = nan: sample 31 "):
        SoftmaxGDClassifier(n_classes=3).fit(X, y)


def test_errors_for_bad_input() -> None:
    X, y = logistic_data(20, seed=6)
    with pytest.raises(StreamError, match=r"y\[0\] = 3 is outside"):
        SoftmaxGDClassifier(n_classes=3).fit(X, np.full(20, 3))
    with pytest.raises(StreamError, match="one label per sample"):
        SoftmaxGDClassifier(n_classes=3).fit(X, y[:5])
    with pytest.raises(ConfigError, match="learning_rate must be a finite number > 0"):
        SoftmaxGDClassifier(learning_rate=-1.0).fit(X, y)
    with pytest.raises(ConfigError, match="dtype must be float32 or float64"):
        SoftmaxGDClassifier(dtype=np.int32).fit(X, y)
    with pytest.raises(NotFittedError):
        SoftmaxGDClassifier().predict(X)


def _rare_feature_problem() -> tuple[np.ndarray, np.ndarray]:
    """Dense informative features plus columns that are non-zero in only two samples,
    like border pixels or late time steps of a readout that few digits reach."""
    rng = np.random.default_rng(7)
    n, d_dense, d_rare = 20_000, 20, 100
    dense = rng.normal(size=(n, d_dense))
    y = np.argmax(dense[:, :3], axis=1)
    rare = np.zeros((n, d_rare))
    rare[rng.choice(n, size=2, replace=False)] = 1.0
    return np.hstack([dense, rare]), y


def test_rare_features_do_not_blow_up_the_papers_step() -> None:
    X, y = _rare_feature_problem()
    clf = SoftmaxGDClassifier(
        epochs=2, batch_size=100, learning_rate=0.1, n_classes=3
    ).fit(X, y)
    assert np.all(np.isfinite(clf.loss_curve_))
    assert clf.score(X, y) > 0.9


def test_without_the_scale_floor_rare_features_wreck_the_fit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The same problem with plain z-scoring: each rare column becomes 100 standard
    # deviations in its two samples, 100 of them together put |z|^2 near 1e6, and
    # one step of 0.1 on a batch of 100 moves those logits by about 1e3.
    import nwnrc.learn._gd as gd

    X, y = _rare_feature_problem()
    floored = SoftmaxGDClassifier(
        epochs=2, batch_size=100, learning_rate=0.1, n_classes=3
    ).fit(X, y)
    monkeypatch.setattr(gd, "_SCALE_FLOOR", 0.0)
    try:
        plain = SoftmaxGDClassifier(
            epochs=2, batch_size=100, learning_rate=0.1, n_classes=3
        ).fit(X, y)
    except NumericalError:
        return
    assert plain.loss_curve_[-1] > 1.2 * floored.loss_curve_[-1]

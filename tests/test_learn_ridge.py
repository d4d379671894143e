"""Closed-form ridge: least squares of the augmented system, chunking, errors."""

from __future__ import annotations

import numpy as np
import pytest

from nwnrc.errors import NotFittedError, NumericalError, StreamError
from nwnrc.learn import RidgeClassifier, RidgeRegressor


def augmented_lstsq(
    X: np.ndarray, Y: np.ndarray, alpha: float, intercept: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Ridge as ordinary least squares: stack sqrt(alpha) I under X (no penalty row
    for the intercept column)."""
    n, d = X.shape
    cols = [X, np.ones((n, 1))] if intercept else [X]
    A = np.vstack(
        [
            np.hstack(cols),
            np.hstack([np.sqrt(alpha) * np.eye(d)] + [np.zeros((d, 1))] * intercept),
        ]
    )
    B = np.vstack([Y, np.zeros((d, Y.shape[1]))])
    sol = np.linalg.lstsq(A, B, rcond=None)[0]
    if intercept:
        return sol[:d].T, sol[d]
    return sol.T, np.zeros(Y.shape[1])


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(80, 7)) * rng.uniform(0.5, 3.0, size=7) + 2.0
    Y = X @ rng.normal(size=(7, 3)) - 1.0 + 0.3 * rng.normal(size=(80, 3))
    return X, Y


@pytest.mark.parametrize("intercept", [True, False])
def test_equals_lstsq_of_augmented_system(data, intercept: bool) -> None:
    X, Y = data
    ridge = RidgeRegressor(alpha=0.7, fit_intercept=intercept).fit(X, Y)
    coef, b = augmented_lstsq(X, Y, 0.7, intercept)
    np.testing.assert_allclose(ridge.coef_, coef, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ridge.intercept_, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ridge.predict(X[:5]), X[:5] @ coef.T + b, rtol=1e-10)


@pytest.mark.parametrize("intercept", [True, False])
def test_chunks_give_the_one_shot_result(data, intercept: bool) -> None:
    X, Y = data
    whole = RidgeRegressor(alpha=0.2, fit_intercept=intercept).fit(X, Y)
    chunked = RidgeRegressor(alpha=0.2, fit_intercept=intercept)
    for part in (slice(0, 7), slice(7, 8), slice(8, 8), slice(8, 50), slice(50, 80)):
        chunked.partial_fit(X[part], Y[part])
    assert chunked.n_samples_seen_ == 80
    np.testing.assert_allclose(chunked.coef_, whole.coef_, rtol=1e-11)
    np.testing.assert_allclose(chunked.intercept_, whole.intercept_, rtol=1e-11)


def test_large_feature_offset_keeps_precision() -> None:
    # Features 1e6 + O(1): raw sums X^T X would cancel about 12 of 16 digits; centred
    # chunks keep the solution to lstsq of the centred problem.
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(300, 4))
    Y = Z @ np.array([[1.0], [-2.0], [0.5], [3.0]]) + 0.1 * rng.normal(size=(300, 1))
    ridge = RidgeRegressor(alpha=1e-3)
    for start in range(0, 300, 64):
        ridge.partial_fit(Z[start : start + 64] + 1e6, Y[start : start + 64])
    coef, _ = augmented_lstsq(Z, Y, 1e-3, True)
    np.testing.assert_allclose(ridge.coef_, coef, rtol=1e-8)


def test_alpha_change_resolves_without_data(data) -> None:
    X, Y = data
    ridge = RidgeRegressor(alpha=0.7).fit(X, Y)
    _ = ridge.coef_
    ridge.set_params(alpha=5.0)
    coef, b = augmented_lstsq(X, Y, 5.0, True)
    np.testing.assert_allclose(ridge.coef_, coef, rtol=1e-10)
    np.testing.assert_allclose(ridge.intercept_, b, rtol=1e-10)


def test_one_dimensional_target(data) -> None:
    X, Y = data
    ridge = RidgeRegressor().fit(X, Y[:, 1])
    assert ridge.predict(X[:3]).shape == (3,)
    coef, _ = augmented_lstsq(X, Y[:, 1:2], 1.0, True)
    np.testing.assert_allclose(ridge.coef_, coef, rtol=1e-10)


def test_classifier_is_ridge_on_one_hot_targets(data) -> None:
    X, _ = data
    y = np.random.default_rng(1).integers(0, 5, size=X.shape[0])
    clf = RidgeClassifier(alpha=0.4, n_classes=5).fit(X, y)
    coef, b = augmented_lstsq(X, np.eye(5)[y], 0.4, True)
    np.testing.assert_allclose(clf.coef_, coef, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), np.argmax(X @ coef.T + b, axis=1))


def test_classifier_rejects_label_ten() -> None:
    with pytest.raises(StreamError, match=r"y\[1\] = 10 is outside the class labels"):
        RidgeClassifier().partial_fit(np.ones((2, 3)), [0, 10])


def test_singular_system_without_penalty_raises() -> None:
    X = np.random.default_rng(0).normal(size=(3, 6))
    ridge = RidgeRegressor(alpha=0.0).fit(X, np.ones(3))
    with pytest.raises(NumericalError, match=r"not positive definite .* alpha=0\.0"):
        _ = ridge.coef_


def test_nan_feature_names_the_sample(data) -> None:
    X, Y = data
    ridge = RidgeRegressor().partial_fit(X[:10], Y[:10])
    bad = X[10:20].copy()
    bad[4, 0] = -np.inf
    with pytest.raises(NumericalError, match=r"X\[4, 0\] = -inf: sample 14 "):
        ridge.partial_fit(bad, Y[10:20])


def test_unfitted_raises() -> None:
    with pytest.raises(NotFittedError):
        _ = RidgeRegressor().coef_

"""Closed-form ridge readout from statistics accumulated chunk by chunk.

The ridge readout minimises ``|Y - X W^T - 1 b^T|^2 + alpha |W|^2`` (the intercept b
is not penalised). With the feature mean ``mu_x``, the target mean ``mu_y`` and the
centred scatter matrices ``Sxx = (X - mu_x)^T (X - mu_x)`` and
``Sxy = (X - mu_x)^T (Y - mu_y)``, the solution is

    W^T = (Sxx + alpha I)^-1 Sxy,      b = mu_y - W mu_x.

``partial_fit`` folds a chunk into the means and scatter matrices with the pairwise
update of Chan, Golub and LeVeque [1]_: for a running part a (n_a samples) and a chunk
b (n_b samples) whose means differ by ``delta = mu_b - mu_a``,

    S = S_a + S_b + (n_a n_b / (n_a + n_b)) delta delta^T,

so features can stream from disk and no chunk is kept. Centring each chunk keeps the
scatter free of the cancellation that raw sums ``X^T X`` suffer when the features have a
large mean (electrode voltages do). The solve is a Cholesky factorisation, done when a
fitted attribute is first read after new data.

References
----------
.. [1] T. F. Chan, G. H. Golub and R. J. LeVeque, "Updating formulae and a pairwise
   algorithm for computing sample variances", Technical Report STAN-CS-79-773,
   Stanford University (1979).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import blas

from nwnrc.errors import ConfigError, NotFittedError, NumericalError
from nwnrc.learn._base import (
    FloatArray,
    _ClassifierMixin,
    _Estimator,
    check_features,
    check_finite_rows,
    check_positive,
    regression_batch,
)

logger = logging.getLogger(__name__)


class _RidgeBase(_Estimator):
    """Accumulated statistics and the solve shared by the ridge learners."""

    alpha: float
    fit_intercept: bool
    n_features_in_: int
    n_samples_seen_: int

    _target_name = "Y"

    def _discard_state(self) -> None:
        for name in ("_sxx", "_sxy", "_mean_x", "_mean_y", "_solution"):
            self.__dict__.pop(name, None)
        self.__dict__.pop("n_features_in_", None)
        self.__dict__.pop("n_samples_seen_", None)

    def _accumulate(self, X: NDArray[Any], Y: FloatArray) -> None:
        n_new, d = X.shape
        if "_sxx" not in self.__dict__:
            self._with_intercept = bool(self.fit_intercept)
            # Only the lower triangle of the scatter matrix is accumulated.
            self._sxx = np.zeros((d, d), order="F")
            self._sxy = np.zeros((d, Y.shape[1]))
            self._mean_x = np.zeros(d)
            self._mean_y = np.zeros(Y.shape[1])
            self.n_features_in_ = d
            self.n_samples_seen_ = 0
        elif bool(self.fit_intercept) != self._with_intercept:
            raise ConfigError(
                f"fit_intercept was changed to {self.fit_intercept!r} after the first "
                f"partial_fit; call fit to start again with it"
            )
        check_finite_rows(X, "X", self.n_samples_seen_)
        check_finite_rows(Y, self._target_name, self.n_samples_seen_)
        if n_new == 0:
            return

        Xc = np.asarray(X, dtype=np.float64)
        if self._with_intercept:
            mean_x = Xc.mean(axis=0)
            mean_y = Y.mean(axis=0)
            Xc = Xc - mean_x
            Yc = Y - mean_y
        else:
            Yc = Y
        self._sxx = blas.dsyrk(1.0, Xc, 1.0, self._sxx, trans=1, lower=1, overwrite_c=1)
        self._sxy += Xc.T @ Yc

        if self._with_intercept:
            n_old = self.n_samples_seen_
            n_all = n_old + n_new
            dx = mean_x - self._mean_x
            dy = mean_y - self._mean_y
            weight = n_old * n_new / n_all
            if n_old:
                self._sxx = blas.dsyr(weight, dx, lower=1, a=self._sxx, overwrite_a=1)
                self._sxy += weight * np.outer(dx, dy)
            self._mean_x += (n_new / n_all) * dx
            self._mean_y += (n_new / n_all) * dy
        self.n_samples_seen_ += n_new
        self.__dict__.pop("_solution", None)

    def _solved(self) -> tuple[FloatArray, FloatArray]:
        if "_sxx" not in self.__dict__ or self.n_samples_seen_ == 0:
            raise NotFittedError(
                f"{type(self).__name__} has seen no data yet; call fit or partial_fit "
                f"first"
            )
        alpha = check_positive("alpha", self.alpha, allow_zero=True)
        cached = self.__dict__.get("_solution")
        if cached is not None and cached[0] == alpha:
            return cached[1], cached[2]

        d = self.n_features_in_
        a = self._sxx.copy(order="F")
        a[np.diag_indices(d)] += alpha
        try:
            factor = scipy.linalg.cho_factor(
                a, lower=True, overwrite_a=True, check_finite=False
            )
        except np.linalg.LinAlgError as exc:
            raise NumericalError(
                f"the ridge system (scatter + alpha I) is not positive definite "
                f"({exc}) with alpha={alpha!r} after {self.n_samples_seen_} samples; "
                f"use alpha > 0 or more samples than features"
            ) from exc
        coef = scipy.linalg.cho_solve(factor, self._sxy, check_finite=False).T
        coef = np.ascontiguousarray(coef)
        if not np.isfinite(coef).all():
            raise NumericalError(
                f"the ridge solution is not finite with alpha={alpha!r}; the system is "
                f"too ill-conditioned: increase alpha or rescale the features"
            )
        if self._with_intercept:
            intercept = self._mean_y - coef @ self._mean_x
        else:
            intercept = np.zeros(coef.shape[0])
        logger.debug(
            "%s: solved %d features from %d samples, alpha=%g",
            type(self).__name__,
            d,
            self.n_samples_seen_,
            alpha,
        )
        self._solution = (alpha, coef, intercept)
        return coef, intercept

    @property
    def coef_(self) -> FloatArray:
        """Readout weights, shape (n_outputs, n_features), solved on first read."""
        return self._solved()[0]

    @property
    def intercept_(self) -> FloatArray:
        """Intercepts, shape (n_outputs,) (zeros without ``fit_intercept``)."""
        return self._solved()[1]

    def _linear(self, X: ArrayLike) -> FloatArray:
        coef, intercept = self._solved()
        arr = check_features(X, self.n_features_in_)
        return np.asarray(arr @ coef.T + intercept, dtype=np.float64)


class RidgeRegressor(_RidgeBase):
    """Linear readout by ridge regression, from statistics accumulated in chunks.

    Parameters
    ----------
    alpha : float, default 1.0
        Penalty on the squared weights (not on the intercept). Read at solve time, so
        it may be changed with ``set_params`` without passing the data again.
    fit_intercept : bool, default True
        Learn an unpenalised intercept (the features and targets are centred).

    Attributes
    ----------
    coef_ : ndarray of shape (n_outputs, n_features)
    intercept_ : ndarray of shape (n_outputs,)
    n_features_in_ : int
    n_samples_seen_ : int

    Notes
    -----
    The statistics take ``8 d^2`` bytes (123 MB at d = 3,921) and the solve makes one
    copy of that size to factorise. Each chunk costs about ``n d^2`` flops.

    Limitations: with ``alpha = 0`` the solve needs at least as many samples as
    features (after centring, one more) and fails with
    :class:`~nwnrc.errors.NumericalError` otherwise.

    To match :class:`~nwnrc.learn.RLSRegressor` (which penalises its intercept like any
    weight), append a column of ones to X and set ``fit_intercept=False``.

    Examples
    --------
    >>> import numpy as np
    >>> from nwnrc.learn import RidgeRegressor
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> Y = np.array([1.0, 3.0, 5.0])
    >>> ridge = RidgeRegressor(alpha=2.0).partial_fit(X[:2], Y[:2])
    >>> ridge = ridge.partial_fit(X[2:], Y[2:])  # statistics stream in by chunks
    >>> ridge.coef_  # Sxy / (Sxx + alpha) = 4 / (2 + 2)
    array([[1.]])
    >>> ridge.intercept_  # 3 - 1 * 1
    array([2.])
    """

    _y_1d: bool  # whether the first targets were 1-D (predict follows)

    def __init__(self, alpha: float = 1.0, fit_intercept: bool = True) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept

    def partial_fit(self, X: ArrayLike, Y: ArrayLike) -> RidgeRegressor:
        """Add the samples X (n, d) with targets Y (n, m) or (n,) to the statistics.

        Returns
        -------
        RidgeRegressor
            The learner itself.
        """
        started = self._sxy.shape[1] if "_sxy" in self.__dict__ else None
        arr, targets = regression_batch(self, X, Y, started)
        self._accumulate(arr, targets)
        return self

    def fit(self, X: ArrayLike, Y: ArrayLike) -> RidgeRegressor:
        """Forget earlier data and fit X, Y."""
        self._discard_state()
        return self.partial_fit(X, Y)

    def predict(self, X: ArrayLike) -> FloatArray:
        """Return ``X @ coef_.T + intercept_``, shape (n, m) (or (n,) when the targets
        were 1-D)."""
        out = self._linear(X)
        return out[:, 0] if self._y_1d else out


class RidgeClassifier(_ClassifierMixin, _RidgeBase):
    """Classifier read out by ridge regression on one-hot targets.

    The closed-form reference for the online RLS classifier: the same linear readout
    and one-hot targets, solved exactly over all samples.

    Parameters
    ----------
    alpha : float, default 1.0
        Penalty on the squared weights (not on the intercepts).
    fit_intercept : bool, default True
        Learn an unpenalised intercept per class.
    n_classes : int, default 10
        Labels are the integers ``0..n_classes-1``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_classes, n_features)
    intercept_ : ndarray of shape (n_classes,)
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    n_samples_seen_ : int

    Notes
    -----
    Memory and limitations are those of :class:`RidgeRegressor`.

    Examples
    --------
    >>> import numpy as np
    >>> from nwnrc.learn import RidgeClassifier
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [0.1, 0.9], [0.9, 0.2]])
    >>> clf = RidgeClassifier(alpha=0.1, n_classes=2).fit(X, [1, 0, 1, 0])
    >>> clf.predict([[0.0, 2.0], [2.0, 0.0]])
    array([1, 0])
    """

    _target_name = "y"

    def __init__(
        self, alpha: float = 1.0, fit_intercept: bool = True, n_classes: int = 10
    ) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.n_classes = n_classes

    def partial_fit(self, X: ArrayLike, y: ArrayLike) -> RidgeClassifier:
        """Add the samples X (n, d) with integer labels y (n,) to the statistics.

        Returns
        -------
        RidgeClassifier
            The learner itself.
        """
        started = self._sxy.shape[1] if "_sxy" in self.__dict__ else None
        arr, targets = self._one_hot_batch(X, y, started)
        self._accumulate(arr, targets)
        return self

    def fit(self, X: ArrayLike, y: ArrayLike) -> RidgeClassifier:
        """Forget earlier data and fit X, y."""
        self._discard_state()
        return self.partial_fit(X, y)

    def decision_function(self, X: ArrayLike) -> FloatArray:
        """Return the readout of each class, ``X @ coef_.T + intercept_``, (n, C)."""
        return self._linear(X)

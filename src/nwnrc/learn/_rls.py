"""Online readout by recursive least squares (RLS), updated exactly in blocks.

RLS keeps the weights ``W`` (n_outputs x n_features) that minimise the exponentially
weighted, regularised squared error over every sample seen so far,

    sum_i lam**(n - i) * |y_i - W x_i|**2  +  lam**n * delta * |W|**2,

together with ``P``, the inverse of the weighted feature correlation matrix
``R = lam**n * delta * I + sum_i lam**(n - i) x_i x_i^T``. The textbook update [1]_
(exponentially weighted RLS) takes one sample at a time:

    g = P x / (lam + x^T P x),   W <- W + (y - W x) g^T,   P <- (P - g x^T P) / lam.

Each step reads and writes the whole d x d matrix ``P`` for O(d^2) work, so it is bound
by memory bandwidth. A block of k samples ``X`` (k x d) is folded in at once with the
Woodbury identity, which turns the work into matrix-matrix products:

    G = X P                          (k x d)
    S = diag(lam, lam**2, ..., lam**k) + G X^T      (k x k, the innovation matrix)
    W <- W + (Y - X W^T)^T S^-1 G
    P <- (P - G^T S^-1 G) / lam**k

Row j of the block (j = 1..k, oldest first) enters S with weight lam**j: the new
``R`` is ``lam**k R_old + sum_j lam**(k - j) x_j x_j^T``, and the Woodbury identity for
``(R_old lam**k + X^T D X)^-1`` with ``D = diag(lam**(k - j))`` brings in
``lam**k D^-1 = diag(lam**j)``. The block result therefore equals k per-sample updates
(tests check it to 1e-8).

The code works with the rows and errors scaled by ``lam**(-j/2)``, which turns S into
``I + (scaled G)(scaled X)^T``, the same update with every eigenvalue of the scaled
innovation matrix at least 1 while P is positive definite. That matrix is factored by
Cholesky (``L L^T``), ``H = L^-1 (scaled G)`` and the P update is the symmetric rank-k
update ``P <- (P - H^T H) / lam**k``. The spread of the row scales, ``lam**-k``,
multiplies the round-off of the block solve, so under forgetting a block holds at most
``ln(1000) / ln(1 / lam)`` rows (``lam**-k <= 1000``: 687 rows at lam = 0.99, 6 at
lam = 0.3), whatever ``block_size`` says.

References
----------
.. [1] S. Haykin, "Adaptive Filter Theory", 5th ed., Pearson (2014), chapter 10
   (the exponentially weighted RLS algorithm).
.. [2] M. A. Woodbury, "Inverting modified matrices", Memorandum Report 42, Statistical
   Research Group, Princeton University (1950).
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import blas, lapack

from nwnrc.errors import ConfigError, ConvergenceWarning, NotFittedError, NumericalError
from nwnrc.learn._base import (
    FloatArray,
    _ClassifierMixin,
    _Estimator,
    check_features,
    check_finite_rows,
    check_int,
    check_positive,
    regression_batch,
)

logger = logging.getLogger(__name__)

#: Most rows per Woodbury block when ``block_size`` is None (blocks are also kept
#: within max(32, n_features) rows, beyond which a block costs more than it saves). At
#: d = 3,921 features on two cores, blocks of 400 rows ran 1.1 to 1.5 times faster
#: than blocks of 200 and 8 to 14 times faster than per-sample updates in three runs
#: of ``benchmarks/bench_readout.py``.
AUTO_BLOCK_SIZE = 400

#: A ConvergenceWarning is issued once when a diagonal entry of P grows above this many
#: times its starting value 1 / delta (wind-up under forgetting; see Notes).
WINDUP_FACTOR = 1e10

#: Under forgetting, blocks are cut so that lam**-k stays below exp(this) = 1000.
_MAX_BLOCK_SPREAD_LOG = math.log(1000.0)


def _mirror_lower(a: FloatArray, tile: int = 512) -> None:
    """Copy the lower triangle of the square array ``a`` onto its upper one, in place,
    one strip of ``tile`` rows at a time (temporaries are at most one strip)."""
    n = a.shape[0]
    for j0 in range(0, n, tile):
        j1 = min(n, j0 + tile)
        a[j0:j1, j1:] = a[j1:, j0:j1].T
        block = a[j0:j1, j0:j1]
        upper = np.triu_indices(j1 - j0, 1)
        block[upper] = block.T[upper]


class _RLSBase(_Estimator):
    """State and block update shared by :class:`RLSRegressor` and
    :class:`RLSClassifier`."""

    delta: float
    forgetting: float
    fit_intercept: bool
    block_size: int | None

    coef_: FloatArray
    intercept_: FloatArray
    n_features_in_: int
    n_samples_seen_: int
    last_dw_abs_mean_: float

    # ---------------------------------------------------------------- parameters
    def _checked_params(self) -> tuple[float, float, int]:
        delta = check_positive("delta", self.delta)
        lam = check_positive("forgetting", self.forgetting)
        if lam > 1.0:
            raise ConfigError(
                f"forgetting must lie in (0, 1] (1 for a stationary stream), "
                f"got {self.forgetting!r}"
            )
        if self.block_size is None:
            n_features = self.__dict__.get("n_features_in_", AUTO_BLOCK_SIZE)
            block = min(AUTO_BLOCK_SIZE, max(32, n_features))
        else:
            block = check_int("block_size", self.block_size, 1)
        return delta, lam, block

    # ---------------------------------------------------------------- state
    def _discard_state(self) -> None:
        for name in (
            "_P",
            "_W",
            "coef_",
            "intercept_",
            "n_features_in_",
            "n_samples_seen_",
            "last_dw_abs_mean_",
        ):
            self.__dict__.pop(name, None)

    def _init_state(self, n_features: int, n_outputs: int, delta: float) -> None:
        augmented = n_features + int(bool(self.fit_intercept))
        self._with_intercept = bool(self.fit_intercept)
        # Only the lower triangle of P is read and written by the updates; P_ mirrors
        # it onto the upper triangle when asked for.
        self._P = np.eye(augmented, dtype=np.float64, order="F")
        self._P *= 1.0 / delta
        self._p_upper_stale = False
        self._W = np.zeros((n_outputs, augmented))
        self.coef_ = self._W[:, :n_features]
        if self._with_intercept:
            self.intercept_ = self._W[:, n_features]
        else:
            self.intercept_ = np.zeros(n_outputs)
        self.n_features_in_ = n_features
        self.n_samples_seen_ = 0
        self.last_dw_abs_mean_ = 0.0
        self._windup_level = WINDUP_FACTOR / delta
        self._windup_warned = False
        self._failure: str | None = None
        logger.info(
            "%s: new state with %d features, %d outputs, delta=%g, forgetting=%g",
            type(self).__name__,
            n_features,
            n_outputs,
            delta,
            self.forgetting,
        )

    @property
    def P_(self) -> FloatArray:
        """Inverse weighted correlation matrix, shape (n_features [+1], same).

        With ``fit_intercept`` the last row and column belong to the intercept. This is
        the learner's own array, not a copy; the updates read only its lower triangle,
        and reading ``P_`` after an update copies that triangle onto the upper one.
        """
        self._check_fitted()
        if self._p_upper_stale:
            _mirror_lower(self._P)
            self._p_upper_stale = False
        return self._P

    def _check_fitted(self) -> None:
        if "_P" not in self.__dict__:
            raise NotFittedError(
                f"{type(self).__name__} has seen no data yet; call fit or partial_fit "
                f"first"
            )

    # ---------------------------------------------------------------- learning
    def _learn(self, X: NDArray[Any], Y: FloatArray) -> None:
        """Fold the rows of X (n, d) with targets Y (n, m) into the state."""
        delta, lam, block = self._checked_params()
        if "_P" not in self.__dict__:
            self._init_state(X.shape[1], Y.shape[1], delta)
            delta, lam, block = self._checked_params()
        elif bool(self.fit_intercept) != self._with_intercept:
            raise ConfigError(
                f"fit_intercept was changed to {self.fit_intercept!r} after the first "
                f"partial_fit; call fit to start a new stream with it"
            )
        if self._failure is not None:
            raise NumericalError(self._failure)

        w_before = self.coef_.copy()
        if lam < 1.0:
            block = min(block, max(1, int(_MAX_BLOCK_SPREAD_LOG / -math.log(lam))))
        for start in range(0, X.shape[0], block):
            stop = min(X.shape[0], start + block)
            self._update_block(X[start:stop], Y[start:stop], lam, start)
        self.last_dw_abs_mean_ = float(np.mean(np.abs(self.coef_ - w_before)))

    def _update_block(
        self, Xb: NDArray[Any], Yb: FloatArray, lam: float, row_offset: int
    ) -> None:
        k, d = Xb.shape
        first = self.n_samples_seen_
        check_finite_rows(Xb, "X", first, row_offset)
        check_finite_rows(Yb, self._target_name, first, row_offset)
        where = (
            f"samples {first}..{first + k - 1} of the stream (rows "
            f"{row_offset}..{row_offset + k - 1} of this call)"
        )

        Xa = np.empty((k, self._P.shape[0]))
        Xa[:, :d] = Xb
        if self._with_intercept:
            Xa[:, d] = 1.0
        row_scale = None
        if lam != 1.0:
            row_scale = lam ** (-0.5 * np.arange(1, k + 1))
            Xa *= row_scale[:, None]
        P = self._P
        W = self._W

        # G = X P from the lower triangle of P.
        if k == 1:
            G = blas.dsymv(1.0, P, Xa[0], lower=1)[None, :]
        else:
            G = blas.dsymm(1.0, P, Xa, side=1, lower=1)
        # Every product of the update goes through scipy's BLAS: numpy may carry a
        # second BLAS library whose idle threads would compete for the same cores.
        S = blas.dgemm(1.0, G, Xa, trans_b=1)
        S = 0.5 * (S + S.T)
        S[np.diag_indices(k)] += 1.0
        if not np.isfinite(S).all():
            raise NumericalError(
                f"the innovation matrix of {where} overflowed; the features are too "
                f"large for float64 arithmetic: rescale them"
            )
        # LAPACK and BLAS directly: the scipy.linalg wrappers cost more than the
        # arithmetic of a small block.
        L, info = lapack.dpotrf(S, lower=1, clean=0)
        if info != 0:
            raise NumericalError(
                f"the innovation matrix I + x_i^T P x_j (rows scaled) of {where} is "
                f"not positive definite (Cholesky pivot {info} of {k}): P_ has lost "
                f"positive definiteness. The learner is unchanged by these samples; "
                f"refit with a larger delta or rescaled features"
            )

        # Errors of the scaled rows: scaled X W^T against scaled targets.
        E = np.asfortranarray(Yb)
        if row_scale is not None:
            E = E * row_scale[:, None]
        E = blas.dgemm(-1.0, Xa, W, 1.0, E, trans_b=1)
        H = blas.dtrsm(1.0, L, G, lower=1)
        F = blas.dtrsm(1.0, L, E, lower=1)
        dW = blas.dgemm(1.0, F, H, trans_a=1)
        if not (np.isfinite(dW).all() and np.isfinite(H).all()):
            raise NumericalError(
                f"the RLS gain for {where} is not finite; the learner is unchanged by "
                f"these samples; rescale the features or refit with a larger delta"
            )

        # P <- (P - H^T H) / lam^k on the lower triangle, in place.
        scale = lam ** (-k)
        self._P = blas.dsyrk(-scale, H, scale, P, trans=1, lower=1, overwrite_c=1)
        self._p_upper_stale = True
        W += dW
        self.n_samples_seen_ += k

        diag = self._P.diagonal()
        low, high = float(diag.min()), float(diag.max())
        if not (low > 0.0 and np.isfinite(high)):
            i = int(np.argmin(diag)) if np.isfinite(low) else -1
            self._failure = (
                f"P_ lost positive definiteness after {where}: diagonal entry "
                f"{i} is {low!r} (max {high!r}). The learner is unusable; refit with "
                f"a larger delta, a forgetting factor closer to 1 or rescaled features"
            )
            raise NumericalError(self._failure)
        if high > self._windup_level and not self._windup_warned:
            self._windup_warned = True
            warnings.warn(
                f"a diagonal entry of P_ reached {high:.3g} after {where}, "
                f"{WINDUP_FACTOR:.0e} times its start 1/delta: some feature directions "
                f"receive no input while forgetting={self.forgetting!r} inflates P_ "
                f"(wind-up); P_ may overflow. Drop constant features or use "
                f"forgetting closer to 1",
                ConvergenceWarning,
                stacklevel=4,
            )

    _target_name = "Y"

    def _linear(self, X: ArrayLike) -> FloatArray:
        self._check_fitted()
        arr = check_features(X, self.n_features_in_)
        return np.asarray(arr @ self.coef_.T + self.intercept_, dtype=np.float64)


class RLSRegressor(_RLSBase):
    """Linear readout learned online by recursive least squares.

    Parameters
    ----------
    delta : float, default 1.0
        Regularisation: the initial inverse correlation matrix is ``P0 = I / delta``.
        The weights after n samples (forgetting 1) are the ridge solution with penalty
        ``delta`` on every weight, the intercept included.
    forgetting : float, default 1.0
        Forgetting factor lam in (0, 1]: a sample seen n samples ago weighs
        ``lam**n``. Use 1 for a stationary stream.
    fit_intercept : bool, default True
        Learn an intercept, as the weight of a constant feature 1 appended to every
        sample (regularised by ``delta`` like the other weights).
    block_size : int or None, default None
        Rows folded in per Woodbury block. ``1`` runs the per-sample textbook update
        row by row; ``None`` takes ``min(AUTO_BLOCK_SIZE, max(32, n_features))``.
        The result does not depend on it beyond round-off.

    Attributes
    ----------
    coef_ : ndarray of shape (n_outputs, n_features)
        Readout weights W.
    intercept_ : ndarray of shape (n_outputs,)
        Intercepts (zeros when ``fit_intercept`` is False).
    P_ : ndarray of shape (n_features [+1], n_features [+1])
        Inverse weighted correlation matrix (last row/column: the intercept).
    n_features_in_ : int
        Features per sample.
    n_samples_seen_ : int
        Samples learned since the state was created.
    last_dw_abs_mean_ : float
        Mean of ``|W_new - W_old|`` over all entries of ``coef_`` for the last
        ``partial_fit`` call (the learning-dynamics measure).

    Notes
    -----
    A partial_fit call checks its rows block by block. A NaN or infinity, an
    innovation matrix that is not positive definite, or a gain that is not finite
    raises :class:`~nwnrc.errors.NumericalError` naming the samples, with the learner
    left as it was after the previous block. If P_ ends a block with a non-positive or
    non-finite diagonal the learner is marked unusable and every later call raises.

    P is stored once (about ``8 d^2`` bytes: 123 MB at d = 3,921); the updates touch
    only its lower triangle, so it stays exactly symmetric, and ``P_`` copies that
    triangle onto the upper one, in place, when read. The work per block of k rows is
    about ``3 k d^2`` flops. Measured at d = 3,921 on two cores: about 1,400 samples/s
    in blocks of 400 (50,000 samples in 34 s) against about 130 samples/s per sample.

    The matrix products run on the BLAS threads. On a machine whose cores are busy
    with other processes those threads wait for each other: with another process
    using both cores of a two-core machine, blocks of 400 ran at 200 samples/s with two
    BLAS threads and 650 samples/s with ``OPENBLAS_NUM_THREADS=1`` (set before numpy
    is imported).

    Limitations: a feature direction that receives no input (a constant-zero feature,
    say) is never corrected, and under forgetting < 1 its entry of P grows by
    ``1 / lam`` per sample until it overflows (wind-up); a
    :class:`~nwnrc.errors.ConvergenceWarning` is issued once when an entry passes
    ``WINDUP_FACTOR / delta``. Changing ``delta`` after the first call has no effect
    until ``fit`` starts a new stream.

    Examples
    --------
    >>> import numpy as np
    >>> from nwnrc.learn import RLSRegressor
    >>> X = np.array([[1.0], [2.0]])
    >>> Y = np.array([[2.0], [1.0]])
    >>> rls = RLSRegressor(delta=1.0, fit_intercept=False).partial_fit(X, Y)
    >>> rls.coef_  # (1 + 1 + 4)^-1 (1*2 + 2*1), the ridge solution
    array([[0.66666667]])
    >>> rls.P_
    array([[0.16666667]])
    """

    _y_1d: bool  # whether the first targets were 1-D (predict follows)

    def __init__(
        self,
        delta: float = 1.0,
        forgetting: float = 1.0,
        fit_intercept: bool = True,
        block_size: int | None = None,
    ) -> None:
        self.delta = delta
        self.forgetting = forgetting
        self.fit_intercept = fit_intercept
        self.block_size = block_size

    def partial_fit(self, X: ArrayLike, Y: ArrayLike) -> RLSRegressor:
        """Learn from the samples X (n, d) with targets Y (n, m) or (n,), in order.

        Returns
        -------
        RLSRegressor
            The learner itself.
        """
        started = self._W.shape[0] if "_W" in self.__dict__ else None
        arr, targets = regression_batch(self, X, Y, started)
        self._learn(arr, targets)
        return self

    def fit(self, X: ArrayLike, Y: ArrayLike) -> RLSRegressor:
        """Start a new stream and learn from X, Y (see :meth:`partial_fit`)."""
        self._discard_state()
        return self.partial_fit(X, Y)

    def predict(self, X: ArrayLike) -> FloatArray:
        """Return the readout ``X @ coef_.T + intercept_``, shape (n, m) (or (n,)
        when the targets were 1-D)."""
        out = self._linear(X)
        return out[:, 0] if self._y_1d else out


class RLSClassifier(_ClassifierMixin, _RLSBase):
    """Classifier read out by recursive least squares on one-hot targets.

    Each sample's target is the one-hot vector of its label (1 for the class, 0
    elsewhere); the predicted class is the largest readout. This is the online learner
    of the paper's MNIST experiment.

    Parameters
    ----------
    delta : float, default 1.0
        Regularisation, ``P0 = I / delta`` (see :class:`RLSRegressor`).
    forgetting : float, default 1.0
        Forgetting factor in (0, 1].
    fit_intercept : bool, default True
        Learn an intercept per class (regularised like the other weights).
    block_size : int or None, default None
        Rows per Woodbury block; 1 for per-sample updates.
    n_classes : int, default 10
        Labels are the integers ``0..n_classes-1``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_classes, n_features)
    intercept_ : ndarray of shape (n_classes,)
    P_ : ndarray of shape (n_features [+1], n_features [+1])
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    n_samples_seen_ : int
    last_dw_abs_mean_ : float
        Mean ``|W_new - W_old|`` over ``coef_`` for the last ``partial_fit`` call.

    Notes
    -----
    Numerical checks, memory and limitations are those of :class:`RLSRegressor`.

    Examples
    --------
    >>> import numpy as np
    >>> from nwnrc.learn import RLSClassifier
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [0.1, 0.9], [0.9, 0.2]])
    >>> y = np.array([1, 0, 1, 0])
    >>> clf = RLSClassifier(n_classes=2).partial_fit(X, y)
    >>> clf.predict([[0.0, 2.0], [2.0, 0.0]])
    array([1, 0])
    >>> clf.score(X, y)
    1.0
    """

    _target_name = "y"

    def __init__(
        self,
        delta: float = 1.0,
        forgetting: float = 1.0,
        fit_intercept: bool = True,
        block_size: int | None = None,
        n_classes: int = 10,
    ) -> None:
        self.delta = delta
        self.forgetting = forgetting
        self.fit_intercept = fit_intercept
        self.block_size = block_size
        self.n_classes = n_classes

    def partial_fit(self, X: ArrayLike, y: ArrayLike) -> RLSClassifier:
        """Learn from the samples X (n, d) with integer labels y (n,), in order.

        Returns
        -------
        RLSClassifier
            The learner itself.
        """
        started = self._W.shape[0] if "_W" in self.__dict__ else None
        arr, targets = self._one_hot_batch(X, y, started)
        self._learn(arr, targets)
        return self

    def fit(self, X: ArrayLike, y: ArrayLike) -> RLSClassifier:
        """Start a new stream and learn from X, y (see :meth:`partial_fit`)."""
        self._discard_state()
        return self.partial_fit(X, y)

    def decision_function(self, X: ArrayLike) -> FloatArray:
        """Return the readout of each class, ``X @ coef_.T + intercept_``, (n, C)."""
        return self._linear(X)

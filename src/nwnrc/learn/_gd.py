"""Batch baseline: linear softmax classifier trained by mini-batch gradient descent.

The paper's offline reference [1]_ is a linear layer with a softmax output trained by
backpropagation on the cross-entropy: 100 epochs of 500 mini-batches of 100 samples,
learning rate 0.1. For logits ``z = W x + b`` and softmax probabilities
``p = exp(z) / sum exp(z)``, the mean cross-entropy over a batch of B samples with
one-hot targets Y is

    loss = -(1 / B) sum_i log p_i[y_i],

with gradients ``dloss/dW = (P - Y)^T X / B`` and ``dloss/db = (P - Y)^T 1 / B``.

References
----------
.. [1] R. Zhu, S. Lilak et al., "Online dynamical learning and sequence memory with
   neuromorphic nanowire networks", Nat. Commun. 14, 6697 (2023), Methods.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from nwnrc.errors import ConfigError, NotFittedError, NumericalError
from nwnrc.learn._base import (
    FloatArray,
    _ClassifierMixin,
    _Estimator,
    check_features,
    check_finite_rows,
    check_int,
    check_labels,
    check_positive,
)

logger = logging.getLogger(__name__)

#: Rows per chunk when the feature mean and spread are computed, so that no
#: temporary as large as the training set is made.
_STATS_CHUNK = 1024

#: Multiply-adds per matrix product in the training loop, kept under the size at which
#: OpenBLAS starts a second thread (see :func:`softmax_loss_grad`, Notes).
_SINGLE_THREAD_WORK = 250_000


def softmax_loss_grad(
    weights: NDArray[Any],
    bias: NDArray[Any],
    X: NDArray[Any],
    labels: NDArray[np.intp],
    mean: NDArray[Any] | None = None,
    scale: NDArray[Any] | None = None,
    column_block: int | None = None,
) -> tuple[float, NDArray[Any], NDArray[Any]]:
    """Mean cross-entropy of a linear softmax classifier and its gradient.

    The model acts on standardised features ``u = (x - mean) / scale`` (raw features
    when ``mean`` and ``scale`` are None): logits ``u @ weights.T + bias``. The
    standardisation is folded into the weights, so the batch is never copied.

    Parameters
    ----------
    weights : ndarray of shape (n_classes, n_features)
    bias : ndarray of shape (n_classes,)
    X : ndarray of shape (n_samples, n_features)
        Raw features of the batch.
    labels : ndarray of int, shape (n_samples,)
    mean, scale : ndarray of shape (n_features,), optional
        Standardisation; both or neither.
    column_block : int, optional
        Compute the two matrix products over blocks of this many features (see
        Notes); None for single products.

    Returns
    -------
    loss : float
        Mean cross-entropy over the batch, nats.
    grad_weights : ndarray of shape (n_classes, n_features)
    grad_bias : ndarray of shape (n_classes,)

    Notes
    -----
    A multithreaded BLAS splits a product of a mini-batch by the weights (100 x 3,920
    by 3,920 x 10: a few million multiply-adds) across threads, and such a product is
    too small for that: when another process holds a core, each product waits for a
    descheduled thread and the training runs several times slower than on one
    thread. Products over column blocks of ``column_block`` features stay under
    OpenBLAS's threshold for threading (about 2.6e5 multiply-adds per thread) and run
    on one thread; the result is the same up to round-off.

    Examples
    --------
    >>> import numpy as np
    >>> W, b = np.zeros((2, 3)), np.zeros(2)
    >>> loss, gW, gb = softmax_loss_grad(W, b, np.ones((4, 3)), np.array([0, 1, 0, 1]))
    >>> round(loss, 6) == round(float(np.log(2.0)), 6)
    True
    >>> gb
    array([0., 0.])
    """
    n = X.shape[0]
    if mean is not None and scale is not None:
        w_raw = weights / scale
        b_raw = bias - w_raw @ mean
    else:
        w_raw, b_raw = weights, bias
    d = X.shape[1]
    step = d if column_block is None else max(1, column_block)
    blocks = [slice(a, min(d, a + step)) for a in range(0, d, step)]
    logits = X[:, blocks[0]] @ w_raw[:, blocks[0]].T
    for cols in blocks[1:]:
        logits += X[:, cols] @ w_raw[:, cols].T
    logits += b_raw
    logits -= logits.max(axis=1, keepdims=True)
    rows = np.arange(n)
    picked = logits[rows, labels]  # a copy: the label's shifted logit
    np.exp(logits, out=logits)
    total = logits.sum(axis=1)
    # log-sum-exp minus the label's logit, never log(0) however far off the label is
    loss = float(np.mean(np.log(total) - picked))

    # logits now holds exp(z - max); turn it into (P - Y) / n in place.
    logits /= total[:, None]
    logits[rows, labels] -= 1.0
    logits /= n
    grad_bias = logits.sum(axis=0)
    grad_weights = np.empty_like(w_raw)
    for cols in blocks:
        grad_weights[:, cols] = logits.T @ X[:, cols]
    if mean is not None and scale is not None:
        grad_weights -= np.outer(grad_bias, mean)
        grad_weights /= scale
    return loss, grad_weights, grad_bias


class SoftmaxGDClassifier(_ClassifierMixin, _Estimator):
    """Linear softmax classifier trained by mini-batch gradient descent (batch
    baseline).

    Parameters
    ----------
    epochs : int, default 100
        Passes over the training set.
    batch_size : int, default 100
        Samples per mini-batch (the last batch of an epoch may be smaller).
    learning_rate : float, default 0.1
        Step size of plain gradient descent on the mean cross-entropy.
    standardize : bool, default True
        Train on z-scored features ``(x - mean_) / scale_`` computed from the training
        data (see Notes). The fitted ``coef_`` and ``intercept_`` act on raw features.
    seed : int, default 0
        Seed of the per-epoch shuffles.
    n_classes : int, default 10
        Labels are the integers ``0..n_classes-1``.
    dtype : numpy dtype, default float64
        Arithmetic of the training loop; float32 halves the memory traffic.

    Attributes
    ----------
    coef_ : ndarray of shape (n_classes, n_features)
    intercept_ : ndarray of shape (n_classes,)
    mean_, scale_ : ndarray of shape (n_features,)
        The standardisation (zeros and ones without ``standardize``).
    loss_curve_ : list of float
        Mean cross-entropy of the mini-batches of each epoch, in nats, as seen during
        that epoch.
    n_iter_ : int
        Epochs run.
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int

    Notes
    -----
    Why standardise: gradient descent on the cross-entropy is stable only for steps
    below about ``2 / L``, with L the largest curvature of the loss, at most half the
    largest eigenvalue of the feature second-moment matrix ``E[x x^T]``. Raw readout
    features share a common offset, which puts an eigenvalue near ``d * E[x]^2`` there:
    on 3,920 features made from 10,000 MNIST digits (five low-pass filtered, squashed
    copies of the pixel stream, mean 0.36) it was 521, so ``2 / L`` is about 0.008, a
    twelfth of the paper's step 0.1. With that step on raw features the mean
    loss of the first epoch rose to 12.7 nats from ln 10 = 2.3 at zero weights, and
    after 5 epochs the training accuracy was 67 to 79 % against 92 % with
    standardised features. Centring removes the offset and scaling evens out the
    feature spreads, so the paper's step works.

    Weights start at zero (the loss is convex, so the start only changes the path).
    Each mini-batch is gathered from X and standardised implicitly by folding mean and
    scale into the weights; no standardised copy of X is made.

    Limitations: X must be an in-memory array (or a numpy memmap); no regularisation,
    momentum or early stopping, as in the paper's baseline.

    Examples
    --------
    >>> import numpy as np
    >>> from nwnrc.learn import SoftmaxGDClassifier
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [0.1, 0.9], [0.9, 0.2]])
    >>> y = np.array([1, 0, 1, 0])
    >>> clf = SoftmaxGDClassifier(epochs=20, batch_size=2, n_classes=2).fit(X, y)
    >>> clf.predict([[0.0, 2.0], [2.0, 0.0]])
    array([1, 0])
    >>> clf.loss_curve_[-1] < clf.loss_curve_[0]
    True
    """

    def __init__(
        self,
        epochs: int = 100,
        batch_size: int = 100,
        learning_rate: float = 0.1,
        standardize: bool = True,
        seed: int = 0,
        n_classes: int = 10,
        dtype: DTypeLike = np.float64,
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.standardize = standardize
        self.seed = seed
        self.n_classes = n_classes
        self.dtype = dtype

    def fit(self, X: ArrayLike, y: ArrayLike) -> SoftmaxGDClassifier:
        """Train on X (n, d) with integer labels y (n,) from zero weights.

        Returns
        -------
        SoftmaxGDClassifier
            The learner itself.
        """
        epochs = check_int("epochs", self.epochs, 1)
        batch = check_int("batch_size", self.batch_size, 1)
        rate = check_positive("learning_rate", self.learning_rate)
        n_classes = check_int("n_classes", self.n_classes, 2)
        dtype = np.dtype(self.dtype)
        if dtype not in (np.float32, np.float64):
            raise ConfigError(f"dtype must be float32 or float64, got {self.dtype!r}")
        arr = check_features(X, None)
        labels = check_labels(y, arr.shape[0], n_classes)
        n, d = arr.shape
        if n == 0:
            raise ConfigError("X has no samples; fit needs at least one")
        for start in range(0, n, _STATS_CHUNK):
            check_finite_rows(arr[start : start + _STATS_CHUNK], "X", start, start)

        if self.standardize:
            mean, scale = _mean_and_scale(arr)
        else:
            mean, scale = np.zeros(d), np.ones(d)
        mean_t, scale_t = mean.astype(dtype), scale.astype(dtype)
        weights = np.zeros((n_classes, d), dtype=dtype)
        bias = np.zeros(n_classes, dtype=dtype)
        rng = np.random.default_rng(self.seed)
        logger.info(
            "SoftmaxGDClassifier: %d samples x %d features, %d epochs, batch %d, "
            "lr %g, standardize=%s, seed %d, %s",
            n,
            d,
            epochs,
            batch,
            rate,
            self.standardize,
            self.seed,
            dtype,
        )

        column_block = max(64, _SINGLE_THREAD_WORK // (batch * n_classes))
        curve: list[float] = []
        for epoch in range(epochs):
            order = rng.permutation(n)
            total = 0.0
            for start in range(0, n, batch):
                rows = order[start : start + batch]
                Xb = np.asarray(arr[rows], dtype=dtype)
                loss, g_w, g_b = softmax_loss_grad(
                    weights,
                    bias,
                    Xb,
                    labels[rows],
                    mean_t if self.standardize else None,
                    scale_t if self.standardize else None,
                    column_block,
                )
                weights -= rate * g_w
                bias -= rate * g_b
                total += loss * rows.shape[0]
            curve.append(total / n)
            if not (np.isfinite(total) and np.isfinite(weights).all()):
                raise NumericalError(
                    f"gradient descent diverged in epoch {epoch + 1} (loss "
                    f"{total / n!r}); lower learning_rate (now {rate!r}) or set "
                    f"standardize=True"
                )
            logger.debug("epoch %d: mean cross-entropy %.6f", epoch + 1, curve[-1])

        coef = weights.astype(np.float64) / scale
        self.coef_ = coef
        self.intercept_ = bias.astype(np.float64) - coef @ mean
        self.mean_, self.scale_ = mean, scale
        self.loss_curve_ = curve
        self.n_iter_ = epochs
        self.n_features_in_ = d
        self.classes_ = np.arange(n_classes)
        return self

    def decision_function(self, X: ArrayLike) -> FloatArray:
        """Return the logits ``X @ coef_.T + intercept_``, shape (n, n_classes)."""
        if "coef_" not in self.__dict__:
            raise NotFittedError(
                "SoftmaxGDClassifier is not fitted yet; call fit first"
            )
        arr = check_features(X, self.n_features_in_)
        return np.asarray(arr @ self.coef_.T + self.intercept_, dtype=np.float64)

    def predict_proba(self, X: ArrayLike) -> FloatArray:
        """Return the softmax class probabilities, shape (n, n_classes)."""
        z = self.decision_function(X)
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z


#: Least scale of a varying feature, as a fraction of the root mean square scale.
_SCALE_FLOOR = 0.1


def _mean_and_scale(X: NDArray[Any]) -> tuple[FloatArray, FloatArray]:
    """Column mean and standard deviation of X in two chunked passes (float64).

    A feature that does not vary gets scale 1, so it is only centred. A feature that
    varies far less than the typical one (a pixel or a time step that is non-zero in
    a handful of digits) gets its scale floored at ``_SCALE_FLOOR`` times the root
    mean square of all scales: otherwise standardising blows those few values up to
    hundreds of standard deviations, and one mini-batch holding them throws the
    weights so far that the softmax overflows at the paper's step of 0.1.
    """
    n, d = X.shape
    total = np.zeros(d)
    for start in range(0, n, _STATS_CHUNK):
        total += X[start : start + _STATS_CHUNK].sum(axis=0, dtype=np.float64)
    mean = total / n
    squares = np.zeros(d)
    for start in range(0, n, _STATS_CHUNK):
        centred = X[start : start + _STATS_CHUNK] - mean
        squares += np.einsum("ij,ij->j", centred, centred)
    scale = np.sqrt(squares / n)
    varying = scale > 0
    if np.any(varying):
        floor = _SCALE_FLOOR * float(np.sqrt(np.mean(scale[varying] ** 2)))
        scale[varying] = np.maximum(scale[varying], floor)
    scale[~varying] = 1.0
    return mean, scale

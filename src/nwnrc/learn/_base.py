"""Shared parts of the readout learners: parameters, input checks, scoring.

The learners follow the scikit-learn manner: hyper-parameters are set only in
``__init__`` and checked when data first arrives, the state is built from the first
data, fitted attributes end in ``_``, and ``fit`` / ``partial_fit`` return the learner.
Input checks raise typed errors that name the argument, the value received and what to
do about it:

- a wrong shape, a feature count that changes between calls or a label out of range
  raises :class:`~nwnrc.errors.StreamError` (the learner's input stream is malformed);
- a hyper-parameter out of range raises :class:`~nwnrc.errors.ConfigError`;
- a NaN or infinite feature or target raises :class:`~nwnrc.errors.NumericalError`
  naming the sample.
"""

from __future__ import annotations

import inspect
import math
import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nwnrc.errors import ConfigError, NumericalError, StreamError

FloatArray = NDArray[np.float64]


class _Estimator:
    """Parameter handling shared by every learner (``get_params``, ``set_params``)."""

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [
            name
            for name, p in signature.parameters.items()
            if name != "self" and p.kind is not p.VAR_KEYWORD
        ]

    def get_params(self) -> dict[str, Any]:
        """Return the hyper-parameters, as given to ``__init__``."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> _Estimator:
        """Set hyper-parameters by name and return the learner.

        A changed parameter takes effect at the next call that uses it; the fitted state
        is kept.
        """
        names = self._param_names()
        for name, value in params.items():
            if name not in names:
                raise ConfigError(
                    f"{type(self).__name__} has no parameter {name!r}; "
                    f"valid parameters are {', '.join(names)}"
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        signature = inspect.signature(type(self).__init__)
        shown = []
        for name in self._param_names():
            value = getattr(self, name)
            default = signature.parameters[name].default
            if default is inspect.Parameter.empty or not _same(value, default):
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return a is b


def check_positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float after checking that it is finite and positive."""
    ok = isinstance(value, numbers.Real) and math.isfinite(value)
    ok = ok and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name} must be a finite number {bound}, got {value!r}")
    return float(value)


def check_int(name: str, value: Any, minimum: int) -> int:
    """Return ``value`` as an int after checking that it is an integer >= minimum."""
    if (
        not isinstance(value, numbers.Integral)
        or isinstance(value, bool)
        or value < minimum
    ):
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_features(
    X: ArrayLike, n_features: int | None, *, name: str = "X"
) -> NDArray[Any]:
    """Return ``X`` as a 2-D numeric array of shape (n_samples, n_features).

    The dtype is kept (no copy where ``X`` already is an array); values are not checked
    for finiteness here, see :func:`check_finite_rows`.
    """
    arr = np.asarray(X)
    if arr.dtype.kind not in "fiub":
        raise StreamError(
            f"{name} must hold real numbers, got an array of dtype {arr.dtype}"
        )
    if arr.ndim != 2:
        fix = " (one sample? use X.reshape(1, -1))" if arr.ndim == 1 else ""
        raise StreamError(
            f"{name} must be 2-D (n_samples, n_features), got shape {arr.shape}{fix}"
        )
    if n_features is not None and arr.shape[1] != n_features:
        raise StreamError(
            f"{name} has {arr.shape[1]} features per sample but the learner was "
            f"fitted with {n_features}; pass samples with {n_features} features or "
            f"start a new learner"
        )
    if arr.shape[1] == 0:
        raise StreamError(f"{name} has no features, shape {arr.shape}")
    return arr


def check_targets(Y: ArrayLike, n_samples: int, n_outputs: int | None) -> FloatArray:
    """Return regression targets as a float64 array of shape (n_samples, n_outputs).

    A 1-D ``Y`` is one output.
    """
    arr = np.asarray(Y)
    if arr.dtype.kind not in "fiub":
        raise StreamError(
            f"Y must hold real numbers, got an array of dtype {arr.dtype}"
        )
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != n_samples:
        raise StreamError(
            f"Y must have shape ({n_samples}, n_outputs) or ({n_samples},) to match X, "
            f"got shape {np.shape(Y)}"
        )
    if n_outputs is not None and arr.shape[1] != n_outputs:
        raise StreamError(
            f"Y has {arr.shape[1]} outputs but the learner was fitted with "
            f"{n_outputs}; pass targets with {n_outputs} columns or start a new learner"
        )
    return np.asarray(arr, dtype=np.float64)


def check_labels(y: ArrayLike, n_samples: int, n_classes: int) -> NDArray[np.intp]:
    """Return class labels as integers after checking they lie in 0..n_classes-1."""
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.shape[0] != n_samples:
        raise StreamError(
            f"y must be 1-D with one label per sample of X ({n_samples}), got shape "
            f"{arr.shape}"
        )
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise StreamError(
                f"y[{i}] = {arr[i].item()!r} is not an integer class label; labels "
                f"must be integers 0..{n_classes - 1}"
            )
    elif arr.dtype.kind not in "iu":
        raise StreamError(
            f"y must hold integer class labels 0..{n_classes - 1}, got dtype "
            f"{arr.dtype}"
        )
    out = arr.astype(np.intp)
    bad = (out < 0) | (out >= n_classes)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise StreamError(
            f"y[{i}] = {arr[i].item()!r} is outside the class labels "
            f"0..{n_classes - 1}; relabel the classes as 0..n_classes-1 or set "
            f"n_classes (now {n_classes})"
        )
    return out


def check_finite_rows(
    A: NDArray[Any], name: str, first_sample: int, row_offset: int = 0
) -> None:
    """Raise :class:`NumericalError` naming the first sample of ``A`` that holds a NaN
    or an infinity.

    ``A[i]`` is row ``row_offset + i`` of the caller's argument ``name`` and sample
    ``first_sample + i`` of the stream. Row sums are checked first (NaN and infinity
    propagate through a sum), so a clean array costs one pass and no array-sized
    temporary.
    """
    if A.dtype.kind != "f" or A.size == 0:
        return
    sums = A.sum(axis=1)
    for i in np.flatnonzero(~np.isfinite(sums)):
        bad = np.flatnonzero(~np.isfinite(A[i]))
        if bad.size:
            j = int(bad[0])
            raise NumericalError(
                f"{name}[{row_offset + int(i)}, {j}] = {A[i, j].item()!r}: sample "
                f"{first_sample + int(i)} of the stream holds a non-finite value; "
                f"drop or repair that sample"
            )


def one_hot(labels: NDArray[np.intp], n_classes: int) -> FloatArray:
    """Return the (n_samples, n_classes) one-hot float64 target matrix of labels."""
    out = np.zeros((labels.shape[0], n_classes))
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


def regression_batch(
    learner: Any, X: ArrayLike, Y: ArrayLike, started_with: int | None
) -> tuple[NDArray[Any], FloatArray]:
    """Checked features and 2-D targets of a regressor's batch.

    ``started_with`` is the output count of the state already learned (None before
    the first batch, when the learner also records whether its targets are 1-D).
    """
    arr = check_features(X, learner.__dict__.get("n_features_in_"))
    targets = check_targets(Y, arr.shape[0], started_with)
    if started_with is None:
        learner._y_1d = np.ndim(Y) == 1
    return arr, targets


class _ClassifierMixin:
    """``predict`` and ``score`` from a ``decision_function``."""

    n_classes: int

    def decision_function(self, X: ArrayLike) -> FloatArray:  # pragma: no cover
        raise NotImplementedError

    def predict(self, X: ArrayLike) -> NDArray[np.intp]:
        """Return the predicted class label (0..n_classes-1) of each sample of X."""
        return np.asarray(np.argmax(self.decision_function(X), axis=1), dtype=np.intp)

    def score(self, X: ArrayLike, y: ArrayLike) -> float:
        """Return the accuracy (fraction of correctly classified samples) on X, y."""
        predicted = self.predict(X)
        labels = check_labels(y, predicted.shape[0], self.n_classes)
        return float(np.mean(predicted == labels))

    def _one_hot_batch(
        self, X: ArrayLike, y: ArrayLike, started_with: int | None
    ) -> tuple[NDArray[Any], FloatArray]:
        """Checked features and one-hot targets of a batch; sets ``classes_``.

        ``started_with`` is the class count of the state already learned (None
        before the first batch): a change of ``n_classes`` midway is an error.
        """
        n_classes = check_int("n_classes", self.n_classes, 2)
        if started_with is not None and started_with != n_classes:
            raise ConfigError(
                f"n_classes was changed to {n_classes} after the learner started with "
                f"{started_with}; call fit to start again"
            )
        arr = check_features(X, self.__dict__.get("n_features_in_"))
        labels = check_labels(y, arr.shape[0], n_classes)
        self.classes_ = np.arange(n_classes)
        return arr, one_hot(labels, n_classes)

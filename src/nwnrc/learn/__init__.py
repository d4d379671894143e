"""Readout learners: online recursive least squares, batch gradient descent, ridge.

Every learner maps a sample's features (the readouts of the reservoir, one row per
sample) linearly to outputs. They follow the scikit-learn manner: hyper-parameters in
``__init__``, ``fit`` / ``partial_fit`` return the learner, fitted attributes end in
``_``, float64 arithmetic.

- :class:`RLSRegressor`, :class:`RLSClassifier`: online recursive least squares with
  exact block updates, the paper's online learner.
- :class:`SoftmaxGDClassifier`: linear softmax trained by mini-batch gradient descent,
  the paper's batch baseline.
- :class:`RidgeRegressor`, :class:`RidgeClassifier`: closed-form ridge from statistics
  accumulated chunk by chunk, the exact batch reference.
"""

from nwnrc.learn._gd import SoftmaxGDClassifier, softmax_loss_grad
from nwnrc.learn._ridge import RidgeClassifier, RidgeRegressor
from nwnrc.learn._rls import AUTO_BLOCK_SIZE, RLSClassifier, RLSRegressor

__all__ = [
    "AUTO_BLOCK_SIZE",
    "RLSClassifier",
    "RLSRegressor",
    "RidgeClassifier",
    "RidgeRegressor",
    "SoftmaxGDClassifier",
    "softmax_loss_grad",
]

"""The paper's experiments, each a function with a configuration."""

from nwnrc.experiments._mnist import MnistConfig, run_mnist

__all__ = ["MnistConfig", "run_mnist"]

"""Figures and run reports."""

from nwnrc.report._mnist_figures import write_mnist_figures

__all__ = ["write_mnist_figures"]

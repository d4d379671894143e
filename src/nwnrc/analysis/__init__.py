"""Analysis of device readouts: information content, learning dynamics, memory.

- Mutual information between a digit's class and the readouts
  (:mod:`nwnrc.analysis._information`): a streaming binned estimator with the
  Miller-Madow correction and a label-shuffle floor, a nearest-neighbour (KSG-type)
  cross-check, and the specific information of each class.
- The MI analysis of an MNIST run (:func:`analyse_mi`, ``nwnrc analyse mi``).
"""

from nwnrc.analysis._information import (
    DEFAULT_BINNING,
    DEFAULT_BINS,
    DEFAULT_RANGE_QUANTILE,
    StreamingMI,
    bin_edges,
    binned_mutual_information,
    class_entropy_bits,
    ksg_mutual_information,
    label_shuffle_baseline,
    mutual_information_from_counts,
    quantile_range,
    specific_information_from_counts,
)
from nwnrc.analysis._mi_run import MiSettings, analyse_mi, mi_checkpoints

__all__ = [
    "DEFAULT_BINNING",
    "DEFAULT_BINS",
    "DEFAULT_RANGE_QUANTILE",
    "MiSettings",
    "StreamingMI",
    "analyse_mi",
    "bin_edges",
    "binned_mutual_information",
    "class_entropy_bits",
    "ksg_mutual_information",
    "label_shuffle_baseline",
    "mi_checkpoints",
    "mutual_information_from_counts",
    "quantile_range",
    "specific_information_from_counts",
]

"""The paper's experiments, each a function with a configuration."""

from nwnrc.experiments._mnist import MnistConfig, recording_config, run_mnist
from nwnrc.experiments._sequence import SequenceConfig, run_sequence, sequence_recording

__all__ = [
    "MnistConfig",
    "SequenceConfig",
    "recording_config",
    "run_mnist",
    "run_sequence",
    "sequence_recording",
]

"""Recordings: device readouts of a sample stream on disk, from a real device or the
simulator, in one HDF5 schema that every experiment reads.

See :mod:`nwnrc.recording._schema` for the layout.
"""

from nwnrc.recording._schema import (
    FORMAT,
    FORMAT_VERSION,
    Recording,
    check_recording,
    is_recording,
    read_recording,
    write_recording,
)
from nwnrc.recording._validate import (
    Finding,
    ValidationReport,
    validate_recording,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Finding",
    "Recording",
    "ValidationReport",
    "check_recording",
    "is_recording",
    "read_recording",
    "validate_recording",
    "write_recording",
]

"""Recordings: device readouts of a sample stream on disk, from a real device or the
simulator, in one HDF5 schema that every experiment reads.

See :mod:`nwnrc.recording._schema` for the layout.
"""

from nwnrc.recording._export import export_run
from nwnrc.recording._schema import (
    FORMAT,
    FORMAT_VERSION,
    Recording,
    check_recording,
    is_recording,
    read_recording,
    write_recording,
)
from nwnrc.recording._segment import (
    Boundaries,
    find_boundaries,
    fixed_boundaries,
    given_boundaries,
    onset_boundaries,
)
from nwnrc.recording._tabular import import_table
from nwnrc.recording._tdms import import_tdms
from nwnrc.recording._validate import (
    Finding,
    ValidationReport,
    validate_recording,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Boundaries",
    "Finding",
    "Recording",
    "ValidationReport",
    "check_recording",
    "export_run",
    "find_boundaries",
    "fixed_boundaries",
    "given_boundaries",
    "import_table",
    "import_tdms",
    "is_recording",
    "onset_boundaries",
    "read_recording",
    "validate_recording",
    "write_recording",
]

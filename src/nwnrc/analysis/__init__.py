"""nwnrc.analysis."""

"""nwnrc.report."""

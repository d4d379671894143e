"""nwnrc.data."""

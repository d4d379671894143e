"""nwnrc.network."""

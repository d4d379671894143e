"""nwnrc.experiments."""

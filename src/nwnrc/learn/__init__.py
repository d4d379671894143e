"""nwnrc.learn."""

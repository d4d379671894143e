"""nwnrc.device."""

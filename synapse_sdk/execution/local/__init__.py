"""Running actions on this machine: in this process, or as background worker processes."""

"""Export actions."""

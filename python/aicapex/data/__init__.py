"""Reported figures: the bundled snapshot, SEC companyfacts loader and overrides."""

"""The pure engine: numpy/pandas only, no Excel imports."""

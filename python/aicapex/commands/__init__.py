"""One module per command-line command; see :mod:`aicapex.cli`."""

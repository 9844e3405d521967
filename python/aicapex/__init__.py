"""AI Capex Workbench: a pure engine for AI-infrastructure capex analysis plus a thin Excel layer.

Engine modules (:mod:`aicapex.engine`, :mod:`aicapex.data`) import no Excel library.
The Excel layer (:mod:`aicapex.udfs`, :mod:`aicapex.excel`) converts arguments, calls the
engine and shapes results; nothing is computed twice.
"""

__version__ = "0.1.0"

"""xlwings Server's custom functions: exactly the CPX_ functions of :mod:`aicapex.udfs`.

xlwings Server imports this package as ``custom_functions`` (from ``XLWINGS_PROJECT_DIR``,
see :mod:`aicapex.server`) and registers every ``@xw.func`` it finds in it.
"""

from aicapex.udfs import *  # noqa: F403 - the whole catalogue, nothing else
from aicapex.udfs import __all__  # noqa: F401 - same public names as aicapex.udfs

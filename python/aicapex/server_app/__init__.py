"""The xlwings Server *project directory* for the AI Capex Workbench.

xlwings Server imports two top-level packages from the folder named by
``XLWINGS_PROJECT_DIR``: ``custom_functions`` (every ``@xw.func`` in it becomes an Excel
function) and ``custom_scripts`` (every ``@xw.script`` becomes a runnable script).
:mod:`aicapex.server` points ``XLWINGS_PROJECT_DIR`` at this folder. Both packages only
import our code; nothing is copied here.
"""

"""xlwings glue for ai_capex_monitor.xlsm.

* Desktop Excel: the Cover's "Refresh data" button runs xlwings' ``SampleCall`` macro, which
  runs ``import ai_capex_monitor; ai_capex_monitor.main()`` with this folder on the path.
* xlwings Server / Lite: ``refresh`` is an ``@xw.script`` (button ``[xlwings_button]``).
* Headless (no Excel): ``python -m aicapex refresh ai_capex_monitor.xlsm``.

All three apply the same refresh plan (``aicapex.excel.refresh``).
"""

from __future__ import annotations

import xlwings as xw
from aicapex.excel.refresh import refresh_book


def main() -> None:
    """Refresh the workbook that called this module (desktop Excel button)."""
    refresh_book(xw.Book.caller())


@xw.script(button="[xlwings_button]Cover!B3")
def refresh(book: xw.Book) -> None:
    """Refresh from xlwings Server or xlwings Lite (Office.js)."""
    refresh_book(book)

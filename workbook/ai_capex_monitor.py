"""xlwings glue for ai_capex_monitor.xlsm.

Shipped inside the package (``aicapex/excel/workbook_glue.py``); ``python -m aicapex build``
writes it next to the workbook as ``ai_capex_monitor.py``, the name the workbook imports
(``workbook/ai_capex_monitor.py`` in the repository is the same file, checked by a test).

* Desktop Excel: the Cover's "Refresh data" button runs xlwings' ``SampleCall`` macro, which
  runs ``import ai_capex_monitor; ai_capex_monitor.main()`` with this folder on the path.
* xlwings Server / Lite: ``refresh`` is an ``@xw.script`` (button ``[xlwings_button]``, the
  text box beside the desktop button).
* Headless (no Excel): ``python -m aicapex refresh ai_capex_monitor.xlsm``.

Each Excel runner first makes the template's CPX_ formulas bind where the workbook is open
(``aicapex.excel.web.prepare_book``: namespaced names on Excel on the web, desktop names back
on the desktop, only in cells that show #NAME?); all three then apply the same refresh plan
(``aicapex.excel.refresh``).
"""

from __future__ import annotations

import xlwings as xw
from aicapex.excel.refresh import refresh_book
from aicapex.excel.web import prepare_book


def main() -> None:
    """Refresh the workbook that called this module (desktop Excel button)."""
    book = xw.Book.caller()
    prepare_book(book)
    refresh_book(book)


@xw.script(button="[xlwings_button]Cover!B3")
def refresh(book: xw.Book) -> None:
    """Refresh from xlwings Server or xlwings Lite (Office.js)."""
    prepare_book(book)
    refresh_book(book)

"""xlwings Server's custom scripts: the analyst workbook's Refresh.

Same script as the workbook's glue (``workbook/ai_capex_monitor.py``): a thin
``@xw.script`` that hands the calling book to :func:`aicapex.excel.refresh.refresh_book`.
``button`` follows xlwings' ``[ShapeName]Sheet!Cell`` convention: in Excel (Office.js) the
script runs when the cell ``Cover!B3`` is selected (a shape named ``xlwings_button`` whose
hyperlink points at that cell) while the add-in's task pane is loaded.
"""

from __future__ import annotations

import xlwings as xw

from aicapex.excel.refresh import refresh_book

__all__ = ["refresh"]


@xw.script(button="[xlwings_button]Cover!B3")
def refresh(book: xw.Book) -> None:
    """Refresh the analyst workbook: Data and Sources tables, stamps, Changes."""
    refresh_book(book)

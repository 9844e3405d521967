"""xlwings Server's custom scripts: the analyst workbook's Refresh.

Same script as the workbook's glue (``workbook/ai_capex_monitor.py``): a thin ``@xw.script``
that first makes the template's CPX_ formulas bind on this Excel
(:func:`aicapex.excel.web.prepare_book`: on Excel on the web, the cells that show ``#NAME?``
get the namespaced names, ``=AICAPEX.CPX_...``) and then hands the book to
:func:`aicapex.excel.refresh.refresh_book`.

``button`` follows xlwings' ``[ShapeName]Sheet!Cell`` convention: in Excel (Office.js) the
script runs when the cell ``Cover!B3`` is selected -- which the text box named
``xlwings_button`` on Cover does through its hyperlink -- while the add-in is loaded.
"""

from __future__ import annotations

import logging

import xlwings as xw

from aicapex.excel.refresh import refresh_book
from aicapex.excel.web import prepare_book

__all__ = ["refresh"]

log = logging.getLogger("aicapex.server")


@xw.script(button="[xlwings_button]Cover!B3")
def refresh(book: xw.Book) -> None:
    """Refresh the analyst workbook: CPX_ names for this Excel, Data and Sources tables,
    stamps, Changes, recalculation."""
    prepare_book(book, log.info)
    refresh_book(book)

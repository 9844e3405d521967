"""AI Capex Workbench: a pure engine for AI-infrastructure capex analysis plus a thin Excel layer.

Engine modules (:mod:`aicapex.engine`, :mod:`aicapex.data`) import no Excel library.
The Excel layer (:mod:`aicapex.udfs`, :mod:`aicapex.excel`) converts arguments, calls the
engine and shapes results; nothing is computed twice.
"""

__version__ = "0.1.0"


def main() -> None:
    """Entry point of the ``aicapex.xlam`` add-in's Refresh button (``import aicapex;
    aicapex.main()``): refresh the workbook the add-in was called from."""
    import xlwings as xw

    from aicapex.excel.refresh import refresh_book
    from aicapex.excel.web import prepare_book

    book = xw.Book.caller()
    prepare_book(book)  # a template saved on the web gets its desktop CPX_ names back
    refresh_book(book)

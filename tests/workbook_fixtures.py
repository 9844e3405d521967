"""Build and refresh the analyst workbook once per test session (it takes a few seconds)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from aicapex.data.dataset import load_dataset
from aicapex.excel import layout as L
from aicapex.excel.builder import build_analyst_workbook
from aicapex.excel.headless import refresh_file

NOW = dt.datetime(2026, 11, 26, 8, 0)


def build_template(folder: Path) -> Path:
    path = folder / L.WORKBOOK_NAME
    build_analyst_workbook(path, load_dataset(overrides=None))
    return path


def build_refreshed(folder: Path, overrides: Path | None = None) -> Path:
    path = build_template(folder)
    refresh_file(path, overrides=overrides, now=NOW)
    return path

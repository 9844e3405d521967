"""Limits checked before a user-supplied workbook is opened (zip bombs, oversized parts).

openpyxl parses XML through defusedxml when it is installed (it is a dependency), which
refuses entity-expansion bombs; these limits stop a package whose parts inflate to
gigabytes before any XML is read.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from aicapex.errors import AicapexError

MAX_MEMBERS = 10_000
MAX_TOTAL_BYTES = 1_000_000_000  # 1 GB uncompressed
MAX_RATIO = 200  # uncompressed / compressed, for parts larger than 1 MB
RATIO_FLOOR = 1_000_000


def check_zip_limits(path: str | Path) -> None:
    """Raise a one-line error when the package is too large or suspiciously compressed."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise AicapexError(f"{path}: not a workbook (damaged zip package)") from exc
    if len(infos) > MAX_MEMBERS:
        raise AicapexError(f"{path}: {len(infos):,} parts is more than {MAX_MEMBERS:,}; refused")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(1, info.compress_size):
            raise AicapexError(
                f"{path}: part {info.filename} inflates {info.file_size / max(1, info.compress_size):,.0f}x "
                f"(limit {MAX_RATIO}x); refused as a possible zip bomb"
            )
    if total > MAX_TOTAL_BYTES:
        raise AicapexError(f"{path}: {total / 1e9:.1f} GB uncompressed is more than "
                           f"{MAX_TOTAL_BYTES / 1e9:.0f} GB; refused")

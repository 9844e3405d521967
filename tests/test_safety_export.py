"""Issue #20 on the export side.

* Point 2: the export never writes over its source (also through a symlink or hard link) nor
  over an existing workbook that is not a client copy of ours; client copies carry the mark
  (custom document property) the refresh refuses.
* Point 1: an export refuses an output open in Excel or being written by another run.
* Point 3: the export's source must be our template (stamp or legacy signature).
* Point 11: hidden rows and columns that hold anything are refused with the list; hidden and
  constant defined names are dropped with a warning naming them.
* Point 12: the master check without a value is explained in words.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from aicapex.cli import main
from aicapex.errors import AicapexError
from aicapex.excel.export import export_client_copy, verify_client_copy
from test_export import build_analyst, hide_names, rewrite_zip


@pytest.fixture(scope="module")
def analyst_src(tmp_path_factory) -> Path:
    return build_analyst(tmp_path_factory.mktemp("src") / "ai_capex_monitor.xlsm")


@pytest.fixture
def analyst(analyst_src, tmp_path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return Path(shutil.copy2(analyst_src, folder / analyst_src.name))


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_line(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    for n in needles:
        assert n in err, (n, err)


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- point 2 -------------------------------------------------------------------------------------


def test_export_onto_its_own_source_is_refused(analyst, capsys):
    before = analyst.read_bytes()
    # the analyst's .xlsx workbook, exported "in place"
    xlsx = analyst.with_suffix(".xlsx")
    shutil.copy2(analyst, xlsx)
    code, out, err = _cli(capsys, "export", str(xlsx), "--client", "Acme", "--out", str(xlsx))
    _one_line(code, err, "its own source")
    assert xlsx.read_bytes() == before
    assert _listing(analyst.parent) == sorted([analyst.name, xlsx.name])


@pytest.mark.parametrize("how", ["symlink", "hardlink"])
def test_export_onto_its_source_through_a_link_is_refused(analyst, tmp_path, how):
    xlsx = analyst.with_suffix(".xlsx")
    shutil.copy2(analyst, xlsx)
    before = xlsx.read_bytes()
    alias = tmp_path / "alias.xlsx"
    if how == "symlink":
        alias.symlink_to(xlsx)
    else:
        os.link(xlsx, alias)
    with pytest.raises(AicapexError, match="its own source"):
        export_client_copy(xlsx, "Acme", alias)
    assert xlsx.read_bytes() == before


def test_export_never_overwrites_a_workbook_that_is_not_a_client_copy(analyst, capsys):
    budget = analyst.parent / "budget.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "the finance team's budget"
    wb.save(budget)
    before = budget.read_bytes()
    code, out, err = _cli(capsys, "export", str(analyst), "--client", "Acme", "--out", str(budget))
    _one_line(code, err, "budget.xlsx", "not a client copy")
    assert budget.read_bytes() == before
    assert not (analyst.parent / "budget.xlsx.bak").exists()


def test_a_client_copy_carries_the_mark_and_may_be_replaced(analyst, tmp_path):
    from aicapex.excel.safety import CLIENT_COPY_PROPERTY, custom_properties, identify_workbook

    out = tmp_path / "client.xlsx"
    export_client_copy(analyst, "Acme", out)
    with zipfile.ZipFile(out) as zf:
        assert set(custom_properties(zf)) == {CLIENT_COPY_PROPERTY}
    assert identify_workbook(out) == "client copy"
    assert verify_client_copy(out) == []
    first = out.read_bytes()
    export_client_copy(analyst, "Acme", out)  # a client copy of ours: replaced, .bak kept
    assert out.with_name(out.name + ".bak").read_bytes() == first


def test_a_client_copy_made_before_the_mark_is_still_recognised(analyst, tmp_path):
    """Copies exported before the mark existed say "AI Capex Monitor" as their Application
    (docProps/app.xml, written only by the export): a rebuild may replace them."""
    from aicapex.excel.export import TITLE
    from aicapex.excel.safety import LEGACY_CLIENT_APPLICATION, identify_workbook

    assert TITLE == LEGACY_CLIENT_APPLICATION
    marked = export_client_copy(analyst, "Acme", tmp_path / "new.xlsx")
    old = rewrite_zip(marked, tmp_path / "old.xlsx",
                      lambda name, data: None if name == "docProps/custom.xml" else data)
    assert identify_workbook(old) == "client copy"
    export_client_copy(analyst, "Acme", old)
    assert verify_client_copy(old) == []


def test_a_client_copy_is_not_a_source_for_an_export(analyst, tmp_path):
    client = export_client_copy(analyst, "Acme", tmp_path / "client.xlsx")
    with pytest.raises(AicapexError, match="is a client copy"):
        export_client_copy(client, "Beta", tmp_path / "again.xlsx")


def test_a_look_alike_is_not_a_source_for_an_export(tmp_path):
    src = tmp_path / "lookalike.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Cover"
    for name in ("Data", "Sources", "Changes"):
        wb.create_sheet(name)
    wb.save(src)
    with pytest.raises(AicapexError, match="not an AI Capex analyst workbook"):
        export_client_copy(src, "Acme", tmp_path / "c.xlsx", force=True)
    assert not (tmp_path / "c.xlsx").exists()


def test_an_unstamped_workbook_of_another_layout_is_refused_with_a_rebuild_hint(tmp_path):
    src = build_analyst(tmp_path / "old.xlsm", stamp=False)  # names on other Cover cells
    with pytest.raises(AicapexError, match="older layout.*rebuild"):
        export_client_copy(src, "Acme", tmp_path / "c.xlsx")


# -- point 1 -------------------------------------------------------------------------------------


def test_export_refuses_an_output_open_in_excel(analyst, tmp_path):
    out = tmp_path / "client.xlsx"
    export_client_copy(analyst, "Acme", out)
    before = out.read_bytes()
    (tmp_path / "~$client.xlsx").write_bytes(b"\x04Jane")
    with pytest.raises(AicapexError, match=r"client.xlsx is open in Excel"):
        export_client_copy(analyst, "Acme", out)
    assert out.read_bytes() == before


HOLD = """
import sys, time
from pathlib import Path
from aicapex.excel.atomic import exclusive_lock
with exclusive_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(120)
"""


def test_two_exports_to_the_same_file_the_second_refuses(analyst, tmp_path, capsys):
    out = tmp_path / "client.xlsx"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held", proc.stderr.read()
        code, _, err = _cli(capsys, "export", str(analyst), "--client", "Acme", "--out", str(out))
        _one_line(code, err, "client.xlsx", "another aicapex")
        assert not out.exists()
    finally:
        proc.kill()
        proc.wait(timeout=30)
    export_client_copy(analyst, "Acme", out)  # once the other run is gone, it goes ahead
    assert verify_client_copy(out) == []


# -- point 11 ------------------------------------------------------------------------------------


def test_hidden_rows_and_columns_with_content_are_refused_with_the_list(tmp_path, capsys):
    src = build_analyst(tmp_path / "hidden.xlsm", hidden_content=True)
    code, _, err = _cli(capsys, "export", str(src), "--client", "Acme", "--out",
                        str(tmp_path / "c.xlsx"))
    _one_line(code, err, "hidden rows or columns that hold content", "Ratios row 35",
              "Inputs column H")
    assert "row 29" not in err  # the empty hidden row is simply unhidden
    assert not (tmp_path / "c.xlsx").exists()


def test_hidden_and_constant_names_are_dropped_with_a_warning(tmp_path, capsys):
    src = hide_names(build_analyst(tmp_path / "names.xlsm", secret_names=True), "zz_HiddenTol")
    code, out, err = _cli(capsys, "export", str(src), "--client", "Acme", "--out",
                          str(tmp_path / "c.xlsx"))
    assert code == 0, err
    assert err.startswith("warning: ") and err.count("\n") == 1, err
    for name in ("in_Discount", "secret_PriceTarget", "zz_HiddenTol"):
        assert name in err
    with zipfile.ZipFile(tmp_path / "c.xlsx") as zf:
        workbook_xml = zf.read("xl/workbook.xml").decode()
    assert "PT $410" not in workbook_xml and "0.085" not in workbook_xml
    assert "zz_HiddenTol" not in workbook_xml and "in_CheckTol" in workbook_xml
    assert verify_client_copy(tmp_path / "c.xlsx") == []


# -- point 12 ------------------------------------------------------------------------------------


def test_a_master_check_without_a_value_is_explained_in_words(analyst, tmp_path):
    # openpyxl writes formulas without cached values: the master check has no value
    wb = openpyxl.load_workbook(analyst, keep_vba=True)
    wb.save(analyst)
    with pytest.raises(AicapexError) as err:
        export_client_copy(analyst, "Acme", tmp_path / "c.xlsx")
    message = str(err.value)
    assert "None" not in message
    assert "master check" in message and "no value" in message and "refresh" in message

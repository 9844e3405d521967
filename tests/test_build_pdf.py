"""``python -m aicapex build --pdf`` writes the client PDF with the rest (issue 22, point 1)."""

from __future__ import annotations

import subprocess
import sys

from aicapex.excel.libreoffice import pdf_page_count


def test_build_pdf_writes_the_client_pdf_next_to_the_client_copy(tmp_path, soffice):
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "aicapex", "build", "--out", str(out), "--client",
                        "Acme Capital", "--pdf"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    xlsx = next(out.glob("AI_Capex_Monitor_Acme_Capital_*.xlsx"))
    pdf = xlsx.with_suffix(".pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf_page_count(pdf) >= 1
    assert f"pdf       {pdf}" in r.stdout
    assert (out / "ai_capex_monitor.xlsm").is_file() and (out / "aicapex.xlam").is_file()
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Acme Capital" in text


def test_build_pdf_without_libreoffice_says_so_before_building(tmp_path, monkeypatch):
    monkeypatch.setenv("AICAPEX_SOFFICE", str(tmp_path / "no-soffice"))
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "aicapex", "build", "--out", str(out), "--pdf"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2
    assert r.stderr.startswith("error: AICAPEX_SOFFICE=") and r.stderr.count("\n") == 1
    assert not out.exists()

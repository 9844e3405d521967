"""Shared fixtures and the rule that LibreOffice tests fail (not skip) under CI=true."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
IN_CI = os.environ.get("CI", "").lower() == "true"

# Hypothesis: short locally, at least 1,000 examples per property in CI.
settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))


def require_or_skip(ok: bool, why: str) -> None:
    """Skip when a tool is absent locally; fail when CI=true, where it must be installed."""
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{why} (required under CI=true)")
    pytest.skip(why)


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.fixture
def soffice() -> str:
    path = soffice_path()
    require_or_skip(path is not None, "LibreOffice (soffice) is not installed")
    return path


@pytest.fixture(scope="session")
def dataset():
    from aicapex.data.dataset import load_dataset

    return load_dataset(overrides=None)


@pytest.fixture(autouse=True)
def _no_user_overrides(monkeypatch):
    # Tests never pick up an analyst's own overrides folder.
    monkeypatch.delenv("AICAPEX_OVERRIDES", raising=False)


@pytest.fixture(scope="session")
def template(tmp_path_factory):
    """The analyst template as the builder makes it from the bundled data (not refreshed),
    built once per session. Shared: read it, never change it (copy it into ``tmp_path``)."""
    from workbook_fixtures import build_template

    return build_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def template_book(template):
    """The template opened with openpyxl (``keep_vba``). Shared: read only."""
    import openpyxl

    return openpyxl.load_workbook(template, keep_vba=True)


@pytest.fixture
def template_copy(template, tmp_path):
    """A copy of the template in ``tmp_path``, free to change."""
    path = tmp_path / template.name
    shutil.copyfile(template, path)
    return path


@pytest.fixture
def refreshed_copy(refreshed_workbook, tmp_path):
    """A copy of the refreshed workbook in ``tmp_path``, free to change."""
    path = tmp_path / refreshed_workbook.name
    shutil.copyfile(refreshed_workbook, path)
    return path


@pytest.fixture(scope="session")
def refreshed_workbook(template, tmp_path_factory):
    """A copy of the template refreshed headlessly (as of ``workbook_fixtures.NOW``). Shared:
    read only."""
    from workbook_fixtures import refreshed_copy

    return refreshed_copy(template, tmp_path_factory.mktemp("refreshed"))


# Tests never read or write a real user's SEC cache: an empty folder of their own. Set at import
# too, so session-scoped fixtures (which start before the per-test one) never see the user's.
os.environ["AICAPEX_CACHE_DIR"] = tempfile.mkdtemp(prefix="aicapex-test-cache-")


@pytest.fixture(autouse=True)
def _no_user_cache(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("AICAPEX_CACHE_DIR", str(tmp_path_factory.mktemp("sec-cache")))
    for name in ("AICAPEX_SEC_USER_AGENT", "AICAPEX_SEC_DATA_URL", "AICAPEX_SEC_WWW_URL",
                 "AICAPEX_SEC_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake_sec(httpserver, monkeypatch):
    """A loopback SEC (tests/sec_standin.py) with the settings pointing at it."""
    from sec_standin import start_fake_sec

    yield start_fake_sec(httpserver, monkeypatch)
    httpserver.clear()

"""The CPX_ catalogue: direct calls with Excel-shaped arguments, and xlwings' Office.js path."""

from __future__ import annotations

import datetime as dt
import inspect
import math

import aicapex.udfs as udfs
import pytest
from aicapex.xlerrors import XlError
from officejs import call_officejs, meta

ALL = sorted(n for n in udfs.__all__)

#: One realistic call per function (Excel shapes: scalars, 1×N rows, N×1 columns).
CASES: dict[str, list] = {
    "cpx_capex_to_ocf": [[[64551, 44477, 1]], [[136162, 118548, 0]]],
    "cpx_fcf": [[[136162], [164713]], [[64551], [91447]]],
    "cpx_fcf_margin": [136162, 64551, 281724],
    "cpx_capex_to_revenue": [[[64551, None]], [[281724, 245122]]],
    "cpx_da_to_revenue": [[[34153]], [[281724]]],
    "cpx_lease_to_fixed": [20, 80],
    "cpx_net_debt": [[[40, 50]], [[100, 10]]],
    "cpx_growth": [[[100], [110], [0], [5]]],
    "cpx_cagr": [[[13925, 15441, 20622, 23886, 28107, 44477, 64551]]],
    "cpx_ttm": [[[1, 2, 3, 4, 5, None, 7, 8, 9, 10]]],
    "cpx_highest_since": [[[5, 9, 4, 7]], [[2019, 2020, 2021, 2022]]],
    "cpx_highest_since_text": [[[5, 9, 4, 7]], [[2019, 2020, 2021, 2022]]],
    "cpx_definition": ["AMZN", "fcf"],
    "cpx_data": ["MSFT", "capex", 2023],
    "cpx_value": ["GOOGL", "ocf", 2025],
    "cpx_tickers": [],
    "cpx_fields": [],
    "cpx_source": ["MSFT", "capex", 2025],
    "cpx_ratios": ["MSFT", 2024, 2025],
    "cpx_peer": [[["MSFT"], ["GOOGL"], ["AMZN"], ["META"]], "capex_to_ocf", 2024, 2025],
    "cpx_series": ["MSFT", [["capex"], ["ocf"], ["capex_to_ocf"]], [[2024, 2025]]],
    "cpx_tokens_per_watt": [[[180000, 1800000, None]], [[1000000, 1000000, 1000000]]],
    "cpx_dc_economics": [100, 1.2, 1666.67, 3000, 0.6, 80, 2.0, 81944.44, 10.7],
    "cpx_capex_per_mw": [[[81944.44], [30000]], [[1666.67], [1250]], 10.7, 1.2],
    "cpx_backlog_coverage": [[[229000, 275000, 375000]], [[211915, 245122, 281724]]],
    "cpx_chip_table": [],
    "cpx_required_revenue": [[[64551, 88000]], [[6, 20]], [[0.7, 0.3]], 0.10, 0.5, 0.05],
    "cpx_revenue_gap": [150000, 2, 0.5, 100000],
    "cpx_incremental_return": [[[91652], [118548], [136162]], [[32251], [44477], [64551]]],
    "cpx_payback": [[[100, 100]], [[25, -5]]],
    "cpx_cloud_growth": [[["MSFT", "AMZN", "META"]], 2022, [[2021, 2022, 2025]]],
    "cpx_financing": ["MSFT", "bonds", 3, [["bonds.coupon", 0.05], ["inputs.capex_growth", 0.3]]],
    "cpx_scenarios": ["MSFT", [["capex"], ["net_debt_to_ebitda"]], 2028,
                      [["inputs.years", 3], ["inputs.capex_growth", 0.3]]],
    "cpx_depreciation": [[[60, 0, 0]], 3, None, "full-year"],
    "cpx_sensitivity": ["META", "hybrid", "bonds.capex_share", [[0.25, 0.5]], "bonds.coupon",
                        [[0.04], [0.06]], "net_debt_to_ebitda", "peak"],
    "cpx_monte_carlo": ["ORCL", "hybrid", 500, 7, 3.0, [["inputs.years", 3]]],
    "cpx_scenario_sources": ["META", "bonds", 3, [["capex.2027", 150000]]],
    "cpx_guidance": ["META", 2026, "history"],
}


def norm(value):
    """Direct and Office.js results in one comparable form."""
    officejs_codes = {"Div0": "#DIV/0!", "NotAvailable": "#N/A", "Num": "#NUM!", "Value": "#VALUE!",
                      "Name": "#NAME?", "Ref": "#REF!", "Null": "#NULL!"}
    if isinstance(value, list):
        rows = value if value and isinstance(value[0], list) else [value]
        return [[norm(c) for c in r] for r in rows]
    if isinstance(value, dict) and value.get("type") == "Error":
        return ("error", officejs_codes[value["errorType"]])
    if isinstance(value, str) and value.startswith("#"):
        return ("error", str(value))
    return value


def as_grid(value):
    n = norm(value)
    return n if isinstance(n, list) else [[n]]


def test_every_function_has_an_officejs_case():
    assert set(CASES) == set(ALL)


def test_catalogue_names_are_the_interface():
    expected = {"CPX_DATA", "CPX_TICKERS", "CPX_FIELDS", "CPX_SOURCE", "CPX_CAPEX_TO_OCF", "CPX_FCF",
                "CPX_FCF_MARGIN", "CPX_CAPEX_TO_REVENUE", "CPX_DA_TO_REVENUE", "CPX_LEASE_TO_FIXED",
                "CPX_NET_DEBT", "CPX_GROWTH", "CPX_CAGR", "CPX_TTM", "CPX_HIGHEST_SINCE",
                "CPX_RATIOS", "CPX_PEER"}
    assert expected <= {n.upper() for n in ALL}


# --- direct calls, hand-computed ------------------------------------------------------------


def test_ratio_over_a_row_keeps_orientation_and_flags_zero_denominator():
    out = udfs.cpx_capex_to_ocf([[64551, 44477, 1]], [[136162, 118548, 0]])
    assert len(out) == 1 and len(out[0]) == 3
    assert out[0][0] == pytest.approx(64551 / 136162)
    assert out[0][1] == pytest.approx(44477 / 118548)
    assert out[0][2] == "#DIV/0!" and "zero" in out[0][2].reason


def test_ratio_over_a_column_returns_a_column():
    out = udfs.cpx_fcf([[136162], [164713]], [[64551], [91447]])
    assert out == [[136162 - 64551], [164713 - 91447]]


def test_single_cells_return_a_scalar():
    assert udfs.cpx_fcf_margin(136162, 64551, 281724) == pytest.approx((136162 - 64551) / 281724)
    assert udfs.cpx_lease_to_fixed(20, 80) == 0.25


def test_blank_is_missing_not_zero():
    out = udfs.cpx_capex_to_revenue([[64551, None]], [[281724, 245122]])
    assert out[0][1] == "#N/A" and "missing capex" in out[0][1].reason


@pytest.mark.parametrize(
    "capex, code, reason",
    [
        ("12", "#VALUE!", "number stored as text"),
        ("lots", "#VALUE!", "text 'lots'"),
        (True, "#VALUE!", "TRUE/FALSE"),
        ("#N/A", "#N/A", "input is #N/A"),
        ("#DIV/0!", "#DIV/0!", "input is #DIV/0!"),
        (float("inf"), "#NUM!", "infinite"),
        (dt.datetime(2025, 1, 1), "#VALUE!", "date"),
    ],
)
def test_bad_cells_give_error_values_with_reasons(capex, code, reason):
    out = udfs.cpx_capex_to_ocf(capex, 100)
    assert isinstance(out, XlError) and out == code and reason in out.reason


@pytest.mark.parametrize(
    "args, reason",
    [
        (([[1, 2]], [[1, 2, 3]]), "ranges differ in length"),
        (([[1, 2], [3, 4]], [[1, 2], [3, 4]]), "single row or column"),
        (([[1, 2], [3]], 1), "ragged"),
    ],
)
def test_mismatched_ranges_are_value_errors(args, reason):
    out = udfs.cpx_capex_to_ocf(*args)
    assert out == "#VALUE!" and reason in out.reason


def test_growth_cagr_ttm_highest_since_by_hand():
    g = udfs.cpx_growth([[100], [110], [0], [5]])
    assert g[0][0] == "#N/A" and g[1][0] == pytest.approx(0.1) and g[2][0] == -1.0
    assert g[3][0] == "#DIV/0!"
    assert udfs.cpx_cagr([[100, 110, 121]]) == pytest.approx(0.1)
    assert udfs.cpx_cagr([[100, 121]], 2) == pytest.approx(0.1)
    assert udfs.cpx_cagr([[-1, 5]]) == "#NUM!"
    t = udfs.cpx_ttm([[1, 2, 3, 4, 5, None, 7, 8, 9, 10]])[0]
    assert t[:3] == ["#N/A"] * 3 and t[3] == 10 and t[4] == 14
    assert t[5:9] == ["#N/A"] * 4 and t[9] == 34
    assert udfs.cpx_highest_since([[5, 9, 4, 7]], [[2019, 2020, 2021, 2022]]) == 2020


def test_data_functions_return_reported_figures_and_sources():
    assert udfs.cpx_data("MSFT", "capex", 2024, 2025) == [["fiscal_year", "capex"], [2024, 44477],
                                                          [2025, 64551]]
    assert udfs.cpx_data("msft", "capex", 2025, 2025, None, False) == [[2025, 64551]]
    q = udfs.cpx_data("AMZN", "capex", 2025, 2025, "quarterly")
    assert q[0] == ["period", "period_end", "capex"] and q[-1] == ["2025Q4", "2025-12-31", 39522]
    assert udfs.cpx_value("GOOGL", "ocf", 2025) == 164713
    assert "0000950170-25-100235" in udfs.cpx_source("MSFT", "capex", 2025)
    assert udfs.cpx_tickers()[0] == ["MSFT"]
    assert ["capex"] in udfs.cpx_fields()


def test_data_errors_name_what_is_wrong():
    assert udfs.cpx_value("XX", "capex", 2025) == "#N/A"
    assert "unknown ticker 'XX'" in udfs.cpx_value("XX", "capex", 2025).reason
    missing = udfs.cpx_value("META", "rpo", 2025)
    assert missing == "#N/A" and "not reported" in missing.reason
    assert "not a fiscal year" in udfs.cpx_data("MSFT", "capex", 99).reason


def test_ratios_table_and_peer_are_weighted_correctly(dataset):
    t = udfs.cpx_ratios("MSFT", 2025, 2025)
    header, row = t
    assert header[:3] == ["ticker", "fiscal_year", "capex_to_ocf"]
    assert row[2] == pytest.approx(64551 / 136162)
    p = udfs.cpx_peer([["MSFT"], ["GOOGL"]], "capex_to_ocf", 2025, 2025, False)
    assert p == [[2025, pytest.approx((64551 + 91447) / (136162 + 164713))]]


def test_ratios_and_peer_take_the_capex_basis_and_company_fcf():
    # AMZN FCF on Amazon's definition: 139,514 - 128,320 (SOURCES.md)
    header, row = udfs.cpx_ratios("AMZN", 2025, 2025)
    assert row[header.index("fcf")] == 11194
    header, row = udfs.cpx_ratios("META", 2025, 2025, True, "incl-finance-leases")
    assert row[header.index("capex_to_ocf")] == pytest.approx((69691 + 2524) / 115800)
    assert udfs.cpx_ratios("META", 2025, 2025, True, "gross") == "#VALUE!"
    # "PEER" is the AI-peer set; the header lists the members (AAPL is the control)
    p = udfs.cpx_peer("PEER", "capex", 2025, 2025)
    assert p[0][1] == "capex (MSFT+GOOGL+AMZN+META+ORCL)"
    assert p[1][1] == 64551 + 91447 + 131819 + 69691 + 21215
    orcl = udfs.cpx_peer("MSFT,ORCL", "capex", 2025, 2025, False, "incl-finance-leases")
    assert orcl[0][1] == "#N/A"  # ORCL reports no finance-lease principal: missing, not zero


def test_definition_function_states_each_companys_definition():
    assert "Amazon's definition" in udfs.cpx_definition("AMZN", "fcf")
    assert "principal payments on finance leases" in udfs.cpx_definition("META", "fcf")
    assert "operating leases only" in udfs.cpx_definition("MSFT", "lease_to_fixed_assets")
    assert "ratio of sums" in udfs.cpx_definition("PEER", "capex_to_ocf")
    assert "finance leases" in udfs.cpx_definition("MSFT", "capex", "incl-finance-leases")
    assert udfs.cpx_definition("MSFT", "nope") == "#N/A"


def test_no_function_raises_on_garbage():
    garbage = [None, "", "#N/A", [[None]], [[1, "x"], [None, True]], float("nan"), {"a": 1}]
    for name in ALL:
        func = getattr(udfs, name)
        n = len(inspect.signature(func).parameters)
        for g in garbage:
            out = func(*([g] * n))
            assert out is not None


# --- xlwings' Office.js path -----------------------------------------------------------------


def test_officejs_metadata_describes_every_function():
    functions = {f["name"]: f for f in meta()["functions"]}
    assert set(functions) == {n.upper() for n in ALL}
    for name, f in functions.items():
        params = inspect.signature(getattr(udfs, name.lower())).parameters
        assert [p["name"] for p in f["parameters"]] == list(params)
        assert f["description"], name
        for p, (pname, sig) in zip(f["parameters"], params.items(), strict=True):
            assert p["description"], (name, pname)
            assert p.get("optional", False) == (sig.default is not inspect.Parameter.empty)


def test_officejs_calls_return_the_same_numbers_as_direct_calls():
    names = sorted(CASES)
    results = call_officejs([{"func_name": n, "args": CASES[n]} for n in names])
    for name, res in zip(names, results, strict=True):
        assert "result" in res, (name, res)
        direct = getattr(udfs, name)(*CASES[name])
        got, want = as_grid(res["result"]), as_grid(direct)
        assert len(got) == len(want) and all(len(a) == len(b) for a, b in zip(got, want, strict=True))
        for a_row, b_row in zip(got, want, strict=True):
            for a, b in zip(a_row, b_row, strict=True):
                if isinstance(b, float) and not isinstance(a, tuple):
                    assert a == pytest.approx(b, rel=1e-12), name
                else:
                    assert a == b, name


def test_officejs_errors_carry_the_reason_as_message():
    res = call_officejs([
        {"func_name": "cpx_capex_to_ocf", "args": [[[1, 2]], [[0, None]]]},
        {"func_name": "cpx_capex_to_ocf", "args": [[[1, 2]], [[0, None]]], "runtime": "1.3"},
        {"func_name": "cpx_value", "args": ["NOPE", "capex", 2025]},
    ])
    row = res[0]["result"][0]
    assert row[0] == {"type": "Error", "errorType": "Div0", "message": "ocf is zero"}
    assert row[1]["errorType"] == "NotAvailable" and "missing ocf" in row[1]["message"]
    assert res[1]["result"][0] == ["#DIV/0!", "#N/A"]  # runtime 1.3: plain error strings
    assert "unknown ticker" in res[2]["result"][0][0]["message"]


def test_officejs_blank_optional_arguments_use_defaults():
    res = call_officejs([{"func_name": "cpx_data", "args": ["MSFT", "capex", 2025]}])
    assert res[0]["result"] == [["fiscal_year", "capex"], [2025, 64551], [2026, 115948]]


def test_math_nan_in_results_never_leaks():
    out = udfs.cpx_ratios("ORCL", 2025, 2025, False)[0]
    assert not any(isinstance(v, float) and math.isnan(v) for v in out)


def test_desktop_windows_gets_com_error_variants(monkeypatch):
    """On Windows desktop Excel an error result must be a COM error VARIANT, not text: text
    "#N/A" is invisible to ISERROR and skipped by SUM. pywin32 is faked here (Linux)."""
    from aicapex.udfs import arguments as udf_arguments

    made = []

    def fake_variant(code):
        made.append(code)
        return ("VARIANT", code)

    monkeypatch.setattr(udf_arguments, "com_error_variant", lambda: fake_variant)
    out = udf_arguments.ErrorReasons.write_value([[1.0, XlError("#N/A", "x"), XlError("#DIV/0!")]], {})
    assert out == [[1.0, ("VARIANT", -2146826246), ("VARIANT", -2146826281)]]
    # Office.js runtimes never get VARIANTs, whatever the platform.
    out = udf_arguments.ErrorReasons.write_value(XlError("#N/A", "x"), {"runtime": "1.3"})
    assert out == "#N/A" and made == [-2146826246, -2146826281]


def test_com_error_codes_are_excels_cverr_scodes():
    """The SCODE of each error value is 0x800A0000 + its XlCVError number (Excel's
    ``CVErr(xlErrDiv0)`` is 2007, ...), as a signed 32-bit COM value; the numbers are
    Excel's enumeration as xlwings' public constants module lists it."""
    from aicapex.udfs.arguments import COM_ERROR_CODES
    from xlwings.constants import CVError

    codes = {"#DIV/0!": CVError.xlErrDiv0, "#N/A": CVError.xlErrNA, "#NAME?": CVError.xlErrName,
             "#NULL!": CVError.xlErrNull, "#NUM!": CVError.xlErrNum, "#REF!": CVError.xlErrRef,
             "#VALUE!": CVError.xlErrValue}
    assert COM_ERROR_CODES == {k: 0x800A0000 + n - 2**32 for k, n in codes.items()}
    assert COM_ERROR_CODES["#DIV/0!"] == -2146826281  # hand-worked: 0x800A07D7 - 2**32


def test_no_com_variants_off_windows():
    from aicapex.udfs.arguments import com_error_variant

    assert com_error_variant() is None  # this machine: Linux

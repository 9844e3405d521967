"""CPX_ power and ROI functions: hand-computed values, unit mistakes as #VALUE! with the reason,
explicit error values instead of NaN, and the same results through xlwings' Office.js path."""

from __future__ import annotations

import inspect
import math

import aicapex.udfs as udfs
import pytest
from aicapex.engine.power import DC_ECONOMICS_FIELDS
from aicapex.xlerrors import XlError
from officejs import call_officejs

OFFICEJS_CODES = {"Div0": "#DIV/0!", "NotAvailable": "#N/A", "Num": "#NUM!", "Value": "#VALUE!",
                  "Name": "#NAME?", "Ref": "#REF!", "Null": "#NULL!"}

POWER_ROI = [
    "cpx_tokens_per_watt",
    "cpx_dc_economics",
    "cpx_capex_per_mw",
    "cpx_backlog_coverage",
    "cpx_chip_table",
    "cpx_required_revenue",
    "cpx_revenue_gap",
    "cpx_incremental_return",
    "cpx_payback",
]


def as_grid(value):
    """Direct and Office.js results in one comparable 2-D form (errors as ("error", code))."""
    rows = value if isinstance(value, list) else [[value]]
    out = []
    for row in rows:
        norm = []
        for c in row:
            if isinstance(c, dict) and c.get("type") == "Error":
                c = ("error", OFFICEJS_CODES[c["errorType"]])
            elif isinstance(c, str) and c.startswith("#"):
                c = ("error", str(c))
            norm.append(c)
        out.append(norm)
    return out


def cells(out):
    """Every cell of a scalar or 2-D result."""
    if isinstance(out, list):
        return [c for row in out for c in row]
    return [out]


def no_nan(out) -> bool:
    return not any(isinstance(c, float) and math.isnan(c) for c in cells(out))


def test_the_functions_are_in_the_catalogue_with_docs():
    for name in POWER_ROI:
        assert name in udfs.__all__
        func = getattr(udfs, name)
        assert func.__doc__ and "\n" not in func.__doc__.strip(), name


# --- tokens per watt ---------------------------------------------------------------------------


def test_tokens_per_watt_hopper_claim():
    # NVIDIA: 180,000 tokens/s in 1 MW = 180,000 / 1,000,000 = 0.18 tokens per joule
    assert udfs.cpx_tokens_per_watt(180000, 1000000) == pytest.approx(0.18)


def test_tokens_per_watt_elementwise_keeps_orientation_and_explains_gaps():
    out = udfs.cpx_tokens_per_watt([[225], [0], [None], [10]], [[1250], [1000], [1000], [0]])
    assert [len(r) for r in out] == [1, 1, 1, 1]
    assert out[0][0] == pytest.approx(225 / 1250) and out[1][0] == 0.0
    assert out[2][0] == "#N/A" and "missing tokens_per_s" in out[2][0].reason
    assert out[3][0] == "#DIV/0!" and "watts is zero" in out[3][0].reason
    row = udfs.cpx_tokens_per_watt([[180000, 900000]], 1000000)  # one cell broadcasts
    assert row == [[pytest.approx(0.18), pytest.approx(0.9)]]


def test_tokens_per_watt_negative_power_is_a_value_error():
    out = udfs.cpx_tokens_per_watt(1, -5)
    assert out == "#VALUE!" and "watts=-5 is negative" in out.reason


# --- data-center economics ---------------------------------------------------------------------


def test_dc_economics_reference_example_by_hand():
    # 1.2 MW at PUE 1.2 = 1 MW IT; 1e6 / 1,250 W = 800 accelerators x 225 tokens/s = 180,000/s.
    # 50% utilisation: 180,000 x 0.5 x 31,536,000 = 2.83824e12 tokens; energy 1.2 x 8,760 x 0.5
    # = 5,256 MWh x $100 = $0.5256M; revenue 2,838,240 Mtok x $2 = $5.67648M; capex
    # 800 x $30,000 = $24M + 1 MW x $10M = $34M; payback 34 / (5.67648 - 0.5256) = 6.60 years.
    out = udfs.cpx_dc_economics(1.2, 1.2, 1250, 225, 0.5, 100, 2.0, 30000, 10.0)
    assert out[0] == ["field", "value"]
    assert [r[0] for r in out[1:]] == [*DC_ECONOMICS_FIELDS, "revenue_method",
                                       "rental_cross_check"]
    v = {k: x for k, x in out[1:]}
    assert v["it_mw"] == pytest.approx(1.0)
    assert v["accelerators"] == pytest.approx(800)
    assert v["tokens_per_s"] == pytest.approx(180000)
    assert v["tokens_per_joule_it"] == pytest.approx(0.18)
    assert v["tokens_per_joule"] == pytest.approx(0.15)
    assert v["annual_tokens"] == pytest.approx(2.83824e12)
    assert v["energy_mwh_per_year"] == pytest.approx(5256)
    assert v["energy_cost_musd_per_year"] == pytest.approx(0.5256)
    assert v["energy_cost_per_mtok"] == pytest.approx(525600 / 2838240)
    assert v["revenue_musd_per_year"] == pytest.approx(5.67648)
    assert v["capex_musd"] == pytest.approx(34.0)
    assert v["capex_musd_per_mw"] == pytest.approx(34.0)
    assert v["payback_years"] == pytest.approx(34 / (5.67648 - 0.5256))


def test_dc_economics_without_header_and_default_facility_capex():
    out = udfs.cpx_dc_economics(1.2, 1.2, 1250, 225, 0.5, 100, 2.0, 30000, None, False)
    assert len(out) == len(DC_ECONOMICS_FIELDS) + 2 and out[0][0] == "facility_mw"
    capex = dict((k, x) for k, x in out)["capex_musd"]
    assert capex == pytest.approx(24 + 10.7)  # CBRE default $10.7M per MW of IT load


def test_dc_economics_gaps_are_error_values_with_reasons_never_nan():
    out = udfs.cpx_dc_economics(1.2, 1.2, 1250, 225, 0.5, 100, 2.0)  # no accelerator price
    v = {k: x for k, x in out[1:]}
    assert no_nan(out)
    for key in ("capex_musd", "capex_musd_per_mw", "payback_years"):
        assert v[key] == "#N/A" and "accelerator_usd not given" in v[key].reason
    assert v["revenue_musd_per_year"] == pytest.approx(5.67648)
    # utilisation 0: no tokens, so the energy cost per Mtok divides by zero; never pays back
    out = udfs.cpx_dc_economics(1.2, 1.2, 1250, 225, 0, 100, 2.0, 30000, 10.0)
    v = {k: x for k, x in out[1:]}
    assert no_nan(out)
    assert v["energy_cost_per_mtok"] == "#DIV/0!" and "no tokens" in v["energy_cost_per_mtok"].reason
    assert v["payback_years"] == "#NUM!" and "never pays back" in v["payback_years"].reason


def test_dc_economics_missing_and_error_inputs_propagate():
    out = udfs.cpx_dc_economics(1.2, None, 1250, 225, 0.5, 100, 2.0)
    assert out == "#N/A" and "missing pue" in out.reason
    out = udfs.cpx_dc_economics(1.2, 1.2, "#DIV/0!", 225, 0.5, 100, 2.0)
    assert out == "#DIV/0!"


@pytest.mark.parametrize(
    "position, value, reason",
    [
        (0, 1_000_000, "did you pass kW or W?"),  # facility in kW
        (1, 120, "did you pass a percentage?"),  # PUE 120
        (2, 1.25, "did you pass kW?"),  # 1.25 kW per accelerator
        (2, 120_000, "whole server or rack"),  # a rack's watts
        (4, 60, "did you pass a percentage?"),  # utilisation 60%
        (5, 0.08, "per kWh"),  # $0.08/kWh
        (7, 5.9e6, "whole server or rack"),  # a rack's price as the accelerator price
    ],
)
def test_dc_economics_unit_mistakes_are_value_errors(position, value, reason):
    args = [1.2, 1.2, 1250, 225, 0.5, 100, 2.0, 30000, 10.0]
    args[position] = value
    out = udfs.cpx_dc_economics(*args)
    assert isinstance(out, XlError) and out == "#VALUE!" and reason in out.reason


# --- capex per MW ------------------------------------------------------------------------------


def test_capex_per_mw_by_hand():
    # GB200 NVL72: $5.9M / 72 per GPU over 120 kW / 72 per GPU = 5.9e6 / 120,000 = $49.1667M
    # per MW of racks, plus $10.7M facility = $59.8667M per MW of IT load.
    assert udfs.cpx_capex_per_mw(5.9e6 / 72, 120000 / 72, 10.7) == pytest.approx(5.9e6 / 120000 + 10.7)
    # defaults: facility $10.7M per MW, PUE 1
    assert udfs.cpx_capex_per_mw(30000, 1250) == pytest.approx(10.7 + 24)
    # per MW of facility power at PUE 1.2: (10 + 24) / 1.2
    assert udfs.cpx_capex_per_mw(30000, 1250, 10, 1.2) == pytest.approx(34 / 1.2)


def test_capex_per_mw_over_a_column_with_a_missing_price():
    out = udfs.cpx_capex_per_mw([[30000], [None]], [[1250], [1275]], 10, None)
    assert out[0][0] == pytest.approx(34.0)
    assert out[1][0] == "#N/A" and "missing accelerator_usd" in out[1][0].reason


def test_capex_per_mw_unit_mistakes():
    out = udfs.cpx_capex_per_mw(0.03, 1250)  # USD millions instead of USD
    assert out == "#VALUE!" and "USD millions or thousands" in out.reason
    out = udfs.cpx_capex_per_mw(30000, 1.25)  # kW instead of W
    assert out == "#VALUE!" and "did you pass kW?" in out.reason
    out = udfs.cpx_capex_per_mw(30000, 1250, 10700)  # USD thousands per MW
    assert out == "#VALUE!" and "facility_capex_musd_per_mw=10700" in out.reason


# --- backlog and chip table ---------------------------------------------------------------------


def test_backlog_coverage_msft_by_hand():
    # MSFT FY2025: RPO 375,000 / revenue 281,724 = 1.3311 years
    assert udfs.cpx_backlog_coverage(375000, 281724) == pytest.approx(375000 / 281724)
    out = udfs.cpx_backlog_coverage([[375000, None, 10]], [[281724, 245122, 0]])
    assert out[0][0] == pytest.approx(1.33109, abs=1e-5)
    assert out[0][1] == "#N/A" and "missing rpo" in out[0][1].reason
    assert out[0][2] == "#DIV/0!" and "revenue is zero" in out[0][2].reason
    bad = udfs.cpx_backlog_coverage(-1, 10)
    assert bad == "#VALUE!" and "rpo=-1 is negative" in bad.reason


def test_chip_table_has_sourced_rows_and_explicit_gaps():
    out = udfs.cpx_chip_table()
    header, rows = out[0], {r[0]: dict(zip(out[0], r, strict=True)) for r in out[1:]}
    assert header[0] == "chip" and "tokens_per_joule" in header and "source" in header
    h100 = rows["H100"]
    assert h100["watts_per_gpu"] == pytest.approx(10200 / 8)  # DGX H100 10.2 kW / 8 GPUs
    assert h100["unit_price_usd"] == "#N/A" and "no sourced unit_price_usd" in h100["unit_price_usd"].reason
    # H100 on the stated workload: MLPerf v4.1 DGX H100, 24,524.9 tokens/s / 8 GPUs / 1,275 W
    assert h100["tokens_per_joule"] == pytest.approx(24_524.9 / 8 / 1_275)
    assert rows["GB300-NVL72"]["tokens_per_joule"] == "#N/A"  # none found for GB300
    assert rows["GB200"]["rental_usd_per_gpu_hour"] == pytest.approx(4.54)
    # GB200 NVL72: ~$3M rack / 72; 865,000 tokens/s per rack / 120 kW (Azure, Llama 2 70B)
    assert rows["GB200-NVL72"]["price_per_gpu_usd"] == pytest.approx(3e6 / 72)
    assert rows["GB200-NVL72"]["tokens_per_joule"] == pytest.approx(865_000 / 120_000)
    assert no_nan(out)
    assert udfs.cpx_chip_table(False)[0][0] == "H100"


def test_dc_economics_running_costs_depreciation_and_return():
    # 1.2 MW, PUE 1.2 -> 800 accelerators; capex 24 + 2.4 networking + 10 facility = 36.4;
    # running 0.5256 + 0.03 x 36.4 = 1.6176; depreciation 26.4 / 5 + 10 / 20 = 5.78
    out = udfs.cpx_dc_economics(1.2, 1.2, 1250, 225, 0.5, 100, 2.0, 30000, 10.0, False,
                                0.1, 0.03, 5, 20)
    fields = dict((r[0], r[1]) for r in out)
    assert fields["capex_musd"] == pytest.approx(36.4)
    assert fields["running_costs_musd_per_year"] == pytest.approx(1.6176)
    assert fields["payback_years"] == pytest.approx(36.4 / (5.67648 - 1.6176))
    assert fields["depreciation_musd_per_year"] == pytest.approx(5.78)
    assert fields["return_on_capital"] == pytest.approx((5.67648 - 1.6176 - 5.78) / 36.4)
    # no life given: depreciation and return are #N/A with the reason, never 0
    out = udfs.cpx_dc_economics(1.2, 1.2, 1250, 225, 0.5, 100, 2.0, 30000, 10.0, False)
    fields = dict((r[0], r[1]) for r in out)
    assert fields["return_on_capital"] == "#N/A" and "life" in fields["return_on_capital"].reason


def test_dc_economics_both_revenue_methods_and_the_cross_check_in_words():
    # 800 accelerators busy 50%: 3,504,000 GPU-hours x $2.50 = $8.76M (capacity); token method
    # 5.67648 x 0.9 derate = $5.108832M, i.e. 225 x 0.9 x 3,600 x $2 / 1e6 = $1.458 per GPU-hour
    out = udfs.cpx_dc_economics(1.2, 1.2, 1250, 225, 0.5, 100, 2.0, 30000, 10.0, False,
                                None, None, None, None, None, 2.5, 0.9)
    v = dict((r[0], r[1]) for r in out)
    assert v["capacity_revenue_musd_per_year"] == pytest.approx(8.76)
    assert v["token_revenue_musd_per_year"] == pytest.approx(5.108832)
    assert v["revenue_musd_per_year"] == pytest.approx(5.108832)  # conservative: the lower
    assert v["revenue_method_used"] == 1
    assert v["token_to_rental_multiple"] == pytest.approx(1.458 / 2.5)
    assert v["revenue_method"].startswith("token-based") and "$8.76M" in v["revenue_method"]
    assert v["rental_cross_check"].startswith("OK: selling tokens earns $1.46 per busy GPU-hour")
    # an alert level below the multiple turns it into an alert, in words
    out = udfs.cpx_dc_economics(1.2, 1.2, 1250, 225, 0.5, 100, 2.0, 30000, 10.0, False,
                                None, None, None, None, None, 2.5, 0.9, "capacity", 0.5)
    v = dict((r[0], r[1]) for r in out)
    assert v["revenue_musd_per_year"] == pytest.approx(8.76) and v["revenue_method_used"] == 2
    assert v["rental_cross_check"].startswith("ALERT:") and "0.5x alert level" in v[
        "rental_cross_check"]
    # no rental price: the capacity figures are #N/A with the reason; a bad method is #VALUE!
    out = udfs.cpx_dc_economics(1.2, 1.2, 1250, 225, 0.5, 100, 2.0, 30000, 10.0, False)
    v = dict((r[0], r[1]) for r in out)
    assert v["capacity_revenue_musd_per_year"] == "#N/A"
    assert "rental_usd_per_gpu_hour not given" in v["capacity_revenue_musd_per_year"].reason
    assert v["rental_cross_check"] == "no cross-check: no rental price per GPU-hour"
    bad = udfs.cpx_dc_economics(1.2, 1.2, 1250, 225, 0.5, 100, 2.0, 30000, 10.0, False,
                                None, None, None, None, None, 2.5, 0.9, "cheapest")
    assert bad == "#VALUE!" and "revenue_method='cheapest'" in bad.reason
    bad = udfs.cpx_dc_economics(1.2, 1.2, 1250, 225, 0.5, 100, 2.0, 30000, 10.0, False,
                                None, None, None, None, None, 42)
    assert bad == "#VALUE!" and "whole instance" in bad.reason


def test_backlog_coverage_on_cloud_revenue_amzn_by_hand():
    # AMZN FY2025: RPO 244,000 / AWS 128,725 = 1.90 years; / total revenue 716,924 = 0.34
    assert udfs.cpx_backlog_coverage(244000, 128725) == pytest.approx(1.8955, abs=1e-4)
    assert udfs.cpx_backlog_coverage(244000, 716924) == pytest.approx(0.3403, abs=1e-4)


# --- ROI ---------------------------------------------------------------------------------------


def test_required_revenue_capital_recovery_by_hand():
    # $100 over 6 years at 10%, 100% margin: 100 x 0.1 / (1 - 1.1^-6) = 22.96
    assert udfs.cpx_required_revenue(100, 6, 1, 0.10, 1) == pytest.approx(100 * 0.1 / (1 - 1.1**-6))
    assert udfs.cpx_required_revenue(100, 6, None, 0.10, 1) == pytest.approx(22.9607, abs=1e-4)
    # 50% margin and running costs of 5% of capex: (22.96 + 5) / 0.5
    want = (100 * 0.1 / (1 - 1.1**-6) + 5) / 0.5
    assert udfs.cpx_required_revenue(100, 6, 1, 0.10, 0.5, 0.05) == pytest.approx(want)


def test_required_revenue_mix_over_a_row_of_capex_with_lives_as_a_column():
    # 70% servers over 6 years, 30% buildings over 20 years at 10%
    crf = 0.7 * 0.1 / (1 - 1.1**-6) + 0.3 * 0.1 / (1 - 1.1**-20)
    out = udfs.cpx_required_revenue([[100, 200, None]], [[6], [20]], [[0.7, 0.3]], 0.1, 1)
    assert out[0][0] == pytest.approx(100 * crf) and out[0][1] == pytest.approx(200 * crf)
    assert out[0][2] == "#N/A" and "missing capex" in out[0][2].reason


@pytest.mark.parametrize(
    "args, reason",
    [
        ((100, 72, 1, 0.1, 1), "did you pass months?"),
        ((100, 6, 1, 10, 1), "did you pass a percentage?"),
        ((100, 6, 1, 0.1, 50), "did you pass a percentage?"),
        ((100, 6, 1, 0.1, 0), "margin must be positive"),
        ((100, [[6, 20]], [[0.5, 0.4]], 0.1, 1), "split sums to 0.9"),
        ((100, [[6, 20]], None, 0.1, 1), "split is required"),
        ((100, [[6, 20]], [[1]], 0.1, 1), "split sums to 2"),  # one share broadcast over two
    ],
)
def test_required_revenue_unit_mistakes(args, reason):
    out = udfs.cpx_required_revenue(*args)
    assert isinstance(out, XlError) and out == "#VALUE!" and reason in out.reason


def test_required_revenue_blank_life_is_missing():
    out = udfs.cpx_required_revenue(100, [[6, None]], [[0.7, 0.3]], 0.1, 1)
    assert out == "#N/A" and "lives" in out.reason


def test_revenue_gap_sequoia_by_hand():
    # $150B x 2 / 0.5 = $600B required, less $100B of AI revenue = $500B gap
    assert udfs.cpx_revenue_gap(150000, 2, 0.5, 100000) == pytest.approx(500000)
    out = udfs.cpx_revenue_gap([[150000], [200000]], 2, 0.5, [[100000], [None]])
    assert out[0][0] == pytest.approx(500000)
    assert out[1][0] == "#N/A" and "missing ai_revenue" in out[1][0].reason
    bad = udfs.cpx_revenue_gap(150000, 0.5, 0.5, 0)
    assert bad == "#VALUE!" and "cost_multiple=0.5" in bad.reason


def test_revenue_gap_two_modes_by_hand():
    # (a) sequoia: GPU spend $150B x 2 / 50% = $600B
    assert udfs.cpx_revenue_gap(150000, None, 0.5, 0, "sequoia") == pytest.approx(600000)
    # (b) capex: total capex $400B x 1 / 50% = $800B; over a stated 5-year life $160B a year
    assert udfs.cpx_revenue_gap(400000, None, 0.5, 0, "capex") == pytest.approx(800000)
    assert udfs.cpx_revenue_gap(400000, None, 0.5, 0, "Capex", 5) == pytest.approx(160000)
    assert udfs.cpx_revenue_gap(400000, 1, 0.5, 100000, "capex") == pytest.approx(700000)
    # doubling total capex is the mistake the mode exists to prevent
    bad = udfs.cpx_revenue_gap(400000, 2, 0.5, 0, "capex")
    assert bad == "#VALUE!" and "buildings and power" in bad.reason
    bad = udfs.cpx_revenue_gap(1, None, 0.5, 0, "gpu")
    assert bad == "#VALUE!" and "sequoia" in bad.reason


def test_incremental_return_series_keeps_orientation():
    # income 10, 12, 15; capex 20, 25, 30: (12 - 10) / 20 = 0.1; (15 - 12) / 25 = 0.12
    row = udfs.cpx_incremental_return([[10, 12, 15]], [[20, 25, 30]])
    assert len(row) == 1 and row[0][0] == "#N/A" and row[0][0].reason == "no prior capex"
    assert row[0][1:] == [pytest.approx(0.1), pytest.approx(0.12)]
    col = udfs.cpx_incremental_return([[10], [12], [15]], [[20], [25], [30]], 0)
    # lag 0: (12 - 10) / 25 = 0.08; (15 - 12) / 30 = 0.1
    assert [r[0] for r in col[1:]] == [pytest.approx(0.08), pytest.approx(0.1)]
    assert col[0][0] == "#N/A"
    two = udfs.cpx_incremental_return([[50, 60, 66, 80]], [[100, 120, 140, 200]], 2)[0]
    # lag 2: first two "no prior capex"; (66 - 60) / 100; (80 - 66) / 120
    assert two[:2] == ["#N/A", "#N/A"] and all(c.reason == "no prior capex" for c in two[:2])
    assert two[2:] == [pytest.approx(0.06), pytest.approx(14 / 120)]


def test_incremental_return_gaps_and_zero_capex():
    out = udfs.cpx_incremental_return([[10, None, 15, 18]], [[0, 25, 30, 40]])[0]
    assert out[1] == "#N/A" and "missing op_income" in out[1].reason  # income t missing
    assert out[2] == "#N/A" and "missing op_income" in out[2].reason  # income t-1 missing
    assert out[3] == pytest.approx(3 / 30)
    z = udfs.cpx_incremental_return([[10, 12]], [[0, 5]])[0]
    assert z[1] == "#DIV/0!" and "capex 1 year(s) earlier is zero" in z[1].reason
    bad = udfs.cpx_incremental_return([[10, 12]], [[1, 5]], 1.5)
    assert bad == "#VALUE!" and "lag=1.5" in bad.reason
    mismatch = udfs.cpx_incremental_return([[10, 12, 13]], [[1, 5]])
    assert mismatch == "#VALUE!" and "ranges differ in length" in mismatch.reason


def test_payback_by_hand_and_never_pays_back():
    assert udfs.cpx_payback(100, 25) == pytest.approx(4.0)
    out = udfs.cpx_payback([[100, 100, 100]], [[0, -5, 50]])[0]
    assert out[0] == "#NUM!" and "never pays back" in out[0].reason
    assert out[1] == "#NUM!" and out[2] == pytest.approx(2.0)
    bad = udfs.cpx_payback(-100, 25)
    assert bad == "#VALUE!" and "capex=-100" in bad.reason


def test_no_result_holds_a_raw_nan():
    calls = [
        udfs.cpx_tokens_per_watt([[0, float("nan")]], [[0, 1]]),
        udfs.cpx_dc_economics(1.2, 1.2, 1250, 0, 0, 0, 0, 30000, 10),
        udfs.cpx_capex_per_mw([[float("nan")]], [[1250]]),
        udfs.cpx_backlog_coverage(0, 0),
        udfs.cpx_chip_table(),
        udfs.cpx_required_revenue([[float("nan"), 0]], 6, 1, 0, 1),
        udfs.cpx_revenue_gap(float("nan"), 2, 0.5, 0),
        udfs.cpx_incremental_return([[1, 2, 3]], [[0, 0, 0]]),
        udfs.cpx_payback([[0, 1]], [[0, float("nan")]]),
    ]
    for out in calls:
        assert no_nan(out), out


# --- xlwings' Office.js path --------------------------------------------------------------------

OFFICEJS_CASES = [
    ("cpx_tokens_per_watt", [180000, 1000000]),
    ("cpx_tokens_per_watt", [[[225], [0], [None]], [[1250], [0], [1000]]]),
    ("cpx_dc_economics", [1.2, 1.2, 1250, 225, 0.5, 100, 2.0, 30000, 10.0]),
    ("cpx_dc_economics", [1.2, 1.2, 1250, 225, 0.5, 100, 2.0, None, None, False]),
    ("cpx_dc_economics", [1.2, 1.2, 1.25, 225, 0.5, 100, 2.0]),
    ("cpx_capex_per_mw", [5.9e6 / 72, 120000 / 72, 10.7]),
    ("cpx_capex_per_mw", [[[30000, None]], [[1250, 1275]]]),
    ("cpx_backlog_coverage", [[[375000, 10]], [[281724, 0]]]),
    ("cpx_chip_table", []),
    ("cpx_chip_table", [False]),
    ("cpx_required_revenue", [100, 6, 1, 0.10, 1]),
    ("cpx_required_revenue", [[[100], [200]], [[6, 20]], [[0.7, 0.3]], 0.1, 0.5, 0.05]),
    ("cpx_required_revenue", [100, 6, 1, 10, 1]),
    ("cpx_revenue_gap", [150000, 2, 0.5, 100000]),
    ("cpx_incremental_return", [[[10, 12, 15]], [[20, 25, 30]]]),
    ("cpx_incremental_return", [[[10], [12], [15]], [[20], [25], [30]], 0]),
    ("cpx_payback", [[[100, 100]], [[25, 0]]]),
]


def test_officejs_returns_the_same_results_as_direct_calls():
    assert {n for n, _ in OFFICEJS_CASES} == set(POWER_ROI)
    results = call_officejs([{"func_name": n, "args": a} for n, a in OFFICEJS_CASES])
    for (name, args), res in zip(OFFICEJS_CASES, results, strict=True):
        assert "result" in res, (name, res)
        direct = getattr(udfs, name)(*args)
        got, want = as_grid(res["result"]), as_grid(direct)
        assert [len(r) for r in got] == [len(r) for r in want], name
        for a_row, b_row in zip(got, want, strict=True):
            for a, b in zip(a_row, b_row, strict=True):
                if isinstance(b, float) and not isinstance(a, tuple):
                    assert a == pytest.approx(b, rel=1e-12), name
                else:
                    assert a == b, (name, a, b)


def test_officejs_unit_mistake_carries_the_engine_message():
    res = call_officejs([{"func_name": "cpx_dc_economics",
                          "args": [1.2, 1.2, 1250, 225, 0.5, 0.08, 2.0]}])
    err = res[0]["result"][0][0]
    assert err["errorType"] == "Value" and "did you pass USD per kWh" in err["message"]


def test_every_argument_has_help_text():
    from officejs import meta

    functions = {f["name"]: f for f in meta()["functions"]}
    for name in POWER_ROI:
        f = functions[name.upper()]
        params = inspect.signature(getattr(udfs, name)).parameters
        assert [p["name"] for p in f["parameters"]] == list(params)
        assert all(p["description"] for p in f["parameters"]), name


def test_cloud_growth_proxy_udf_is_the_engine_and_empty_before_the_base_year(dataset):
    from aicapex.engine.roi import cloud_revenue_growth

    out = udfs.cpx_cloud_growth([["MSFT", "GOOGL", "AMZN", "META", "ORCL"]], 2022,
                                [[2021, 2022, 2025, 2026]])
    engine = cloud_revenue_growth(dataset, ["MSFT", "GOOGL", "AMZN", "META", "ORCL"], 2022)
    assert out[0][0] == "#N/A" and "before the base year" in out[0][0].reason
    assert out[0][1] == 0
    assert out[0][2] == pytest.approx(engine.loc[2025, "total"]) == 141_172
    assert out[0][3] == "#N/A" and "not reported" in out[0][3].reason  # no partial sums
    bad = udfs.cpx_cloud_growth([["XXXX"]], 2022, [[2025]])
    assert bad == "#VALUE!" or bad == "#N/A"

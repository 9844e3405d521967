"""The CPX_ Excel functions: the one module Excel points at (``UDF Modules = aicapex.udfs``).

Each submodule holds the functions of one concept; importing them here is what makes xlwings
(desktop "Import Functions", xlwings Server and xlwings Lite alike) see the whole catalogue.
"""

from aicapex.udfs.data import cpx_data, cpx_fields, cpx_source, cpx_tickers, cpx_value
from aicapex.udfs.financing import (
    cpx_depreciation,
    cpx_financing,
    cpx_guidance,
    cpx_monte_carlo,
    cpx_scenario_sources,
    cpx_scenarios,
    cpx_sensitivity,
)
from aicapex.udfs.power import (
    cpx_backlog_coverage,
    cpx_capex_per_mw,
    cpx_chip_table,
    cpx_dc_economics,
    cpx_tokens_per_watt,
)
from aicapex.udfs.ratios import (
    cpx_cagr,
    cpx_capex_to_ocf,
    cpx_capex_to_revenue,
    cpx_da_to_revenue,
    cpx_definition,
    cpx_fcf,
    cpx_fcf_margin,
    cpx_growth,
    cpx_highest_since,
    cpx_highest_since_text,
    cpx_lease_to_fixed,
    cpx_net_debt,
    cpx_peer,
    cpx_ratios,
    cpx_ttm,
)
from aicapex.udfs.roi import (
    cpx_cloud_growth,
    cpx_incremental_return,
    cpx_payback,
    cpx_required_revenue,
    cpx_revenue_gap,
)
from aicapex.udfs.series import cpx_series

__all__ = [
    "cpx_data",
    "cpx_fields",
    "cpx_source",
    "cpx_tickers",
    "cpx_value",
    "cpx_capex_to_ocf",
    "cpx_capex_to_revenue",
    "cpx_cagr",
    "cpx_da_to_revenue",
    "cpx_fcf",
    "cpx_fcf_margin",
    "cpx_growth",
    "cpx_highest_since",
    "cpx_highest_since_text",
    "cpx_definition",
    "cpx_lease_to_fixed",
    "cpx_net_debt",
    "cpx_peer",
    "cpx_ratios",
    "cpx_ttm",
    "cpx_series",
    "cpx_backlog_coverage",
    "cpx_capex_per_mw",
    "cpx_chip_table",
    "cpx_dc_economics",
    "cpx_tokens_per_watt",
    "cpx_incremental_return",
    "cpx_cloud_growth",
    "cpx_payback",
    "cpx_required_revenue",
    "cpx_revenue_gap",
    "cpx_financing",
    "cpx_scenarios",
    "cpx_depreciation",
    "cpx_sensitivity",
    "cpx_monte_carlo",
    "cpx_scenario_sources",
    "cpx_guidance",
]

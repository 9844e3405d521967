"""Rules every broadcasting engine function keeps (docs/CONVENTIONS.md, engine style).

* **Scalar in, Python float out** (:func:`aicapex.engine.validation.as_output`): numpy-financial
  promises "scalar in, scalar out" but its own functions return ``numpy.float64``, ``float`` or a
  0-d array; ours return exactly ``float`` for scalars and a float array for arrays.
* **One way to refuse an argument** (:mod:`aicapex.engine.validation`): an
  :class:`~aicapex.errors.ArgumentError` reading ``name=value is out of range: expected ...``
  (``is negative`` below a lower bound of 0), whatever the module.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from aicapex.engine import backlog, financing, metrics, power, power_revenue, roi
from aicapex.errors import ArgumentError

#: (function, scalar arguments): every public function that broadcasts its numeric arguments.
BROADCASTING = [
    (metrics.divide, (1.0, 4.0)),
    (metrics.capex_to_ocf, (64_551.0, 136_162.0)),
    (metrics.fcf, (136_162.0, 64_551.0)),
    (metrics.fcf_margin, (136_162.0, 64_551.0, 281_724.0)),
    (metrics.capex_to_revenue, (64_551.0, 281_724.0)),
    (metrics.da_to_revenue, (34_153.0, 281_724.0)),
    (metrics.da_to_capex, (34_153.0, 64_551.0)),
    (metrics.lease_to_fixed_assets, (24_823.0, 204_966.0)),
    (metrics.net_debt, (43_151.0, 94_565.0)),
    (roi.capital_recovery_factor, (0.10, 6.0)),
    (roi.payback_years, (100.0, 25.0)),
    (roi.revenue_gap, (200_000.0, 2.0, 0.5, 100_000.0)),
    (backlog.backlog_coverage, (375_000.0, 281_724.0)),
    (power.tokens_per_watt, (15_000.0, 1_667.0)),
    (power.energy_cost_per_mtok, (60.0, 9.0)),
    (power.capex_per_mw, (41_667.0, 1_667.0, 10.7)),
    (power.capacity_revenue, (100.0, 12.0)),
    (power.backlog_conversion, (375_000.0, 1_200.0)),
    (power_revenue.token_revenue, (15_000.0, 0.9, 0.7, 2.0)),
    (power_revenue.gpu_hour_revenue, (72.0, 0.7, 3.0)),
    (financing.ebitda_proxy, (200.0, 10.0)),
    (financing.leverage, (300.0, 100.0)),
]


@pytest.mark.parametrize("func, args", BROADCASTING, ids=lambda x: getattr(x, "__name__", ""))
def test_scalars_in_give_a_python_float_and_arrays_in_give_an_array(func, args):
    out = func(*args)
    assert type(out) is float, type(out)
    arrays = func(*(np.array([a, a]) for a in args))
    assert isinstance(arrays, np.ndarray) and arrays.dtype == float and arrays.shape == (2,)
    assert arrays[0] == pytest.approx(out, nan_ok=True)


MESSAGE = re.compile(r"^[a-z_.]+=-?[0-9.e+]+ (is out of range|is negative): expected .+")


@pytest.mark.parametrize("call", [
    lambda: roi.capital_recovery_factor(0.1, 72),  # months for years
    lambda: roi.capital_recovery_factor(10, 6),  # a percentage for a fraction
    lambda: roi.required_revenue(100, 6, None, 0.1, 0.0),  # margin 0
    lambda: roi.revenue_gap(200, 0.5, 0.5, 100),  # cost multiple below 1
    lambda: roi.payback_years(-5, 25),
    lambda: power.capex_per_mw(41_667, 1.667),  # kW for W
    lambda: power.energy_cost_per_mtok(0.06, 9),  # USD/kWh for USD/MWh
    lambda: power.tokens_per_watt(15_000, -5),
    lambda: backlog.backlog_coverage(-1, 281_724),
    lambda: financing.FinancingStructure(
        bonds=financing.BondTerms(coupon=3.0)).validate(),
], ids=["life", "rate", "margin", "multiple", "capex", "watts", "price", "negative-w",
        "negative-rpo", "coupon"])
def test_every_module_refuses_a_bad_argument_in_the_same_words(call):
    with pytest.raises(ArgumentError) as info:
        call()
    assert MESSAGE.match(str(info.value)), str(info.value)

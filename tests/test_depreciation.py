"""Vintage-matrix depreciation: hand-computed schedules, conservation of cost, life changes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from aicapex.engine.depreciation import (
    MAX_MATRIX_PERIODS,
    SERVER_LIFE_CHANGES,
    DepreciationTerms,
    depreciation_schedule,
    opening_base_depreciation,
    server_life_effect,
    straight_line_schedule,
    total_depreciation,
    vintage_weights,
)
from aicapex.errors import ArgumentError
from hypothesis import given, settings
from hypothesis import strategies as st


def test_half_year_profile_life_4():
    # 80 of capex, life 4, half-year: 10, 20, 20, 20, 10.
    d = depreciation_schedule([80.0], [4.0], n_years=6)[:, 0]
    np.testing.assert_allclose(d, [10, 20, 20, 20, 10, 0])


def test_full_year_profile_life_4():
    d = depreciation_schedule([80.0], [4.0], convention="full-year", n_years=5)[:, 0]
    np.testing.assert_allclose(d, [20, 20, 20, 20, 0])


def test_fractional_life_5_5_half_year():
    # Meta's 5.5 years: 0.5/5.5 in year one, then 1/5.5 for five years -> fully depreciated.
    d = depreciation_schedule([110.0], [5.5], n_years=8)[:, 0]
    np.testing.assert_allclose(d, [10, 20, 20, 20, 20, 20, 0, 0])


def test_fractional_life_full_year():
    # life 2.5, full-year: 40, 40, 20 of 100.
    d = depreciation_schedule([100.0], [2.5], convention="full-year", n_years=4)[:, 0]
    np.testing.assert_allclose(d, [40, 40, 20, 0])


def test_land_is_not_depreciated_and_split_applies():
    d = depreciation_schedule([100, 100], [2, 10, math.inf], [0.5, 0.3, 0.2])
    # servers: 50/4 = 12.5 then 25 + 12.5; buildings: 30/20 = 1.5 then 3 + 1.5; land 0.
    np.testing.assert_allclose(d, [[12.5, 1.5, 0], [37.5, 4.5, 0]])


def test_paths_broadcast_like_rows():
    capex = np.array([[100.0, 50.0, 0.0], [10.0, 20.0, 30.0]])
    both = depreciation_schedule(capex, [3, 7], [0.6, 0.4])
    for i in range(2):
        np.testing.assert_allclose(both[i], depreciation_schedule(capex[i], [3, 7], [0.6, 0.4]))


def test_nan_capex_gives_nan_only_where_it_depreciates():
    d = depreciation_schedule([100.0, np.nan, 100.0], [2.0])[:, 0]
    assert d[0] == pytest.approx(25.0)
    assert np.isnan(d[1]) and np.isnan(d[2])


def test_opening_base_straight_line_over_remaining_life():
    np.testing.assert_allclose(opening_base_depreciation(300.0, 3.0, 4), [100, 100, 100, 0])
    np.testing.assert_allclose(opening_base_depreciation([100.0, 60.0], 4.0, 2), [[25, 25], [15, 15]])


def test_total_depreciation_adds_opening_base():
    t = DepreciationTerms(server_life=2, building_life=4, server_share=0.5, building_share=0.5,
                          other_share=0.0, convention="full-year")
    # servers 50/2 = 25, buildings 50/4 = 12.5, opening 40/4 = 10.
    np.testing.assert_allclose(total_depreciation([100], t, opening_ppe=40, opening_life=4),
                               [47.5])


def test_prospective_life_extension_hand_worked():
    # 120 of servers in year 0, life 4 (half-year): 15, 30. At the start of year 2 the life
    # becomes 6: book value 120 - 45 = 75, in service 1.5 years, remaining 6 - 1.5 = 4.5 years
    # -> 75 / 4.5 = 16.667 a year for four years and 8.333 in the fifth.
    d = depreciation_schedule([120.0], [4.0], n_years=8, change_index=2, new_lives=[6.0])[:, 0]
    third = 75 / 4.5
    np.testing.assert_allclose(d, [15, 30, third, third, third, third, third / 2, 0])
    assert d.sum() == pytest.approx(120.0)


def test_life_shortening_writes_off_assets_past_new_life():
    # Amazon-style 6 -> 5: a vintage already 5.5 years in service at the change has no
    # remaining life: its book value (120 * 0.5/6 = 10) is charged in the change year.
    d = depreciation_schedule([120.0], [6.0], n_years=8, change_index=6, new_lives=[5.0])[:, 0]
    np.testing.assert_allclose(d[:6], [10, 20, 20, 20, 20, 20])
    assert d[6] == pytest.approx(10.0)
    assert d.sum() == pytest.approx(120.0)


def test_new_vintages_after_change_use_new_life():
    w = vintage_weights(4, 4, 4.0, change_index=1, new_life=2.0)
    np.testing.assert_allclose(w[:, 1], [0, 0.25, 0.5, 0.25])


@settings()
@given(
    capex=st.lists(st.floats(0, 1e5), min_size=1, max_size=12),
    lives=st.lists(st.floats(0.5, 12.0), min_size=1, max_size=3),
    convention=st.sampled_from(["half-year", "full-year"]),
    data=st.data(),
)
def test_every_vintage_is_depreciated_exactly_once(capex, lives, convention, data):
    k = len(lives)
    raw = data.draw(st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k))
    split = np.array(raw) / sum(raw)
    n_out = len(capex) + 14
    d = depreciation_schedule(capex, lives, split, convention=convention, n_years=n_out)
    assert (d >= -1e-9).all()
    np.testing.assert_allclose(d.sum(axis=0), np.sum(capex) * split, rtol=1e-9, atol=1e-6)


@settings()
@given(
    capex=st.lists(st.floats(0, 1e4), min_size=1, max_size=10),
    old=st.floats(1.0, 8.0),
    new=st.floats(1.0, 8.0),
    change=st.integers(0, 9),
    convention=st.sampled_from(["half-year", "full-year"]),
)
def test_life_change_conserves_cost_and_keeps_the_past(capex, old, new, change, convention):
    n_out = len(capex) + 20
    before = depreciation_schedule(capex, [old], convention=convention, n_years=n_out)[:, 0]
    after = depreciation_schedule(capex, [old], convention=convention, n_years=n_out,
                                  change_index=change, new_lives=[new])[:, 0]
    assert after.sum() == pytest.approx(np.sum(capex), rel=1e-9, abs=1e-6)
    # the past is kept (up to rounding: the schedule without a change is computed linearly)
    np.testing.assert_allclose(after[:change], before[:change], rtol=1e-9,
                               atol=1e-12 * max(1.0, float(np.sum(capex))))
    same = depreciation_schedule(capex, [old], convention=convention, n_years=n_out,
                                 change_index=change, new_lives=[old])[:, 0]
    np.testing.assert_allclose(same, before, atol=1e-9)


def test_server_life_effect_msft_style_extension():
    # All capex on servers, 120 a year, 4 -> 6 years applied from year 1 (half-year):
    # old D&A 15, 45; new 10, 30; margin gain = D&A saved / revenue.
    t = DepreciationTerms(server_share=1.0, building_share=0.0, other_share=0.0)
    out = server_life_effect([120, 120], [1000, 1000], [300, 300], old_life=4, new_life=6,
                             terms=t, years=[2023, 2024])
    np.testing.assert_allclose(out["da_old"], [15, 45])
    np.testing.assert_allclose(out["da_new"], [10, 30])
    np.testing.assert_allclose(out["operating_margin_old"], [0.285, 0.255])
    np.testing.assert_allclose(out["operating_margin_new"], [0.29, 0.27])
    np.testing.assert_allclose(out["da_to_revenue_new"], [0.01, 0.03])
    assert out["year"].tolist() == [2023, 2024]


def test_server_life_effect_shortening_raises_da():
    out = server_life_effect([100, 100, 100], [500] * 3, [200] * 3, old_life=6, new_life=5,
                             change_index=1)
    assert (out["da_change"].iloc[1:] > 0).all()
    assert out["da_change"].iloc[0] == 0


def test_reported_server_life_changes():
    table = {c["ticker"]: (c["effective"], c["old"], c["new"]) for c in SERVER_LIFE_CHANGES}
    assert table["MSFT"] == (2023, 4.0, 6.0)
    assert table["GOOGL"][2] == 6.0
    assert table["META"][2] == 5.5
    assert table["AMZN"] == (2025, 6.0, 5.0)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(capex=[1], lives=[-1]), "lives"),
        (dict(capex=[1], lives=[3, 4], split=[0.5, 0.6]), "split"),
        (dict(capex=[1], lives=[3, 4]), "split"),
        (dict(capex=[1], lives=[3], convention="mid-month"), "convention"),
    ],
)
def test_bad_arguments_raise_argument_error(kwargs, word):
    with pytest.raises(ArgumentError, match=word):
        depreciation_schedule(**kwargs)


# -- the linear schedule equals the vintage matrix ------------------------------------------------
@settings(max_examples=60)
@given(
    capex=st.lists(st.one_of(st.floats(0, 1e5), st.just(math.nan)), min_size=1, max_size=40),
    life=st.one_of(st.floats(0.2, 60.0), st.floats(256, 400), st.just(math.inf)),
    convention=st.sampled_from(["half-year", "full-year"]),
    extra=st.integers(-5, 10),
    paths=st.integers(1, 3),
)
def test_linear_schedule_equals_the_vintage_matrix(capex, life, convention, extra, paths):
    n = len(capex)
    n_out = max(1, n + extra)
    c = np.tile(np.asarray(capex), (paths, 1)) * np.arange(1, paths + 1)[:, None]
    w = vintage_weights(n_out, n, life, convention=convention)
    want = np.where(np.isnan(c), 0.0, c) @ w.T
    hit = (np.isnan(c).astype(float) @ (w.T != 0).astype(float)) > 0
    want = np.where(hit, np.nan, want)
    got = straight_line_schedule(c, life, convention=convention, n_years=n_out)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6 * max(1.0, np.nanmax(c, initial=0)))
    np.testing.assert_allclose(straight_line_schedule(c[0], life, convention=convention,
                                                      n_years=n_out), got[0], rtol=1e-12,
                               atol=1e-9)


def test_a_life_change_over_too_many_periods_is_refused():
    capex = np.ones(MAX_MATRIX_PERIODS + 1)
    assert depreciation_schedule(capex, [5.0]).shape == (MAX_MATRIX_PERIODS + 1, 1)  # linear
    with pytest.raises(ArgumentError, match="change of useful life"):
        depreciation_schedule(capex, [5.0], change_index=3, new_lives=[6.0])

"""Where everything sits in the analyst workbook: one definition read by the builder, the
refresh plan, the charts and the tests (WORKBOOK_STYLE.md §2–3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils.cell import get_column_letter

from aicapex.engine.definitions import PEER_SET as PEER_SET_DEFINED

WORKBOOK_NAME = "ai_capex_monitor.xlsm"
UDF_MODULE = "aicapex.udfs"

#: Tab order (xlwings.conf last, analyst copy only).
SHEETS = ["Cover", "Inputs", "Data", "Ratios", "Scenarios", "Guidance", "Power_Cloud", "ROI",
          "Dashboard", "Sources", "Changes", "xlwings.conf"]
#: Workings sheets: a check total in D3 that the master check adds up (Guidance holds tables,
#: not a timeline, but has its checks like the others).
TIMELINE_SHEETS = ("Ratios", "Scenarios", "Guidance", "Power_Cloud", "ROI")

COVERAGE = ["MSFT", "GOOGL", "AMZN", "META", "ORCL", "AAPL"]
#: Company slots on Inputs and blocks on Ratios: the covered companies, then empty slots. A
#: ticker typed into an empty slot gets its company block at the next recalculation.
COVERAGE_SLOTS = 10
PEER_SET = list(PEER_SET_DEFINED)  # the AI peers (AAPL is the control): one definition
COMPANY_NAMES = {
    "MSFT": "Microsoft",
    "GOOGL": "Alphabet",
    "AMZN": "Amazon",
    "META": "Meta Platforms",
    "ORCL": "Oracle",
    "AAPL": "Apple",
}
FY_END = {"MSFT": "June", "GOOGL": "December", "AMZN": "December", "META": "December",
          "ORCL": "May", "AAPL": "late September"}

#: First fiscal year on every timeline sheet (Inputs ``in_FirstFY``): FY2019 is the first year
#: with every covered company's cash-flow statement in the data set.
FIRST_FY = 2019
MAX_HORIZON = 10  # columns reserved for estimates; Inputs chooses 5-10
FIRST_PERIOD_COL = 5  # column F (0-based)
HEADER_ROWS = 5  # rows 1-5; the first block starts on row 7 (index 6)
YEAR_ROW = 3  # 0-based row 4
FLAG_ROW = 4  # 0-based row 5


@dataclass(frozen=True)
class Timeline:
    """The one column grid of every timeline sheet: column F is ``first_fy``, each further
    column one more fiscal year; ``last_actual_fy`` is the newest fiscal year in the data
    (never a constant in code), then ``horizon`` estimate columns, a blank column and the
    notes column."""

    last_actual_fy: int
    first_fy: int = FIRST_FY
    horizon: int = MAX_HORIZON

    @property
    def n_actual(self) -> int:
        return self.last_actual_fy - self.first_fy + 1

    @property
    def n_periods(self) -> int:
        return self.n_actual + self.horizon

    @property
    def last_period_col(self) -> int:
        return FIRST_PERIOD_COL + self.n_periods - 1

    @property
    def last_actual_col(self) -> int:
        return FIRST_PERIOD_COL + self.n_actual - 1

    @property
    def notes_col(self) -> int:
        return self.last_period_col + 2

    @property
    def actual_years(self) -> list[int]:
        return list(range(self.first_fy, self.last_actual_fy + 1))

    def period_col(self, fiscal_year: int) -> int:
        return FIRST_PERIOD_COL + fiscal_year - self.first_fy

    def year_of(self, c: int) -> int:
        return self.first_fy + c - FIRST_PERIOD_COL

    def actual_cols(self) -> range:
        return range(FIRST_PERIOD_COL, FIRST_PERIOD_COL + self.n_actual)

    def estimate_cols(self) -> range:
        return range(FIRST_PERIOD_COL + self.n_actual, self.last_period_col + 1)

    def period_range(self, r: int, *, actual_only: bool = True, absolute: bool = False) -> str:
        last = self.last_actual_col if actual_only else self.last_period_col
        return f"{cell(r, FIRST_PERIOD_COL, absolute, absolute)}:{cell(r, last, absolute, absolute)}"

    def year_range(self, *, actual_only: bool = True) -> str:
        """The fiscal-year row over the period columns, rows anchored: ``F$4:M$4``."""
        last = self.last_actual_col if actual_only else self.last_period_col
        return f"{col(FIRST_PERIOD_COL)}${YEAR_ROW + 1}:{col(last)}${YEAR_ROW + 1}"


def timeline_for(ds: Any, tickers: list[str] | None = None) -> Timeline:
    """The timeline for a data set: through the newest fiscal year any covered company has
    reported (MSFT and ORCL report FY2026 while the December filers' FY2026 is not out yet:
    their FY2026 column shows the figure as not reported)."""
    frame = ds.annual
    if tickers is not None:
        frame = frame[frame["ticker"].isin(list(tickers))]
    if frame.empty:
        frame = ds.annual
    return Timeline(last_actual_fy=int(frame["fiscal_year"].max()))


def col(c: int) -> str:
    """Column letters of a 0-based column index (``col(0) == "A"``)."""
    return get_column_letter(c + 1)


def cell(r: int, c: int, row_abs: bool = False, col_abs: bool = False) -> str:
    """A1 address of a 0-based (row, column); ``$`` where absolute (as XlsxWriter's
    ``xl_rowcol_to_cell``, without importing XlsxWriter into the headless refresh)."""
    return f"{'$' if col_abs else ''}{get_column_letter(c + 1)}{'$' if row_abs else ''}{r + 1}"


@dataclass(frozen=True)
class LinkRow:
    field: str
    label: str
    unit: str = "$m"


@dataclass(frozen=True)
class MetricRow:
    key: str  # a metric of aicapex.engine.company_metrics.METRICS
    label: str
    unit: str


#: Reported figures of each company block (engine results: one CPX_SERIES call per block).
LINK_ROWS = [
    LinkRow("capex", "Capex (cash spent, positive)"),
    LinkRow("ocf", "Operating cash flow"),
    LinkRow("revenue", "Revenue"),
    LinkRow("da_cashflow", "Depreciation & amortization (cash-flow line)"),
    LinkRow("ppe_net", "PP&E, net (year end)"),
    LinkRow("op_lease_rou_assets", "Operating-lease ROU assets (year end)"),
    LinkRow("total_debt", "Total debt (year end)"),
    LinkRow("cash_and_marketable_securities", "Cash & marketable securities (year end)"),
    LinkRow("debt_issuance_proceeds", "Debt issuance proceeds"),
    LinkRow("cloud_segment_revenue", "Cloud segment revenue (AWS, Google Cloud, Intelligent "
            "Cloud, Oracle cloud services & license support)"),
    LinkRow("rpo", "Remaining performance obligations / backlog (year end)"),
]

#: Metric rows computed by the engine below the reported figures, same order in every block.
CALC_ROWS = [
    MetricRow("capex_on_basis", "Capex on the chosen basis (in_CapexBasis, Inputs)", "$m"),
    MetricRow("capex_to_ocf", "Capex / operating cash flow", "%"),
    MetricRow("fcf_capex", "Capex deducted in FCF (company definition)", "$m"),
    MetricRow("fcf", "Free cash flow (company definition: OCF - the row above)", "$m"),
    MetricRow("fcf_margin", "FCF margin", "%"),
    MetricRow("capex_to_revenue", "Capex / revenue", "%"),
    MetricRow("da_to_revenue", "D&A / revenue", "%"),
    MetricRow("lease_to_fixed_assets", "Operating-lease ROU assets / PP&E", "%"),
    MetricRow("net_debt", "Net debt (debt - cash & securities)", "$m"),
]


@dataclass
class CompanyBlock:
    ticker: str | None  # the ticker of the slot at build time (None: an empty slot)
    header_row: int
    slot: int = 0  # 0-based coverage slot on Inputs
    rows: dict[str, int] = field(default_factory=dict)  # field or calc key -> row
    highest_since_row: int = 0
    check_row: int = 0  # FCF identity check for this company
    last_row: int = 0


@dataclass
class RatiosLayout:
    blocks: dict[str, CompanyBlock]
    peer_header: int
    peer_rows: dict[str, int]
    checks_header: int
    check_rows: dict[str, int]
    alert_rows: dict[str, int]
    sheet_total_row: int
    last_row: int
    #: Header row of the free coverage slots' section (below the sheet total), if any.
    free_header: int | None = None


def coverage_slots(tickers: list[str] | None = None) -> list[str | None]:
    """The coverage list padded with empty slots to :data:`COVERAGE_SLOTS`."""
    chosen = list(tickers or COVERAGE)[:COVERAGE_SLOTS]
    return chosen + [None] * (COVERAGE_SLOTS - len(chosen))


def block_key(ticker: str | None, slot: int) -> str:
    """The key of a company block: its build-time ticker, or ``slot7`` for an empty slot."""
    return ticker or f"slot{slot + 1}"


def _company_block(t: str | None, slot: int, r: int) -> CompanyBlock:
    b = CompanyBlock(t, r, slot)
    r += 1
    for link in LINK_ROWS:
        b.rows[link.field] = r
        r += 1
    for calc in CALC_ROWS:
        b.rows[calc.key] = r
        r += 1
    b.highest_since_row = r
    b.check_row = r + 1
    b.last_row = r + 1
    return b


def ratios_layout(tickers: list[str] | None = None) -> RatiosLayout:
    """Rows of the Ratios sheet: the covered companies' blocks, the peer block, checks and
    alerts, the sheet total; then the free coverage slots' blocks, below what is printed."""
    r = HEADER_ROWS + 1  # one blank row under the header
    blocks: dict[str, CompanyBlock] = {}
    slots = list(enumerate(coverage_slots(tickers)))
    for slot, t in [(i, t) for i, t in slots if t is not None]:
        b = _company_block(t, slot, r)
        blocks[block_key(t, slot)] = b
        r = b.last_row + 2  # a blank row between blocks
    peer_header = r
    r += 1
    peer_rows = {}
    for key in ("capex", "ocf", "revenue", "da_cashflow", "capex_to_ocf", "fcf", "fcf_margin",
                "da_to_revenue", "company_fcf_sum",
                *(f"stack_{t}" for t in PEER_SET if t in blocks)):
        peer_rows[key] = r
        r += 1
    r += 1
    checks_header = r
    r += 1
    free = [(i, t) for i, t in slots if t is None]
    keys = [block_key(t, i) for i, t in slots if t is not None] + \
        [block_key(None, i) for i, _ in free]
    check_rows = {}
    for k in keys:
        check_rows[f"fcf_{k}"] = r
        r += 1
    check_rows["peer_fcf"] = r
    r += 1
    alert_rows = {}
    for kind in ("capex", "gaps"):
        for k in keys:
            alert_rows[f"{kind}_{k}"] = r
            r += 1
    alert_rows["stale"] = r
    r += 1
    alert_rows["total"] = r
    r += 1
    sheet_total_row = r
    r += 2
    free_header = r if free else None
    if free:
        r += 2
        for slot, _ in free:
            b = _company_block(None, slot, r)
            blocks[block_key(None, slot)] = b
            r = b.last_row + 2
    return RatiosLayout(blocks, peer_header, peer_rows, checks_header, check_rows, alert_rows,
                        sheet_total_row, r, free_header)


# Inputs sheet rows (0-based) and the names that point at them.
@dataclass(frozen=True)
class InputRow:
    name: str | None
    label: str
    unit: str
    value: object
    validation: dict | None = None
    note: str = ""


INPUT_ROWS: list[InputRow] = [
    InputRow("in_FirstFY", "First fiscal year on the timeline", "FY", FIRST_FY,
             {"validate": "integer", "criteria": "between", "minimum": 2010, "maximum": 2030},
             "Whole year; column F of every timeline sheet"),
    InputRow("in_LastActualFY", "Last actual fiscal year", "FY", None,
             {"validate": "integer", "criteria": "between", "minimum": 2010, "maximum": 2040},
             "Columns after it are estimates; set by the build to the newest fiscal year in the data"),
    InputRow("in_Horizon", "Scenario horizon", "years", 5,
             {"validate": "integer", "criteria": "between", "minimum": 5, "maximum": 10},
             "Whole number of years, 5 to 10"),
    InputRow("in_CheckTol", "Check tolerance", "$m", 0.5,
             {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100},
             "Differences up to this many $m pass the checks"),
    InputRow("in_StaleDays", "Staleness limit for data", "days", 120,
             {"validate": "integer", "criteria": "between", "minimum": 1, "maximum": 3650},
             "Alert when the newest fiscal year end is older than this"),
    InputRow("in_CapexAlert", "Alert when capex / OCF exceeds", "%", 1.0,
             {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 5},
             "Fraction; 1.0 = capex equals operating cash flow"),
    InputRow("in_CapexBasis", "Capex basis of the ratios", "basis", "cash",
             {"validate": "list", "source": ["cash", "incl-finance-leases"]},
             "cash: each company's cash-flow capex line (its own definition; MSFT and GOOGL "
             "exclude finance leases, AMZN is gross of proceeds). incl-finance-leases: capex + "
             "principal payments on finance leases (Meta's convention; missing where not "
             "reported, never zero). Drives Ratios, the peer block and the Dashboard"),
]
COVERAGE_HEADER_ROW = 6  # 0-based; "Coverage" section header
INPUTS_FIRST_ROW = COVERAGE_HEADER_ROW + 1 + COVERAGE_SLOTS + 1 + 1  # after the slots and a blank


def input_row_index(name: str) -> int:
    """Row of an input of the first Inputs section (extra sections follow it)."""
    for i, row in enumerate(INPUT_ROWS):
        if row.name == name:
            return INPUTS_FIRST_ROW + i
    raise KeyError(name)


def input_ref(name: str) -> str:
    """Absolute reference of a named input of the first section: ``Inputs!$D$16``."""
    return f"Inputs!{cell(input_row_index(name), 3, True, True)}"


def coverage_ref() -> str:
    """The coverage slots on Inputs: ``Inputs!$D$8:$D$17``."""
    first = COVERAGE_HEADER_ROW + 1
    return f"Inputs!{cell(first, 3, True, True)}:{cell(first + COVERAGE_SLOTS - 1, 3, True, True)}"


def coverage_cell(slot: int) -> str:
    """The Inputs cell of a coverage slot (0-based): ``Inputs!$D$8``."""
    return f"Inputs!{cell(COVERAGE_HEADER_ROW + 1 + slot, 3, True, True)}"


# Cover cells (0-based)
COVER_AS_OF = (6, 2)  # C7, name in_AsOf
COVER_REFRESHED = (7, 2)
COVER_VINTAGE = (8, 2)
COVER_MASTER = (9, 2)  # chk_Master
COVER_STATUS_FIRST = 11
#: "Data vintage by company" on the Cover: section header row, then one row per coverage slot
#: (B ticker, C newest period end, D what that period is), written by every refresh.
COVER_VINTAGE_TABLE = 22
#: Cover cells that only make sense with Python and the buttons (the client copy blanks them).
COVER_ANALYST_ONLY = ["D3", "D5", "D7"]
DATA_HEADER_ROW = 4  # tables' header on row 5
DATA_COLUMNS = ["ticker", "fiscal_year", "fiscal_year_end", "field", "value_musd", "tier", "source",
                "note"]
SOURCES_COLUMNS = ["ticker", "fiscal_year", "field", "value_musd", "tier", "form", "accession",
                   "filing", "url", "note"]
CHANGES_COLUMNS = ["sheet", "cell", "label", "old", "new", "change"]

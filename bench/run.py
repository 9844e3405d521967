"""Run every benchmark, print one table of ratios, write ``bench/results.md`` and ``.json``.

    python bench/run.py                     # everything (under 10 minutes on a 2-core box)
    python bench/run.py --only refresh,udfs # a subset (results files still written)
    python bench/run.py --no-write          # print only

Each benchmark module has ``run() -> list[dict]``; a row is ``{name, value, unit, baseline,
ratio, target}`` plus optional keys: ``target_on`` (``"value"``, the default, or
``"ratio"``: which figure the target applies to), ``better`` (``"higher"``, the default, or
``"lower"``), ``status`` (e.g. ``"skipped: ..."``), ``detail`` and ``profile`` (lines). Every
ratio is against a baseline measured in the same run; see each module's docstring for what
is timed. A module that is missing (``bench_officejs``, ``bench_server`` are optional) or
cannot be imported gets a row saying so; one that fails gets a row with the error. Missing a
target is reported, not an error: the exit status is 1 only if a benchmark crashed (or, with
``--strict``, if a target is missed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import math
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
try:
    import aicapex  # noqa: F401
except ModuleNotFoundError:  # a checkout without the editable install
    sys.path.insert(0, str(HERE.parent / "python"))

#: (short name, module) in run order; optional modules may be absent.
BENCHMARKS = [
    ("refresh", "bench_refresh"),
    ("export", "bench_export"),
    ("process", "bench_process"),
    ("peers", "bench_peers"),
    ("udfs", "bench_udfs"),
    ("montecarlo", "bench_montecarlo"),
    ("scale", "bench_scale"),
    ("officejs", "bench_officejs"),
    ("server", "bench_server"),
    ("replay", "bench_replay"),
]
OPTIONAL = {"officejs", "server"}


# -- machine ----------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(module: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # noqa: BLE001 - not installed
        return None


def _command(cmd: list[str], timeout: float = 20.0) -> str | None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=HERE)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def machine() -> dict:
    """What the figures were measured on."""
    import numpy as np

    nproc = _command(["nproc"]) or str(len(os.sched_getaffinity(0)))
    commit = _command(["git", "rev-parse", "--short", "HEAD"])
    dirty = _command(["git", "status", "--porcelain"])
    soffice = None
    try:
        from aicapex.excel.libreoffice import soffice_binary

        soffice = _command([soffice_binary(), "--version"], timeout=60)
    except Exception:  # noqa: BLE001 - not installed
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": int(nproc),
        "cpu": _cpu_model(),
        "memory": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": _version("pandas"),
        "openpyxl": _version("openpyxl"),
        "xlwings": _version("xlwings"),
        "formulas": _version("formulas"),
        "libreoffice": soffice,
        "git": f"{commit}{' (uncommitted changes)' if dirty else ''}" if commit else None,
        # bench_process compiles the package's bytecode first; other modules run in-process
        "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE") or "unset",
    }


# -- rows ---------------------------------------------------------------------------------------


def status(row: dict) -> str:
    if row.get("status"):
        return row["status"]
    if row.get("value") is None:
        return "-"
    target = row.get("target")
    if target is None:
        return "info"
    x = row.get(row.get("target_on", "value"))
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    met = x <= target if row.get("better", "higher") == "lower" else x >= target
    return "ok" if met else "MISSED"


def fmt(x: object) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if math.isnan(x):
        return "nan"
    a = abs(x)
    if a >= 1e5:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:,.1f}"
    if a >= 1:
        return f"{x:.3g}" if a < 10 else f"{x:.1f}"
    return f"{x:.3g}"


def target_text(row: dict) -> str:
    target = row.get("target")
    if target is None:
        return "-"
    sign = "≤" if row.get("better", "higher") == "lower" else "≥"
    on = "ratio " if row.get("target_on", "value") == "ratio" else ""
    return f"{on}{sign} {fmt(target)}"


def run_benchmarks(selected: list[str]) -> tuple[list[dict], dict, list[str]]:
    rows: list[dict] = []
    modules: dict[str, dict] = {}
    notes: list[str] = []
    for short, module_name in BENCHMARKS:
        if short not in selected:
            continue
        print(f"== {short} ({module_name})", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        info: dict = {"module": module_name}
        if not (HERE / f"{module_name}.py").is_file():
            info["error"] = "not present"
            rows.append({"name": short, "value": None, "unit": "", "baseline": None,
                         "ratio": None, "target": None, "bench": short,
                         "status": f"skipped: bench/{module_name}.py not present"})
            modules[short] = info
            continue
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # noqa: BLE001 - an optional dependency may be missing
            info["error"] = f"import failed: {type(exc).__name__}: {exc}"
            rows.append({"name": short, "value": None, "unit": "", "baseline": None,
                         "ratio": None, "target": None, "bench": short,
                         "status": f"skipped: import failed ({type(exc).__name__}: {exc})"})
            modules[short] = info
            continue
        try:
            got = module.run()
            for r in got:
                r.setdefault("bench", short)
            rows += got
            notes += list(getattr(module, "NOTES", []))
        except Exception as exc:  # noqa: BLE001 - one failing benchmark must not lose the rest
            info["error"] = f"{type(exc).__name__}: {exc}"
            info["traceback"] = traceback.format_exc()
            print(info["traceback"], file=sys.stderr)
            rows.append({"name": short, "value": None, "unit": "", "baseline": None,
                         "ratio": None, "target": None, "bench": short,
                         "status": f"ERROR: {type(exc).__name__}: {str(exc)[:200]}"})
        info["seconds"] = time.perf_counter() - t0
        modules[short] = info
        print(f"   {info['seconds']:.1f} s", file=sys.stderr, flush=True)
    for r in rows:
        r["status"] = status(r)
    return rows, modules, notes


# -- output -----------------------------------------------------------------------------------


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table_lines(rows: list[dict]) -> list[str]:
    out = ["| benchmark | value | unit | baseline | ratio | target | status |",
           "|---|---:|---|---:|---:|---|---|"]
    for r in rows:
        out.append(f"| {_md(r['name'])} | {fmt(r.get('value'))} | {_md(r.get('unit', ''))} | "
                   f"{fmt(r.get('baseline'))} | {fmt(r.get('ratio'))} | {_md(target_text(r))} | "
                   f"{_md(r['status'])} |")
    return out


def markdown(rows: list[dict], mach: dict, modules: dict, notes: list[str], total: float) -> str:
    lines = ["# Benchmark results", "",
             "Written by `python bench/run.py`; every ratio is against a baseline measured in the "
             "same run (see each `bench/bench_*.py` docstring). `ratio` = value / baseline; the "
             "target applies to the value unless it says `ratio`.", "",
             "## Machine", ""]
    for k, v in mach.items():
        lines.append(f"- {k}: {v if v is not None else 'n/a'}")
    lines += ["", "## Results", ""]
    lines += table_lines(rows)
    lines += ["", f"Wall time: {total:.0f} s ("
              + ", ".join(f"{k} {v['seconds']:.0f} s" for k, v in modules.items() if "seconds" in v)
              + ").", ""]
    detailed = [r for r in rows if r.get("detail") or r.get("profile")]
    if detailed:
        lines += ["## Details", ""]
        for r in detailed:
            lines.append(f"- **{r['name']}**: {r.get('detail', '')}".rstrip())
            for p in r.get("profile", []):
                lines.append(f"  - {p}")
        lines.append("")
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines)


def _clean(x: object) -> object:
    """Strict JSON: non-finite floats become strings ("inf", "nan")."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


def _jsonable(x: object) -> object:
    if hasattr(x, "item"):
        return x.item()
    return str(x)


def print_table(rows: list[dict]) -> None:
    width = max(len(r["name"]) for r in rows) if rows else 10
    print(f"{'benchmark':{width}}  {'value':>11} {'unit':<12} {'baseline':>11} {'ratio':>8}  "
          f"{'target':<14} status")
    for r in rows:
        print(f"{r['name']:{width}}  {fmt(r.get('value')):>11} {r.get('unit', ''):<12} "
              f"{fmt(r.get('baseline')):>11} {fmt(r.get('ratio')):>8}  {target_text(r):<14} "
              f"{r['status']}")


def main(argv: list[str] | None = None) -> int:
    names = [s for s, _ in BENCHMARKS]
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", help=f"comma-separated subset of: {','.join(names)}")
    p.add_argument("--skip", help="comma-separated benchmarks to leave out")
    p.add_argument("--out", type=Path, default=HERE, help="folder for results.md/.json")
    p.add_argument("--no-write", action="store_true", help="print the table only")
    p.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = p.parse_args(argv)
    selected = args.only.split(",") if args.only else list(names)
    if args.skip:
        selected = [s for s in selected if s not in args.skip.split(",")]
    unknown = sorted(set(selected) - set(names))
    if unknown:
        p.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(names)}")

    t0 = time.perf_counter()
    mach = machine()
    rows, modules, notes = run_benchmarks(selected)
    total = time.perf_counter() - t0
    print_table(rows)
    print(f"\n{total:.0f} s on {mach['nproc']} x {mach['cpu']}")
    if not args.no_write:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.md").write_text(markdown(rows, mach, modules, notes, total),
                                             encoding="utf-8")
        payload = {"machine": mach, "seconds": total, "modules": modules, "rows": rows,
                   "notes": notes}
        (args.out / "results.json").write_text(
            json.dumps(_clean(payload), indent=1, default=_jsonable, allow_nan=False) + "\n",
            encoding="utf-8")
        print(f"wrote {args.out / 'results.md'} and {args.out / 'results.json'}")
    crashed = any(r["status"].startswith("ERROR") for r in rows)
    missed = any(r["status"] == "MISSED" for r in rows)
    return 1 if crashed or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())

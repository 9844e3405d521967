"""Excel number format codes, as ``TEXT(value, format)`` applies them (en-US).

Covered: up to four sections (positive; negative; zero; text), ``General``, digit
placeholders ``0 # ?``, the decimal point, thousands separators and trailing-comma scaling,
``%``, scientific ``E+00``, literal text (``"..."``, ``\\x``, ``$ - + ( ) : / space``),
``@`` for the text itself, ``[Red]``-style colours and ``[$...]`` currency/locale tags
(colours dropped, currency symbol kept), and dates/times (``yyyy yy mmmm mmm mm m dddd ddd
dd d hh h mm ss AM/PM``). Conditions such as ``[>1000]`` and fractions (``# ?/?``) are not
covered: :func:`format_value` raises :class:`ValueError` for them.

>>> format_value(1234.567, "#,##0.00"), format_value(-0.125, "0.0%"), format_value(5, "000")
('1,234.57', '-12.5%', '005')
>>> format_value(-1500, '#,##0;(#,##0)'), format_value(45838, "yyyy-mm-dd")
('(1,500)', '2025-06-30')
>>> format_value(64551.5, '$#,##0.0,,"bn"'), format_value(0.5, "h:mm AM/PM")
('$0.1bn', '12:00 PM')
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["format_value"]

_BASE_1900 = dt.datetime(1899, 12, 30)
_BASE_1904 = dt.datetime(1904, 1, 1)
_DATE_CODES = re.compile(r"yyyy|yy|mmmmm|mmmm|mmm|mm|m|dddd|ddd|dd|d|hh|h|ss|s|am/pm|a/p",
                         re.IGNORECASE)


def _sections(fmt: str) -> list[str]:
    out, cur, i = [], [], 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == '"':
            j = fmt.find('"', i + 1)
            j = len(fmt) if j < 0 else j
            cur.append(fmt[i:j + 1])
            i = j + 1
            continue
        if ch == "\\" and i + 1 < len(fmt):
            cur.append(fmt[i:i + 2])
            i += 2
            continue
        if ch == ";":
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


def _tokens(section: str) -> list[tuple[str, str]]:
    """(kind, text): ``lit`` literal text or ``code`` format characters."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(section):
        ch = section[i]
        if ch == '"':
            j = section.find('"', i + 1)
            j = len(section) if j < 0 else j
            out.append(("lit", section[i + 1:j]))
            i = j + 1
        elif ch == "\\" and i + 1 < len(section):
            out.append(("lit", section[i + 1]))
            i += 2
        elif ch == "[":
            j = section.find("]", i)
            tag = section[i + 1:j if j >= 0 else len(section)]
            if tag.startswith("$"):
                out.append(("lit", tag[1:].split("-")[0]))
            elif re.match(r"[<>=]", tag):
                raise ValueError(f"conditional format [{tag}] is not supported")
            i = (j if j >= 0 else len(section)) + 1
        elif ch in "_*":  # padding: a space the width of the next character / fill
            out.append(("lit", " " if ch == "_" else ""))
            i += 2
        else:
            out.append(("code", ch))
            i += 1
    return out


def _is_date(tokens: list[tuple[str, str]]) -> bool:
    code = "".join(t for k, t in tokens if k == "code").lower()
    code = re.sub(r"e[+-]", "", code)
    return bool(re.search(r"[ydhs]", code)) or ("m" in code and not re.search(r"[0#?]", code))


def _format_date(serial: float, tokens: list[tuple[str, str]], epoch: int) -> str:
    if serial < 0:
        raise ValueError("negative dates cannot be formatted")
    base = _BASE_1904 if epoch == 1904 else _BASE_1900
    moment = base + dt.timedelta(days=serial)
    if epoch == 1900 and serial < 61:
        moment += dt.timedelta(days=1)
    moment = moment + dt.timedelta(microseconds=500_000)  # round to the second
    moment = moment.replace(microsecond=0)
    code = "".join(t if k == "code" else "\x00" + t + "\x01" for k, t in tokens)
    ampm = re.search(r"am/pm|a/p", code, re.IGNORECASE) is not None
    parts = _DATE_CODES.split(code)
    found = _DATE_CODES.findall(code)
    out = [parts[0]]
    for n, tok in enumerate(found):
        low = tok.lower()
        prev = next((f.lower() for f in reversed(found[:n]) if f.lower()[0] in "hmsy d"), "")
        nxt = next((f.lower() for f in found[n + 1:]), "")
        minutes = low in ("m", "mm") and (prev.startswith("h") or nxt.startswith("s"))
        if low == "yyyy":
            s = f"{moment.year:04d}"
        elif low == "yy":
            s = f"{moment.year % 100:02d}"
        elif minutes:
            s = f"{moment.minute:02d}" if low == "mm" else str(moment.minute)
        elif low == "mmmmm":
            s = moment.strftime("%B")[0]
        elif low == "mmmm":
            s = moment.strftime("%B")
        elif low == "mmm":
            s = moment.strftime("%b")
        elif low == "mm":
            s = f"{moment.month:02d}"
        elif low == "m":
            s = str(moment.month)
        elif low == "dddd":
            s = moment.strftime("%A")
        elif low == "ddd":
            s = moment.strftime("%a")
        elif low == "dd":
            s = f"{moment.day:02d}"
        elif low == "d":
            s = str(moment.day)
        elif low in ("hh", "h"):
            h = moment.hour % 12 or 12 if ampm else moment.hour
            s = f"{h:02d}" if low == "hh" else str(h)
        elif low in ("ss", "s"):
            s = f"{moment.second:02d}" if low == "ss" else str(moment.second)
        elif low == "am/pm":
            s = "AM" if moment.hour < 12 else "PM"
        else:  # a/p
            s = "A" if moment.hour < 12 else "P"
        out.append(s)
        out.append(parts[n + 1])
    return re.sub(r"\x00(.*?)\x01", r"\1", "".join(out), flags=re.DOTALL)


def _digits(value: Decimal, places: int) -> tuple[str, str]:
    q = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign, digits, exp = q.as_tuple()
    s = "".join(map(str, digits))
    if places:
        s = s.rjust(places + 1, "0")
        return s[:-places], s[-places:]
    return s, ""


def _format_number(x: float, tokens: list[tuple[str, str]]) -> str:
    # split the tokens into: literal prefix, number pattern, literal suffix
    pattern_chars = set("0#?.,Ee+-")
    codes = [(k, t) for k, t in tokens]
    first = next((i for i, (k, t) in enumerate(codes) if k == "code" and t in "0#?."), None)
    if first is None:  # no digits: only literals
        return "".join(t for _, t in codes)
    last = first
    for i in range(first, len(codes)):
        k, t = codes[i]
        if k == "code" and t in pattern_chars and not (t in "+-" and codes[i - 1][1] not in "Ee"):
            last = i
        else:
            break
    pattern = "".join(t for _, t in codes[first:last + 1])
    prefix = codes[:first]
    suffix = codes[last + 1:]
    percent = sum(1 for k, t in tokens if k == "code" and t == "%")
    scale = 0
    while pattern.endswith(","):  # each trailing comma divides by 1,000
        scale += 1
        pattern = pattern[:-1]
    sci = re.search(r"[Ee][+-]", pattern)
    mantissa, exponent = (pattern[:sci.start()], pattern[sci.end():]) if sci else (pattern, "")
    int_pat, _, frac_pat = mantissa.partition(".")
    while int_pat.endswith(","):
        scale += 1
        int_pat = int_pat[:-1]
    grouping = "," in int_pat
    int_pat = int_pat.replace(",", "")
    value = Decimal(repr(abs(x))) * (Decimal(100) ** percent) / (Decimal(1000) ** scale)
    places = sum(1 for ch in frac_pat if ch in "0#?")
    exp_text = ""
    if sci:
        e = 0
        if value != 0:
            e = value.adjusted() - (max(1, sum(1 for ch in int_pat if ch in "0#?")) - 1)
            value = value.scaleb(-e)
        exp_sign = "-" if e < 0 else ("+" if sci.group()[1] == "+" else "")
        exp_text = sci.group()[0] + exp_sign + str(abs(e)).rjust(len(exponent), "0")
    whole, frac = _digits(value, places)
    whole = whole.lstrip("0")
    min_int = sum(1 for ch in int_pat if ch == "0")
    whole = whole.rjust(min_int, "0")
    if grouping and whole:
        whole = f"{int(whole):,}".rjust(min_int, "0")
    if frac:
        keep = len(frac_pat.rstrip("#?"))  # trailing # drop zeros, ? pad with spaces
        trimmed = frac.rstrip("0")
        frac = trimmed.ljust(keep, "0")
        pad = sum(1 for ch in frac_pat[len(frac):] if ch == "?")
        frac = frac + " " * pad
    number = whole + ("." + frac if "." in mantissa and (frac or "." in mantissa) else "")
    number += exp_text

    def lit(parts: list[tuple[str, str]]) -> str:
        return "".join(t for _, t in parts)  # outside the digits every character shows

    return lit(prefix) + number + lit(suffix)


def format_value(value: float | str | bool, fmt: str, epoch: int = 1900) -> str:
    """``value`` formatted by the Excel number format ``fmt`` (see the module docstring)."""
    sections = _sections(fmt)
    if isinstance(value, str):
        if len(sections) >= 4:
            return "".join(value if (k, t) == ("code", "@") else t
                           for k, t in _tokens(sections[3]))
        if "@" in fmt and len(sections) == 1:
            return "".join(value if (k, t) == ("code", "@") else t
                           for k, t in _tokens(sections[0]))
        return value
    x = float(value)
    if len(sections) >= 3 and x == 0:
        section, sign = sections[2], ""
    elif len(sections) >= 2 and x < 0:
        section, sign = sections[1], ""
    else:
        section, sign = sections[0], "-" if x < 0 else ""
    if section.strip().lower() == "general":
        from aicapex.formula.values import num_to_text

        return sign + num_to_text(abs(x))
    tokens = _tokens(section)
    if _is_date(tokens):
        return _format_date(x, tokens, epoch)
    text = _format_number(x, tokens)
    if sign and re.search(r"[1-9]", text):  # -0.001 shown with 2 decimals is 0.00, no sign
        return sign + text
    return text

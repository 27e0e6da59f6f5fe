"""Java DateTimeFormatter patterns (Spark) -> DuckDB strftime/strptime patterns."""

from __future__ import annotations

import re

from odibi_dbx.sql.errors import NotPortableError

_ADVICE = (
    "use the pattern letters y M d H h m s S(SS/SSSSSS) a E D and quoted literals, "
    "or format the parts yourself (year(), month(), lpad(...))."
)


def _fixed(fmt: str, parse: str | None = None) -> tuple[str, str]:
    return fmt, parse if parse is not None else fmt


# letter -> {count: (format directive, parse directive)}
_MAP: dict[str, dict[int, tuple[str, str]]] = {
    "y": {1: _fixed("%Y"), 2: _fixed("%y"), 4: _fixed("%Y")},
    "M": {1: _fixed("%-m", "%m"), 2: _fixed("%m"), 3: _fixed("%b"), 4: _fixed("%B")},
    "L": {1: _fixed("%-m", "%m"), 2: _fixed("%m"), 3: _fixed("%b"), 4: _fixed("%B")},
    "d": {1: _fixed("%-d", "%d"), 2: _fixed("%d")},
    "D": {1: _fixed("%-j", "%j"), 3: _fixed("%j")},
    "H": {1: _fixed("%-H", "%H"), 2: _fixed("%H")},
    "h": {1: _fixed("%-I", "%I"), 2: _fixed("%I")},
    "m": {1: _fixed("%-M", "%M"), 2: _fixed("%M")},
    "s": {1: _fixed("%-S", "%S"), 2: _fixed("%S")},
    "S": {3: _fixed("%g"), 6: _fixed("%f")},
    "a": {1: _fixed("%p")},
    "E": {1: _fixed("%a"), 2: _fixed("%a"), 3: _fixed("%a"), 4: _fixed("%A")},
}
_OFFSETS = "XxZ"  # zone offsets: only when parsing (DuckDB %z: +HH:MM / +HHMM, not 'Z')


def java_to_strftime(pattern: str, *, parsing: bool) -> str:
    """Translate one Spark datetime pattern, or raise NotPortableError."""
    if parsing:
        _check_parse_fields(pattern)
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            m = re.match(r"'((?:[^']|'')*)'", pattern[i:])
            if pattern[i : i + 2] == "''":  # '' outside quotes is a literal quote
                out.append("'")
                i += 2
                continue
            if m is None:
                raise _bad(pattern, "an unterminated quote")
            out.append(m.group(1).replace("''", "'").replace("%", "%%"))
            i += m.end()
            continue
        if re.match(r"[A-Za-z]", ch):
            n = len(pattern[i:]) - len(pattern[i:].lstrip(ch))  # the run of this letter
            if ch in _OFFSETS and parsing:
                out.append("%z")
            elif ch == "y" and n == 3:
                out.append("%Y")
            elif ch in _MAP and n in _MAP[ch]:
                fmt, parse = _MAP[ch][n]
                out.append(parse if parsing else fmt)
            else:
                raise _bad(pattern, f"the pattern letters '{ch * n}'")
            i += n
            continue
        if ch in "[]#{}":
            raise _bad(pattern, f"the reserved character '{ch}'")
        out.append("%%" if ch == "%" else ch)
        i += 1
    return "".join(out)


def _check_parse_fields(pattern: str) -> None:
    """Spark fills missing fields from 1970-01-01 and resolves day-of-year its own way; DuckDB's
    strptime defaults to 1900. (Two-digit years: rules/time.py two_digit_year_in_2000s.)"""
    letters = re.sub(r"'(?:[^']|'')*'", "", pattern)
    if "D" in letters and re.search(r"[MLd]", letters):
        raise _bad(pattern, "day-of-year 'D' with a month or day when parsing")
    if "y" not in letters and re.search(r"[MdLDHhms]", letters):
        raise _bad(pattern, "no year when parsing (Spark takes 1970, DuckDB 1900)")


def _bad(pattern: str, what: str) -> NotPortableError:
    return NotPortableError(
        "datetime pattern",
        f"The datetime pattern '{pattern}' uses {what}, which the Pandas engine cannot "
        "reproduce exactly.",
        _ADVICE,
    )

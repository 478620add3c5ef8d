"""Calendar helpers for date fields: Western forms and 和暦 (Japanese era) codes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["Era", "ERAS", "JST", "era_by_code", "from_wareki", "to_wareki", "century_for"]

#: Japan Standard Time (UTC+9, no daylight saving): the clock of every date, schedule and report here.
JST = dt.timezone(dt.timedelta(hours=9), "JST")


@dataclass(frozen=True, slots=True)
class Era:
    code: str
    name: str
    first_day: dt.date
    last_day: dt.date | None


#: Explicit era-boundary table (reference/standard-data.md). Codes 1–5 as used in legacy files.
ERAS: tuple[Era, ...] = (
    Era("1", "明治", dt.date(1868, 10, 23), dt.date(1912, 7, 29)),
    Era("2", "大正", dt.date(1912, 7, 30), dt.date(1926, 12, 24)),
    Era("3", "昭和", dt.date(1926, 12, 25), dt.date(1989, 1, 7)),
    Era("4", "平成", dt.date(1989, 1, 8), dt.date(2019, 4, 30)),
    Era("5", "令和", dt.date(2019, 5, 1), None),
)

_BY_CODE = {era.code: era for era in ERAS}


def era_by_code(code: str) -> Era | None:
    return _BY_CODE.get(code)


def from_wareki(code: str, year: int, month: int, day: int) -> dt.date:
    """Turn an era code and era year into a date; ValueError when it is not a real date of that era."""
    era = era_by_code(code)
    if era is None:
        raise ValueError(f"era code {code!r} is not one of {', '.join(_BY_CODE)}")
    if year < 1:
        raise ValueError(f"era year {year} is not 1 or more")
    date = dt.date(era.first_day.year + year - 1, month, day)
    if date < era.first_day or (era.last_day is not None and date > era.last_day):
        raise ValueError(f"{era.name}{year}年{month}月{day}日 is outside the {era.name} era")
    return date


def to_wareki(date: dt.date) -> tuple[str, int]:
    """(era code, era year) for a date."""
    for era in reversed(ERAS):
        if date >= era.first_day:
            return era.code, date.year - era.first_day.year + 1
    raise ValueError(f"{date.isoformat()} is before the first supported era")


def century_for(two_digit_year: int, pivot: int) -> int:
    """Full year for YY with a century window: YY < pivot → 20YY, else 19YY."""
    return (2000 if two_digit_year < pivot else 1900) + two_digit_year

"""Personal identification numbers are masked before a question is used for anything.

Caseworkers type citizens' details into the chat. A CPR number (``ddmmyy-xxxx``
or ``ddmmyyxxxx`` with a real day and month) is replaced by ``[CPR-nummer]``
where a question enters the service, so no search, language model request,
feedback row, transcript or log line ever holds it. Ten digits that cannot be a
date of birth (a phone number with country code, an amount) are left alone.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

CPR_PLACEHOLDER = "[CPR-nummer]"
CPR_NOTICE = "CPR-nummeret er fjernet fra spørgsmålet; skriv ikke personnumre."
# The notices about personal data: shown prominently (above the answer, as a warning in the app).
PRIVACY_NOTICES = frozenset({CPR_NOTICE})

# Six digits of a date, an optional hyphen, four digits; not part of a longer run of digits.
_CPR = re.compile(r"(?<!\d)(?P<day>\d{2})(?P<month>\d{2})\d{2}-?\d{4}(?!\d)")
_LEAP_YEAR = 2000  # any year is accepted, so 29 February is too


@dataclass(frozen=True)
class Masked:
    """A text with its personal numbers replaced, and whether any were."""

    text: str
    masked: bool

    @property
    def notices(self) -> tuple[str, ...]:
        """What to tell the user about the masking (nothing when nothing was masked)."""
        return (CPR_NOTICE,) if self.masked else ()


def is_birth_date(day: int, month: int) -> bool:
    """Whether ``day`` and ``month`` name a day of the calendar in some year (29 February included)."""
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(_LEAP_YEAR, month)[1]


def mask_personal_numbers(text: str) -> Masked:
    """``text`` with every CPR number replaced by :data:`CPR_PLACEHOLDER`."""
    found = False

    def replace(match: re.Match[str]) -> str:
        nonlocal found
        if not is_birth_date(int(match["day"]), int(match["month"])):
            return match[0]
        found = True
        return CPR_PLACEHOLDER

    masked = _CPR.sub(replace, text)
    return Masked(masked, found)


def without_placeholders(text: str) -> str:
    """``text`` without the placeholders masking put in: they say nothing about what is asked."""
    return " ".join(text.replace(CPR_PLACEHOLDER, " ").split())

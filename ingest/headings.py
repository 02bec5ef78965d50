"""Recognise the headings that the documents use to structure themselves."""

from __future__ import annotations

import re

# "2.5. Adskillelse af bolig og støttetilbud", "4.3.1. CTI-metodens …", "4.4 ICM …"
NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2})+\.?|\d{1,2}\.)\s+([A-ZÆØÅ§].*)$")
APPENDIX = re.compile(r"^Bilag \d{1,2}:\s+\S")
# Row labels of a Danish municipal quality standard (kvalitetsstandard), the
# left column of its two-column table.
QUALITY_STANDARD_LABELS = (
    "Målgruppe",
    "Formål",
    "Kriterier og omfang",
    "Afgørelse",
    "Sagsbehandlingsfrist",
    "Levering",
    "Leverandør",
    "Aktiviteter",
    "Kvalitetskrav",
    "Opfølgning",
    "Klage og ankemuligheder",
    "Klagemuligheder",
    "Lovgrundlag",
    "Kontaktinformationer",
    "Pris",
    "Egenbetaling",
)
MAX_HEADING_CHARS = 100
MAX_SHORT_HEADING_CHARS = 60


def numbered_level(paragraph: str) -> int | None:
    """Level of a numbered heading (``4.3.1.`` → 3) or of an appendix (1); else None.

    A numbered list item ("5. Fokus på forebyggelse. Der kan …") is not a
    heading: its title holds a sentence end.
    """
    if APPENDIX.match(paragraph) and len(paragraph) <= MAX_HEADING_CHARS:
        return 1
    match = NUMBERED.match(paragraph)
    if not match or len(paragraph) > MAX_HEADING_CHARS:
        return None
    title = match.group(2)
    if ". " in title or title.endswith("."):
        return None
    return match.group(1).rstrip(".").count(".") + 1


def label_of(paragraph: str) -> str | None:
    """The quality-standard label the paragraph is, or None."""
    stripped = paragraph.strip()
    return stripped if stripped in QUALITY_STANDARD_LABELS else None


def split_label(line: str) -> list[str]:
    """Split a label glued to its content ("Målgruppe Borgere i …") into two lines."""
    for label in QUALITY_STANDARD_LABELS:
        rest = line[len(label) :]
        if line.startswith(label) and rest.startswith(" ") and rest.strip()[:1].isupper():
            return [label, rest.strip()]
    return [line]


def is_short_heading(paragraph: str) -> bool:
    """A short title line: capitalised, no sentence punctuation, not a bullet."""
    text = paragraph.strip()
    return (
        0 < len(text) <= MAX_SHORT_HEADING_CHARS
        and text[0].isupper()
        and not text.startswith("•")
        and text[-1] not in ".,;:"
        and ". " not in text
    )

"""Repair text-extraction damage. Pure functions: text in, text out.

What is repaired (see corpus/README.md): words hyphenated across line breaks,
paragraphs broken into lines separated by blank lines, broken bullet glyphs,
page-footer lines, footnote lines in the body and footnote numbers glued to
words, and labels glued to their content in flattened tables.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from hfa_settings import Settings
from ingest.documents import Page
from ingest.headings import label_of, numbered_level, split_label

BULLET = re.compile(r"^(?:[�•▪●◦\uf0b7\uf0a7]|[-–*](?=\s))\s*")
FOOTER = re.compile(r"^(?:(\d{1,3}) ?([^\d\s,()][^,()]{2,40})|([^\d\s,()][^,()]{2,40}?) ?(\d{1,3}))$")
FOOTNOTE_LINE = re.compile(r"^(\d{1,3}) ([A-ZÆØÅ].*)$")
GLUED_REFERENCE = re.compile(r"(?<=[a-zæøå)]{3})(\d{1,3})(?=[\s,.:;)]|$)")
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
SENTENCE_END = re.compile(r"[.!?:;][”\")]?$")
LIST_ITEM = re.compile(r"^\d{1,2}\.\s+[A-ZÆØÅ]")
SUSPENDED_HYPHEN_NEXT = ("og ", "eller ", "samt ", "til ")
# The setting's default (hfa_settings is the one place it is written); ingest passes the configured value.
DEFAULT_WRAPPED_SHARE: float = Settings.model_fields["wrapped_share"].default


@dataclass(frozen=True)
class CleanedDocument:
    """Cleaned text, where each page starts in it, and the footnotes taken out."""

    text: str
    page_starts: tuple[tuple[int, int | None], ...]
    footnotes: tuple[str, ...]

    def page_at(self, offset: int) -> int | None:
        """Page number of the character at ``offset``."""
        page = self.page_starts[0][1] if self.page_starts else None
        for start, number in self.page_starts:
            if start > offset:
                break
            page = number
        return page


@dataclass(frozen=True)
class _Profile:
    """Facts about the whole document that decide how single lines are repaired."""

    footers: frozenset[str]
    footnote_numbers: frozenset[str]
    vocabulary: Counter[str]
    wrap_width: int
    wrapped_share: float


def _lines(text: str) -> list[str]:
    return [line.replace("\u00a0", " ").strip() for line in text.replace("\r\n", "\n").split("\n")]


def _wrap_width(lines: list[str]) -> int:
    """The width lines were wrapped at: the 90th percentile of line lengths."""
    lengths = sorted(len(line) for line in lines if line)
    return lengths[int(0.9 * (len(lengths) - 1))] if lengths else 0


def _profile(raw: str, wrapped_share: float) -> _Profile:
    lines = _lines(raw)
    footer_numbers: dict[str, set[str]] = {}
    for line in lines:
        match = FOOTER.match(line)
        if match:
            text = (match.group(2) or match.group(3)).strip()
            footer_numbers.setdefault(text, set()).add(match.group(1) or match.group(4))
    glued = {m.group(1) for m in GLUED_REFERENCE.finditer(raw)}
    numbered = {m.group(1) for line in lines if (m := FOOTNOTE_LINE.match(line))}
    return _Profile(
        # A running footer repeats its text with different page numbers.
        footers=frozenset(text for text, numbers in footer_numbers.items() if len(numbers) >= 2),
        footnote_numbers=frozenset(glued & numbered),
        vocabulary=Counter(word.lower() for word in WORD.findall(raw)),
        wrap_width=_wrap_width(lines),
        wrapped_share=wrapped_share,
    )


def _is_footer(line: str, profile: _Profile) -> bool:
    match = FOOTER.match(line)
    return match is not None and (match.group(2) or match.group(3)).strip() in profile.footers


def _is_footnote(line: str, profile: _Profile) -> bool:
    match = FOOTNOTE_LINE.match(line)
    return match is not None and match.group(1) in profile.footnote_numbers


def _strip_references(line: str, profile: _Profile) -> str:
    if not profile.footnote_numbers:
        return line
    return GLUED_REFERENCE.sub(lambda m: "" if m.group(1) in profile.footnote_numbers else m.group(1), line)


def _normalise_bullet(line: str) -> str:
    match = BULLET.match(line)
    if not match or not line[match.end() :]:
        return line
    return "• " + line[match.end() :]


def _join(left: str, right: str, profile: _Profile) -> str:
    """Join two pieces of one paragraph, undoing a hyphenated line break."""
    head = re.search(r"([^\W\d_]+)-$", left)
    if head and right[:1].isalpha() and not right.startswith(SUSPENDED_HYPHEN_NEXT):
        tail = WORD.match(right)
        fragment = tail.group(0).split("-")[0] if tail else ""
        plain = profile.vocabulary[(head.group(1) + fragment).lower()]
        hyphenated = profile.vocabulary[f"{head.group(1)}-{fragment}".lower()]
        keep_hyphen = hyphenated > plain or (not plain and (head.group(1)[-1].isupper() or fragment[:1].isupper()))
        return left + right if keep_hyphen else left[:-1] + right
    if re.search(r"\d-$|§ ?\d+-$", left):
        return left + right
    return f"{left} {right}"


def _is_bullet(paragraph: str) -> bool:
    return paragraph.startswith("• ")


def _is_heading(paragraph: str) -> bool:
    return numbered_level(paragraph) is not None or label_of(paragraph) is not None


def _belongs_to(previous: str, line: str, last_line: str, blank_before: bool, profile: _Profile) -> bool:
    """Whether ``line`` continues the paragraph ``previous``.

    Lines of one block belong together unless the line opens something new (a
    bullet, a heading, a numbered item after a sentence end); across a blank
    line, or after a heading, only a real continuation does.
    """
    if _is_bullet(line) or _is_heading(line):
        return False
    if LIST_ITEM.match(line) and SENTENCE_END.search(previous):
        return False
    if blank_before or _is_heading(previous):
        return _continues(previous, line, last_line, profile)
    return True


def _continues(left: str, right: str, last_line: str, profile: _Profile) -> bool:
    """Whether ``right`` continues the paragraph ``left`` across a blank line.

    ``last_line`` is the last line of ``left`` as extracted: a line that runs
    to the document's wrap width and stops without punctuation was wrapped.
    """
    if label_of(left):
        return False
    if numbered_level(left):
        return len(right) <= 30 and not re.search(r"[.:!?]", right)
    if re.search(r"[^\W\d_]-$", left):
        return right[:1].isalpha()
    if right[:1].islower():
        return not left.endswith(":")
    if SENTENCE_END.search(left):
        return False
    if right[:1] in "(§–" or re.match(r"\d+,?\s+[a-zæøå]", right):
        return True
    wrapped = len(last_line) >= profile.wrapped_share * profile.wrap_width
    return left.endswith(",") or (wrapped and left[-1:].isalpha())


def _paragraphs(lines: list[str], profile: _Profile) -> list[str]:
    """Group lines into paragraphs, joining broken lines and broken paragraphs."""
    paragraphs: list[str] = []
    last_line = ""
    blank_before = True
    for line in lines:
        if not line:
            blank_before = True
            continue
        if paragraphs and _belongs_to(paragraphs[-1], line, last_line, blank_before, profile):
            paragraphs[-1] = _join(paragraphs[-1], line, profile)
        else:
            paragraphs.append(line)
        last_line = line
        blank_before = False
    return paragraphs


def _page_lines(text: str, profile: _Profile, footnotes: list[str]) -> list[str]:
    kept: list[str] = []
    for line in _lines(text):
        if _is_footer(line, profile):
            continue
        if _is_footnote(line, profile):
            footnotes.append(line)
            continue
        line = _normalise_bullet(_strip_references(line, profile))
        kept.extend(split_label(line))
    return kept


def clean_pages(pages: list[Page], wrapped_share: float = DEFAULT_WRAPPED_SHARE) -> CleanedDocument:
    """Clean a document page by page, keeping track of where each page starts.

    ``wrapped_share``: a line at least this share of the document's typical
    line width was wrapped by the layout, so its paragraph goes on after it.
    """
    profile = _profile("\n".join(page.text for page in pages), wrapped_share)
    footnotes: list[str] = []
    parts: list[str] = []
    page_starts: list[tuple[int, int | None]] = []
    offset = 0
    for page in pages:
        paragraphs = _paragraphs(_page_lines(page.text, profile, footnotes), profile)
        if not paragraphs:
            continue
        page_text = "\n\n".join(paragraphs)
        page_starts.append((offset, page.number))
        parts.append(page_text)
        offset += len(page_text) + 2
    return CleanedDocument("\n\n".join(parts), tuple(page_starts), tuple(footnotes))


def clean_text(text: str) -> str:
    """Clean one text without page information."""
    return clean_pages([Page(None, text)]).text

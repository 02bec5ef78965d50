"""A method comparison as the user takes it away: terminal text, Markdown, CSV and a PowerPoint slide (pure).

Every form carries the same cells (verbatim quotes with ``[n]`` markers, or
"ikke beskrevet i kilderne"), the "Tilbydes i" row and the numbered sources.
The slide shows the table with each cell's first quote shortened to fit (and
every marker), the speaker notes every citation in full.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence

from assistant.answer import source_label
from assistant.comparison import OFFERED_ROW, Cell, MethodTable, cell_text

NOT_OFFERED = "ikke nævnt som tilbud"
SLIDE_QUOTE_CHARS = 110
SLIDE_FONT_PT = 8
SLIDE_TITLE_PT = 24


def danish_list(items: Sequence[str]) -> str:
    """Items joined the Danish way: "CTI, ICM og ACT"."""
    return " og ".join([", ".join(items[:-1]), items[-1]]) if len(items) > 1 else "".join(items)


def title(table: MethodTable) -> str:
    """The comparison's heading."""
    return f"Metoderne side om side: {danish_list(table.methods)}"


def offered_lines(table: MethodTable, column: int) -> list[str]:
    """The "Tilbydes i" cell of one method: each municipality, with the marker of the unit offering it."""
    lines = []
    for name, cells in table.offered:
        numbers = " ".join(f"[{n}]" for n in dict.fromkeys(q.n for q in cells[column]))
        lines.append(f"{name}: ja {numbers}" if numbers else f"{name}: {NOT_OFFERED}")
    return lines


def grid(table: MethodTable, cell: Callable[[Cell], str] = cell_text, joiner: str = "\n") -> list[list[str]]:
    """The table as rows of text: a header, one row per aspect, the "Tilbydes i" row."""
    rows = [["Aspekt", *table.methods]]
    rows += [[label.capitalize(), *(cell(c) for c in cells)] for label, cells in table.rows]
    if table.offered:
        rows.append([OFFERED_ROW, *(joiner.join(offered_lines(table, i)) for i in range(len(table.methods)))])
    return rows


def citation_lines(table: MethodTable) -> list[tuple[int, str, list[str]]]:
    """Each numbered source: its label and the quotes taken from it, in order."""
    return [
        (n, source_label(chunk), list(dict.fromkeys(" ".join(c.quote.split()) for c in table.citations if c.n == n)))
        for n, chunk in table.sources()
    ]


def to_text(table: MethodTable) -> str:
    """The comparison for the terminal: per aspect each method's quotes, then the sources."""
    lines = [title(table), ""]
    for label, *cells in grid(table, joiner="; ")[1:]:
        lines.append(f"{label}:")
        lines += [f"  {method}: {text}" for method, text in zip(table.methods, cells, strict=True)]
    lines.append("")
    lines += [f"[{n}] {label}" for n, label, _ in citation_lines(table)]
    return "\n".join(lines)


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def to_markdown(table: MethodTable) -> str:
    """The comparison as a Markdown table with the numbered sources and their quotes below."""
    header, *body = grid(table)
    lines = [f"# {title(table)}", ""]
    lines.append("| " + " | ".join(_markdown_cell(h) for h in header) + " |")
    lines.append("|" + "---|" * len(header))
    lines += ["| " + " | ".join(_markdown_cell(v) for v in row) + " |" for row in body]
    lines += ["", "## Kilder", ""]
    for n, label, quotes in citation_lines(table):
        lines += [f"**[{n}]** {label}", ""]
        lines += [f"> {quote}\n" for quote in quotes]
    return "\n".join(lines).rstrip() + "\n"


def to_csv(table: MethodTable) -> str:
    """The comparison as CSV: the table, an empty line, then one line per numbered source."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows(grid(table))
    writer.writerow([])
    writer.writerow(["Kilde", "Dokument", "Udsteder", "Afsnit", "Side"])
    for n, chunk in table.sources():
        writer.writerow([f"[{n}]", chunk.title, chunk.issuer, chunk.section, chunk.page or ""])
    return out.getvalue()


def _shortened(cell: Cell) -> str:
    """A cell on the slide: its first quote cut at a word to fit, with every marker (the notes hold them whole)."""
    if not cell:
        return cell_text(cell)
    text = cell[0].text
    if len(text) > SLIDE_QUOTE_CHARS:
        text = text[:SLIDE_QUOTE_CHARS].rsplit(" ", 1)[0] + " …"
    return f"{text} " + " ".join(f"[{n}]" for n in dict.fromkeys(q.n for q in cell))


def speaker_notes(table: MethodTable) -> str:
    """Every citation in full: number, source and the verbatim quotes."""
    lines = ["Kilder (ordrette citater):"]
    for n, label, quotes in citation_lines(table):
        lines.append(f"[{n}] {label}")
        lines += [f"    »{quote}«" for quote in quotes]
    return "\n".join(lines)


def to_pptx(table: MethodTable) -> bytes:
    """One 16:9 slide with the table (first quotes shortened) and the full citations in the speaker notes."""
    from pptx import Presentation
    from pptx.util import Emu, Inches, Pt

    presentation = Presentation()
    slide_width, slide_height = Inches(13.333), Inches(7.5)
    presentation.slide_width, presentation.slide_height = slide_width, slide_height
    slide = presentation.slides.add_slide(presentation.slide_layouts[5])  # "Title Only"
    heading = slide.shapes.title
    heading.left, heading.top, heading.width, heading.height = Inches(0.4), Inches(0.2), Inches(12.5), Inches(0.8)
    heading.text = title(table)
    heading.text_frame.paragraphs[0].runs[0].font.size = Pt(SLIDE_TITLE_PT)
    rows = grid(table, _shortened)
    left, top = Inches(0.3), Inches(1.1)
    width, height = slide_width - 2 * left, slide_height - top - Inches(0.2)
    shape = slide.shapes.add_table(len(rows), len(rows[0]), left, top, width, height)
    first = Inches(1.4)
    shape.table.columns[0].width = first
    for column in list(shape.table.columns)[1:]:
        column.width = Emu(int((width - first) / (len(rows[0]) - 1)))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            frame = shape.table.cell(r, c).text_frame
            frame.word_wrap = True
            frame.text = value
            for paragraph in frame.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(SLIDE_FONT_PT + (2 if r == 0 else 0))
    slide.notes_slide.notes_text_frame.text = speaker_notes(table)
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()

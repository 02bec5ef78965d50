"""Real PDF files for the loader tests, generated with fpdf2 (Danish letters, several pages)."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

PAGES = [
    "1. Målgruppe\nBorgere i hjemløshed kan tilbydes bostøtte efter § 85 a. Støtten gives i egen bolig.",
    "2. Klage\nEn klage skal indgives inden 4 uger efter modtagelsen af afgørelsen. Ankestyrelsen behandler klagen.",
    "3. Økonomi\nDer gives statsrefusion på 50 procent i op til 2 år. Udgiften er 1,5 mio. kr. årligt.",
]


def write_pdf(path: Path, pages: list[str] = PAGES, password: str | None = None) -> Path:
    """A PDF with one page per text (core font: Latin-1 covers æ, ø, å and §)."""
    pdf = FPDF()
    if password:
        pdf.set_encryption(owner_password=password + "-owner", user_password=password)
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        for line in text.split("\n"):
            pdf.multi_cell(0, 8, line)
            pdf.ln(4)
    pdf.output(str(path))
    return path


def write_owner_locked_pdf(path: Path, method: str = "RC4") -> Path:
    """A PDF that opens without a password but forbids editing (only an owner password is set)."""
    from fpdf.enums import EncryptionMethod

    pdf = FPDF()
    pdf.set_encryption(owner_password="ejer-kodeord", encryption_method=EncryptionMethod[method])
    pdf.set_font("Helvetica", size=12)
    for text in PAGES:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    pdf.output(str(path))
    return path


def write_blank_pdf(path: Path, pages: int = 2) -> Path:
    """A PDF whose pages hold no text (like a scan without a text layer)."""
    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        pdf.rect(20, 20, 50, 50)
    pdf.output(str(path))
    return path


# A municipality's own quality standard, several pages, for adding a document (hfa add, the Kilder page).
SYDDJURS_PAGES = [
    "Kvalitetsstandard for bostøtte efter Housing First\nSyddjurs Kommune, Social og Sundhed, 2025\n"
    "Denne kvalitetsstandard beskriver, hvordan Syddjurs Kommune tilbyder bostøtte efter servicelovens § 85 a "
    "til borgere i hjemløshed. Standarden er vedtaget af Social- og Sundhedsudvalget.",
    "Målgruppe og metode\nMålgruppen er borgere over 18 år, der er i hjemløshed eller i risiko for at blive "
    "hjemløse. I Syddjurs Kommune gives støtten efter ICM-metoden. En medarbejder har højst 8 borgere ad gangen.",
    "Klageadgang\nDu kan klage over afgørelsen. Klagefristen er 4 uger fra modtagelsen af afgørelsen. "
    "Klagen sendes til Syddjurs Kommune, som genvurderer sagen, inden den sendes videre til Ankestyrelsen.",
]

"""Table-driven tests of the cleaning, built from real lines of the corpus."""

import pytest

from ingest.cleaning import clean_pages, clean_text
from ingest.documents import Page
from ingest.headings import numbered_level

CASES = [
    (
        "word hyphenated across a blank line is rejoined",
        "De fagprofessionelle samarbejder med borgeren om hurtigst muligt at tilve-\n\njebringe en betalelig bolig.",
        "De fagprofessionelle samarbejder med borgeren om hurtigst muligt at tilvejebringe en betalelig bolig.",
    ),
    (
        "capitalised split word is rejoined when the document knows the whole word",
        "Housing First er en tilgang. Ifølge Hou-\n\nsing First-tilgangen er boligen udgangspunktet.",
        "Housing First er en tilgang. Ifølge Housing First-tilgangen er boligen udgangspunktet.",
    ),
    (
        "real hyphen at a line break survives (the document writes First-tilgangen)",
        "et forslag til en kvalitetsstandard for bostøtte efter Housing First-\n\ntilgangen. "
        "Housing First-tilgangen er ny.",
        "et forslag til en kvalitetsstandard for bostøtte efter Housing First-tilgangen. Housing First-tilgangen er ny.",
    ),
    (
        "real hyphens inside lines survive",
        "CTI-metoden og ACT-team i en § 110-boform.",
        "CTI-metoden og ACT-team i en § 110-boform.",
    ),
    (
        "acronym before a line-break hyphen keeps it",
        "Medarbejderne i et ACT-\n\nteam arbejder tværfagligt.",
        "Medarbejderne i et ACT-team arbejder tværfagligt.",
    ),
    (
        "suspended hyphen before 'og' is kept",
        "Hvis borgeren får støtte fra aktivitets-\n\nog samværstilbud.",
        "Hvis borgeren får støtte fra aktivitets- og samværstilbud.",
    ),
    (
        "paragraph broken by blank lines mid-sentence is rejoined",
        "Tilgangen er i dag udbredt i arbejdet med borgere i hjemløshed i mange lande og har været anvendt i Danmark siden \n\n"
        "2009, hvor den blev introduceret i forbindelse med Hjemløsestrategien.",
        "Tilgangen er i dag udbredt i arbejdet med borgere i hjemløshed i mange lande og har været anvendt i Danmark "
        "siden 2009, hvor den blev introduceret i forbindelse med Hjemløsestrategien.",
    ),
    (
        "a date split over a blank line is rejoined",
        "Hjemløshedsreformen, der trådte i kraft den 1. \n\noktober 2023.",
        "Hjemløshedsreformen, der trådte i kraft den 1. oktober 2023.",
    ),
    (
        "paragraphs that end a sentence stay apart",
        "Det primære mål med støtten er, at du bliver selvhjulpen. \n\nI Norddjurs Kommune anvendes CTI-metoden.",
        "Det primære mål med støtten er, at du bliver selvhjulpen.\n\nI Norddjurs Kommune anvendes CTI-metoden.",
    ),
    (
        "broken bullet glyphs become one bullet style",
        "Housing First bygger på følgende otte kerneprincipper:\n\n � boligen som en basal menneskeret \n\n"
        " � recovery-orientering \n\n- inklusion i samfundet \n\n\uf0b7 Intensive Case Management (ICM)\n\n  • skadesreduktion.",
        "Housing First bygger på følgende otte kerneprincipper:\n\n• boligen som en basal menneskeret\n\n"
        "• recovery-orientering\n\n• inklusion i samfundet\n\n• Intensive Case Management (ICM)\n\n• skadesreduktion.",
    ),
    (
        "heading split over two lines is rejoined, heading stays its own paragraph",
        " 2. Kerneprincipperne i \nHousing First\n\nHousing First er en helhedsorienteret tilgang.",
        "2. Kerneprincipperne i Housing First\n\nHousing First er en helhedsorienteret tilgang.",
    ),
    (
        "numbered heading followed directly by text is kept apart from it",
        "4.3.1. CTI-metodens formål og værdigrundlag\nCTI-metoden er kendetegnet ved en intensiv indsats.",
        "4.3.1. CTI-metodens formål og værdigrundlag\n\nCTI-metoden er kendetegnet ved en intensiv indsats.",
    ),
    (
        "quality-standard label glued to its text is split off",
        "Kriterier og omfang I Norddjurs Kommune anvendes CTI-metoden, som er \ntidsbegrænset til ni måneder.",
        "Kriterier og omfang\n\nI Norddjurs Kommune anvendes CTI-metoden, som er tidsbegrænset til ni måneder.",
    ),
]


@pytest.mark.parametrize(("why", "raw", "expected"), CASES, ids=[c[0] for c in CASES])
def test_cleaning(why: str, raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_running_footers_are_dropped_but_a_repeated_body_line_is_not() -> None:
    raw = (
        "Støtten gives i borgerens hjem.\n\n17Socialstyrelsen\n\nDen tager udgangspunkt i borgeren.\n\n"
        "18 Housing First-tilgangen\n\nStøttekontakt etableres i slutning af §110\n\n"
        "28 Housing First-tilgangen\n\n45Socialstyrelsen\n\nStøttekontakt etableres i slutning af §110"
    )
    cleaned = clean_text(raw)
    assert "Socialstyrelsen" not in cleaned and "Housing First-tilgangen" not in cleaned
    assert cleaned.count("Støttekontakt etableres i slutning af §110") == 2


def test_footnotes_are_moved_out_and_reference_numbers_unglued() -> None:
    raw = (
        "Der er udarbejdet nationale retningslinjer for indsatsen mod hjemløshed3, især: \n\n"
        "3 Nationale retningslinjer for indsatsen mod hjemløshed (socialstyrelsen.dk)\n\n"
        "Retningslinjerne er ikke juridisk bindende1. \n\n"
        "1 Retten til bolig. Status 2014-2015 (menneskeret.dk, PDF)"
    )
    document = clean_pages([Page(None, raw)])
    assert document.text == (
        "Der er udarbejdet nationale retningslinjer for indsatsen mod hjemløshed, især:\n\n"
        "Retningslinjerne er ikke juridisk bindende."
    )
    assert document.footnotes == (
        "3 Nationale retningslinjer for indsatsen mod hjemløshed (socialstyrelsen.dk)",
        "1 Retten til bolig. Status 2014-2015 (menneskeret.dk, PDF)",
    )


def test_page_offsets_point_into_the_cleaned_text() -> None:
    document = clean_pages([Page(1, "Første side om CTI."), Page(2, "Anden side om ICM.")])
    second = document.text.index("Anden")
    assert document.page_at(0) == 1
    assert document.page_at(second) == 2


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("2.5. Adskillelse af bolig og støttetilbud", 2),
        ("4.3.1. CTI-metodens formål og værdigrundlag", 3),
        ("4.4 ICM – Intensive Case Management", 2),
        ("1. Housing First", 1),
        ("Bilag 1: Efterlevelsesskema for Housing First", 1),
        ("5. Fokus på forebyggelse. Der kan med fordel sættes tidligt ind.", None),
        ("2009, hvor den blev introduceret", None),
    ],
)
def test_numbered_headings_are_told_from_numbered_items(line: str, level: int | None) -> None:
    assert numbered_level(line) == level


def test_list_numbers_do_not_end_a_sentence() -> None:
    from ingest.text import sentence_spans

    text = "• 1. Fase: Overgang til egen bolig. Se f.eks. Bilag 2. Slut."
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "• 1. Fase: Overgang til egen bolig.",
        "Se f.eks. Bilag 2.",
        "Slut.",
    ]


def test_the_wrapped_line_share_is_the_setting() -> None:
    # The first paragraph's last line runs to 80 % of the typical width and stops without punctuation.
    width = "Borgeren tilbydes en selvstændig bolig i almindeligt byggeri og støtte."
    pages = [Page(None, f"{width}\n{width}\n{width[: int(len(width) * 0.8)].rstrip()}\n\nFremtiden er vigtig.")]
    assert clean_pages(pages, wrapped_share=0.75).text.count("\n\n") == 0  # taken as wrapped: joined
    assert clean_pages(pages, wrapped_share=0.95).text.count("\n\n") == 1  # a short line: a new paragraph

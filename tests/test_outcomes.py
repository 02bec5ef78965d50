"""Graded outcomes over the real index and the shipped taught model (issue 17's four failures among them)."""

from __future__ import annotations

import json

import pytest

from assistant.answering.model import MODEL_FILE, ModelError, read_model
from assistant.answering.outcome import ANSWER, NEAREST, NOT_COVERED
from assistant.service import NEAREST_LEAD

pytestmark = pytest.mark.slow


def visible(answer) -> str:
    return " ".join(answer.text.split()).casefold()


def test_every_answer_has_an_outcome_and_a_confidence_in_the_json_contract(assistant) -> None:
    data = assistant.answer("Hvad er klagefristen for en afgørelse efter § 85 a?").to_json()
    assert data["outcome"] in (ANSWER, NEAREST, NOT_COVERED)
    assert 0.0 <= data["confidence"] <= 1.0
    assert data["refused"] is (data["outcome"] == NOT_COVERED)


def test_a_municipality_no_document_knows_is_not_covered_and_refused(assistant) -> None:
    answer = assistant.answer("Hvad er klagefristen for bostøtte i Odense Kommune?")
    assert answer.outcome == NOT_COVERED and answer.refused and not answer.citations


def test_the_passage_that_answers_a_caseworker_is_shown_not_refused(assistant) -> None:
    # "indlagt" is spelt "indlægges" in the manual: no word of the answer matches, but its passage is retrieved.
    answer = assistant.answer("Min borger er blevet indlagt på psykiatrisk. Skal jeg tage kontakt til afdelingen?")
    assert answer.outcome != NOT_COVERED and not answer.refused
    assert "orientere hospital eller fængsel" in answer.text
    if answer.outcome == NEAREST:
        assert answer.text.startswith(NEAREST_LEAD)
    assert all(chunk.section for _, chunk in answer.sources())
    for citation in answer.citations:
        assert citation.chunk.text[citation.start : citation.end] == citation.quote


def test_a_list_asked_for_with_kan_du_liste_dem_shows_the_principles(assistant) -> None:
    answer = assistant.answer("Hvad er de otte kerneprincipper i Housing First? kan du liste dem")
    text = visible(answer)
    assert sum(word in text for word in ("menneskeret", "recovery", "skadesreduktion", "selvbestemmelse")) >= 2, text


def test_the_phases_of_cti_are_shown_to_an_english_question(assistant) -> None:
    answer = assistant.answer("What are the three phases of CTI and how long does each last?")
    text = visible(answer)
    assert "ni måneder" in text and "tre lige lange faser" in text, text


def test_the_final_approval_date_is_visible(assistant) -> None:
    answer = assistant.answer("Hvilken dato blev kvalitetsstandarden endeligt godkendt i udvalget?")
    assert "24-04-2024" in answer.text
    # The hearing date is never given as the answer on its own.
    assert not (answer.outcome == ANSWER and "24-04-2024" not in answer.text.splitlines()[0])


def test_the_shipped_model_was_trained_on_dev_only_and_a_broken_file_is_named(tmp_path) -> None:
    model = read_model(MODEL_FILE)
    assert model.trained["split"] == "dev"
    assert len(model.units.coef) == len(model.units.features)
    broken = tmp_path / "model.json"
    broken.write_text(json.dumps({"version": 0}), encoding="utf-8")
    with pytest.raises(ModelError, match="hfa train"):
        read_model(broken)

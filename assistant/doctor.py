"""``hfa doctor``: is the configured language model reachable, and does the model exist?"""

from __future__ import annotations

from dataclasses import dataclass

from hfa_settings import Settings, llm_api_key


@dataclass(frozen=True)
class Diagnosis:
    """Whether the backend is usable, and what to tell the user (in Danish)."""

    ok: bool
    lines: list[str]


def _ollama(settings: Settings) -> Diagnosis:
    import httpx
    import ollama

    client = ollama.Client(host=settings.llm_base_url or None, timeout=settings.llm_timeout)
    where = settings.llm_base_url or "standardadressen (http://127.0.0.1:11434)"
    try:
        available = [m.model for m in client.list().models if m.model]
    except (ConnectionError, ollama.ResponseError, httpx.HTTPError) as exc:
        return Diagnosis(
            False,
            [
                f"Ollama svarer ikke på {where}: {exc}",
                "Start Ollama (fx 'ollama serve'), eller ret HFA_LLM_BASE_URL.",
            ],
        )
    try:
        client.show(settings.llm_model)
    except ollama.ResponseError:
        found = ", ".join(available) or "ingen"
        return Diagnosis(
            False,
            [
                f"Ollama kører på {where}, men modellen '{settings.llm_model}' er ikke hentet (hentede: {found}).",
                f"Hent den med: ollama pull {settings.llm_model}",
            ],
        )
    return Diagnosis(True, [f"Ollama kører på {where}, og modellen '{settings.llm_model}' er klar."])


def _openai(settings: Settings) -> Diagnosis:
    import openai

    api_key = llm_api_key()
    if not api_key:
        return Diagnosis(
            False,
            [
                "Der mangler en API-nøgle.",
                "Sæt OPENAI_API_KEY (eller HFA_LLM_API_KEY) i miljøet; gem den ikke i en fil.",
            ],
        )
    client = openai.OpenAI(
        api_key=api_key, base_url=settings.llm_base_url or None, timeout=settings.llm_timeout, max_retries=0
    )
    where = str(client.base_url)
    try:
        available = [m.id for m in client.models.list()]
    except openai.AuthenticationError:
        return Diagnosis(False, [f"{where} afviste API-nøglen (401).", "Tjek OPENAI_API_KEY (eller HFA_LLM_API_KEY)."])
    except openai.APIStatusError as exc:
        return Diagnosis(False, [f"{where} svarede med fejl {exc.status_code}.", "Tjek HFA_LLM_BASE_URL og prøv igen."])
    except openai.APIConnectionError as exc:
        return Diagnosis(False, [f"{where} kan ikke nås: {exc}", "Tjek HFA_LLM_BASE_URL og netværket."])
    if settings.llm_model not in available:
        return Diagnosis(
            False,
            [
                f"{where} kører, men har ikke modellen '{settings.llm_model}'.",
                f"Vælg en af: {', '.join(available) or 'ingen'} (HFA_LLM_MODEL=…).",
            ],
        )
    return Diagnosis(True, [f"{where} svarer, og modellen '{settings.llm_model}' findes."])


def diagnose(settings: Settings) -> Diagnosis:
    """Check the configured backend and model."""
    if settings.llm_backend == "extractive":
        return Diagnosis(
            True,
            [
                "Ingen sprogmodel er sat op (HFA_LLM_BACKEND=extractive): svarene er udtrukne citater.",
                "Se docs/llm.md for at bruge Ollama eller et OpenAI-kompatibelt endpoint.",
            ],
        )
    if not settings.llm_model:
        return Diagnosis(False, ["Der er ikke valgt en model.", "Sæt HFA_LLM_MODEL (fx HFA_LLM_MODEL=gemma3:4b)."])
    return _ollama(settings) if settings.llm_backend == "ollama" else _openai(settings)

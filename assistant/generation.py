"""Generative answers through a local (Ollama) or hosted (OpenAI-compatible) language model.

The extractive answer is always computed first: it is the fallback when the
model fails or its answer does not hold up, and its evidence check says whether
the passages were strong enough that a refusal by the model is a failure.
The model sees the same passages, numbered and labelled with their source; its
answer is streamed token by token and then checked by :mod:`assistant.citecheck`.
Every wait for the model is bounded by ``llm_timeout``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import httpx
from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from ollama import ResponseError
from pydantic import SecretStr

from assistant.answer import Answer, source_label
from assistant.answering.outcome import ANSWER
from assistant.citecheck import build_citations, check_citations, claim_support, is_refusal, source_text
from assistant.prompts import answer_prompt, rewrite_prompt
from assistant.retrieval import Passage
from hfa_settings import Settings, llm_api_key

TokenCallback = Callable[[str], None]
log = logging.getLogger(__name__)


class GenerationTimeout(TimeoutError):
    """The model sent nothing for ``llm_timeout`` seconds."""


class BackendNotConfigured(ValueError):
    """The backend lacks a model name or an API key."""


def chat_model(settings: Settings) -> BaseChatModel:
    """The LangChain chat model of the configured backend.

    OpenAI: the client retries connection errors, timeouts, 408, 409, 429 and 5xx
    (not 400/401/403/404) up to ``llm_max_retries`` times with exponential backoff.
    Ollama runs locally and is not retried.
    """
    if not settings.llm_model:
        raise BackendNotConfigured("Der er ikke valgt en sprogmodel. Sæt HFA_LLM_MODEL (fx HFA_LLM_MODEL=gemma3:4b).")
    if settings.llm_backend == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(
            model=settings.llm_model,
            base_url=settings.llm_base_url or None,
            temperature=settings.llm_temperature,
            client_kwargs={"timeout": settings.llm_timeout},
        )
    if settings.llm_backend == "openai":
        from langchain_openai import ChatOpenAI

        api_key = llm_api_key()
        if not api_key:
            raise BackendNotConfigured("Der mangler en API-nøgle. Sæt OPENAI_API_KEY eller HFA_LLM_API_KEY i miljøet.")
        return ChatOpenAI(
            model=settings.llm_model,
            base_url=settings.llm_base_url or None,
            api_key=SecretStr(api_key),
            temperature=settings.llm_temperature,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
            use_responses_api=False,
        )
    raise BackendNotConfigured(f"llm_backend '{settings.llm_backend}' bruger ingen sprogmodel.")


def stream_text(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    timeout: float,
    on_token: TokenCallback | None = None,
) -> str:
    """The model's reply, passing each token to ``on_token`` as it arrives.

    The model runs in a worker thread so that no wait for the next token, retries
    included, exceeds ``timeout`` seconds; an abandoned worker stops at its next
    token and its HTTP client's own timeout ends a blocked read.
    """
    tokens: queue.Queue[str | BaseException | None] = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        try:
            for chunk in model.stream(messages):
                if stop.is_set():
                    return
                tokens.put(chunk.text)
            tokens.put(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            tokens.put(exc)

    threading.Thread(target=work, name="hfa-llm", daemon=True).start()
    parts: list[str] = []
    try:
        while True:
            try:
                item = tokens.get(timeout=timeout)
            except queue.Empty:
                raise GenerationTimeout(timeout) from None
            if item is None:
                return "".join(parts)
            if isinstance(item, BaseException):
                raise item
            if item:
                parts.append(item)
                if on_token:
                    on_token(item)
    finally:
        stop.set()


def failure_notice(exc: BaseException, settings: Settings) -> tuple[str, str]:
    """A reason code and a Danish explanation for a failed call to the model."""
    backend = settings.llm_backend
    status = exc.status_code if isinstance(exc, ResponseError) else None
    if isinstance(exc, GenerationTimeout | ModelTimeoutError | httpx.TimeoutException):
        return "timeout", f"Sprogmodellen ({backend}) svarede ikke inden for {settings.llm_timeout:g} sekunder."
    if isinstance(exc, ModelAuthenticationError | ModelPermissionDeniedError) or status in (401, 403):
        return "auth", "Sprogmodellen afviste API-nøglen. Tjek OPENAI_API_KEY (eller HFA_LLM_API_KEY)."
    if isinstance(exc, ModelRateLimitError) or status == 429:
        return "rate_limit", "Sprogmodellen har for mange forespørgsler lige nu (429). Prøv igen om lidt."
    if isinstance(exc, ContextOverflowError):
        return "context_too_long", "Spørgsmål og passager er for lange til sprogmodellen. Prøv med færre (--k)."
    if isinstance(exc, ModelNotFoundError) or status == 404:
        return "model_not_found", f"Modellen '{settings.llm_model}' findes ikke hos {backend}. Kør 'hfa doctor'."
    if isinstance(exc, ModelConnectionError | ConnectionError | httpx.TransportError):
        return "unreachable", f"Sprogmodellen ({backend}) kan ikke nås. Kør 'hfa doctor' for at se hvorfor."
    if isinstance(exc, ModelError | ResponseError):
        return "server_error", f"Sprogmodellen ({backend}) fejlede: {exc}"
    if isinstance(exc, BackendNotConfigured):
        return "config", str(exc)
    return "error", f"Sprogmodellen ({backend}) gav et svar, der ikke kunne læses ({type(exc).__name__})."


def format_passages(passages: list[Passage]) -> str:
    """The passages numbered as the model must cite them, each delimited and labelled with its source."""
    return "\n\n".join(
        f"<passage nr={n}>\nKilde: {source_label(p.chunk)}\n{p.chunk.text}\n</passage>"
        for n, p in enumerate(passages, start=1)
    )


def _fallback(extractive: Answer, reason: str, notice: str) -> Answer:
    return replace(
        extractive,
        fallback_reason=reason,
        notices=(f"{notice} Du får det udtrukne svar i stedet.", *extractive.notices),
    )


def _checked(extractive: Answer, text: str, settings: Settings) -> Answer:
    """The generated answer if its citations hold up by content, else the extractive one."""
    passages = list(extractive.passages)
    sources = [source_text(p.chunk) for p in passages]

    def supported(sentence: str, cited: tuple[int, ...]) -> bool:
        support = claim_support(sentence, [sources[n - 1] for n in cited], settings)
        if not support.supported:
            log.info("Sætning uden støtte i %s: %r (%s)", list(cited), sentence, support)
        return support.supported

    check = check_citations(text, len(passages), supported)
    if not check.text:
        return _fallback(extractive, "empty_output", "Sprogmodellen returnerede et tomt svar.")
    if is_refusal(check.text) and not check.cited:
        if extractive.outcome == ANSWER:
            return _fallback(extractive, "model_refused", "Sprogmodellen fandt intet svar, men kilderne dækker emnet.")
        return replace(extractive, mode=settings.llm_backend)  # the nearest the sources say still stands
    if not check.cited and not check.rejected:
        return _fallback(extractive, "no_citations", "Sprogmodellens svar henviste ikke til nogen kilde.")
    if check.key_claim_unsupported(settings.claim_max_unsupported_share):
        return _fallback(
            extractive, "unsupported_claims", "Sprogmodellens svar siger mere, end de kilder, det henviser til, dækker."
        )
    notices = []
    if check.invalid:
        markers = ", ".join(f"[{n}]" for n in check.invalid)
        notices.append(f"Henvisninger til passager, der ikke findes ({markers}), er fjernet.")
    if check.rejected:
        notices.append(
            f"{len(check.rejected)} sætning(er) i svaret siger mere, end de citerede passager dækker; "
            "henvisningen er fjernet. Læs med forbehold."
        )
    if check.uncited:
        notices.append(f"{len(check.uncited)} sætning(er) i svaret har ingen kildehenvisning; læs med forbehold.")
    return Answer(
        extractive.question,
        check.text,
        False,
        tuple(build_citations(check, passages)),
        extractive.passages,
        searched=extractive.searched,
        mode=settings.llm_backend,
        kind=extractive.kind,
        notices=tuple(notices),
        unsupported_sentences=tuple(check.unsupported),
        outcome=ANSWER,
        confidence=extractive.confidence,
    )


def generate(extractive: Answer, settings: Settings, on_token: TokenCallback | None = None) -> Answer:
    """The model's answer from the extractive answer's passages, checked; the extractive answer when it fails.

    ``on_token`` sees the model's text as it streams, before the check: show it
    as provisional and replace it with the returned answer.
    """
    messages = answer_prompt(settings).format_messages(
        question=extractive.searched or extractive.question, passages=format_passages(list(extractive.passages))
    )
    started = time.perf_counter()
    try:
        text = stream_text(chat_model(settings), messages, settings.llm_timeout, on_token)
        answer = _checked(extractive, text, settings)
    except Exception as exc:  # any failure of the model means the extractive answer
        log.warning("Sprogmodellen (%s) fejlede", settings.llm_backend, exc_info=exc)
        answer = _fallback(extractive, *failure_notice(exc, settings))
    return replace(answer, timings_ms=answer.timings_ms | {"generate": (time.perf_counter() - started) * 1000})


def rewrite_with_model(history: list[str], question: str, settings: Settings) -> str | None:
    """A follow-up question made standalone by the model; None when the model fails or says nothing."""
    try:
        messages = rewrite_prompt(settings).format_messages(
            history="\n".join(f"{i}. {q}" for i, q in enumerate(history, start=1)), question=question
        )
        lines = stream_text(chat_model(settings), messages, settings.llm_timeout).strip().splitlines()
    except Exception as exc:  # the rule-based rewrite is always available
        log.warning("Sprogmodellen kunne ikke omskrive opfølgningen", exc_info=exc)
        return None
    return lines[0].strip() if lines and lines[0].strip() else None

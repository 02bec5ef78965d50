"""What the index knows by name, learned from the indexed chunks (never a list kept in code).

- municipalities: from the issuers ("Norddjurs Kommune, Voksen- og
  Plejeudvalget" → Norddjurs) and the scopes of their documents;
- methods: acronyms the documents use as headings ("4.3. CTI – Critical Time
  Intervention" → CTI, with its long name as an alias), and their prefixed
  variants in the text (M-ACT);
- §-references ("§ 85 a", "§ 110");
- words: every word form with its frequency, for spelling as people type it
  (missing æøå, small typos, compounds).

Built at the end of every ingest and stored beside the catalog; an index built
before the vocabulary existed gets it computed from its chunks on opening.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ingest.documents import Chunk

VOCABULARY_FILE = "vocabulary.json"
NATIONAL = "national"
MUNICIPALITY = re.compile(r"\b([A-ZÆØÅ][a-zæøå]+(?:-[A-ZÆØÅ][a-zæøå]+)?)s? Kommunes?\b")
ACRONYM = re.compile(r"(?<![\w-])(?:[A-ZÆØÅ]-)?[A-ZÆØÅ]{2,6}(?![\w-])")
# "CTI – Critical Time Intervention": an acronym heading followed by its long name.
ACRONYM_HEADING = re.compile(r"(?<![\w-])([A-ZÆØÅ]{2,6}) [–-] ((?:[A-ZÆØÅ][\w-]+ ?){2,6})")
PARAGRAPH_REF = re.compile(r"§+ ?(\d+(?: ?[a-z]\b)?)")
WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


@dataclass(frozen=True)
class Vocabulary:
    """Named entities and word forms of the indexed documents."""

    municipalities: dict[str, list[str]] = field(default_factory=dict)  # name -> scopes
    scope_names: dict[str, str] = field(default_factory=dict)  # scope -> "Norddjurs Kommune"
    methods: dict[str, list[str]] = field(default_factory=dict)  # acronym -> aliases (long names)
    paragraphs: list[str] = field(default_factory=list)  # "85 a", "110"
    words: dict[str, int] = field(default_factory=dict)  # lower-cased word form -> frequency

    @classmethod
    def from_chunks(cls, chunks: Iterable[Chunk]) -> Vocabulary:
        """Learn the vocabulary from the indexed chunks."""
        chunks = list(chunks)
        municipalities: dict[str, set[str]] = {}
        scope_names: dict[str, str] = {}
        for chunk in chunks:
            match = MUNICIPALITY.search(chunk.issuer)
            if match and chunk.scope != NATIONAL:
                municipalities.setdefault(match.group(1), set()).add(chunk.scope)
                scope_names.setdefault(chunk.scope, f"{match.group(1)} Kommune")
            scope_names.setdefault(chunk.scope, chunk.issuer or chunk.title)
        return cls(
            municipalities={name: sorted(scopes) for name, scopes in sorted(municipalities.items())},
            scope_names=dict(sorted(scope_names.items())),
            methods=_methods(chunks),
            paragraphs=sorted({" ".join(m.group(1).split()) for c in chunks for m in PARAGRAPH_REF.finditer(c.text)}),
            words=dict(Counter(w.lower() for c in chunks for w in WORD.findall(f"{c.section} {c.text}"))),
        )

    def scope_name(self, chunk: Chunk) -> str:
        """How the body behind a chunk's scope is named to the user ("Norddjurs Kommune")."""
        return self.scope_names.get(chunk.scope) or chunk.issuer or chunk.title

    def save(self, index_dir: Path) -> Path:
        """Write ``vocabulary.json`` next to the catalog (atomically, keeping the umask)."""
        path = index_dir / VOCABULARY_FILE
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(asdict(self), ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, index_dir: Path, chunks: Iterable[Chunk]) -> Vocabulary:
        """The stored vocabulary, or one learned from ``chunks`` when none is stored or it is unreadable."""
        try:
            return cls(**json.loads((index_dir / VOCABULARY_FILE).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return cls.from_chunks(chunks)


def _methods(chunks: list[Chunk]) -> dict[str, list[str]]:
    """Acronyms that head a section, their prefixed variants in the text, and their long names."""
    headed = Counter(a for c in {c.section for c in chunks} for a in set(ACRONYM.findall(c)))
    methods: dict[str, set[str]] = {a: set() for a in headed}
    for chunk in chunks:
        for match in ACRONYM_HEADING.finditer(chunk.section):
            methods.setdefault(match.group(1), set()).add(match.group(2).strip())
        for acronym in ACRONYM.findall(chunk.text):
            base = acronym.split("-")[-1]
            if "-" in acronym and base in methods:
                methods.setdefault(acronym, set())
    return {name: sorted(aliases) for name, aliases in sorted(methods.items())}

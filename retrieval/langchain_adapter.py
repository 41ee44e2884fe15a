"""LangChain adapter: the hybrid knowledge search as a ``BaseRetriever`` returning ``Document``s."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from retrieval.hybrid import KnowledgeIndex, Mode, SearchFilters


class KnowledgeRetriever(BaseRetriever):
    """Retrieves knowledge entries of one tenant's index; metadata carries entry id, kind, products and scores."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: KnowledgeIndex = Field(description="The tenant's knowledge index.")
    k: int = Field(4, ge=1, description="Number of documents to return.")
    filters: SearchFilters = Field(default_factory=SearchFilters, description="Graph constraints (default: published).")
    mode: Mode = Field("hybrid", description="hybrid, vector or keyword.")

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,  # noqa: ARG002 (part of LangChain's signature)
        **kwargs: Any,
    ) -> list[Document]:
        k = int(kwargs.get("k", self.k))
        hits = self.index.search(query, k=k, filters=kwargs.get("filters", self.filters), mode=self.mode)
        docs = []
        for hit in hits:
            entry = self.index.docs[hit.entry_id]
            docs.append(
                Document(
                    page_content=entry.text,
                    id=hit.entry_id,
                    metadata={
                        "entry_id": hit.entry_id,
                        "kind": hit.kind,
                        "version": hit.version,
                        "tenant": self.index.tenant,
                        "products": list(hit.skus),
                        "indications": list(hit.indications),
                        "score": hit.score,
                        "vector_rank": hit.vector_rank,
                        "vector_score": hit.vector_score,
                        "keyword_rank": hit.keyword_rank,
                        "keyword_score": hit.keyword_score,
                    },
                )
            )
        return docs

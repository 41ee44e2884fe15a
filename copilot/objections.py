"""Objection answers: the best published scripts for what a customer said, about the products at hand first.

Hybrid retrieval is filtered to the products in play; when that gives fewer than ``k`` scripts it widens to the
products' indications, then to all published scripts, and each answer says at which level it was found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.hybrid import KnowledgeIndex, SearchFilters, SearchHit

LEVELS = ("product", "indication", "general")


@dataclass(frozen=True)
class ObjectionAnswer:
    """A script answering the objection, with its source entry, version and why it came back."""

    entry_id: str
    version: int
    title: str
    script: str
    level: str
    hit: SearchHit


def answer_objection(
    index: KnowledgeIndex,
    objection: str,
    *,
    skus: Sequence[str] = (),
    indications: Sequence[str] = (),
    k: int = 3,
) -> list[ObjectionAnswer]:
    """Up to ``k`` published objection scripts for ``objection``: product-specific, then indication, then general."""
    if not indications and skus:
        indications = index.indications_of(skus)
    attempts = [
        ("product", SearchFilters(kinds=("objection_script",), skus=tuple(skus))) if skus else None,
        ("indication", SearchFilters(kinds=("objection_script",), indications=tuple(indications)))
        if indications
        else None,
        ("general", SearchFilters(kinds=("objection_script",))),
    ]
    answers: list[ObjectionAnswer] = []
    seen: set[str] = set()
    for attempt in attempts:
        if attempt is None or len(answers) >= k:
            continue
        level, filters = attempt
        for hit in index.search(objection, k=k, filters=filters):
            if hit.entry_id in seen or len(answers) >= k:
                continue
            seen.add(hit.entry_id)
            doc = index.doc(hit.entry_id)
            if doc is None:  # removed between the search and this read (the caller holds the index's lock)
                continue
            answers.append(ObjectionAnswer(hit.entry_id, doc.version, doc.title, doc.body, level, hit))
    return answers

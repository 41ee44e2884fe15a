"""Which catalogue products a rep's query names, the way reps write them.

Beyond the names, brands and aliases `ProductResolver.find_mentions` recognises, reps abbreviate generic names to
their first characters (瑞舒 for 瑞舒伐他汀, 氯吡 for 氯吡格雷) and mistype brands by one character (可订 for 可定,
络活西 for 络活喜). Those two forms are only used as a *signal for ranking* (retrieval boosts entries about the
products found), never to merge or tag anything, so a looser match is acceptable here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from graph.model import Product
from resolution.product_resolver import ProductResolver, normalize_drug_name


@dataclass(frozen=True)
class ProductMention:
    """A product named in a query: where (``start``, ``end`` offsets) and which SKUs it stands for."""

    start: int
    end: int
    skus: tuple[str, ...]


class QueryProductMatcher:
    """Callable ``query -> SKUs`` for retrieval's product detector; ``mentions`` also says where each name is."""

    def __init__(self, products: Iterable[Product], *, prefix_lengths: tuple[int, ...] = (2, 3), min_typo_len: int = 3):
        catalogue = list(products)
        self.resolver = ProductResolver(catalogue)
        by_base: dict[str, set[str]] = defaultdict(set)
        self._surfaces: dict[str, set[str]] = defaultdict(set)
        for p in catalogue:
            for text in (p.name, p.generic_name, p.brand):
                if not text:
                    continue
                base = normalize_drug_name(text).base
                if len(base) >= 4:
                    by_base[base].add(p.sku)
                for surface in {text, base}:
                    if len(surface) >= min_typo_len:
                        self._surfaces[surface].add(p.sku)
        prefixes: dict[str, set[str]] = defaultdict(set)
        owners: dict[str, set[str]] = defaultdict(set)
        for base, skus in by_base.items():
            for n in prefix_lengths:
                if len(base) > n:
                    prefixes[base[:n]] |= skus
                    owners[base[:n]].add(base)
        # an abbreviation shared by two different drugs (e.g. 阿莫 of 阿莫西林 and 阿莫罗芬) names neither
        self._prefixes = {k: v for k, v in prefixes.items() if len(owners[k]) == 1}
        self._by_len: dict[int, list[str]] = defaultdict(list)
        for surface in self._surfaces:
            self._by_len[len(surface)].append(surface)

    def __call__(self, query: str) -> list[str]:
        """SKUs the query names: exact or resolved names first; abbreviations and one-character typos otherwise."""
        return sorted({sku for m in self.mentions(query) for sku in m.skus})

    def mentions(self, query: str) -> list[ProductMention]:
        """Each product name in ``query`` with its offsets, in text order (a name's SKUs sorted).

        Exact or resolved names when there are any; otherwise abbreviations and one-character typos, longest first,
        never two overlapping.
        """
        found = [
            ProductMention(r.span[0], r.span[1], tuple(sorted(r.skus)))
            for r in self.resolver.find_mentions(query)
            if r.decision == "match" and r.span is not None
        ]
        if found:
            return sorted(found, key=lambda m: (m.start, m.end))
        loose: list[ProductMention] = []
        taken: list[tuple[int, int]] = []

        def free(start: int, end: int) -> bool:
            return all(end <= a or start >= b for a, b in taken)

        for length in sorted(self._by_len, reverse=True):
            for i in range(len(query) - length + 1):
                window = query[i : i + length]
                skus = {
                    sku
                    for surface in self._by_len[length]
                    if Levenshtein.distance(window, surface, score_cutoff=1) <= 1
                    for sku in self._surfaces[surface]
                }
                if skus and free(i, i + length):
                    loose.append(ProductMention(i, i + length, tuple(sorted(skus))))
                    taken.append((i, i + length))
        for n in sorted({len(k) for k in self._prefixes}, reverse=True):
            for i in range(len(query) - n + 1):
                abbreviated = self._prefixes.get(query[i : i + n])
                if abbreviated and free(i, i + n):
                    loose.append(ProductMention(i, i + n, tuple(sorted(abbreviated))))
                    taken.append((i, i + n))
        return sorted(loose, key=lambda m: (m.start, m.end))

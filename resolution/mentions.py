"""Which catalogue products a rep's query names, the way reps write them.

Beyond the names, brands and aliases `ProductResolver.find_mentions` recognises, reps abbreviate generic names to
their first characters (瑞舒 for 瑞舒伐他汀, 氯吡 for 氯吡格雷) and mistype brands by one character (可订 for 可定,
络活西 for 络活喜). Those two forms are only used as a *signal for ranking* (retrieval boosts entries about the
products found), never to merge or tag anything, so a looser match is acceptable here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from rapidfuzz.distance import Levenshtein

from graph.model import Product
from resolution.product_resolver import ProductResolver, normalize_drug_name


class QueryProductMatcher:
    """Callable ``query -> SKUs`` for retrieval's product detector."""

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
        found = {sku for r in self.resolver.find_mentions(query) if r.decision == "match" for sku in r.skus}
        if found:
            return sorted(found)
        text = "".join(query.split())
        for n in sorted({len(k) for k in self._prefixes}, reverse=True):
            for i in range(len(text) - n + 1):
                found |= self._prefixes.get(text[i : i + n], set())
        for length, surfaces in self._by_len.items():
            windows = {text[i : i + length] for i in range(len(text) - length + 1)}
            for window in windows:
                for surface in surfaces:
                    if Levenshtein.distance(window, surface, score_cutoff=1) <= 1:
                        found |= self._surfaces[surface]
        return sorted(found)

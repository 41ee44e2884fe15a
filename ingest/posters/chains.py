"""Pharmacy chains whose names a competitor photo prints, and their names mended when the OCR misreads a character.

A competitor's name keys the matrix's column: a shop name read as ``每王星辰健康药房`` or ``海王星乐健康药房``
beside ``海王星辰健康药房`` split one chain into three columns in a new user's first 45 uploads. China's large
chains are few and well known, so a name one character off one of them is that chain — only where the chain's own
part of its name (without 大药房, 健康 …) has four characters or more: a name one character off a shorter one is as
likely another shop (大参堂 is not 大参林, 百姓康大药房 not 百姓缘大药房). Posters of chains whose logo is their
short name (大参林, 一心堂) print no ``…药房`` line; the chain is found in the photo's text instead. Names that are
also drug brands (同仁堂, 雷允上) are left out: they are printed on packs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rapidfuzz.distance import Hamming

CHAINS = (
    "大参林", "老百姓大药房", "益丰大药房", "一心堂", "海王星辰", "国大药房", "漱玉平民", "健之佳", "百姓缘大药房",
    "张仲景大药房", "养天和", "全亿健康", "华氏大药房", "叮当快药",
)  # fmt: skip
"""Large Chinese pharmacy chains, as their posters print them."""

_GENERIC = re.compile(r"(大药房|药房|健康|快药|医药)$")
_MENDABLE = tuple(c for c in CHAINS if len(_GENERIC.sub("", c)) >= 4)
_MAX_LINE = 16
"""Longer lines are sentences (``…大参林会员专享…``), not a shop's name."""


def mend_chain(name: str) -> str:
    """``name`` with a chain's name put back where the OCR misread one of its characters (else ``name`` as read)."""
    if any(c in name for c in CHAINS):
        return name
    for chain in _MENDABLE:
        head = name[: len(chain)]
        if len(head) == len(chain) and Hamming.distance(head, chain) == 1:
            return chain + name[len(chain) :]
    return name


def chain_in(texts: Iterable[str]) -> str | None:
    """The first chain named on a short line of the photo's text (a logo, a header), or None."""
    for text in texts:
        t = "".join(text.split())
        if len(t) > _MAX_LINE:
            continue
        for chain in CHAINS:
            if chain in t:
                return chain
    return None

"""Name text made comparable: one width, one bracket style, no marks; shared by drug and customer resolution."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_BRACKETS = str.maketrans(dict.fromkeys("【〔[「〖{<《", "(") | dict.fromkeys("】〕]」〗}>》", ")"))
_MARKS = re.compile(r"[®™©\"'“”‘’]")
_SEPARATORS = re.compile(r"[·・•_/\\\-－—–~～、,，;；:：.。]+")
BRACKET_GROUP = re.compile(r"\(([^()]*)\)")


def join_words(text: str) -> str:
    """Whitespace only between two ASCII words ("atorvastatin calcium"), none next to CJK text."""
    parts = text.split()
    if not parts:
        return ""
    out = parts[0]
    for part in parts[1:]:
        glue = " " if out[-1].isascii() and out[-1].isalnum() and part[0].isascii() and part[0].isalnum() else ""
        out += glue + part
    return out


def clean(text: str) -> str:
    """NFKC (full-width → half-width, ``Ⅱ`` → ``II``), one bracket style, no marks, whitespace only between words.

    Case is kept: Roman numerals are recognised in upper case before anything is lower-cased.
    """
    return join_words(_MARKS.sub("", unicodedata.normalize("NFKC", text).translate(_BRACKETS)))


def squash(text: str) -> str:
    """Lower case without separators or stray brackets: the comparable form of a name part."""
    s = _SEPARATORS.sub("", text.casefold())
    return join_words(s.replace("(", " ").replace(")", " "))


def strip_shared(a: str, b: str, stems: Sequence[str]) -> tuple[str, str]:
    """Remove each stem both strings contain (once), as long as something is left of both."""
    for stem in stems:
        if stem in a and stem in b:
            rest_a, rest_b = a.replace(stem, "", 1), b.replace(stem, "", 1)
            if rest_a and rest_b:
                a, b = rest_a, rest_b
    return a, b

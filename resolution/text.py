"""Text normalisation shared by the name parser and the list matcher.

ERP names and list cells differ in width (``０．５ｇ`` / ``0.5g``), bracket style (``【】 [] （）``), variant characters
(``甙``/``苷``, ``䓬``/``卓``) and spacing; none of that is a difference between two drugs.
"""

from __future__ import annotations

import re
import unicodedata

OPEN = "(（[【〔「〖{<《"
CLOSE = ")）]】〕」〗}>》"
_BRACKETS = str.maketrans(dict.fromkeys(OPEN, "(") | dict.fromkeys(CLOSE, ")"))
VARIANT_CHARS = str.maketrans({"甙": "苷", "䓬": "卓", "噁": "恶", "・": "·", "•": "·", "．": "."})
"""Characters written two ways in drug names (雷公藤多甙/多苷, 地尔硫䓬/地尔硫卓): mapped to one."""
_SPACES = re.compile(r"\s+")
ROMAN = ("VIII", "VII", "III", "VI", "IV", "IX", "II", "I", "V", "X")
_ROMAN_AT_END = re.compile(r"(?<![A-Za-z])(VIII|VII|III|VI|IV|IX|II|I|V|X)$")


def nfkc(text: str) -> str:
    """NFKC (full-width → half-width, ``Ⅱ`` → ``II``, ideographic space → space) with variant characters unified."""
    return unicodedata.normalize("NFKC", text).translate(VARIANT_CHARS)


def normalize(text: str) -> str:
    """`nfkc` with every bracket style as ``()`` and runs of whitespace as one space."""
    return _SPACES.sub(" ", nfkc(text).translate(_BRACKETS)).strip()


def compact(text: str) -> str:
    """A comparable key: `normalize`, lower case, no whitespace, no ``、`` or ``·``."""
    return re.sub(r"[\s、·]", "", normalize(text)).lower()


def is_cjk(ch: str) -> bool:
    """True for a CJK ideograph (the characters of Chinese names)."""
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def has_cjk(text: str) -> bool:
    """True when the text holds at least one CJK ideograph."""
    return any(is_cjk(ch) for ch in text)


def split_roman(name: str) -> tuple[str, str | None]:
    """A name without its trailing Roman numeral, and the numeral (``二甲双胍II`` → ``二甲双胍``, ``II``).

    Only a numeral glued to a CJK character or a digit counts (``碳酸钙D3I``); ``维生素AD`` has none.
    """
    m = _ROMAN_AT_END.search(name)
    if m is None or m.start() == 0:
        return name, None
    before = name[m.start() - 1]
    if not (is_cjk(before) or before.isdigit() or before in ")-"):
        return name, None
    return name[: m.start()].rstrip("-"), m.group(1)


def row_identity(section: str, number: str | None, name: str, dosage_form: str | None) -> str:
    """The identity of a list row as one string: section, number, name and form, normalised and joined by ``|``.

    Numbers repeat across sections and ★ numbers inside one, so all four are needed (``★（389）`` equals ``★(389)``).
    """
    return "|".join(compact(x or "") for x in (section, number, name, dosage_form))

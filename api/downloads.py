"""Download headers: a file name any customer id can give, Chinese included (RFC 6266 / RFC 5987)."""

from __future__ import annotations

import re
from urllib.parse import quote


def attachment(filename: str) -> str:
    """``Content-Disposition`` for a download: an ASCII fallback name and the real name as UTF-8 ``filename*``.

    HTTP headers carry Latin-1 only, so ``filename="briefing-C-杭州-001.pdf"`` cannot be sent at all; browsers take
    ``filename*=UTF-8''…`` instead and older clients the ASCII fallback (non-ASCII characters and quotes replaced).
    """
    fallback = re.sub(r'[^\x20-\x7e]|["\\]', "_", filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"

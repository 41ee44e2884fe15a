"""Knowledge documents in PDF: text per page, split into passages on Chinese sentence punctuation.

Each passage becomes a draft knowledge entry citing its file and page, for a trainer to review and publish.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from ingest.errors import FormatError
from ingest.readers import RawTable
from retrieval.splitting import splitter

PAGE_MARK = re.compile(r"(第\s*\d+\s*页(\s*[,，]?\s*共\s*\d+\s*页)?|-\s*\d+\s*-|\d+\s*/\s*\d+)")
TERMINAL = ("。", "！", "？", "；", "：", "!", "?", ";", ":")


def _cjk(ch: str) -> bool:
    return "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"


def reflow(text: str) -> str:
    """Undo the printed layout: drop page numbers; a line that does not end a sentence continues on the next one.

    Chinese has no spaces between words, so wrapped CJK lines are joined without one; paragraphs (blank lines)
    and sentence ends stay line breaks, which the splitter then prefers as cut points.
    """
    out: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if PAGE_MARK.fullmatch(line):
            continue
        if not line:
            out.append("")
        elif out and out[-1] and not out[-1].endswith(TERMINAL):
            out[-1] += ("" if _cjk(out[-1][-1]) or _cjk(line[0]) else " ") + line
        else:
            out.append(line)
    return "\n".join(out)


def read_pdf(path: Path, *, kind: str = "product_note", chunk_size: int = 500) -> RawTable:
    """Draft entries from a PDF: one row per passage, with the page as the row number."""
    try:
        reader = PdfReader(path)
        pages = [(i + 1, page.extract_text() or "") for i, page in enumerate(reader.pages)]
    except (PdfReadError, OSError, ValueError) as e:
        raise FormatError(f"{path}: not a readable PDF: {e}") from e
    if not any(text.strip() for _, text in pages):
        raise FormatError(f"{path}: the PDF has no extractable text (a scanned document needs OCR first)")
    split = splitter(chunk_size)
    digest = hashlib.sha1(path.name.encode("utf-8")).hexdigest()[:8]
    records: list[dict[str, str]] = []
    rows: list[int] = []
    for page, text in pages:
        for n, passage in enumerate(split.split_text(reflow(text).strip()), start=1):
            body = " ".join(passage.split())
            if not body:
                continue
            records.append(
                {
                    "id": f"pdf-{digest}-p{page}-{n}",
                    "kind": kind,
                    "title": f"{path.stem} 第{page}页 ({n})",
                    "body": body,
                    "status": "draft",
                    "tags": f"pdf|{path.stem}",
                    "source": f"{path.name} p.{page}",
                }
            )
            rows.append(page)
    return RawTable(file=str(path), frame=pd.DataFrame(records, dtype=object), rows=rows, row_kind="page")

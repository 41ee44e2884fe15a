"""Knowledge documents in PDF: text per page, split into passages on Chinese sentence punctuation.

Each passage becomes a draft knowledge entry citing its file and page, for a trainer to review and publish.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
from langchain_text_splitters import RecursiveCharacterTextSplitter
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from ingest.errors import FormatError
from ingest.readers import RawTable

CHINESE_SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", "!", "?", ";", "，", ",", " ", ""]


def splitter(chunk_size: int = 500, chunk_overlap: int = 50) -> RecursiveCharacterTextSplitter:
    """A text splitter that cuts Chinese text at paragraph, then sentence, then clause boundaries."""
    return RecursiveCharacterTextSplitter(
        separators=CHINESE_SEPARATORS, chunk_size=chunk_size, chunk_overlap=chunk_overlap, keep_separator="end"
    )


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
        for n, passage in enumerate(split.split_text(text.strip()), start=1):
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

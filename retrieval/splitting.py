"""Splitting long documents into passages for retrieval, at Chinese paragraph, sentence and clause boundaries."""

from __future__ import annotations

from langchain_text_splitters import RecursiveCharacterTextSplitter

CHINESE_SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", "!", "?", ";", "，", ",", " ", ""]


def splitter(chunk_size: int = 500, chunk_overlap: int = 50) -> RecursiveCharacterTextSplitter:
    """A text splitter that cuts Chinese text at paragraph, then sentence, then clause boundaries."""
    return RecursiveCharacterTextSplitter(
        separators=CHINESE_SEPARATORS, chunk_size=chunk_size, chunk_overlap=chunk_overlap, keep_separator="end"
    )

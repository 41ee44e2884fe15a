"""Competitor promotion posters and shelf price tags: photo → OCR lines → items with prices and mechanics.

`photo` decodes and checks an upload, `ocr` reads text lines (RapidOCR, offline), `layout` groups lines into item
regions by their boxes, `prices` parses prices, mechanics and validity dates, `items` assembles the items, and
`reader.read_poster` runs the whole chain.
"""

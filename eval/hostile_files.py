"""Hostile and careless input files, sent through the CLI and the API: never a 5xx, never a degraded server.

Each file is what an attacker or an unlucky operator sends: a huge cell in a tiny xlsx, a million empty rows with
one cell far right, a 10 MB customer name, JSON nested 100,000 deep, a NUL byte, formulas, ambiguous or absurd dates,
a header without rows, binary junk. Through the CLI a file must end with a clear error (exit 1–4, no traceback) or a
load; through the API with a 4xx or a 200 — and afterwards the server must still answer its health check and accept
a valid one-line upload within seconds, and a valid ingest must leave nothing of the rejected one readable.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from api.keys import KeyStore
from eval.bench_api import _free_port, serve
from graph.embedded import EmbeddedGraphStore

EXE = str(Path(sys.executable).parent / "salescopilot")
TENANT = "hostile"
VALID = "客户编码,客户名称,客户类型\nC-OK-{n},正常药房{n},连锁\n"


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def _raw_xlsx(path: Path, rows: list[list[str]], dimension: str) -> None:
    """A minimal workbook written by hand: openpyxl itself cuts cells at 32,767 characters, an attacker does not."""
    import zipfile
    from xml.sax.saxutils import escape

    def cell(ref: str, value: str) -> str:
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'

    cols = "ABCDEFGHIJ"
    sheet = "".join(
        f'<row r="{r}">' + "".join(cell(f"{cols[c]}{r}", v) for c, v in enumerate(row)) + "</row>"
        for r, row in enumerate(rows, start=1)
    )
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    files = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
        '+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
        'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook {ns} {rel}><sheets><sheet name="客户" sheetId="1" '
        'r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0"?><worksheet {ns}><dimension ref="{dimension}"/>'
        f"<sheetData>{sheet}</sheetData></worksheet>",
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, text in files.items():
            z.writestr(name, text)


def _xlsx_huge_cell(path: Path) -> None:
    # 150 MB of UTF-8 in one cell; the file compresses to a few hundred KB
    _raw_xlsx(path, [["客户编码", "客户名称", "客户类型"], ["C-1", "药" * 50_000_000, "连锁"]], "A1:C2")


def _xlsx_runaway(path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.create_sheet("客户", 0)
    ws.append(["客户编码", "客户名称", "客户类型"])
    ws.append(["C-1", "正常药房", "连锁"])
    ws.cell(row=1_000_000, column=16_384, value="x")  # XFD1000000: the used range says a million rows, 16k columns
    wb.save(path)


FILES: dict[str, Callable[[Path], object]] = {
    "huge-cell.xlsx": _xlsx_huge_cell,
    "runaway-range.xlsx": _xlsx_runaway,
    "10mb-name.csv": lambda p: _csv(p, ["客户编码", "客户名称", "客户类型"], [["C-1", "药" * 3_500_000, "连锁"]]),
    "deep.json": lambda p: p.write_text('{"rows": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8"),
    "nul-byte.csv": lambda p: _csv(p, ["客户编码", "客户名称", "客户类型"], [["C-1", "药房\x00名", "连锁"]]),
    "formulas.csv": lambda p: _csv(
        p, ["客户编码", "客户名称", "客户类型"], [["C-1", '=HYPERLINK("http://x","点我")', "不是类型"]]
    ),
    "ambiguous-date.csv": lambda p: _csv(
        p, ["合同编号", "客户编码", "开始日期", "结束日期"], [["K-1", "C-OK-0", "01/02/2026", "2026-12-31"]]
    ),
    "absurd-date.csv": lambda p: _csv(
        p, ["合同编号", "客户编码", "开始日期", "结束日期"], [["K-1", "C-OK-0", "0001-01-01", "9999-12-31"]]
    ),
    "header-only.csv": lambda p: p.write_text("客户编码,客户名称,客户类型\n", encoding="utf-8"),
    "missing-column.csv": lambda p: _csv(p, ["客户编码", "客户名城", "客户类型"], [["C-1", "药房", "连锁"]]),
    "binary.csv": lambda p: p.write_bytes(bytes(range(256)) * 4000),
}


def _cli(data: Path, path: Path) -> str:
    t0 = time.monotonic()
    done = subprocess.run([EXE, "--data-dir", str(data), "ingest", str(path), "--tenant", TENANT],
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    seconds = time.monotonic() - t0
    crashed = "Traceback" in done.stderr or done.returncode not in (0, 1, 2, 3, 4)
    outcome = f"exit {done.returncode} in {seconds:.1f} s: {(done.stderr or done.stdout).strip()[-160:]}"
    return ("FAIL " if crashed else "") + outcome


def _api(url: str, key: str, path: Path, n: int) -> str:
    headers = {"X-API-Key": key}
    t0 = time.monotonic()
    try:
        reply = httpx.post(f"{url}/v1/ingest", headers=headers, files={"file": (path.name, path.read_bytes())},
                           timeout=600)  # fmt: skip
        status, text = reply.status_code, reply.text
    except httpx.HTTPError as e:
        status, text = 0, f"{type(e).__name__}: {e}"
    seconds = time.monotonic() - t0
    health = httpx.get(f"{url}/v1/health", timeout=5).status_code
    valid = httpx.post(f"{url}/v1/ingest", headers=headers, timeout=60,
                       files={"file": ("ok.csv", VALID.format(n=n).encode())}).status_code  # fmt: skip
    bad = status == 0 or status >= 500 or health != 200 or valid != 200
    message = text[:160].replace("\n", " ")
    return (
        ("FAIL " if bad else "")
        + f"{status} in {seconds:.1f} s (then health {health}, valid upload {valid}): "
        + (message)
    )


def _chunked(url: str, key: str, path: str, megabytes: int, content_type: str) -> str:
    """Send ``megabytes`` without a Content-Length; only 413 (cut off at the limit) passes.

    A multipart body starts as a well-formed file part, so the parser reads on and only the byte limit can stop it
    (a body of blanks alone is refused by the parser at once, 400, without testing the limit).
    """
    head = b""
    if content_type.startswith("multipart/"):
        head = (b'--x\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
                b"Content-Type: text/csv\r\n\r\n\xe5\xae\xa2\xe6\x88\xb7\xe7\xbc\x96\xe7\xa0\x81\n")  # fmt: skip

    def body() -> Any:
        yield head
        for _ in range(megabytes):
            yield b"C" * (1 << 20)

    try:
        reply = httpx.post(url + path, headers={"X-API-Key": key, "Content-Type": content_type}, content=body(),
                           timeout=120)  # fmt: skip
        status = reply.status_code
    except httpx.HTTPError as e:
        return f"FAIL {type(e).__name__}"
    return ("" if status == 413 else "FAIL ") + f"{status}"


def run(work: Path) -> dict[str, Any]:
    """Send every hostile file through the CLI and the API; count the failures."""
    work.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, str]] = []
    for name, make in FILES.items():
        make(work / name)
    for name in FILES:
        results.append({"file": name, "via": "cli", "outcome": _cli(work / "cli-data", work / name)})
    data = work / "api-data"
    subprocess.run([EXE, "--data-dir", str(data), "init"], capture_output=True, check=True)
    with EmbeddedGraphStore(data / "graph", buffer_pool_mb=512) as store:
        admin = KeyStore(store).create(TENANT, "admin", "hostile")[1]
    port = _free_port()
    cmd = [EXE, "--data-dir", str(data), "serve", "--port", str(port), "--log-level", "warning"]
    with serve(cmd, port) as server:
        httpx.post(f"{server.url}/v1/ingest", headers={"X-API-Key": admin}, timeout=60,
                   files={"file": ("ok.csv", VALID.format(n=0).encode())})  # fmt: skip
        for n, name in enumerate(FILES, start=1):
            results.append({"file": name, "via": "api", "outcome": _api(server.url, admin, work / name, n)})
        results.append(
            {
                "file": "200 MB chunked upload",
                "via": "api",
                "outcome": _chunked(server.url, admin, "/v1/ingest", 200, "multipart/form-data; boundary=x"),
            }
        )
        results.append(
            {
                "file": "200 MB chunked price-check body",
                "via": "api",
                "outcome": _chunked(server.url, admin, "/v1/price-checks", 200, "application/json"),
            }
        )
        peak = server.peak_rss
    return {
        "tried": len(results),
        "failures": sum(r["outcome"].startswith("FAIL") for r in results),
        "server_peak_rss_mib": round(peak / 2**20, 1),
        "results": results,
        "note": json.dumps({"files": sorted(FILES)}, ensure_ascii=False),
    }

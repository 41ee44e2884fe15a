"""Screenshots of every console page at 1280×800 and at a phone's 390 px, into docs/screenshots/ (PNG).

    .venv/bin/python -m tests.e2e.screenshots [--out docs/screenshots] [--only rep-tasks --viewport phone]

Builds its own demo deployment in a temporary folder, serves it, and walks the pages as a user would (the same tour
the layout test checks). Needs Debian's Chromium (/usr/bin/chromium) and, for Chinese text, a CJK font
(``apt-get install fonts-noto-cjk``).
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import FloatRect, Page, sync_playwright

from tests.e2e.console_support import CHROMIUM, DESKTOP, NO_CHROMIUM, PHONE, launch, serve_demo, tour

ROOT = Path(__file__).resolve().parents[2]
MAX_HEIGHT = 2400  # a long list is cut here: the page's top is what a reader needs to see


def _save(png: bytes, path: Path) -> None:
    """Write the screenshot in 256 colours when Pillow is there (a third of the size, no visible change)."""
    try:
        from PIL import Image
    except ImportError:
        path.write_bytes(png)
        return
    with Image.open(io.BytesIO(png)) as image:
        flat = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        flat.save(path, optimize=True)


def main(argv: list[str] | None = None) -> int:
    """Write ``<page>-desktop.png`` and ``<page>-phone.png`` for every page of the tour; 0 on success."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--embedder", default="use", help="retrieval embedder of the demo deployment")
    parser.add_argument(
        "--only", nargs="*", default=None, help="save only these pages (desktop only), e.g. trainer-four-eyes"
    )
    parser.add_argument(
        "--viewport", choices=("desktop", "phone", "both"), default=None,
        help="which widths (default: both; with --only: desktop)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    chosen = args.viewport or ("desktop" if args.only else "both")
    viewports = [(label, v) for label, v in (("desktop", DESKTOP), ("phone", PHONE)) if chosen in (label, "both")]
    if not CHROMIUM.exists():
        print(NO_CHROMIUM, file=sys.stderr)  # noqa: T201
        return 2
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False).stdout
    if not fonts.strip():
        warning = "warning: no CJK font installed (apt-get install fonts-noto-cjk): Chinese shows as boxes"
        print(warning, file=sys.stderr)  # noqa: T201
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="console-shots-") as tmp, sync_playwright() as pw:
        browser = launch(pw)
        try:
            for label, viewport in viewports:
                with serve_demo(Path(tmp) / label, embedder=args.embedder) as server:

                    def shot(page: Page, name: str, label: str = label) -> None:
                        if args.only and name not in args.only:
                            return
                        path = args.out / f"{name}-{label}.png"
                        width, height = page.evaluate("[innerWidth, document.documentElement.scrollHeight]")
                        clip: FloatRect = {"x": 0, "y": 0, "width": width, "height": min(height, MAX_HEIGHT)}
                        _save(page.screenshot(full_page=True, clip=clip), path)
                        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)  # noqa: T201

                    tour(browser, server, viewport, shot)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

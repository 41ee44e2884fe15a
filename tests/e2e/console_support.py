"""What the console's browser tests and screenshots share: a demo deployment served over HTTP, Chromium, a page tour.

The app runs in a real uvicorn server on 127.0.0.1 (a free port, in a thread) so that Chromium reaches it as a user's
browser would; Chromium is Debian's (``apt-get install chromium``), driven by Playwright for Python.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import uvicorn

from api.app import create_app, open_state
from api.keys import ROLES
from api.settings import Settings
from api.state import ServiceState
from demo.load import load_demo
from graph.embedded import EmbeddedGraphStore
from graph.model import Owns

if TYPE_CHECKING:
    from playwright.sync_api import Browser, FilePayload, Page, Playwright, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NO_CHROMIUM = f"no Chromium at {CHROMIUM}: apt-get install -y chromium (.ci/run installs it)"
TENANTS = ("hz-pharma", "sh-pharma")
CUSTOMER = "C-HZ-00001"  # 康邻大药房连锁(浙江)有限公司: a chain with a deep price history
HOME_CUSTOMER = {"hz-pharma": CUSTOMER, "sh-pharma": "C-SH-00001"}
SKU = "SKU-999GML"  # 999 感冒灵颗粒: floor price 12 元, peer band about 11.3–13.6 元
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
BAD_CUSTOMERS_CSV = (
    "客户编码,客户名称,客户类型,大区,城市,客户级别,医保定点,门店数\n"
    "C-BAD-1,坏数据药房,连锁,华东,杭州,A,是,很多\n"
    "C-BAD-2,,诊所,华东,杭州,C,也许,1\n"
    "C-BAD-3,第三家,超市,华东,杭州,B,是,-2\n"
)
"""A customers file with five errors on three rows (rows 2–4 as a spreadsheet numbers them)."""


def poster_file() -> FilePayload:
    """The demo poster as a browser upload."""
    return {"name": "poster.jpg", "mimeType": "image/jpeg", "buffer": demo_poster()}


def bad_file() -> FilePayload:
    """The bad customers file as a browser upload."""
    return {"name": "customers-bad.csv", "mimeType": "text/csv", "buffer": BAD_CUSTOMERS_CSV.encode()}


CJK_FONTS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
NO_CJK_FONT = "no Noto Sans CJK font to draw the demo poster: apt-get install -y fonts-noto-cjk"


def cjk_font() -> Path | None:
    """A Chinese font to draw the demo poster with (Debian's fonts-noto-cjk), or None."""
    return next((f for f in CJK_FONTS if f.exists()), None)


def demo_poster() -> bytes:
    """A competitor's promotion poster as a store manager's phone would send it (JPEG, slightly rotated).

    Three of the demo's products with prices and deals, a shop name, a validity line and a store-wide rule; drawn
    here (no image from outside the repository), read by the real OCR when uploaded.
    """
    from PIL import Image, ImageDraw, ImageFont

    font_path = cjk_font()
    if font_path is None:
        raise RuntimeError(NO_CJK_FONT)

    def font(size: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(font_path), size)

    img = Image.new("RGB", (1000, 1300), (200, 20, 30))
    d = ImageDraw.Draw(img)
    d.text((60, 40), "老百姓大药房(人民路店)", font=font(44), fill="white")
    d.text((60, 120), "冬季健康节 全场满100减20", font=font(58), fill=(255, 230, 80))
    d.text((60, 210), "活动时间：即日起至12月31日", font=font(34), fill="white")
    cards = [
        ("999感冒灵颗粒", "10g×9袋", "第二件半价", "¥14.8", "原价¥16.5"),
        ("立普妥 阿托伐他汀钙片", "20mg×7片", "买二送一", "¥52.0", "原价¥58"),
        ("格华止 盐酸二甲双胍片", "0.5g×20片", "2盒到手39.9", "¥21.9", "会员价¥20.5"),
    ]
    for i, (name, spec, deal, price, extra) in enumerate(cards):
        top = 300 + i * 320
        d.rounded_rectangle((50, top, 950, top + 290), radius=24, fill="white")
        d.text((90, top + 25), name, font=font(52), fill=(30, 30, 30))
        d.text((90, top + 95), spec, font=font(38), fill=(90, 90, 90))
        d.rounded_rectangle((90, top + 150, 360, top + 210), radius=10, fill=(230, 40, 40))
        d.text((105, top + 155), deal, font=font(40), fill="white")
        d.text((560, top + 120), price, font=font(96), fill=(220, 20, 20))
        d.text((560, top + 230), extra, font=font(34), fill=(120, 120, 120))
    photo = img.rotate(4, expand=True, fillcolor=(120, 120, 120), resample=Image.Resampling.BICUBIC)
    out = io.BytesIO()
    photo.save(out, format="JPEG", quality=85)
    return out.getvalue()


@dataclass
class ConsoleServer:
    """A running demo deployment: its base URL, a key per (tenant, role), and the service state."""

    url: str
    keys: dict[tuple[str, str], str]
    state: ServiceState
    data_dir: Path

    def key(self, role: str, tenant: str = "hz-pharma") -> str:
        """The API key of a role in a tenant."""
        return self.keys[(tenant, role)]

    def client(self, role: str, tenant: str = "hz-pharma") -> httpx.Client:
        """An HTTP client of the API as that role (for "another user" acting while the browser works)."""
        return httpx.Client(base_url=f"{self.url}/v1", headers={"X-API-Key": self.key(role, tenant)}, timeout=60)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def serve_demo(data_dir: Path, *, embedder: str = "use", start_timeout: float = 600) -> Iterator[ConsoleServer]:
    """Load the demo data into ``data_dir``, create keys of every role, and serve the app until the block ends.

    The rep keys belong to the reps owning ``HOME_CUSTOMER`` (the customer the console tests open).
    """
    settings = Settings(data_dir=data_dir, buffer_pool_mb=1024, embedder=embedder)
    store = EmbeddedGraphStore(settings.graph_dir, buffer_pool_mb=1024)
    load_demo(store, as_of=dt.date.today())
    reps = {t: store.edges_of(t, Owns, targets=[HOME_CUSTOMER[t]])[0].rep_id for t in TENANTS}
    store.close()
    state = open_state(settings)
    keys: dict[tuple[str, str], str] = {
        (t, r): state.keys.create(t, r, f"e2e {r}", rep_id=reps[t] if r == "rep" else None)[1]
        for t in TENANTS
        for r in ROLES
    }
    for t in TENANTS:  # a second trainer: publishing needs four eyes
        keys[(t, "reviewer")] = state.keys.create(t, "trainer", "e2e reviewer")[1]
    sock = _free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings, state=state), log_level="warning", lifespan="on", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="console-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the console's server did not start")
        time.sleep(0.1)
    try:
        yield ConsoleServer(f"http://127.0.0.1:{port}", keys, state, data_dir)
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        sock.close()
        state.close()


SOCKET_DIR_MAX = 60
"""Longest temporary folder Chromium is given: it puts a Unix socket there, and a socket's path is at most 107 bytes."""


def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, with the flags for a machine without internet.

    A long temporary folder (a deep CI workspace, or .ci/run's deliberately long TMPDIR) would stop Chromium at
    start-up ("Socket path too long"), so it gets /tmp instead when $TMPDIR is longer than ``SOCKET_DIR_MAX``.
    """
    env = dict(os.environ)
    if len(tempfile.gettempdir()) > SOCKET_DIR_MAX and Path("/tmp").is_dir():
        env["TMPDIR"] = "/tmp"
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, env=env)


def login(page: Page, server: ConsoleServer, role: str, tenant: str = "hz-pharma") -> None:
    """Open the console and log in with the role's key, as a user types it."""
    page.goto(f"{server.url}/")
    page.wait_for_selector("#login-form, nav#nav a", state="attached")
    if page.locator("#logout").is_visible():
        page.click("#logout")
    page.fill("input[name=api-key]", server.key(role, tenant))
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("nav#nav a", state="attached")


def pick(page: Page, input_selector: str, text: str, *, within: str = "") -> None:
    """Type into a search-as-you-type field and choose the first suggestion."""
    scope = f"{within} " if within else ""
    field = page.locator(f"{scope}{input_selector}").first
    field.fill(text)
    suggestions = field.locator("xpath=ancestor::div[contains(@class, 'picker')][1]").locator(
        ".suggest li[role=option]"
    )
    suggestions.first.click()


def create_entry(server: ConsoleServer, title: str, body: str, *, kind: str = "objection_script") -> dict[str, object]:
    """A new draft entry made through the API by the trainer (for journeys that need an entry of their own)."""
    with server.client("trainer") as api:
        payload = {"kind": kind, "title": title, "body": body, "tags": ["测试"], "skus": [SKU]}
        response = api.post("/entries", json=payload)
        response.raise_for_status()
        entry: dict[str, object] = response.json()
        return entry


def open_quote_line(page: Page) -> None:
    """On the quote editor: choose the demo customer and product in the first line."""
    pick(page, "input[name=customer]", CUSTOMER)
    pick(page, ".quote-line input[name=product]", "感冒灵")


def type_price(page: Page, price: str, *, line: int = 0) -> None:
    """Replace a line's unit price by typing it (each character a keystroke) and wait for its verdict."""
    field = page.locator(".quote-line input[name=price]").nth(line)
    field.fill("")
    field.press_sequentially(price)
    page.wait_for_selector(f".quote-line >> nth={line} >> .verdict[data-price='{price}']")


Shot = Callable[["Page", str], None]


def tour(browser: Browser, server: ConsoleServer, viewport: ViewportSize, shot: Shot) -> list[str]:
    """Visit every page of the console in a state worth looking at, calling ``shot(page, name)`` on each.

    Returns the names in order. Used by the screenshot script and by the layout test (which checks each page for
    horizontal overflow at the given width).
    """
    names: list[str] = []
    context = browser.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(30_000)
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(f"{page.url}: {error}"))

    def take(name: str) -> None:
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.wait_for_timeout(200)  # pickers close
        page.evaluate("document.getElementById('toast').replaceChildren(); window.scrollTo(0, 0)")
        shot(page, name)
        names.append(name)

    try:
        page.goto(f"{server.url}/")
        page.wait_for_selector("#login-form")
        take("login")

        login(page, server, "rep")
        page.goto(f"{server.url}/#/deal")
        pick(page, "input[name=customer]", CUSTOMER)
        pick(page, "input[name=product]", "捷诺维")
        page.fill("textarea[name=situation]", "连锁总部想做慢病会员日，担心毛利")
        page.click("main button[type=submit]")
        page.wait_for_selector("#cases .case")
        take("rep-deal")

        page.goto(f"{server.url}/#/objection")
        page.fill("textarea[name=objection]", "店长说络活喜价隔太贵了，隔壁药房便宜")
        page.click("main button[type=submit]")
        page.wait_for_selector("#answers .answer")
        take("rep-objection")

        page.goto(f"{server.url}/#/customer/{CUSTOMER}")
        page.wait_for_selector("#briefing .health")
        take("rep-customer")

        page.goto(f"{server.url}/#/quote")
        open_quote_line(page)
        type_price(page, "12.8")
        page.click("text=＋ 添加一行")
        pick(page, ".quote-line >> nth=1 >> input[name=product]", "感冒灵")
        type_price(page, "17", line=1)
        page.locator(".quote-line >> nth=1 >> details.evidence summary").click()
        take("rep-quote")

        page.goto(f"{server.url}/#/tasks")
        page.wait_for_selector("#task-list article.task")
        take("rep-tasks")

        login(page, server, "trainer")
        page.goto(f"{server.url}/#/entries")
        page.wait_for_selector("#entry-list tr[data-entry-id]")
        take("trainer-entries")

        entry = create_entry(server, "顾客嫌感冒灵贵怎么办", "先认同顾客感受。再说明规格和疗程。最后给出会员价。")
        page.goto(f"{server.url}/#/entry/{entry['id']}")
        page.wait_for_selector("#entry-form input[name=title]")
        page.wait_for_selector("#version-diff, #history .audit")
        take("trainer-editor")

        page.fill("textarea[name=body]", "先认同顾客感受。再说明规格和疗程，一盒够用三天。最后给出会员价。")
        with server.client("trainer") as api:
            theirs = "先认同顾客感受，不要争辩。再说明规格和疗程。最后给出会员价。"
            api.patch(f"/entries/{entry['id']}", json={"version": 1, "body": theirs})
        page.click("#entry-form button[name=save]")
        page.wait_for_selector("#conflict .conflict")
        take("trainer-conflict")

        own = create_entry(server, "顾客问感冒灵能不能医保报销", "先确认顾客的参保地。再说明门店是医保定点药店。")
        with server.client("trainer") as api:
            api.post(f"/entries/{own['id']}/submit", json={"version": 1}).raise_for_status()
        page.goto(f"{server.url}/#/entry/{own['id']}")
        page.wait_for_selector("button[data-action=publish]")
        page.click("button[data-action=publish]")
        page.wait_for_selector(".error-box.four-eyes")
        take("trainer-four-eyes")

        page.goto(f"{server.url}/#/stale")
        page.click("button[name=apply-impact]")
        page.wait_for_selector("#stale-list .stale")
        take("trainer-stale")

        page.goto(f"{server.url}/#/faq")
        page.wait_for_selector("#proposals .proposal", timeout=120_000)
        take("trainer-faq")

        login(page, server, "admin")
        page.goto(f"{server.url}/#/ingest")
        page.set_input_files("input[type=file]", files=[bad_file()])
        page.wait_for_selector(".upload-item[data-outcome=rejected] .row-error")
        take("admin-ingest")

        page.goto(f"{server.url}/#/formulary")
        page.wait_for_selector("#formulary-diff tr.change")
        take("admin-formulary")

        page.goto(f"{server.url}/#/keys")
        page.wait_for_selector("#key-list tr[data-key-id]")
        page.fill("input[name=name]", "张三的报价屏")
        page.select_option("select[name=role]", "service")
        page.click("main form button[type=submit]")
        page.wait_for_selector("#created-key input[name=new-key]")
        take("admin-keys")

        login(page, server, "store")
        page.goto(f"{server.url}/#/competitor-upload")
        page.set_input_files("input[name=file]", files=[poster_file()])
        page.fill("input[name=customer_id]", CUSTOMER)
        take("store-upload")
        page.click("#photo-form button[type=submit]")
        page.wait_for_selector(".photo-wrap .item-box", timeout=300_000)  # the real OCR reads the photo
        take("competitor-photo")

        login(page, server, "rep")
        page.goto(f"{server.url}/#/competitor-prices")
        page.wait_for_selector("main table tbody tr")
        take("competitor-matrix")
    finally:
        context.close()
    if script_errors:
        raise RuntimeError(f"script errors on the console's pages: {script_errors}")
    return names

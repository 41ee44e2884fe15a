"""Rendering a briefing pack to Markdown and to a printable A4 PDF with an embedded Chinese font.

The PDF uses fpdf2 with Noto Sans CJK from the ``cvttf-notosanscjk-regular`` package (subsetted into the file, so it
shows correctly on any viewer); no font is downloaded.
"""

from __future__ import annotations

import importlib.metadata
from functools import cache
from pathlib import Path

from copilot.briefing import BriefingPack, Fact
from copilot.errors import CopilotError

SECTIONS: tuple[tuple[str, str], ...] = (
    ("interactions", "最近拜访"),
    ("open_next_steps", "待办跟进"),
    ("doctors", "关联医生治疗偏好与关注"),
    ("prescription_summary", "处方汇总（科室/客户层面，每项至少 3 位医生）"),
    ("likely_objections", "可能的异议与话术"),
    ("matching_cases", "可参考的成功案例"),
    ("contracts_ending", "即将到期合同"),
    ("open_deals", "进行中的商机"),
    ("competitor_prices", "附近竞品价格（近30天，店长拍照）"),
)


def _lines(pack: BriefingPack) -> list[tuple[str, list[str]]]:
    """Section title and bullet lines, shared by both renderers."""
    out: list[tuple[str, list[str]]] = [("紧急事项（先处理）", [f"{f.text}　[{f.node_id}]" for f in pack.urgent])]
    out.append(("客户概况", [f.text for f in pack.profile]))
    h = pack.health
    out.append((f"客户健康度 {h.score} 分（{h.tier}）", [f"{f.name}：{f.value}（{f.points} 分）" for f in h.factors]))
    out.append(("采购缺口", [f"{g.name}（{g.sku}）：{g.detail}" for g in pack.purchase_gaps]))
    out.append(("医保目录变化", [f"{c.name}（{c.sku}）：{c.detail}" for c in pack.formulary_changes]))
    for attr, title in SECTIONS:
        facts: list[Fact] = getattr(pack, attr)
        out.append((title, [f"{f.text}　[{f.node_id}]" for f in facts]))
    return out


def to_markdown(pack: BriefingPack) -> str:
    """The pack as Markdown, every fact followed by its node id."""
    md = [f"# {_title(pack)}", "", f"日期 {pack.as_of} · 客户 `{pack.customer_id}`", ""]
    for title, lines in _lines(pack):
        md += [f"## {title}", ""]
        md += [f"- {line}" for line in lines] or ["- （无）"]
        md.append("")
    return "\n".join(md)


@cache
def cjk_font() -> Path:
    """The Noto Sans CJK OTF file shipped by the ``cvttf-notosanscjk-regular`` package."""
    try:
        files = importlib.metadata.files("cvttf-NotoSansCJK-Regular") or []
    except importlib.metadata.PackageNotFoundError as e:
        raise CopilotError("package cvttf-notosanscjk-regular (the PDF's Chinese font) is not installed") from e
    for f in files:
        if str(f).endswith(".otf"):
            path = Path(str(f.locate())).resolve()
            if path.exists():
                return path
    raise CopilotError("the Noto Sans CJK font file of cvttf-notosanscjk-regular was not found")


def _title(pack: BriefingPack) -> str:
    return f"拜访简报 · {pack.profile[0].text}"


def to_pdf(pack: BriefingPack) -> bytes:
    """The pack as an A4 PDF with the CJK font embedded (subset): a title, a running header and page numbers."""
    from fpdf import FPDF
    from fpdf.enums import WrapMode

    title = _title(pack)

    class _Pdf(FPDF):
        def header(self) -> None:
            if self.page_no() > 1:  # page 1 has the big title
                self.set_font("NotoSansCJK", size=8)
                self.set_text_color(110)
                self.cell(0, 5, f"{title}　{pack.as_of}", new_x="LMARGIN", new_y="NEXT")
                self.set_text_color(0)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("NotoSansCJK", size=8)
            self.set_text_color(110)
            self.cell(0, 5, f"第 {self.page_no()} / {{nb}} 页", align="C")
            self.set_text_color(0)

    pdf = _Pdf(format="A4")
    pdf.set_title(title)
    pdf.set_subject(f"客户 {pack.customer_id} 拜访简报 {pack.as_of}")
    pdf.set_creator("salescopilot")
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("NotoSansCJK", fname=str(cjk_font()))
    pdf.add_page()
    pdf.set_font("NotoSansCJK", size=16)
    pdf.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("NotoSansCJK", size=9)
    pdf.multi_cell(
        0, 5, f"日期 {pack.as_of}　客户 {pack.customer_id}　租户 {pack.tenant}", new_x="LMARGIN", new_y="NEXT"
    )
    for i, (heading, lines) in enumerate(_lines(pack)):
        pdf.ln(2)
        pdf.set_font("NotoSansCJK", size=12)
        if i == 0 and lines:  # the urgent facts stand out
            pdf.set_text_color(180, 0, 0)
        pdf.multi_cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0)
        pdf.set_font("NotoSansCJK", size=9.5)
        for line in lines or ["（无）"]:
            pdf.multi_cell(0, 5, f"• {line}", new_x="LMARGIN", new_y="NEXT", align="L", wrapmode=WrapMode.CHAR)
    return bytes(pdf.output())

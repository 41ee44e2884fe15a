"""Optional LLM rewrite of retrieved facts, with every claim checked against its sources.

Text is deterministic and extractive by default: nothing here calls a model unless the caller passes one. When a
LangChain chat model is configured, it may rewrite the assembled facts into fluent text, *only* from those facts and
citing their node / entry ids in square brackets (``[KB-ATV-OBJ-0001]``). The output is then verified — every cited
id must belong to a given fact, at least one citation must be present, and every number (prices, percentages, dates,
quantities) must appear in the facts — and when that fails the extractive text is returned with the reason. A rep
never sees a price, a reimbursement status or a date the model made up.

The model comes from :func:`load_chat_model`, called by the composition root with explicit arguments (a
``"module.path:ClassName"`` spec and keyword arguments); this module reads no settings and no environment.
"""

from __future__ import annotations

import importlib
import logging
import re
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from copilot.briefing import BriefingPack, Fact
from copilot.cases import CaseSuggestion
from copilot.errors import ChatModelConfigError
from copilot.objections import ObjectionAnswer
from copilot.render import SECTIONS

if TYPE_CHECKING:  # langchain_core's chat models and prompts import ~3 s of modules: loaded when a model is used
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage
    from langchain_core.prompts import ChatPromptTemplate

log = logging.getLogger(__name__)

__all__ = [
    "CASES_PURPOSE",
    "OBJECTION_PURPOSE",
    "BRIEFING_PURPOSE",
    "HUMAN_PROMPT",
    "prompt",
    "STATUS_TERMS",
    "SYSTEM_PROMPT",
    "Fact",
    "OutputCheck",
    "Rewritten",
    "arewrite",
    "briefing_facts",
    "build_messages",
    "case_facts",
    "check_output",
    "extractive_text",
    "format_facts",
    "load_chat_model",
    "model_label",
    "objection_facts",
    "rewrite",
]

SYSTEM_PROMPT = """你是医药销售团队的写作助手，把给出的“资料”改写成通顺、简洁、可以直接使用的文字。
必须遵守：
1. 只能使用给出的资料，不得加入资料以外的任何事实、疗效或安全性结论、政策、价格或竞品信息。
2. 每一句陈述事实的话后面，用方括号写出所依据资料的编号，例如 [KB-ATV-OBJ-0001]；依据多条资料时写成 [A-1][B-2]。\
只写资料里出现的编号，不要写资料的序号（1、2、3）。
3. 不得编造或改动任何数字：价格、百分比、数量、日期、医保类别、支付标准和报销状态必须与资料完全一致；\
资料里没有的数字一律不写。
4. 资料不足以回答时，直接说明资料中没有相关信息，不要猜测。
5. 使用与任务相同的语言（默认中文），不要输出除方括号编号以外的引用格式。"""

HUMAN_PROMPT = """任务：{purpose}

资料（共 {count} 条，每条开头的方括号内是它的编号）：
{facts}"""


@cache
def prompt() -> ChatPromptTemplate:
    """The rewrite prompt: the Chinese system rules, then the task and the numbered facts (built on first use)."""
    from langchain_core.prompts import ChatPromptTemplate

    return ChatPromptTemplate.from_messages([("system", SYSTEM_PROMPT), ("human", HUMAN_PROMPT)])


OBJECTION_PURPOSE = "客户提出异议：“{objection}”。请整合资料，写一段代表可以直接对客户说的回应话术。"
"""Suggested purpose for objection answers (``OBJECTION_PURPOSE.format(objection=...)``)."""

CASES_PURPOSE = "为正在创建的商机推荐可参考的成功案例：逐个简要说明案例内容和匹配原因。"
"""Suggested purpose for case suggestions."""

BRIEFING_PURPOSE = "为拜访前的代表写一段简短的拜访要点：客户概况、需要关注的风险与机会、建议的沟通重点。"
"""Suggested purpose for a briefing pack."""

_BRACKETS = re.compile(r"\[([^\[\]\n]{1,200})\]|【([^【】\n]{1,200})】")
_ID_SEPARATORS = re.compile(r"[,，、;；\s]+")
_ID_LIKE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/#-]*$")
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_LIST_MARKER = re.compile(r"(?m)^[ \t>#]*(?:[-*•][ \t]*)?\d{1,2}[.、)）](?!\d)")
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．，％", "0123456789.,%")

STATUS_TERMS: tuple[str, ...] = (
    "甲类",
    "乙类",
    "丙类",
    "医保目录",
    "报销",
    "自费",
    "调出",
    "调入",
    "支付标准",
    "限定支付",
    "集采",
    "带量采购",
    "国谈",
    "谈判",
    "协议期",
    "双通道",
)
"""Reimbursement-status words a rewrite may use only when some fact uses them too."""


class Rewritten(BaseModel):
    """A rewritten (or extractive) text with the ids it cites and where it came from."""

    text: str = Field(description="The text to show: the model's rewrite when it passed the checks, else extractive.")
    cited_ids: list[str] = Field(description="Node / entry ids the text cites, in order of first appearance.")
    source: Literal["llm", "extractive"] = Field(description="llm: the verified model text; extractive: the facts.")
    model: str | None = Field(None, description="The chat model asked (class and model name), None when none was.")
    fallback_reason: str | None = Field(
        None, description="Why the model's text was not used (None when it was, or when no model is configured)."
    )
    rejected_output: str | None = Field(
        None, description="The model text that failed the checks, for review and evaluation; not for reps."
    )


class OutputCheck(BaseModel):
    """The result of checking a model text against its facts."""

    cited_ids: list[str] = Field(description="Known ids cited, in order of first appearance.")
    unknown_ids: list[str] = Field(description="Cited ids that are not among the facts.")
    unsupported_numbers: list[str] = Field(description="Numbers in the text that appear in no fact.")
    unsupported_terms: list[str] = Field(
        default_factory=list, description="Reimbursement-status words in the text that appear in no fact."
    )

    @property
    def problems(self) -> list[str]:
        """What is wrong with the text, in words; empty when it may be shown."""
        out = []
        if self.unknown_ids:
            out.append("cites ids that are not among the facts: " + ", ".join(self.unknown_ids))
        if not self.cited_ids and not self.unknown_ids:
            out.append("cites no fact")
        if self.unsupported_numbers:
            out.append("has numbers that appear in no fact: " + ", ".join(self.unsupported_numbers))
        if self.unsupported_terms:
            out.append("has reimbursement terms that appear in no fact: " + ", ".join(self.unsupported_terms))
        return out

    @property
    def ok(self) -> bool:
        """True when the text passed every check."""
        return not self.problems


# ---------------------------------------------------------------- facts from the extractive outputs


def _one_line(text: str) -> str:
    return " ".join(text.split())


def objection_facts(answers: Sequence[ObjectionAnswer]) -> list[Fact]:
    """One fact per objection script (id = entry id), so a rewrite can merge the scripts and cite each one."""
    return [Fact(node_id=a.entry_id, text=f"话术《{a.title}》：{_one_line(a.script)}") for a in answers]


def case_facts(cases: Sequence[CaseSuggestion]) -> list[Fact]:
    """One fact per suggested case (id = entry id): title, summary, outcome and why it matched."""
    out = []
    for c in cases:
        text = f"案例《{c.title}》：{_one_line(c.summary)}"
        if c.outcome and c.outcome not in c.summary:
            text += f" 成果：{_one_line(c.outcome)}。"
        if c.why:
            text += " 匹配原因：" + "；".join(c.why)
        out.append(Fact(node_id=c.entry_id, text=text))
    return out


def briefing_facts(pack: BriefingPack) -> list[Fact]:
    """Every line of a briefing pack as a fact with the node it comes from, prefixed with its section.

    Health and profile lines cite the customer; purchase gaps and formulary changes cite the product (SKU).
    """
    out = [Fact(node_id=f.node_id, text=f"客户概况：{f.text}") for f in pack.profile]
    h = pack.health
    factors = "；".join(f"{f.name} {f.value}" for f in h.factors)
    out.append(Fact(node_id=pack.customer_id, text=f"客户健康度：{h.score} 分（{h.tier}）；{factors}"))
    out += [Fact(node_id=g.sku, text=f"采购缺口：{g.name}：{g.detail}") for g in pack.purchase_gaps]
    out += [Fact(node_id=c.sku, text=f"医保目录变化：{c.name}：{c.detail}") for c in pack.formulary_changes]
    for attr, title in SECTIONS:
        facts: list[Fact] = getattr(pack, attr)
        out += [Fact(node_id=f.node_id, text=f"{title}：{f.text}") for f in facts]
    return out


def format_facts(facts: Sequence[Fact]) -> str:
    """The facts as the prompt lists them: ``1. [id] text``, one per line."""
    return "\n".join(f"{i}. [{f.node_id}] {_one_line(f.text)}" for i, f in enumerate(facts, 1))


def extractive_text(facts: Sequence[Fact]) -> str:
    """The deterministic text: each fact on its own line followed by its id (what is shown without a model)."""
    return "\n".join(f"- {_one_line(f.text)} [{f.node_id}]" for f in facts)


def build_messages(facts: Sequence[Fact], purpose: str) -> list[BaseMessage]:
    """The messages sent to the chat model: the rules (system) and the task with the numbered facts (human)."""
    return prompt().format_messages(purpose=purpose, count=len(facts), facts=format_facts(facts))


# ---------------------------------------------------------------- verification


def _numbers(text: str) -> list[str]:
    return _NUMBER.findall(text.translate(_FULL_WIDTH))


def _value(token: str) -> Decimal | None:
    try:
        return Decimal(token.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern only matches valid numbers
        return None


def check_output(text: str, facts: Sequence[Fact], *, status_terms: Sequence[str] = STATUS_TERMS) -> OutputCheck:
    """Check a model text against its facts: known citations, at least one, no new numbers or status words.

    A bracket group (``[...]`` or ``【...】``) is a citation when each of its parts is a known id or looks like one
    (ASCII letters, digits and ``-_.:/#``); other bracket groups (``【开场】``) are prose. Citations are removed before
    numbers are compared, numbers are compared by value (``58`` = ``58.00``, ``1,280`` = ``1280``, full-width digits
    too), and list markers at the start of a line (``1.``, ``2、``) are not numbers. Numbers written in Chinese
    numerals (三成, 十五天) are not checked, nor is a number's sign or direction (增长 / 下降). Reimbursement-status
    words (``status_terms``: 甲类, 乙类, 报销, 集采, …) must appear in some fact; that is a substring test, so it does
    not see negation (不报销 passes when a fact says 报销).
    """
    known = {f.node_id for f in facts}
    cited: list[str] = []
    unknown: list[str] = []

    def citation(match: re.Match[str]) -> str:
        inner = match.group(1) if match.group(1) is not None else match.group(2)
        parts = [p for p in _ID_SEPARATORS.split(inner.strip()) if p]
        if not parts or not all(p in known or _ID_LIKE.match(p) for p in parts):
            return match.group(0)
        for p in parts:
            bucket = cited if p in known else unknown
            if p not in bucket:
                bucket.append(p)
        return " "

    prose = _BRACKETS.sub(citation, text)
    prose = _LIST_MARKER.sub(" ", prose)
    allowed = {v for f in facts for t in _numbers(f.text) if (v := _value(t)) is not None}
    unsupported: list[str] = []
    for token in _numbers(prose):
        if _value(token) not in allowed and token not in unsupported:
            unsupported.append(token)
    source_text = "\n".join(f.text for f in facts)
    terms = [t for t in status_terms if t in prose and t not in source_text]
    return OutputCheck(cited_ids=cited, unknown_ids=unknown, unsupported_numbers=unsupported, unsupported_terms=terms)


# ---------------------------------------------------------------- rewriting


def model_label(chat_model: BaseChatModel) -> str:
    """A readable name of a chat model: its class, and the model name when it has one (``ChatOpenAI:gpt-4o``)."""
    for attr in ("model_name", "model", "model_id", "deployment_name"):
        value = getattr(chat_model, attr, None)
        if isinstance(value, str) and value:
            return f"{type(chat_model).__name__}:{value}"
    return type(chat_model).__name__


def _extractive(facts: Sequence[Fact], extractive: str | None, **extra: Any) -> Rewritten:
    ids = list(dict.fromkeys(f.node_id for f in facts))
    text = extractive if extractive is not None else extractive_text(facts)
    return Rewritten(text=text, cited_ids=ids, source="extractive", **extra)


def _message_text(message: BaseMessage) -> str:
    return _THINK.sub("", str(message.text)).strip()


def _accept(facts: Sequence[Fact], output: str, extractive: str | None, label: str) -> Rewritten:
    check = check_output(output, facts)
    if check.ok:
        return Rewritten(text=output, cited_ids=check.cited_ids, source="llm", model=label)
    reason = "; ".join(check.problems)
    return _extractive(facts, extractive, model=label, fallback_reason=reason, rejected_output=output)


def _model_failed(
    facts: Sequence[Fact], extractive: str | None, label: str, purpose: str, started: float, error: Exception
) -> Rewritten:
    """The extractive text after a failed model call: the provider's error is logged, never shown to the client.

    A provider's message can carry account names, quota details, endpoint URLs or parts of the prompt; the client
    is told only that the call failed and the kind of failure (the exception's class).
    """
    log.warning(
        "chat model call failed",
        exc_info=error,
        extra={"model": label, "purpose": purpose[:80], "duration_ms": round((time.perf_counter() - started) * 1000)},
    )
    reason = f"chat model failed ({type(error).__name__}); the extractive text is shown and the failure is logged"
    return _extractive(facts, extractive, model=label, fallback_reason=reason)


def rewrite(
    facts: Sequence[Fact],
    purpose: str,
    chat_model: BaseChatModel | None = None,
    *,
    extractive: str | None = None,
) -> Rewritten:
    """Rewrite ``facts`` for ``purpose`` with ``chat_model`` and keep the result only if it passes the checks.

    Without a model (the default) the extractive text is returned and nothing is called. With one, the model sees
    only the rules, the purpose and the numbered facts; its answer is kept when :func:`check_output` finds no
    problem, otherwise — and when the model call fails — the extractive text (``extractive``, default
    :func:`extractive_text` of the facts) is returned with ``fallback_reason`` saying why. This never raises for a
    model failure: a rep always gets an answer. Blocking; from async code use :func:`arewrite`.
    """
    if chat_model is None:
        return _extractive(facts, extractive)
    label = model_label(chat_model)
    if not facts:
        return _extractive(facts, extractive, model=label, fallback_reason="no facts to rewrite")
    started = time.perf_counter()
    try:
        message = chat_model.invoke(build_messages(facts, purpose))
    except Exception as e:  # any provider failure (network, quota, bad key) falls back to the extractive text
        return _model_failed(facts, extractive, label, purpose, started, e)
    return _accept(facts, _message_text(message), extractive, label)


async def arewrite(
    facts: Sequence[Fact],
    purpose: str,
    chat_model: BaseChatModel | None = None,
    *,
    extractive: str | None = None,
) -> Rewritten:
    """The same as :func:`rewrite`, awaiting the model's async API (``ainvoke``), for the async API handlers."""
    if chat_model is None:
        return _extractive(facts, extractive)
    label = model_label(chat_model)
    if not facts:
        return _extractive(facts, extractive, model=label, fallback_reason="no facts to rewrite")
    started = time.perf_counter()
    try:
        message = await chat_model.ainvoke(build_messages(facts, purpose))
    except Exception as e:  # any provider failure (network, quota, bad key) falls back to the extractive text
        return _model_failed(facts, extractive, label, purpose, started, e)
    return _accept(facts, _message_text(message), extractive, label)


# ---------------------------------------------------------------- configuration


def load_chat_model(spec: str, kwargs: Mapping[str, Any] | None = None) -> BaseChatModel:
    """Import and build the chat model a user configured, e.g. ``"langchain_openai:ChatOpenAI"``.

    ``spec`` is ``"module.path:Name"`` where ``Name`` is a ``BaseChatModel`` subclass, or a factory (such as
    ``langchain.chat_models:init_chat_model``) returning a ``BaseChatModel``; it is called with ``kwargs``. Building
    a model does not call it. Raises ``ChatModelConfigError`` (with the spec in ``details``) when the spec is
    malformed, the import fails, ``Name`` is missing, the arguments are rejected, or the result is not a chat model.
    """
    from langchain_core.language_models import BaseChatModel

    details: dict[str, Any] = {"spec": spec}
    module_name, sep, attr = spec.strip().partition(":")
    if not sep or not module_name or not attr:
        raise ChatModelConfigError(
            f"chat model spec {spec!r} must look like 'module.path:ClassName' (e.g. 'langchain_openai:ChatOpenAI')",
            details=details,
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ChatModelConfigError(
            f"cannot import {module_name!r} for chat model {spec!r}: {e}; install the package that provides it",
            details=details,
        ) from e
    target: Any = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise ChatModelConfigError(f"{module_name!r} has no {attr!r} (chat model {spec!r})", details=details)
        target = getattr(target, part)
    if isinstance(target, type) and not issubclass(target, BaseChatModel):
        raise ChatModelConfigError(
            f"{spec!r} is {target.__module__}.{target.__qualname__}, not a LangChain BaseChatModel", details=details
        )
    if not callable(target):
        raise ChatModelConfigError(f"{spec!r} is not a chat model class or factory", details=details)
    try:
        model = target(**dict(kwargs or {}))
    except Exception as e:  # pydantic ValidationError, TypeError, a provider's own checks
        raise ChatModelConfigError(
            f"chat model {spec!r} rejected its arguments: {type(e).__name__}: {e}", details=details
        ) from e
    if not isinstance(model, BaseChatModel):
        raise ChatModelConfigError(
            f"{spec!r} returned {type(model).__name__}, not a LangChain BaseChatModel", details=details
        )
    return model

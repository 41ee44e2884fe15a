"""Optional LLM rewrite: only verified model text is shown, everything else falls back to the extractive facts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import (
    FakeListChatModel,
    FakeMessagesListChatModel,
    GenericFakeChatModel,
)
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from copilot.briefing import BriefingPack, Fact, Factor, Gap, Health
from copilot.cases import CaseSuggestion
from copilot.errors import ChatModelConfigError, CopilotError
from copilot.formulary_impact import Change
from copilot.objections import ObjectionAnswer
from copilot.rewrite import (
    arewrite,
    briefing_facts,
    build_messages,
    case_facts,
    check_output,
    extractive_text,
    load_chat_model,
    objection_facts,
    rewrite,
)
from retrieval.hybrid import SearchHit

FACTS = [
    Fact(node_id="KB-ATV-OBJ-0001", text="立普妥 20mg*7片 挂网价 58.00 元，日治疗费用约 8.29 元。"),
    Fact(node_id="KB-ATV-OBJ-0002", text="阿托伐他汀 2024 年版医保目录乙类，支付标准 1,280 元/年。"),
    Fact(node_id="C-SH-00001", text="上海某连锁药房，门店 35 家，复购率提升 12%。"),
]
GOOD = (
    "立普妥挂网价 58 元，折合每天约 8.29 元 [KB-ATV-OBJ-0001]；属于医保乙类，支付标准 1280 元/年【KB-ATV-OBJ-0002】。"
)
FAKE_LIST = "langchain_core.language_models.fake_chat_models:FakeListChatModel"


class RecordingChatModel(BaseChatModel):
    """A chat model that records every prompt it is given and answers with a fixed text."""

    reply: str
    seen: list[list[BaseMessage]] = []

    @property
    def _llm_type(self) -> str:
        return "recording"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.seen.append(list(messages))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self.reply))])


class FailingChatModel(RecordingChatModel):
    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        raise ConnectionError("provider unreachable")


def test_faithful_answer_with_valid_citations_is_kept() -> None:
    out = rewrite(FACTS, "客户说立普妥太贵", FakeListChatModel(responses=[GOOD]))
    assert out.source == "llm" and out.fallback_reason is None and out.rejected_output is None
    assert out.text == GOOD
    assert out.cited_ids == ["KB-ATV-OBJ-0001", "KB-ATV-OBJ-0002"]
    assert out.model == "FakeListChatModel"


def test_unknown_id_falls_back_to_extractive_text() -> None:
    bad = "立普妥挂网价 58 元 [KB-ATV-OBJ-0001][KB-XXX-9999]。"
    out = rewrite(FACTS, "客户说立普妥太贵", FakeListChatModel(responses=[bad]))
    assert out.source == "extractive"
    assert out.text == extractive_text(FACTS)
    assert out.fallback_reason is not None and "KB-XXX-9999" in out.fallback_reason
    assert out.rejected_output == bad
    assert out.cited_ids == [f.node_id for f in FACTS]


def test_fact_number_used_as_citation_is_unknown() -> None:
    out = rewrite(FACTS, "x", FakeListChatModel(responses=["立普妥挂网价 58 元 [1]。"]))
    assert out.source == "extractive" and out.fallback_reason is not None and "1" in out.fallback_reason


@pytest.mark.parametrize(
    ("answer", "invented"),
    [
        ("立普妥现在只要 49 元 [KB-ATV-OBJ-0001]。", "49"),
        ("医保报销比例 70% [KB-ATV-OBJ-0002]。", "70"),
        ("2025-01-01 起执行新价 [KB-ATV-OBJ-0002]。", "2025"),
        ("支付标准 １２８１ 元 [KB-ATV-OBJ-0002]。", "1281"),  # full-width digits are numbers too
    ],
)
def test_invented_number_falls_back(answer: str, invented: str) -> None:
    out = rewrite(FACTS, "客户说立普妥太贵", FakeListChatModel(responses=[answer]))
    assert out.source == "extractive"
    assert out.fallback_reason is not None and "numbers" in out.fallback_reason and invented in out.fallback_reason


def test_invented_reimbursement_status_falls_back() -> None:
    out = rewrite(FACTS, "x", FakeListChatModel(responses=["立普妥已纳入集采，属于甲类 [KB-ATV-OBJ-0002]。"]))
    assert out.source == "extractive"
    assert out.fallback_reason == "has reimbursement terms that appear in no fact: 甲类, 集采"
    assert check_output("医保乙类，支付标准 1280 元 [KB-ATV-OBJ-0002]", FACTS).ok  # the fact says 乙类 and 支付标准


def test_no_citation_falls_back() -> None:
    out = rewrite(FACTS, "客户说立普妥太贵", FakeListChatModel(responses=["立普妥挂网价 58 元，很划算。"]))
    assert out.source == "extractive" and out.fallback_reason == "cites no fact"


def test_prose_brackets_list_markers_and_think_blocks_are_not_problems() -> None:
    answer = "<think>草稿 99 元</think>【开场】\n1. 挂网价 58.00 元 [KB-ATV-OBJ-0001]\n2、门店 35 家 [C-SH-00001]"
    out = rewrite(FACTS, "x", FakeMessagesListChatModel(responses=[AIMessage(content=answer)]))
    assert out.source == "llm", out.fallback_reason
    assert "99" not in out.text and out.cited_ids == ["KB-ATV-OBJ-0001", "C-SH-00001"]


def test_the_extractive_text_itself_passes_the_checks() -> None:
    assert check_output(extractive_text(FACTS), FACTS).ok


def test_check_output_reports_each_problem() -> None:
    check = check_output("门店 36 家 [C-SH-00001, E-404]", FACTS)
    assert check.cited_ids == ["C-SH-00001"] and check.unknown_ids == ["E-404"]
    assert check.unsupported_numbers == ["36"] and not check.ok and len(check.problems) == 2


def test_prompt_holds_only_the_given_facts_and_rules() -> None:
    model = RecordingChatModel(reply=GOOD, seen=[])
    rewrite(FACTS[:2], "客户说立普妥太贵", model)
    [messages] = model.seen
    assert [type(m) for m in messages] == [SystemMessage, HumanMessage]
    system, human = (str(m.content) for m in messages)
    assert "只能使用给出的资料" in system and "方括号" in system and "不得编造" in system
    assert "客户说立普妥太贵" in human
    assert "1. [KB-ATV-OBJ-0001] 立普妥 20mg*7片" in human and "2. [KB-ATV-OBJ-0002]" in human
    assert "C-SH-00001" not in human and "门店" not in human  # the third fact was not given
    assert messages == build_messages(FACTS[:2], "客户说立普妥太贵")


def test_default_is_extractive_and_calls_nothing() -> None:
    out = rewrite(FACTS, "x")
    assert out.source == "extractive" and out.model is None and out.fallback_reason is None
    assert out.text.splitlines()[0] == "- 立普妥 20mg*7片 挂网价 58.00 元，日治疗费用约 8.29 元。 [KB-ATV-OBJ-0001]"
    custom = rewrite(FACTS, "x", extractive="原文话术")
    assert custom.text == "原文话术"


def test_no_facts_and_model_failure_fall_back_without_raising() -> None:
    model = RecordingChatModel(reply=GOOD, seen=[])
    empty = rewrite([], "x", model)
    assert empty.source == "extractive" and empty.fallback_reason == "no facts to rewrite" and model.seen == []
    failed = rewrite(FACTS, "x", FailingChatModel(reply="", seen=[]))
    assert failed.source == "extractive"
    assert failed.fallback_reason is not None and "ConnectionError" in failed.fallback_reason


class LeakyChatModel(RecordingChatModel):
    """Fails like a provider whose error text names the account and the endpoint."""

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        raise PermissionError("quota exceeded for org-ACME-4711 at https://llm.internal/v1 (key sk-live-123)")


async def test_a_provider_error_text_is_logged_and_never_returned(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="copilot.rewrite"):
        out = rewrite(FACTS, "x", LeakyChatModel(reply="", seen=[]))
        aout = await arewrite(FACTS, "x", LeakyChatModel(reply="", seen=[]))
    for result in (out, aout):
        assert result.source == "extractive" and result.text == extractive_text(FACTS)
        shown = result.model_dump_json()
        assert "PermissionError" in shown and "org-ACME" not in shown and "sk-live" not in shown
    failures = [r for r in caplog.records if r.message == "chat model call failed"]
    assert len(failures) == 2
    assert all(r.exc_info and "org-ACME-4711" in str(r.exc_info[1]) for r in failures)
    assert all(getattr(r, "model", None) == "LeakyChatModel" for r in failures)


async def test_async_rewrite_verifies_the_same_way() -> None:
    ok = await arewrite(FACTS, "x", GenericFakeChatModel(messages=iter([AIMessage(content=GOOD)])))
    assert ok.source == "llm" and ok.cited_ids == ["KB-ATV-OBJ-0001", "KB-ATV-OBJ-0002"]
    bad = await arewrite(FACTS, "x", GenericFakeChatModel(messages=iter([AIMessage(content="便宜 [E-1]")])))
    assert bad.source == "extractive" and bad.fallback_reason is not None and "E-1" in bad.fallback_reason


def test_facts_from_objections_cases_and_briefing_carry_their_ids() -> None:
    hit = SearchHit(entry_id="KB-1", kind="objection_script", title="太贵", score=1.0)
    assert objection_facts([ObjectionAnswer("KB-1", 3, "太贵", "算日\n治疗费用。", "product", hit.score, 0.9)]) == [
        Fact(node_id="KB-1", text="话术《太贵》：算日 治疗费用。")
    ]
    case = CaseSuggestion("KB-9", "某连锁", "三个月上量。", 0.5, {}, ("同产品：立普妥",), "C-1", "销量提升 30%")
    [cf] = case_facts([case])
    assert cf.node_id == "KB-9" and "30%" in cf.text and "同产品：立普妥" in cf.text
    pack = BriefingPack(
        tenant="t",
        customer_id="C-1",
        as_of=dt.date(2025, 1, 1),
        profile=[Fact(node_id="C-1", text="某药房（连锁）")],
        health=Health(score=55, tier="关注", factors=[Factor(name="最近采购", value="40 天前", points=15)]),
        interactions=[Fact(node_id="I-1", text="2024-12-01 拜访：谈价格")],
        open_next_steps=[],
        doctors=[],
        purchase_gaps=[Gap(sku="SKU-A", name="立普妥", kind="overdue", detail="通常 30 天补货一次，已 60 天未采购")],
        formulary_changes=[Change(sku="SKU-B", name="可定", old_edition="N22", new_edition="N24", detail="乙类→甲类")],
        likely_objections=[],
        matching_cases=[Fact(node_id="KB-9", text="某连锁")],
        contracts_ending=[],
        open_deals=[],
    )
    facts = briefing_facts(pack)
    assert [f.node_id for f in facts] == ["C-1", "C-1", "SKU-A", "SKU-B", "I-1", "KB-9"]
    assert facts[1].text.startswith("客户健康度：55 分") and facts[4].text.startswith("最近拜访：")


def test_load_chat_model_builds_a_configured_fake_model() -> None:
    model = load_chat_model(FAKE_LIST, {"responses": [GOOD]})
    assert isinstance(model, FakeListChatModel)
    assert rewrite(FACTS, "x", model).source == "llm"


@pytest.mark.parametrize(
    ("spec", "kwargs", "says"),
    [
        ("FakeListChatModel", {}, "must look like"),
        ("no_such_module_xyz:Chat", {}, "cannot import"),
        ("langchain_core.language_models.fake_chat_models:Nope", {}, "has no"),
        ("langchain_core.messages:AIMessage", {}, "not a LangChain BaseChatModel"),
        ("json:dumps", {"obj": 1}, "returned str"),
        (FAKE_LIST, {"responses": 5}, "rejected its arguments"),
    ],
)
def test_bad_chat_model_spec_raises_typed_error(spec: str, kwargs: dict[str, Any], says: str) -> None:
    with pytest.raises(ChatModelConfigError, match=says) as info:
        load_chat_model(spec, kwargs)
    assert isinstance(info.value, CopilotError) and info.value.code == "chat_model_config"
    assert info.value.details == {"spec": spec}

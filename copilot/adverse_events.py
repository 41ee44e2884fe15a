"""Suspected adverse drug reactions (疑似不良反应) in free text: interaction notes, uploads, objection queries.

In China, a marketing authorisation holder must collect every suspected adverse reaction it learns of, from any
source, and pass it to its pharmacovigilance (药物警戒) function (药品不良反应报告和监测管理办法; GVP 2021). A sales rep
is such a source: a visit note saying "王阿姨吃了阿托伐他汀后肌肉酸痛" is a report, and must reach drug safety —
never become an FAQ draft or be answered with a sales script. Reporting is deliberately sensitive: the threshold is
*suspected* (hedged causality counts), so the detector leans towards recall.

The rule, clause by clause (a clause is a piece of a sentence between ``，,；;。！？`` and the like):

1. **Symptom or reaction word** from ``SYMPTOMS`` (Chinese terms of the MedDRA-like everyday lexicon reps and pharmacy
   staff write: 头晕, 恶心, 拉肚子, 起疹子, 脚踝水肿, 干咳, 肌肉酸痛, 转氨酶升高 …, a few English words) or a generic
   reaction word (副作用, 不良反应, 过敏) — this is the *what*.
2. **Not denied**: a negation (没有, 没, 无, 未, 未见, 不, 否认) right before the word in the same clause, or a
   "did not happen" after it (…没有出现, 结果没有), makes the clause no report (没有不良反应, 服用后无头晕).
3. **Not hypothetical**: worry, condition, future or generic question in the clause (担心, 害怕, 会不会, 如果, 万一,
   是否会, 容易…吗, 怎么办 after 如果) — 担心会头晕 is no report.
4. **Not label information**: package-insert or training wording (常见不良反应, 说明书, 本品, 可能出现, 偶见, 发生率)
   describes the product, not a patient.
5. **Not the disease**: the symptom is what is being treated — it persists (还是睡不着, 仍然咳: an efficacy complaint),
   it went away once the drug was taken (胃不疼了, 发烧…喝了退烧药就退了 — unless the drug was stopped: a reaction
   that resolves on stopping is a report), it is why someone buys or the drug's class (头痛来买止痛药, 抗过敏药, but
   止泻药后肚子胀 is a reaction: the symptom came after), it describes who comes in (咳嗽的顾客), or it is put down to
   another cause named right after it (拉肚子是因为吃了路边摊, 脚肿是心衰引起的).
6. **An exposure**: the text (any clause) says someone took or used something (吃了, 服用, 用药, 打了, 涂了, 擦了,
   "吃/打/用…后", 用紫杉醇的病人 …, a drug word: an INN stem, a dosage form, a class such as 降压药/退烧药/胰岛素),
   or the clause itself says the reaction was caused (引起, 导致, 出现, 副作用, 过敏). Nobody has taken it yet
   (还没开始吃) is no exposure.
7. **Not denied afterwards**: a short "没事/没有" clause right after denies it — unless it is about another time or
   product (以前喝水剂没事 contrasts, it does not deny).

A text is flagged when at least one clause passes all of these; the finding keeps that clause and its symptom words.
The rule is transparent to a drug-safety officer, needs no training data and is tested; its quality is measured on an
independent labelled set (``python -m eval.eval_adverse_events``; figures in eval/reports/adverse_events/).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from retrieval.typos import PinyinCorrector

# --------------------------------------------------------------------------------------------- the lexicon

SYMPTOMS: tuple[str, ...] = (
    # nervous system
    "头晕", "头昏", "眩晕", "晕乎乎", "头重脚轻", "头痛", "头疼", "嗜睡", "犯困", "困倦", "失眠", "睡不着", "手抖",
    "震颤", "抽搐", "晕厥", "晕倒", "昏倒", "麻木", "手脚发麻", "发麻", "耳鸣", "视物模糊", "看东西模糊", "眼花",
    # digestive
    "恶心", "想吐", "呕吐", "吐了", "腹泻", "拉肚子", "拉稀", "便秘", "胃部不适", "胃不舒服", "胃难受", "胃疼", "胃痛",
    "胃胀", "腹胀", "腹痛", "肚子疼", "肚子痛", "反酸", "烧心", "食欲不振", "没胃口", "口干", "口苦", "黑便",
    "消化道出血", "胃出血",
    # skin, allergy
    "皮疹", "红疹", "疹子", "起疹", "出疹", "荨麻疹", "瘙痒", "发痒", "痒", "红肿", "过敏", "光过敏", "脱发",
    "面部潮红", "脸红", "潮红",
    # cardiovascular, respiratory
    "心慌", "心悸", "心跳快", "心跳加快", "心动过缓", "心跳慢", "胸闷", "气短", "呼吸困难", "喘不上气", "低血压",
    "血压偏低", "血压太低", "水肿", "浮肿", "脚肿", "脚踝肿", "腿肿", "干咳", "咳嗽", "一直咳",
    # musculoskeletal, general
    "肌肉酸痛", "肌肉疼", "肌肉痛", "肌痛", "浑身酸痛", "关节痛", "乏力", "没力气", "无力", "疲倦", "发热", "发烧",
    # laboratory, metabolic, bleeding
    "转氨酶升高", "转氨酶高", "肝功能异常", "肝功异常", "肝损伤", "肌酸激酶升高", "低血糖", "血糖偏低", "血糖太低",
    "出血", "牙龈出血", "流鼻血", "瘀斑", "淤青", "青紫", "血钾高", "尿频", "尿少", "月经紊乱", "黄疸", "酮症酸中毒",
    "酸中毒", "缺镁", "低钾", "抽筋", "红斑", "嘶哑", "掉头发", "掉发", "放屁", "胀气", "困得", "胃肠道反应",
    "体重增加", "发胖", "尿路感染",
    # more everyday wording (the lay ADR vocabulary of pharmacy counters and visit notes)
    "犯恶心", "反胃", "干呕", "天旋地转", "头晕眼花", "心里发慌", "发慌", "没劲", "浑身没劲", "睡不好", "做噩梦",
    "多梦", "上火", "长痘", "起痘", "口腔溃疡", "便血", "尿血", "血尿", "尿黄", "憋气", "发抖", "哆嗦",
    "冒冷汗", "出冷汗", "盗汗", "出虚汗", "虚汗", "晕乎", "迷糊", "犯迷糊", "反应慢", "记性差", "没精神",
    "精神差", "情绪低落", "抑郁", "焦虑", "烦躁", "幻觉", "阳痿", "勃起", "闭经", "泌乳", "体重下降", "胖了",
    "瘦了", "脱皮", "起水泡", "水泡", "溃烂", "紫癜", "鼻出血", "咯血", "呕血", "排尿困难", "尿不出", "心律不齐",
    "早搏", "视力下降", "看不清", "听力下降", "味觉", "金属味", "怪味", "刺痛", "灼热", "烧灼", "静脉炎", "硬结",
    "休克", "过敏性休克", "喉头水肿", "昏睡", "躁动", "消化不良", "不消化", "胃肠反应", "晕车似的", "发晕",
    "晕", "疲劳", "头胀", "胀痛", "抽搐", "打嗝", "嗳气", "口腔念珠菌", "念珠菌",
    # lay wording of visit notes (adverse_events2 dev): sleepiness, senses, mood, sex, cold, fever, blockage
    "昏昏沉沉", "昏沉", "叫不醒", "叫都叫不", "嗡嗡响", "嗡嗡的", "耳朵响", "性功能", "心情很差", "心情差", "低落",
    "冰凉", "发凉", "做梦", "说胡话", "胡言乱语", "食欲差", "食欲下降", "食欲不好", "甲减", "怕冷", "寒战", "高热",
    "鼻塞", "鼻子堵", "想睡觉", "老想睡", "不排气", "尿多", "尿特别多", "尿量多", "夜尿多", "出一身汗", "出了一身汗",
    # English
    "dizzy", "dizziness", "nausea", "nauseous", "vomit", "diarrhea", "diarrhoea", "rash", "itchy", "itching",
    "headache", "palpitation", "cough", "swelling", "allergic", "allergy", "muscle pain", "myalgia", "fatigue",
    "side effect", "adverse", "reaction", "vomiting", "constipation", "hives", "itch", "insomnia", "edema",
    "oedema", "UTI", "hypoglycemia", "bleeding", "cramp",
)  # fmt: skip
"""Symptom words (what a patient feels or a test shows) as reps and pharmacy staff write them."""

REACTION_WORDS: tuple[str, ...] = ("不良反应", "副作用", "副反应", "反应", "不舒服", "难受", "不适")
"""Generic words for a reaction; a report when the clause also says it happened (not denied, not a worry)."""

_NEGATION_BEFORE = re.compile(
    r"(?:没有|没|无|未见|未|不曾|否认|并无|并没有|没出现|没发生|未出现|未发生|不会)[^，,。；;！!？?]{0,6}$|"
    r"(?i:\b(?:no|not|without|never|denie[sd]|free of)\b[\w\s]{0,12}$)|"
    r"(?:不再|没再|未再|从没|从来没|没发现|未发现|未诉|无明显|都没有|啥也没有?)[^，,。；;！!？?]{0,6}$|"
    r"不(?:再|太)?$"
)
"""A negation shortly before the symptom in the same clause (没有不良反应, 未见明显副作用, 服用后无头晕)."""
_NEGATION_AFTER = re.compile(r"^[^，,。；;！!？?]{0,4}(?:没有|没|都没|也没|未|并未)")
"""A denial right after the symptom (头晕没有, 副作用没出现)."""
_NOT_HAPPENED = re.compile(
    r"(?:结果|但是|但|后来|实际|其实)?(?:没有|没|并没有|都没有|也没有|未)(?:出现|发生|有)?[。！!，,]?$|"
    r"一切正常|都正常|挺正常|没事|啥事没有|没什么事|耐受(?:良好|性?好)|(?i:well tolerated|no problem)"
)
_HYPOTHETICAL = re.compile(
    r"担心|以为|会有|会出现|会产生|以减少|以降低|以免|减少.{0,6}(?:风险|发生)|担忧|害怕|怕|顾虑|会不会|是否会|会否|如果|假如|万一|要是|若|是不是会|会引起|会导致|能不能|可能会|容易|"
    r"预防|避免|防止|以防|怎么办|注意|(?:吃|用|买|开|有)什么药|吃啥药|什么药好|问.{0,6}(?:副作用|不良反应)|有没有(?:什么)?(?:副作用|不良反应)|"
    r"(?:副作用|不良反应)(?:大不大|多不多|怎么样|严重吗|有哪些|是什么)|(?i:\bif\b|\bworr|\bwould\b|\bcould\b)"
)
"""Worry, condition, future, a generic question: the reaction has not happened to anyone."""
_LABEL_INFO = re.compile(
    r"常见不良反应|不良反应(?:为|包括|有|主要|较少|轻微|发生率)|说明书|本品|偶见|少见|罕见|发生率|可能出现|可能引起|"
    r"临床试验|培训|话术|讲解|常见|禁忌|慎用|注意事项|诊疗指南|指南|医保支付|支付限|适应症|医保目录|"
    r"(?:副作用|不良反应)(?:小|少|轻|较小|较少|较轻)"
)
"""Package-insert, product-information or training wording: about the product, not about a patient."""
_PERSISTS = re.compile(r"(?:还是|仍然|仍|依然|依旧|照样|还在|一直还|没见好|不见好)[^，,。；;]{0,3}$")
"""The symptom still there despite the drug: the disease persists (an efficacy complaint), not a reaction."""
_EFFICACY = re.compile(r"没效果|没有效果|无效|不管用|没用|效果不好|效果差|降不下来|不见效|没什么效果")
_PURCHASE_REASON = re.compile(
    r"^[^，,。；;]{0,4}(?:来买|来店|想买|要买|去买|买点|买了|来拿|来开|所以买|才买|需要买|开点|了来)"
)
_PURCHASE_NEXT = re.compile(r"^(?:所以|就|才|想|要|来|去)?(?:来买|想买|要买|买|来店|来拿|来开|开点)")
_PURCHASE_BEFORE = re.compile(r"(?:因为|因|治|治疗|缓解|改善|针对|止|抗|专治|用于)[^，,。；;后]{0,4}$")
"""The symptom is the reason for buying or the indication (头痛来买止痛药, 治失眠, 抗过敏药): the disease, not a
reaction — unless a 后 lies between (止泻药后肚子胀: the symptom came after the drug)."""
_RELIEF = re.compile(
    r"(?:就|都|也)?(?:退了|消了|好了|好多了|好转|缓解了|减轻了|止住了|没了|"
    r"不(?:再)?(?:疼|痛|痒|肿|晕|咳|拉|吐|烧|慌|闷|胀|酸|麻|难受|头晕|头疼|头痛|心慌|咳嗽|发烧|拉肚子)了)|"
    r"效果(?:不错|挺好|很好|好)|管用|见效"
)
"""The symptom went away once the drug was taken (喝了退烧药半小时就退了): efficacy, not a reaction."""
_STOPPED = re.compile(r"停药|停了|不吃了|不用了|不敢吃|不想吃|不敢用|减量|换药|换了")
"""…unless the drug was stopped: a reaction that resolves after stopping is a report (a positive dechallenge)."""
_OTHER_CAUSE = re.compile(
    r"^[^，,。；;]{0,2}是(?:因为|由于|[^，,。；;]{1,8}(?:引起|导致|造成|的原因))|^[^，,。；;]{0,2}(?:因为|由于)"
)
"""The symptom is put down to something named right after it (拉肚子是因为吃了路边摊, 脚肿是心衰引起的)."""
_NOT_YET = re.compile(
    r"还没(?:开始)?(?:吃|用|服|买|打)|没开始(?:吃|用)|打算[^，,。；;]{0,6}开始(?:吃|用)|明天开始(?:吃|用)"
)
"""Nobody has taken it yet (她还没开始吃): whatever follows is an expectation, not an event."""
_CONTRAST_BEFORE = re.compile(r"^(?:以前|之前|原来|过去|早先|换[^，,。；;]{0,6}前)")
"""A "没事" about another time or product (以前喝水剂没事) contrasts with the reaction; it does not deny it."""
EXPOSURE = re.compile(
    r"吃了|吃完|吃后|吃过|服用|服了|服药|口服|用药|用了|使用|打了|注射|输液|输了|涂了|涂抹|贴了|喷了|吸入|换了|"
    r"喝了|喝完|停药|停了|换药|加了|上了|开始吃|一直吃|在吃|长期吃|吃这个|吃那个|擦了|抹了|滴了|含了|静滴|输完|打完|"
    r"(?:吃|服|喝|用|打|擦|涂|抹|贴|滴|喷|含|输|注射|吸)[^，,。；;]{0,10}?(?:后|以后|之后)|"
    r"(?:用|吃|服|打)[^，,。；;]{1,8}的(?:病人|患者|顾客|人)|"
    r"[吃喝用服].{1,12}(?:后|之后|以后|几天|一周|两天|三天|的原因)|"
    r"(?i:\btook\b|\btaking\b|\bafter\b|\bon\b\s+\w+)"
)
"""Someone took or used something (the exposure a report needs)."""
_CAUSED = re.compile(r"引起|导致|引发|诱发|出现|发生|副作用|不良反应|过敏|药物反应|用药后|服药后|吃药后")

_CLAUSE = re.compile(r"[，,；;。！!？?\n]|\s{2,}|(?<=[a-z])\.\s")
_SENTENCE = re.compile(r"(?<=[。！!？?；;\n])")
BODY_PARTS: tuple[str, ...] = (
    "胃", "肚子", "肚皮", "腹部", "小腹", "腿", "脚", "脚踝", "手", "手脚", "手指", "嗓子", "喉咙", "嘴", "嘴唇", "口",
    "脸", "面部", "眼睛", "眼", "耳朵", "皮肤", "身上", "全身", "浑身", "大便", "小便", "尿", "胸口", "背", "腰",
    "关节", "肌肉", "跟腱", "头发", "体重", "声音", "牙龈", "舌头", "屁股", "肝", "肾", "眼皮", "鼻子", "牙", "牙齿",
    "舌", "指甲", "胳膊", "手臂", "膝盖", "小腿", "大腿", "脖子", "乳房", "下身", "嗓", "喉", "额头", "注射部位",
    "针眼", "打针的地方", "血糖", "血压", "心跳", "心率", "脑袋", "脑子", "肠胃", "胃口", "睡眠", "精神", "嘴里",
    "血管", "食欲", "性功能", "心情", "情绪",
)  # fmt: skip
"""Body parts (and a few measurable signs) a lay report pairs with a sensation: 胃里烧得慌, 腿酸, 大便发黑."""
SENSATIONS: tuple[str, ...] = (
    "疼", "痛", "酸", "胀", "肿", "痒", "干", "发黑", "黑", "发红", "红", "烧", "青紫", "发紫", "涨", "掉", "哑", "麻",
    "酸痛", "酸疼", "疼痛", "胀痛", "肿痛",
    "抽筋", "出血", "不舒服", "难受", "不适", "起疙瘩", "起包", "长了", "增加", "重了", "发炎", "溃疡", "起泡",
    "发烫", "发胀", "发酸", "发麻", "发痒", "发干", "发苦", "苦", "发黄", "黄", "紫", "青", "硬", "抖", "偏低", "太低",
    "低了", "过低", "慢了", "太慢", "快了", "太快", "差了", "变差", "不好", "晕", "沉", "昏沉", "下降", "掉了",
    "冰凉", "发凉", "发白", "堵", "不行", "变色", "变成", "颜色",
)  # fmt: skip
"""Abnormal sensations and signs; after a body part they are a symptom (the compositional lexicon)."""

_WORDS = sorted({*SYMPTOMS, *REACTION_WORDS}, key=len, reverse=True)
_BODY_SENSATION = "(?:{})[里上部]?[^，,。；;！!？?、]{{0,3}}?(?:{})".format(
    "|".join(sorted(BODY_PARTS, key=len, reverse=True)), "|".join(sorted(SENSATIONS, key=len, reverse=True))
)
_WORD = re.compile(
    "|".join(rf"(?<![A-Za-z]){re.escape(w)}(?![A-Za-z])" if w.isascii() else re.escape(w) for w in _WORDS)
    + "|"
    + _BODY_SENSATION,
    re.IGNORECASE,
)


@dataclass(frozen=True)
class AdverseFinding:
    """A text that reports a suspected adverse reaction: the clause that does, and the symptom words in it."""

    sentence: str
    symptoms: tuple[str, ...]


def _clauses(text: str) -> list[str]:
    return [c.strip() for c in _CLAUSE.split(text) if c and c.strip()]


_PERSIST_WORDS = re.compile(r"还是|仍然|依然|依旧|照样")
_DISEASE_NAME = re.compile(r"性(?!休克)|症(?!状)|病")
"""A symptom word inside a disease name (过敏性鼻炎, 低血压病, 焦虑症): the condition, not a reaction."""
_LIST_GLUE = re.compile(r"[、和及或与跟\s]|之类的?|这类|等|什么|任何|明显的?|其他|别的|啥")
_NEGATION_WORD = re.compile(r"(?:没有|没|无|未见|未|并无|否认|不曾)")


def _negated_list(before: str) -> bool:
    """Whether a negation governs a list ending here: 没有头晕乏力之类的不舒服, 无恶心、呕吐等 (one negation)."""
    negations = list(_NEGATION_WORD.finditer(before))
    if not negations:
        return False
    gap = before[negations[-1].end() :]
    rest = _LIST_GLUE.sub("", _WORD.sub("", gap))
    return len(rest) <= 1


_ONSET = re.compile(
    r"(?:后|以后|之后|完)(?:就|便|又|还)?(?:出现|发生|开始|引起|导致)了?(?P<what>[^，,。；;！!？?]{2,10})"
)
"""After taking it, something began (服用左氧氟沙星后出现跟腱疼痛): a symptom, even one the lexicon lacks."""


def _reported_words(clause: str) -> list[str]:
    """The symptom words of ``clause`` that are neither denied, nor the disease itself."""
    found: list[str] = []
    onset = _ONSET.search(clause)
    if onset and not _NEGATION_BEFORE.search(clause[: onset.start("what")]):
        found.append(onset.group("what"))
    for m in _WORD.finditer(clause):
        before, after = clause[: m.start()], clause[m.end() :]
        if _NEGATION_BEFORE.search(before) or _NEGATION_AFTER.search(after) or _negated_list(before):
            continue
        if _PERSIST_WORDS.search(m.group(0)) or _DISEASE_NAME.match(after):
            continue
        if _PERSISTS.search(before) or _PURCHASE_REASON.search(after) or _PURCHASE_BEFORE.search(before):
            continue
        word = m.group(0)
        if word not in _LEXICON and _BODY_NEGATED.search(word) and not _BODY_NEGATION_OK.search(word):
            continue  # 胃不疼了, 腿不肿了: a body part with its sensation denied
        if _OTHER_CAUSE.search(after) and not DRUG.search(after.split("，")[0]):
            continue
        if _WHO_HAS_IT.search(after):
            continue  # 咳嗽、嗓子疼的顾客: describes who comes in with the disease
        found.append(m.group(0))
    return found


_LEXICON = frozenset({*SYMPTOMS, *REACTION_WORDS})
_WHO_HAS_IT = re.compile(r"^[^，,。；;]{0,6}的(?:顾客|病人|患者|人|小孩|孩子|老人)")
_BODY_NEGATED = re.compile(r"[不没无]")
_BODY_NEGATION_OK = re.compile(r"不舒服|不适|不好|不行|不清|不出|不醒|不下|不住|不上|不太")


DRUG = re.compile(
    r"他汀|沙坦|普利|地平|洛尔|双胍|格列|列净|列汀|霉素|沙星|头孢|西林|拉唑|替丁|肝素|西汀|帕林|布洛芬|阿司匹林|"
    r"片|胶囊|颗粒|注射液|混悬液|口服液|缓释|软膏|喷雾|这个药|那个药|此药|药物|用药|[A-Z][a-z]{3,}|"
    r"药(?:水|膏|丸|粉|酒)|膏药|糖浆|滴丸|贴剂|[降退止消抗感安中西新补泻痛眠压糖炎烧冒脂酸虫孕]药(?![店房师剂企监品代械学])|"
    r"胰岛素|激素|抗生素|维生素|华法林|地高辛|造影剂|化疗|靶向|PD-?1|二甲|阿托|氨氯|左氧|"
    r"替尼|单抗|他滨|紫杉|[顺卡奥]铂|(?i:[a-z]+(?:mab|nib))"
)
"""A drug named (an INN class stem, a dosage form, 这个药, a capitalised English brand): the suspected product."""


CUT_WORD_FREQ = 20
"""A token at least this frequent in jieba's dictionary is a real word (a fix may not break two of them)."""


_NO_TYPO_FIX = frozenset({"鼻塞"})
"""Symptom words whose sound is everyday drug talk: 比塞来昔布 (than celecoxib) sounds like 鼻塞来昔布."""


_CORRECTOR_LOCK = threading.Lock()


def _corrector() -> PinyinCorrector:
    """Homophone typos of symptom words (头运 → 头晕, 恶新 → 恶心): reps type through a pinyin input method.

    Everyday words of jieba's dictionary are never read as a symptom (市面 is not 失眠). Made once per process,
    under a lock (concurrent first answers each made their own), over the process's one copy of that dictionary.
    """
    with _CORRECTOR_LOCK:
        return _make_corrector()


@lru_cache(maxsize=1)
def _make_corrector() -> PinyinCorrector:
    from retrieval.keyword_index import plain_tokenizer  # jieba: imported by the readers that need it

    freq = plain_tokenizer().FREQ
    words = [
        w for w in SYMPTOMS if not w.isascii() and 2 <= len(w) <= 4 and not w.endswith("了") and w not in _NO_TYPO_FIX
    ]
    # "X了" (瘦了, 胖了) sounds like everyday verbs (拒收了 → 瘦了): a typo fix needs a symptom word of its own
    return PinyinCorrector(words, common_word=lambda w: int(freq.get(w, 0) or 0))


def warm() -> None:
    """Make the typo pass now (a service's start), so that no answer waits for it."""
    _corrector()


def detect(text: str) -> AdverseFinding | None:
    """The first clause of ``text`` that reports a suspected adverse reaction, or ``None`` (rule in the module doc).

    A text with no report as typed is read once more with homophone typos of symptom words put right.
    """
    if not text or not text.strip():
        return None
    found = _detect(text)
    if found is None:
        fixed = _typos_fixed(text)
        if fixed != text:
            found = _detect(fixed)
            if found is not None:  # the words as written (a fix keeps the length), the symptoms as read
                start = fixed.find(found.sentence)
                found = AdverseFinding(text[start : start + len(found.sentence)], found.symptoms)
    return found


def detect_as_typed(text: str) -> AdverseFinding | None:
    """``detect`` without the homophone-typo pass: for reading many notes at once (a rep's task list).

    The pinyin pass would cost milliseconds per note there; the safety queue itself always reads with ``detect``.
    """
    return _detect(text) if text and text.strip() else None


def _typos_fixed(text: str) -> str:
    """``text`` with homophone typos of symptom words put right, unless a fix breaks two real words.

    "服务中心季度" sounds like it holds 心悸 across two words (服务中心|季度): a window cutting through two words of
    jieba's dictionary is a coincidence of sounds, not a typo; "后头|运得" (头运 for 头晕) cuts one real word only.
    """
    from retrieval.keyword_index import plain_tokenizer

    _, fixes = _corrector().correct(text)
    if not fixes:
        return text
    owner: dict[int, str] = {}  # position strictly inside a token of two or more characters → the token
    pos = 0
    tokenizer = plain_tokenizer()
    for token in tokenizer.lcut(text):
        owner.update(dict.fromkeys(range(pos + 1, pos + len(token)), token))
        pos += len(token)
    out = list(text)
    for fix in fixes:
        cut = {owner[p] for p in (fix.start, fix.start + len(fix.typed)) if p in owner}
        if sum(1 for w in cut if (tokenizer.FREQ.get(w, 0) or 0) >= CUT_WORD_FREQ) >= 2:
            continue
        out[fix.start : fix.start + len(fix.typed)] = list(fix.word)
    return "".join(out)


_LATER_ON = re.compile(r"(?:现在|已经|后来|过了|慢慢|最后)[^，,。；;]{0,3}$")


def _relief_in(clause: str) -> bool:
    """A relief word not told as the later course (现在已经好了 ends a reaction's story; 就退了 is the drug working)."""
    return any(not _LATER_ON.search(clause[: m.start()]) for m in _RELIEF.finditer(clause))


def _relieved(clause: str, later: str) -> bool:
    """Whether the symptom of ``clause`` went away thanks to the drug (efficacy), not after a reaction ran its course.

    In the clause itself (吃了雷贝拉唑以后胃好多了), or in the next clause when the symptom's clause names no drug
    and no intake: the symptom came first, the drug after (孩子发烧39度，喝了退烧药就退了).
    """
    if _relief_in(clause):
        return True
    return bool(later) and _relief_in(later) and not (EXPOSURE.search(clause) or DRUG.search(clause))


def _detect(text: str) -> AdverseFinding | None:
    if _NOT_YET.search(text):
        return None
    exposure = bool(EXPOSURE.search(text) or DRUG.search(text))
    for sentence in _SENTENCE.split(text):
        clauses = _clauses(sentence)
        for i, clause in enumerate(clauses):
            words = _reported_words(clause)
            if not words:
                continue
            if _HYPOTHETICAL.search(clause) or _LABEL_INFO.search(clause):
                continue
            if _EFFICACY.search(clause):
                continue
            later = clauses[i + 1] if i + 1 < len(clauses) else ""
            if _relieved(clause, later) and not _STOPPED.search(sentence):
                continue
            if later and _NOT_HAPPENED.search(later) and len(later) <= 8 and not _CONTRAST_BEFORE.search(later):
                continue
            if later and _PURCHASE_NEXT.search(later):
                continue
            specific = [w for w in words if w not in REACTION_WORDS]
            if not specific and not _CAUSED.search(clause) and not exposure:
                continue
            if not (exposure or _CAUSED.search(clause)):
                continue
            return AdverseFinding(sentence=sentence.strip(), symptoms=tuple(dict.fromkeys(words)))
    return None


def reports_reaction(text: str) -> bool:
    """Whether ``text`` reports a suspected adverse reaction (``detect`` found a clause)."""
    return detect(text) is not None


SAFETY_ROUTE_MESSAGE = (
    "这段话报告了疑似不良反应：请不要用话术回应，按公司药物警戒流程在 24 小时内转交药物安全（药物警戒）部门，"
    "记录患者、产品、用药时间和症状；已自动登记到安全队列。"
)
"""What a rep is told instead of an FAQ or a script when their query reports a suspected reaction."""

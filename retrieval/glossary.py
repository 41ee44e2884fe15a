"""A glossary of the words reps use for sales objections, and what they mean in the words scripts are written in.

Reps write English sales words (MOQ, margin, rebate, net 60, COD, promo), trade jargon (账期, 压货, 动销, 票折, 堆头,
门慢…), shorthand and idioms (割韭菜, 鸡肋, 黄花菜都凉了), while trainers write scripts in plain Chinese (起订量, 毛利,
返利, 账期, 陈列费…). At query time the glossary adds the plain words to the query (so BM25 and the embedding see
them), names the objection categories the words signal (so a script of that category can be preferred), and names
the indications that lay and class words point to (降压药 → 高血压, 他汀 → 高胆固醇血症, PPI → 反流性食管炎), so that
indication-level scripts take part when a query names a drug class rather than a product.

The entries below are general knowledge of Chinese pharmaceutical distribution, not a list of any one tenant's
scripts; a tenant can add its own (``Glossary(terms=[*DEFAULT_TERMS, ...])``). Matching is case-insensitive; ASCII
forms match whole words only (``ka`` does not match inside ``kaiser``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """A sales word in all the forms reps type it, the plain words scripts use for it, and its objection category."""

    forms: tuple[str, ...]
    meaning: str
    category: str | None = None


@dataclass(frozen=True)
class IndicationCue:
    """Lay or class words that point to indications (降压药 → 高血压)."""

    forms: tuple[str, ...]
    indications: tuple[str, ...]


def _t(forms: str, meaning: str, category: str | None = None) -> Term:
    return Term(tuple(f.strip() for f in forms.split("|") if f.strip()), meaning, category)


def _c(forms: str, *indications: str) -> IndicationCue:
    return IndicationCue(tuple(f.strip() for f in forms.split("|") if f.strip()), indications)


DEFAULT_TERMS: tuple[Term, ...] = (
    # ------------------------------------------------------------------ price
    _t("price|pricing|expensive|too expensive|overpriced|贵|价格|价钱|价位|价高|报价|单价|费钱|花费|负担|性价比", "价格 贵", "price"),
    _t("discount|cheaper|降价|便宜点|再低点|降点|让点|少点|优惠|打折|折扣|砍价|压价", "降价 价格", "price"),
    _t("比价|price match|货比三家|别家便宜|别家更便宜|别家报价|报价低|更低", "比价 价格 竞品", "price"),
    _t("o2o|online|e-commerce|ecommerce|外卖|美团|饿了么|线上|网上|网店|电商|京东|拼多多|淘宝|网购|直播间", "网上 线上 外卖平台 价格", "price"),
    _t("割韭菜|坑人|宰人|暴利|抢钱|黑心|离谱|贵死|天价", "价格 贵", "price"),
    _t("羊毛出在羊身上|羊毛出在猪身上|羊毛|羊身上", "价格 贵 赠品", "price"),
    # ------------------------------------------------------------------ margin and display
    _t("margin|gross margin|gp|毛利|毛利率|毛利额|利润|赚头|赚钱|没得赚|赚不到|赚几毛|赚|利润薄|太薄|挣钱", "毛利 利润", "margin_display"),
    _t("鸡肋|食之无味|不想推|不愿推|不推|主推", "毛利 不想推", "margin_display"),
    _t("堆头|端架|陈列|陈列费|上架费|条码费|进场费|slotting fee|slotting|display|排面|货架|海报|地堆|专柜", "陈列费 堆头费 端架", "margin_display"),
    _t("promo|promotion|促销|买赠|搞活动|活动支持|会员日|满减", "促销 活动 支持", "margin_display"),
    _t("动销|sell-through|sell through|sell-out|sell out|卖不动|卖不掉|卖不出去|周转|滞销|不动销", "动销 周转 滞销", "margin_display"),
    _t("窜货|乱价|低价倾销|砸价|串货|比进价还低|低于进价|进价还低|进货价还低", "窜货 乱价", "margin_display"),
    # ------------------------------------------------------------------ stock, delivery, returns
    _t("moq|minimum order|min order|起订量|起订|起送量|整件起订|最低订货量|起批|进这么多|要进这么多|量太大", "起订量 首单量", "stock"),
    _t("断货|缺货|没货|oos|out of stock|stockout|stock-out|抢不到|拿不到货|到不了货|供不上|货源|断供|缺药", "缺货 断货", "stock"),
    _t("配送|送货|delivery|lead time|到货|发货|物流|还没到|没到货|送得慢|黄花菜都凉了|黄花菜", "配送 到货 时效", "stock"),
    _t("压货|囤货|overstock|库存积压|积压|压库存|备货|备多了|库存", "压货 库存 备货", "stock"),
    _t("近效期|临期|效期|expiry|expired|short-dated|short dated|过期", "近效期 退换货", "stock"),
    _t("退货|退换|return|returns|换货|能退|退回|退掉", "退换货", "stock"),
    # ------------------------------------------------------------------ payment terms
    _t("net 30|net 60|net 90|net30|net60|net90|credit terms|payment terms|credit|账期|月结|压款|赊账|挂账|欠款|垫资|资金占用", "账期 回款", "payment_terms"),
    _t("cod|cash on delivery|prepayment|prepay|现款现货|货到付款|先款后货|款到发货|现结|现款", "先款后货 现款", "payment_terms"),
    _t("rebate|返点|返利|票折|折让|年终返利|扣点|兑现|返现", "返利 返点 兑现", "payment_terms"),
    # ------------------------------------------------------------------ supplier
    _t("supplier|vendor|供应商|供货商|配送商|商业公司|老供应商|固定供应商|已经有人供货|有人供货", "供应商", "incumbent_supplier"),
    _t("关系户|穿一条裤子|关系好|熟人|老关系|插不进|打不进去|铁板一块", "供应商 关系", "incumbent_supplier"),
    _t("首营|首营资料|资质|开户|建档|换供应商", "首营 资料 换供应商", "incumbent_supplier"),
    _t("renewal|renew|续签|续约|续约谈判|合同到期|到期续签|年度合同|框架协议", "合同 续约 续签", "contract_renewal"),
    # ------------------------------------------------------------------ reimbursement
    _t("医保卡|刷卡|刷医保|医保|报销|自费|医保结算|个账", "医保卡 医保 报销", "insurance_card"),
    _t("门慢|门特|门诊慢特病|慢特病|慢病报销|特殊病", "门诊慢特病 门慢 报销", "insurance_card"),
    _t("统筹|门诊统筹|双通道", "门诊统筹 医保 报销", "insurance_card"),
    _t("nrdl|医保目录|国谈|国家谈判|医保谈判|限定支付|限制支付", "医保目录 限定支付", "insurance_card"),
    # ------------------------------------------------------------------ hospital formulary
    _t("药事会|p&t|进院|新药申请|药剂科|临采|挂网", "药事会 进院", "formulary"),
    _t("一品两规|同类已经有|同类药已经有|已经有同类|品规限制|品规", "一品两规 进院", "formulary"),
    # ------------------------------------------------------------------ 集采
    _t("vbp|集采|带量|带量采购|中选|中标|国采|集中采购|gpo|联合采购|带量品", "集采 带量采购 中选", "vbp"),
    _t("原研|originator|brand-name|进口药|外资药", "原研", None),
    _t("仿制药|generic|generics|国产药|国产的|一致性评价|换汤不换药", "仿制药 国产 原研", "efficacy"),
    # ------------------------------------------------------------------ DTP and prescriptions
    _t("dtp|特药药房|dtp药房|特药|援助项目|患者援助|赠药", "DTP药房 特药", "dtp_prescription"),
    _t("外配处方|处方外流|电子处方|处方流转|处方流不出|处方不外流|流不出来", "处方外流 外配处方", "dtp_prescription"),
    # ------------------------------------------------------------------ compliance
    _t("处方药|没处方|没有处方|凭处方|无处方|otc|拆零", "处方药 凭处方", "compliance"),
    _t("回扣|kickback|好处费|红包|带金|返现给个人|购物卡|吃回扣", "回扣 好处费", "compliance"),
    _t("抗生素限售|限抗|不让卖|禁售|违规|飞行检查", "合规 处方药", "compliance"),
    # ------------------------------------------------------------------ efficacy
    _t("没效果|没用|不管用|无效|没效|不见效|见效慢|起效慢|见效太慢|效果差|效果不好|跟没吃一样|没吃一样|不灵|efficacy|doesn't work|not working", "效果 没效果", "efficacy"),
    _t("智商税|交智商税|狗皮膏药|安慰剂|骗人|忽悠|雷声大雨点小|画大饼|老王卖瓜", "没效果 疗效 质疑", "efficacy"),
    _t("没降|降不下来|降不下|还是高|还高|没下来|没好|还没好|复发|又犯|反复|还烧|还咳|还疼", "效果 没效果", "efficacy"),
    _t("停药|能停|能不能停|吃多久|要吃一辈子|疗程|一样吗|一样吧|区别|有啥区别|差不多", "效果 疗程 区别", "efficacy"),
    # ------------------------------------------------------------------ side effects
    _t("副作用|不良反应|side effect|side effects|adr|ae|安全吗|安全性|伤身|吃出问题|不舒服|难受", "副作用 不良反应", "side_effects"),
    _t("头晕|犯困|嗜睡|拉肚子|腹泻|胃不舒服|恶心|呕吐|伤肝|伤肾|伤胃|过敏|疹子|皮疹|红疹|出血|瘀青|水肿|脚肿|肿了"
       "|肌肉痛|肌肉疼|腿酸|腿疼|上瘾|依赖|低血糖|干咳|胀气|放屁|转氨酶|小孩能吃|孩子能吃|孕妇", "不良反应 副作用", "side_effects"),
    # ------------------------------------------------------------------ how staff and reps say the same things
    # (everyday wording of each category in pharmacy and hospital trade, beside the trade terms above)
    _t("太高了|不划算|划不来|买不起|吃不起|负担不起|舍不得买|好几百|上千块|一盒就要|一个月要|一个月得|多少钱一|涨价|又涨了"
       "|贵了|价格高|价位高|医院便宜|卫生院便宜|社区便宜", "价格 贵", "price"),
    _t("b2b|药师帮|平台价|采购平台|批发价", "比价 价格 竞品", "price"),
    _t("有效吗|管用吗|有用吗|有没有用|效果怎么样|效果咋样|没感觉|不明显|好得慢|治不好|控制不住|不达标|压不住|压不下来"
       "|没起色|没改善|白吃|白花钱", "效果 没效果", "efficacy"),
    _t("胃疼|胃痛|肚子疼|便秘|失眠|心慌|心悸|脱发|掉头发|皮肤痒|瘙痒|发痒|头痛|头疼|乏力|没劲|吃久了|毒性|有毒|伤身体"
       "|肝肾|说明书吓人|说明书上写|说明书写|一朝被蛇咬|不敢吃|不敢用", "不良反应 副作用", "side_effects"),
    _t("补货|订不到|交期|货期|急单|临时要货|临时抱佛脚|到货慢|发货慢|送得晚|少发|漏发|发错货", "配送 到货 时效 缺货",
       "stock"),
    _t("回款|结款|付款|打款|垫钱|压资金|资金紧|现金流|票期|结算周期", "账期 回款", "payment_terms"),
    _t("ka|key account|连锁总部|提成|店员奖励|销售奖励|不好卖|没人买|走不动|推不动|卖不好", "毛利 动销 店员推荐",
       "margin_display"),
    _t("药监|罚款|处罚|被查|被罚|查处|消炎药没处方", "合规 处方药", "compliance"),
    _t("报不了|不能报|不给报|医保不报|报销比例|自付|刷不了|不能刷|个人账户|共济", "医保卡 医保 报销", "insurance_card"),
    _t("进不了医院|医院没进|没进院|不进院|进医院|院内没有|医院没有|医院采购|医生开不了|医院不让开", "药事会 进院",
       "formulary"),
    _t("国产替代|换国产|换成国产|被替换|替换|被换掉|医院换|中标价|集采价|一毛钱|几分钱", "集采 带量采购 中选", "vbp"),
    _t("随访|患者管理|慈善赠药", "患者随访 患者服务", "dtp_prescription"),
    _t("合作多年|合作很久|合作十几年|合作好几年|合作了很多年|不换|不想换|换不了|老朋友|那边熟|跟那边熟|有固定|逢年过节",
       "供应商 关系", "incumbent_supplier"),
)  # fmt: skip
"""The built-in glossary: forms reps type → the plain words scripts use, with the category the words signal."""

DEFAULT_INDICATION_CUES: tuple[IndicationCue, ...] = (
    _c("降压药|降压|血压|高血压|arb|ccb|acei|沙坦|地平|普利", "高血压"),
    _c("降脂药|降脂|血脂|他汀|胆固醇|高血脂|高脂血症|ldl", "高胆固醇血症"),
    _c("降糖药|降糖|血糖|糖尿病|2型糖尿病|二型糖尿病|ii型糖尿病|t2dm|格列|列汀|二甲双胍类", "2型糖尿病"),
    _c("冠心病|支架|心绞痛|心梗|抗血小板", "冠心病"),
    _c("脑梗|卒中|中风|脑梗塞", "缺血性脑卒中"),
    _c("胃药|ppi|质子泵|拉唑|反酸|烧心|反流", "反流性食管炎", "胃溃疡"),
    _c("胃溃疡|溃疡|十二指肠", "胃溃疡"),
    _c("止痛药|止疼药|止痛|止疼|nsaid|nsaids|非甾体|镇痛", "疼痛"),
    _c("退烧药|退烧|发烧|发热|高烧", "发热"),
    _c("关节炎|关节痛|骨关节", "骨关节炎"),
    _c("类风湿", "类风湿关节炎"),
    _c("流感|抗流感|流感药", "流行性感冒"),
    _c("感冒药|感冒", "感冒"),
    _c("消炎药|抗生素|抗菌药|抗菌素|头孢|青霉素|阿莫西林类", "呼吸道感染"),
    _c("尿路感染|尿感|尿频尿急", "尿路感染"),
    _c("止咳|化痰|咳嗽|咳痰|止咳药", "咳嗽咳痰"),
    _c("抗过敏|过敏药|过敏性鼻炎|鼻炎|打喷嚏", "过敏性鼻炎"),
    _c("荨麻疹", "荨麻疹"),
    _c("乙肝|抗乙肝|核苷类", "慢性乙型肝炎"),
    _c("肺癌|靶向药|靶向|egfr", "非小细胞肺癌"),
)  # fmt: skip
"""Lay and class words → indications (used only for indications the tenant has)."""


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), lower case: the form every query is matched in."""
    return unicodedata.normalize("NFKC", text).lower()


@dataclass(frozen=True)
class GlossaryMatch:
    """What the glossary read in a text: the forms found, their plain words, categories and indications."""

    forms: tuple[str, ...] = ()
    expansion: str = ""
    categories: frozenset[str] = frozenset()
    indications: tuple[str, ...] = ()


class Glossary:
    """Sales terms and indication cues, matched in a query in one pass."""

    def __init__(
        self, terms: Iterable[Term] = DEFAULT_TERMS, indication_cues: Iterable[IndicationCue] = DEFAULT_INDICATION_CUES
    ) -> None:
        self.terms = tuple(terms)
        self.indication_cues = tuple(indication_cues)
        self._term_forms = [(normalize(f), i) for i, t in enumerate(self.terms) for f in t.forms]
        self._cue_forms = [(normalize(f), i) for i, c in enumerate(self.indication_cues) for f in c.forms]
        self._by_first: dict[str, list[str]] = {}
        for form in sorted({f for f, _ in self._term_forms + self._cue_forms if not f.isascii()}):
            self._by_first.setdefault(form[0], []).append(form)
        ascii_forms = sorted({f for f, _ in self._term_forms + self._cue_forms if f.isascii()}, key=len, reverse=True)
        self._ascii = re.compile(r"(?<![a-z0-9])(" + "|".join(map(re.escape, ascii_forms)) + r")(?![a-z0-9])")

    def match(self, text: str) -> GlossaryMatch:
        """The terms and cues found in ``text`` (normalised), with the plain words to add to the query."""
        t = normalize(text)
        present = set(self._ascii.findall(t)) if t and not t.isspace() else set()
        for pos, ch in enumerate(t):  # Chinese forms by their first character: a few startswith per character
            for form in self._by_first.get(ch, ()):
                if t.startswith(form, pos):
                    present.add(form)
        found_terms: dict[int, str] = {}
        for form, i in self._term_forms:
            if i not in found_terms and form in present:
                found_terms[i] = form
        found_cues: dict[int, str] = {}
        for form, i in self._cue_forms:
            if i not in found_cues and form in present:
                found_cues[i] = form
        order = sorted(found_terms)
        meanings = list(dict.fromkeys(self.terms[i].meaning for i in order))
        indications = tuple(
            dict.fromkeys(ind for i in sorted(found_cues) for ind in self.indication_cues[i].indications)
        )
        return GlossaryMatch(
            forms=tuple(found_terms[i] for i in order) + tuple(found_cues[i] for i in sorted(found_cues)),
            expansion=" ".join(meanings),
            categories=frozenset(c for i in order if (c := self.terms[i].category)),
            indications=indications,
        )

    def words(self) -> list[str]:
        """Every Chinese form and plain word (for the tokenizer's dictionary and the typo corrector's vocabulary)."""
        out: list[str] = []
        for t in self.terms:
            out += [f for f in t.forms if not f.isascii()]
            out += t.meaning.split()
        for c in self.indication_cues:
            out += [f for f in c.forms if not f.isascii()] + list(c.indications)
        return list(dict.fromkeys(w for w in out if len(w) >= 2))


def glossary_rows(glossary: Glossary) -> Sequence[tuple[str, str, str]]:
    """The glossary as rows (forms, plain words, category) for people: docs and the console."""
    return [(" / ".join(t.forms), t.meaning, t.category or "") for t in glossary.terms]


INDICATION_PARENTS: dict[str, str] = {
    "1型糖尿病": "糖尿病", "2型糖尿病": "糖尿病", "妊娠糖尿病": "糖尿病",
    "骨关节炎": "关节炎", "类风湿关节炎": "关节炎", "痛风性关节炎": "关节炎",
    "呼吸道感染": "感染", "上呼吸道感染": "呼吸道感染", "下呼吸道感染": "呼吸道感染", "社区获得性肺炎": "呼吸道感染",
    "尿路感染": "感染", "皮肤软组织感染": "感染",
    "胃溃疡": "消化性溃疡", "十二指肠溃疡": "消化性溃疡",
    "冠心病": "心血管疾病", "高血压": "心血管疾病", "心力衰竭": "心血管疾病", "缺血性脑卒中": "脑血管病",
    "高胆固醇血症": "血脂异常", "高甘油三酯血症": "血脂异常",
    "慢性乙型肝炎": "病毒性肝炎", "慢性丙型肝炎": "病毒性肝炎",
    "非小细胞肺癌": "肺癌", "小细胞肺癌": "肺癌",
    "流行性感冒": "呼吸道病毒感染", "感冒": "呼吸道病毒感染",
}  # fmt: skip
"""Indication → the broader indication it is a kind of (糖尿病 ⊃ 2型糖尿病): general clinical classification.

Used so that a deal or an entry naming the broader indication meets one naming the narrower and the other way round;
two siblings under one parent (骨关节炎, 类风湿关节炎) do not meet each other through it."""


def indication_family(indication: str, parents: dict[str, str] = INDICATION_PARENTS) -> tuple[str, ...]:
    """``indication`` and every broader indication above it, nearest first."""
    out = [indication]
    while (up := parents.get(out[-1])) is not None and up not in out:
        out.append(up)
    return tuple(out)


def indications_meet(a: str, b: str, parents: dict[str, str] = INDICATION_PARENTS) -> bool:
    """Whether ``a`` and ``b`` are the same indication or one is a kind of the other (糖尿病 / 2型糖尿病)."""
    return a == b or a in indication_family(b, parents) or b in indication_family(a, parents)

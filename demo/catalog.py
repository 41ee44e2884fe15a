"""The shared product catalogue of the demo: products, indications, formulary editions, competitors.

Reads ``data/products.csv`` (written by ``build_catalog.py`` from the real NRDL files) from the package, never the
list files themselves.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources

import numpy as np
import pyarrow as pa

PRODUCTS_CSV = "data/products.csv"

EDITIONS: tuple[tuple[str, str, dt.date], ...] = (
    ("NRDL-2022", "国家基本医疗保险、工伤保险和生育保险药品目录（2022年）", dt.date(2023, 3, 1)),
    ("NRDL-2024", "国家基本医疗保险、工伤保险和生育保险药品目录（2024年）", dt.date(2025, 1, 1)),
)
"""The two editions in the demo and the dates they took effect."""

ORIGINATOR_MAKERS = (
    "晖致", "阿斯利康", "AstraZeneca", "默沙东", "拜耳", "诺华", "Novartis", "赛诺菲", "施维雅", "勃林格", "Boehringer",
    "辉瑞", "Pfizer", "罗氏", "第一三共", "卫材", "诺和诺德", "杨森", "强生", "史克", "优时比", "安斯泰来", "Gilead",
    "Celgene", "Bristol", "AbbVie", "Glaxo", "Merck", "Madaus", "Gedeon", "Abbott", "益普生", "施贵宝",
)  # fmt: skip
"""Makers whose products are the originator (原研) in the demo catalogue."""

VBP_GENERICS = {
    "阿托伐他汀": 0.62, "瑞舒伐他汀": 0.62, "氨氯地平": 0.45, "缬沙坦": 0.55, "厄贝沙坦": 0.55, "氯沙坦": 0.55,
    "氯吡格雷": 0.50, "二甲双胍": 0.60, "阿卡波糖": 0.58, "恩替卡韦": 0.40, "奥美拉唑": 0.55, "艾司奥美拉唑": 0.60,
    "雷贝拉唑": 0.60, "泮托拉唑": 0.55, "孟鲁司特": 0.62, "塞来昔布": 0.55, "左氧氟沙星": 0.60, "莫西沙星": 0.60,
    "利伐沙班": 0.55, "达格列净": 0.55, "西格列汀": 0.55, "伊马替尼": 0.60,
}  # fmt: skip
"""Generic names hit by volume-based procurement (集采) in the demo window, with the price after / before the cut."""

DOMESTIC_INNOVATIVE = frozenset(
    {"凯普拉生", "安奈拉唑", "多格列艾汀", "来瑞特韦", "先诺特韦/利托那韦", "艾瑞昔布", "双环醇"}
)
"""Generic names of the catalogue's domestic innovative drugs."""

SEASONAL_CATEGORIES = frozenset({"抗病毒药", "感冒清热中成药", "止咳化痰中成药", "抗菌药", "呼吸系统用药"})

# Competitors: same generic from another maker (plausible makers only), or a class alternative.
GENERIC_COMPETITORS: dict[str, tuple[str, ...]] = {
    "阿托伐他汀": ("乐普药业股份有限公司", "齐鲁制药有限公司"),
    "瑞舒伐他汀": ("南京正大天晴制药有限公司", "鲁南贝特制药有限公司"),
    "氨氯地平": ("华润赛科药业有限责任公司",),
    "左氨氯地平": ("施慧达药业集团(吉林)有限公司",),
    "硝苯地平": ("上海现代制药股份有限公司",),
    "缬沙坦": ("浙江华海药业股份有限公司",),
    "厄贝沙坦": ("浙江华海药业股份有限公司", "江苏恒瑞医药股份有限公司"),
    "氯沙坦": ("浙江华海药业股份有限公司",),
    "替米沙坦": ("浙江华海药业股份有限公司",),
    "氯吡格雷": ("乐普药业股份有限公司",),
    "利伐沙班": ("南京正大天晴制药有限公司", "浙江华海药业股份有限公司"),
    "二甲双胍": ("北京京丰制药集团有限公司",),
    "阿卡波糖": ("四川绿叶制药股份有限公司",),
    "格列美脲": ("浙江京新药业股份有限公司",),
    "西格列汀": ("南京正大天晴制药有限公司",),
    "达格列净": ("齐鲁制药有限公司", "扬子江药业集团有限公司"),
    "奥美拉唑": ("山东罗欣药业集团股份有限公司",),
    "艾司奥美拉唑": ("南京正大天晴制药有限公司",),
    "雷贝拉唑": ("江苏豪森药业集团有限公司",),
    "孟鲁司特": ("鲁南贝特制药有限公司",),
    "阿莫西林": ("石药集团中诺药业(石家庄)有限公司",),
    "头孢呋辛酯": ("深圳致君制药有限公司",),
    "阿奇霉素": ("石药集团欧意药业有限公司",),
    "左氧氟沙星": ("浙江医药股份有限公司新昌制药厂",),
    "莫西沙星": ("浙江京新药业股份有限公司",),
    "恩替卡韦": ("正大天晴药业集团股份有限公司",),
    "塞来昔布": ("江苏恒瑞医药股份有限公司",),
    "伊马替尼": ("正大天晴药业集团股份有限公司", "江苏豪森药业集团有限公司"),
    "来那度胺": ("正大天晴药业集团股份有限公司", "北京双鹭药业股份有限公司"),
    "达沙替尼": ("正大天晴药业集团股份有限公司",),
    "六味地黄丸": ("北京同仁堂科技发展股份有限公司制药厂",),
    "逍遥丸": ("北京同仁堂科技发展股份有限公司制药厂",),
}  # fmt: skip
CLASS_COMPETITORS: dict[str, tuple[tuple[str, str], ...]] = {
    "连花清瘟胶囊": (("疏风解毒胶囊", "安徽济人药业股份有限公司"),),
    "复方丹参滴丸": (("复方丹参片", "广州白云山和记黄埔中药有限公司"),),
    "速效救心丸": (("地奥心血康胶囊", "成都地奥制药集团有限公司"),),
    "麝香保心丸": (("地奥心血康胶囊", "成都地奥制药集团有限公司"),),
    "通心络胶囊": (("血栓通胶囊", "广西梧州制药(集团)股份有限公司"),),
    "脑心通胶囊": (("血栓通胶囊", "广西梧州制药(集团)股份有限公司"),),
    "苏黄止咳胶囊": (("蜜炼川贝枇杷膏", "京都念慈菴总厂有限公司"),),
    "金水宝胶囊": (("百令胶囊", "杭州中美华东制药有限公司"),),
    "三九胃泰颗粒": (("胃苏颗粒", "扬子江药业集团有限公司"),),
    "蒲地蓝消炎口服液": (("蓝芩口服液", "扬子江药业集团有限公司"),),
    "感冒灵颗粒": (("复方氨酚烷胺片", "吉林省吴太感康药业有限公司"),),
    "奥司他韦": (("玛巴洛沙韦片", "上海罗氏制药有限公司"),),
    "健胃消食片": (("大山楂丸", "北京同仁堂科技发展股份有限公司制药厂"),),
    "藿香正气水": (("藿香正气软胶囊", "神威药业集团有限公司"),),
}
COMPETITOR_SOURCES = ("药店巡店", "客户反馈", "省级挂网价", "京东大药房", "阿里健康大药房", "美团买药", "竞品报价单")


@dataclass(frozen=True)
class ProductFacts:
    """One catalogue row, typed."""

    sku: str
    name: str
    generic_name: str
    brand: str
    spec: str
    dosage_form: str
    manufacturer: str
    category: str
    unit: str
    pack_size: int
    list_price: float
    floor_price: float
    indications: tuple[str, ...]
    nrdl_2022_category: str
    nrdl_2022_restriction: str
    nrdl_2022_code: str
    nrdl_2024_category: str
    nrdl_2024_restriction: str
    nrdl_2024_payment_standard: str
    nrdl_2024_code: str

    @cached_property
    def display(self) -> str:
        """Brand and name as a rep says it, e.g. ``立普妥(阿托伐他汀钙片)`` or ``同仁堂安宫牛黄丸``."""
        if self.tcm and self.brand:
            return self.short
        return f"{self.brand}({self.name})" if self.brand else self.name

    @cached_property
    def short(self) -> str:
        """How the product is called in conversation: the brand of a western drug, brand + name of a TCM."""
        if self.tcm and self.brand:
            return self.name if self.name.startswith(self.brand) else self.brand + self.name
        return self.brand or self.name

    @cached_property
    def originator(self) -> bool:
        """Whether the maker is the originator (原研)."""
        return any(m in self.manufacturer for m in ORIGINATOR_MAKERS)

    @cached_property
    def innovative(self) -> bool:
        """A domestic innovative drug (创新药): not a generic although its maker is not a multinational."""
        return self.generic_name in DOMESTIC_INNOVATIVE

    @cached_property
    def tcm(self) -> bool:
        """Whether this is a TCM patent medicine (中成药)."""
        return "中成药" in self.category

    @cached_property
    def specialty(self) -> bool:
        """High-priced specialty drug mostly sold through DTP pharmacies and hospitals."""
        return self.list_price >= 400

    @cached_property
    def formulary_change(self) -> str:
        """How the listing changed from 2022 to 2024: added, removed, restriction, same or unlisted."""
        old, new = bool(self.nrdl_2022_code), bool(self.nrdl_2024_code)
        if not old and not new:
            return "unlisted"
        if not old:
            return "added"
        if not new:
            return "removed"
        if self.nrdl_2022_category != self.nrdl_2024_category:
            return "category"
        if self.nrdl_2022_restriction.rstrip("。") != self.nrdl_2024_restriction.rstrip("。"):
            return "restriction"
        return "same"

    def status_2024(self) -> str:
        """The 2024 listing in a sentence, e.g. ``2024年版国家医保目录乙类(西药部分-455)``."""
        if not self.nrdl_2024_code:
            return "未列入2024年版国家医保目录"
        text = f"2024年版国家医保目录{self.nrdl_2024_category}类({self.nrdl_2024_code})"
        if self.nrdl_2024_restriction:
            text += f"，医保支付{self.nrdl_2024_restriction.rstrip('。')}"
        if self.nrdl_2024_payment_standard and self.nrdl_2024_payment_standard != "*":
            text += f"，支付标准{self.nrdl_2024_payment_standard}"
        return text

    def status_2022(self) -> str:
        """The 2022 listing in a sentence."""
        if not self.nrdl_2022_code:
            return "未列入2022年版国家医保目录"
        text = f"2022年版国家医保目录{self.nrdl_2022_category}类({self.nrdl_2022_code})"
        if self.nrdl_2022_restriction:
            text += f"，医保支付{self.nrdl_2022_restriction.rstrip('。')}"
        return text


@dataclass(frozen=True)
class Competitor:
    """A competitor product observed against one of our SKUs."""

    id: str
    sku: str
    name: str
    company: str
    price: float
    observed_at: dt.date
    source: str


_PLACE_PREFIXES = (
    "北京", "上海", "天津", "重庆", "浙江", "江苏", "杭州", "南京", "广州", "深圳", "成都", "四川", "山东", "安徽",
    "吉林省", "吉林", "广西", "石家庄", "常州", "苏州", "海南", "西安", "珠海",
)  # fmt: skip
_COMPANY_SUFFIXES = (
    "药业",
    "制药",
    "医药",
    "科技",
    "集团",
    "股份",
    "有限",
    "药厂",
    "总厂",
    "(",
    "生物",
    "和记",
    "中药",
)


def company_short(company: str) -> str:
    """What people call a company: ``北京同仁堂科技发展股份有限公司制药厂`` → ``同仁堂``, ``乐普药业…`` → ``乐普``."""
    name = company
    for place in _PLACE_PREFIXES:
        rest = name[len(place) :]
        if name.startswith(place) and len(rest) > 2 and not rest.startswith(_COMPANY_SUFFIXES):
            name = rest
            break
    cut = min((i for i in (name.find(s) for s in _COMPANY_SUFFIXES) if i > 0), default=len(name))
    return name[:cut] if cut >= 2 else company[:4]


@lru_cache(maxsize=1)
def load_catalog() -> tuple[ProductFacts, ...]:
    """The 127 products of ``data/products.csv``, in file order."""
    text = resources.files("demo").joinpath(PRODUCTS_CSV).read_text(encoding="utf-8")
    out: list[ProductFacts] = []
    for row in csv.DictReader(io.StringIO(text)):
        out.append(
            ProductFacts(
                sku=row["sku"],
                name=row["name"],
                generic_name=row["generic_name"],
                brand=row["brand"],
                spec=row["spec"],
                dosage_form=row["dosage_form"],
                manufacturer=row["manufacturer"],
                category=row["category"],
                unit=row["unit"],
                pack_size=int(row["pack_size"]),
                list_price=float(row["list_price"]),
                floor_price=float(row["floor_price"]),
                indications=tuple(i for i in row["indications"].split("|") if i),
                nrdl_2022_category=row["nrdl_2022_category"],
                nrdl_2022_restriction=row["nrdl_2022_restriction"],
                nrdl_2022_code=row["nrdl_2022_code"],
                nrdl_2024_category=row["nrdl_2024_category"],
                nrdl_2024_restriction=row["nrdl_2024_restriction"],
                nrdl_2024_payment_standard=row["nrdl_2024_payment_standard"],
                nrdl_2024_code=row["nrdl_2024_code"],
            )
        )
    return tuple(out)


INDICATION_NOTES: dict[str, str] = {
    "高血压": "以体循环动脉压升高为主要表现的慢性病，需长期规律服药并监测血压。",
    "高脂血症": "血脂异常，LDL-C升高是动脉粥样硬化性心血管病的主要危险因素。",
    "冠心病": "冠状动脉粥样硬化性心脏病，二级预防包括抗血小板、调脂、控压等。",
    "心绞痛": "心肌缺血引起的发作性胸痛，急性发作需舌下含服药物并及时就医。",
    "心力衰竭": "心脏泵血功能受损的临床综合征，需规范化药物治疗和随访。",
    "心律失常": "心脏搏动频率或节律异常，需明确类型后对症治疗。",
    "心房颤动": "最常见的持续性心律失常，卒中风险评估后考虑抗凝治疗。",
    "静脉血栓栓塞": "包括深静脉血栓和肺栓塞，骨科大手术后常需预防性抗凝。",
    "缺血性脑卒中": "脑血管阻塞导致的脑梗死，二级预防强调抗血小板和危险因素控制。",
    "2型糖尿病": "以胰岛素抵抗和分泌不足为特征的慢性代谢病，需长期控糖和并发症筛查。",
    "1型糖尿病": "胰岛β细胞破坏导致胰岛素绝对缺乏，需终身胰岛素治疗。",
    "消化性溃疡": "胃和十二指肠溃疡，常与幽门螺杆菌感染和NSAIDs使用相关。",
    "胃食管反流病": "胃内容物反流引起烧心、反酸等症状，需抑酸治疗和生活方式调整。",
    "幽门螺杆菌感染": "慢性胃炎和消化性溃疡的主要病因，推荐含铋剂四联方案根除。",
    "功能性消化不良": "上腹痛、餐后饱胀、早饱等症状而无器质性病变。",
    "急性腹泻": "多由感染或饮食因素引起，重点是补液和防止脱水。",
    "便秘": "排便次数减少或排便困难，老年人和孕产妇多见。",
    "肠道菌群失调": "肠道微生态失衡，常见于抗菌药物使用后。",
    "胃炎": "胃黏膜炎症，表现为上腹不适、嗳气、食欲减退。",
    "上呼吸道感染": "鼻、咽、喉部的急性感染，多为病毒性，细菌感染时才需抗菌药。",
    "社区获得性肺炎": "在医院外罹患的肺实质感染，需评估病情严重程度选择抗菌药物。",
    "急性支气管炎": "支气管黏膜的急性炎症，以咳嗽咳痰为主要表现。",
    "急性鼻窦炎": "鼻窦黏膜的急性炎症，细菌感染时可考虑抗菌治疗。",
    "尿路感染": "以尿频、尿急、尿痛为主要表现的泌尿系统感染。",
    "流行性感冒": "流感病毒引起的急性呼吸道传染病，发病48小时内抗病毒治疗获益最大。",
    "新型冠状病毒感染": "新型冠状病毒引起的呼吸道传染病，高风险人群早期抗病毒治疗可降低重症风险。",
    "普通感冒": "鼻病毒等引起的自限性上呼吸道感染，以对症治疗为主。",
    "慢性乙型肝炎": "乙肝病毒持续感染引起的肝脏炎症，需长期抗病毒治疗并定期复查。",
    "咳嗽": "呼吸道常见症状，需区分急性、亚急性和慢性咳嗽并查找病因。",
    "支气管哮喘": "气道慢性炎症性疾病，需长期规范使用控制药物。",
    "慢性阻塞性肺病": "持续气流受限的慢性肺病，吸入支气管扩张剂是稳定期的基础治疗。",
    "过敏性鼻炎": "鼻黏膜的过敏性炎症，表现为鼻痒、喷嚏、流涕和鼻塞。",
    "荨麻疹": "皮肤黏膜暂时性血管通透性增加引起的风团和瘙痒。",
    "发热": "体温升高，儿童和老人需关注退热药的剂量和间隔。",
    "疼痛": "急慢性疼痛，需按疼痛程度阶梯选择镇痛药物。",
    "骨关节炎": "关节软骨退行性病变，表现为关节疼痛、僵硬和活动受限。",
    "类风湿关节炎": "以对称性多关节炎为主要表现的自身免疫病。",
    "强直性脊柱炎": "主要累及脊柱和骶髂关节的慢性炎症性疾病。",
    "银屑病": "慢性炎症性皮肤病，中重度患者可考虑生物制剂治疗。",
    "骨质疏松": "骨量减少、骨微结构破坏导致骨折风险增加，绝经后女性和老年人高发。",
    "肾性骨病": "慢性肾脏病引起的钙磷代谢紊乱和骨病变。",
    "痛风": "尿酸盐结晶沉积引起的关节炎，需长期降尿酸达标治疗。",
    "高尿酸血症": "血尿酸水平升高，是痛风和慢性肾病的危险因素。",
    "肝功能异常": "转氨酶等肝功能指标异常，需查明病因并保肝治疗。",
    "慢性肝炎": "病程超过半年的肝脏炎症。",
    "脂肪肝": "肝细胞内脂肪过度沉积，与肥胖和代谢综合征相关。",
    "低钾血症": "血钾低于正常范围，可引起乏力和心律失常。",
    "周围神经病变": "周围神经损伤引起的麻木、疼痛，糖尿病患者多见。",
    "甲状腺功能减退症": "甲状腺激素分泌不足，需长期替代治疗。",
    "良性前列腺增生": "中老年男性常见病，表现为尿频、夜尿增多和排尿困难。",
    "慢性髓细胞白血病": "造血干细胞克隆性疾病，酪氨酸激酶抑制剂是一线治疗。",
    "多发性骨髓瘤": "浆细胞恶性克隆性疾病，多见于中老年人。",
    "非小细胞肺癌": "最常见的肺癌类型，EGFR突变患者可用靶向治疗。",
    "肾细胞癌": "起源于肾小管上皮的恶性肿瘤，晚期可用靶向治疗。",
    "特发性肺纤维化": "原因不明的慢性进行性纤维化间质性肺病，抗纤维化治疗可延缓进展。",
    "水肿": "组织间隙液体过多积聚。",
    "高同型半胱氨酸血症": "血浆同型半胱氨酸升高，伴高血压时卒中风险增加。",
    "肾阴虚证": "中医证型，表现为腰膝酸软、头晕耳鸣、潮热盗汗。",
    "胃肠型感冒": "外感风寒、内伤湿滞引起的头痛、脘腹胀痛、呕吐泄泻。",
    "中暑": "高温环境下体温调节障碍，轻症表现为头晕、乏力、恶心。",
    "咽喉肿痛": "咽喉部红肿疼痛，多见于上呼吸道感染。",
    "牙龈肿痛": "牙龈红肿疼痛，中医多属火热内盛。",
    "慢性支气管炎": "气管、支气管黏膜的慢性非特异性炎症，以咳嗽、咳痰为主。",
    "慢性肾功能不全": "肾功能慢性减退，需延缓进展并处理并发症。",
    "中风": "急性脑血管病，需立即就医。",
    "高热惊厥": "高热引起的惊厥，需急救处理。",
    "子宫肌瘤": "女性生殖器官最常见的良性肿瘤。",
    "月经不调": "月经周期、经期或经量异常。",
    "肝郁脾虚证": "中医证型，表现为胁肋胀痛、食少、神疲、月经不调。",
    "脾胃虚弱证": "中医证型，表现为食少、脘腹胀满、大便溏薄。",
    "跌打损伤": "外力引起的软组织损伤，表现为瘀血肿痛。",
    "出血": "各种原因引起的出血。",
}


def product_table(catalog: tuple[ProductFacts, ...]) -> pa.Table:
    """The ``Product`` table (without ``tenant``)."""
    return pa.table(
        {
            "sku": [p.sku for p in catalog],
            "name": [p.name for p in catalog],
            "generic_name": [p.generic_name for p in catalog],
            "brand": [p.brand or None for p in catalog],
            "spec": [p.spec for p in catalog],
            "dosage_form": [p.dosage_form for p in catalog],
            "manufacturer": [p.manufacturer for p in catalog],
            "category": [p.category for p in catalog],
            "unit": [p.unit for p in catalog],
            "pack_size": pa.array([p.pack_size for p in catalog], pa.int64()),
            "case_size": pa.array([demo_case_size(p) for p in catalog], pa.int64()),
            "list_price": pa.array([p.list_price for p in catalog], pa.float64()),
            "floor_price": pa.array([p.floor_price for p in catalog], pa.float64()),
        }
    )


def demo_case_size(p: ProductFacts) -> int:
    """Boxes (or bottles, vials) per shipping case (件) for the demo: what distributors' cases commonly hold.

    Small blister boxes pack densest; bottles of liquid and vials of injections fewer. A real product file states it
    (column 件装量); the demo derives it from the form and pack so that its 件 lines convert.
    """
    form = p.dosage_form or ""
    if "注射" in form:
        return 100
    if p.unit == "瓶" and "丸" not in form:
        return 60
    if "颗粒" in form or "合剂" in form:
        return 100
    if p.pack_size <= 14:
        return 400
    return 300 if p.pack_size <= 36 else 200


def indication_tables(catalog: tuple[ProductFacts, ...]) -> tuple[pa.Table, pa.Table]:
    """The ``Indication`` nodes and the ``Treats`` edges."""
    names = sorted({i for p in catalog for i in p.indications})
    nodes = pa.table({"name": names, "description": [INDICATION_NOTES.get(n) for n in names]})
    pairs = [(p.sku, i) for p in catalog for i in p.indications]
    edges = pa.table({"sku": [s for s, _ in pairs], "indication": [i for _, i in pairs]})
    return nodes, edges


def formulary_tables(catalog: tuple[ProductFacts, ...]) -> tuple[pa.Table, pa.Table, pa.Table]:
    """The ``FormularyEdition`` nodes, the ``ListedIn`` edges and the ``FormularyStatus`` edges of the demo.

    The listings are the real rows of the official lists (category, restriction, payment standard, section and
    number, recorded in ``data/products.csv`` as ``<section>-<number>``). A product without a row in an edition gets
    a ``not_listed`` status edge, so that every demo product is in exactly one state in every edition, as after
    ``formulary apply``.
    """
    nodes = pa.table(
        {
            "id": [e[0] for e in EDITIONS],
            "name": [e[1] for e in EDITIONS],
            "effective_date": pa.array([e[2] for e in EDITIONS], pa.date32()),
        }
    )
    rows: list[dict[str, str | None]] = []
    missing: list[dict[str, str | None]] = []
    for p in catalog:
        for edition, recorded, category, restriction, standard in (
            ("NRDL-2022", p.nrdl_2022_code, p.nrdl_2022_category, p.nrdl_2022_restriction, None),
            ("NRDL-2024", p.nrdl_2024_code, p.nrdl_2024_category, p.nrdl_2024_restriction,
             p.nrdl_2024_payment_standard),
        ):  # fmt: skip
            if not recorded:
                missing.append(
                    {
                        "sku": p.sku,
                        "edition_id": edition,
                        "state": "not_listed",
                        "reason": "generic_not_listed",
                        "explanation": f"{edition} 未收录{p.name}（演示数据，按官方目录标注）",
                        "candidates": "[]",
                        "decided_by": "demo",
                    }
                )
                continue
            section, _, number = recorded.partition("-")
            rows.append(
                {
                    "sku": p.sku,
                    "edition_id": edition,
                    "category": category,
                    "restriction": restriction or None,
                    "payment_standard": standard or None,
                    "code": number or recorded,
                    "section": section if number else None,
                    "dosage_form": p.dosage_form or None,
                    "match_reason": "演示数据，按官方目录行标注",
                    "decided_by": "demo",
                }
            )
    cols = ("sku", "edition_id", "category", "restriction", "payment_standard", "code", "section", "dosage_form",
            "match_reason", "decided_by")  # fmt: skip
    edges = pa.table({c: pa.array([r[c] for r in rows], pa.string()) for c in cols})
    status_cols = ("sku", "edition_id", "state", "reason", "explanation", "candidates", "decided_by")
    status = pa.table({c: pa.array([r[c] for r in missing], pa.string()) for c in status_cols})
    return nodes, edges, status


def competitors(catalog: tuple[ProductFacts, ...], rng: np.random.Generator, as_of: dt.date) -> list[Competitor]:
    """Competitor products with prices observed in the last four months before ``as_of``."""
    out: list[Competitor] = []
    for p in catalog:
        offers: list[tuple[str, str, float]] = []
        for company in GENERIC_COMPETITORS.get(p.generic_name, ()):
            if company == p.manufacturer:
                continue
            # an originator meets generics far below its price; a generic meets peers around its own
            lo, hi = (0.35, 0.7) if p.originator else (0.8, 1.1)
            offers.append((f"{p.name} {p.spec}", company, float(rng.uniform(lo, hi))))
        for name, company in CLASS_COMPETITORS.get(p.generic_name, ()):
            offers.append((name, company, float(rng.uniform(0.6, 1.05))))
        for name, company, ratio in offers:
            out.append(
                Competitor(
                    id=f"CP-{len(out) + 1:04d}",
                    sku=p.sku,
                    name=name,
                    company=company,
                    price=round(p.list_price * ratio, 1),
                    observed_at=as_of - dt.timedelta(days=int(rng.integers(3, 120))),
                    source=str(rng.choice(COMPETITOR_SOURCES)),
                )
            )
    return out


def competitor_tables(found: list[Competitor]) -> tuple[pa.Table, pa.Table]:
    """The ``CompetitorProduct`` nodes and the ``CompetesWith`` edges."""
    nodes = pa.table(
        {
            "id": [c.id for c in found],
            "name": [c.name for c in found],
            "company": [c.company for c in found],
            "price": pa.array([c.price for c in found], pa.float64()),
            "observed_at": pa.array([c.observed_at for c in found], pa.date32()),
            "source": [c.source for c in found],
        }
    )
    edges = pa.table({"sku": [c.sku for c in found], "competitor_id": [c.id for c in found]})
    return nodes, edges

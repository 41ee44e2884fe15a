"""How ``data/products.csv`` was made: 127 curated SKUs joined to their real NRDL 2022 and 2024 entries.

The commercial facts of each SKU (brand, 规格, manufacturer, prices, indications) are curated here by hand. The
formulary facts (category 甲/乙, restriction from 备注, payment standard of negotiated and competitively priced drugs,
the number of the drug in each edition) are *read* from the official list files, so they are the real ones::

    python -m demo.build_catalog --nrdl-dir ../shared/data/nrdl --out demo/data/products.csv

The files are not part of the project (see their README); only this script reads them. The demo generator reads the
CSV this script wrote and never the list files, so the demo runs on a fresh clone.

Each SKU names the list entry it belongs to (western ``X`` or TCM ``Z``, the entry name as printed, and for western
drugs the NRDL 剂型) and what is expected to have changed between the editions; the script fails if an entry is
missing, ambiguous, or did not change as expected, so a curation mistake cannot slip into the demo data.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Part = Literal["X", "Z"]
Expect = Literal["same", "restriction", "added", "removed", "unlisted"]

COLUMNS = (
    "sku",
    "name",
    "generic_name",
    "brand",
    "spec",
    "dosage_form",
    "manufacturer",
    "category",
    "unit",
    "pack_size",
    "list_price",
    "floor_price",
    "indications",
    "nrdl_2022_category",
    "nrdl_2022_restriction",
    "nrdl_2022_code",
    "nrdl_2024_category",
    "nrdl_2024_restriction",
    "nrdl_2024_payment_standard",
    "nrdl_2024_code",
)
"""Columns of ``products.csv``, in order."""

SECTIONS: dict[Part, tuple[str, ...]] = {
    "X": ("西药部分", "协议西药", "竞价药品部分"),
    "Z": ("中成药部分", "协议中成药"),
}


@dataclass(frozen=True)
class Sku:
    """One curated SKU and the NRDL entry it belongs to."""

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
    indications: str
    part: Part
    nrdl_name: str
    nrdl_form: str
    expect: Expect


@dataclass(frozen=True)
class ListEntry:
    """One drug row of an NRDL edition."""

    edition: str
    section: str
    category: str
    number: str
    name: str
    form: str
    remark: str
    payment_standard: str

    @property
    def code(self) -> str:
        """Section and number as printed, e.g. ``西药部分-455`` or ``中成药部分-★(374)``."""
        return f"{self.section}-{self.number}"


def _p(
    sku: str,
    name: str,
    generic: str,
    brand: str,
    spec: str,
    form: str,
    maker: str,
    category: str,
    unit: str,
    pack: int,
    price: float,
    floor: float,
    indications: str,
    part: Part,
    nrdl_name: str,
    nrdl_form: str = "",
    expect: Expect = "same",
) -> Sku:
    return Sku(sku, name, generic, brand, spec, form, maker, category, unit, pack, price, floor, indications, part,
               nrdl_name, nrdl_form, expect)  # fmt: skip


OS = "口服常释剂型"
SR = "缓释控释剂型"
LQ = "口服液体剂"
GR = "颗粒剂"
INJ = "注射剂"
INH = "吸入剂"
BI = "Boehringer Ingelheim Pharma GmbH & Co. KG"
AZ = "阿斯利康制药有限公司"
MSD = "杭州默沙东制药有限公司"
BAYER = "拜耳医药保健有限公司"
VIATRIS = "晖致制药(大连)有限公司"
SERVIER = "施维雅(天津)制药有限公司"
TRT = "北京同仁堂股份有限公司同仁堂制药厂"
TRT_KJ = "北京同仁堂科技发展股份有限公司制药厂"
YL = "石家庄以岭药业股份有限公司"
ZJ = "仲景宛西制药股份有限公司"

# fmt: off
CATALOG: tuple[Sku, ...] = (
    # ---- 调脂
    _p("SKU-ATV20-LPT", "阿托伐他汀钙片", "阿托伐他汀", "立普妥", "20mg*7片", OS, VIATRIS, "调脂药", "盒", 7, 58.0, 41.0, "高脂血症|冠心病", "X", "阿托伐他汀", OS),
    _p("SKU-ATV20-AL", "阿托伐他汀钙片", "阿托伐他汀", "阿乐", "20mg*14片", OS, "北京嘉林药业股份有限公司", "调脂药", "盒", 14, 26.8, 15.5, "高脂血症|冠心病", "X", "阿托伐他汀", OS),
    _p("SKU-RSV10-KD", "瑞舒伐他汀钙片", "瑞舒伐他汀", "可定", "10mg*7片", OS, AZ, "调脂药", "盒", 7, 49.5, 35.0, "高脂血症", "X", "瑞舒伐他汀", OS),
    _p("SKU-RSV10-G", "瑞舒伐他汀钙片", "瑞舒伐他汀", "", "10mg*28片", OS, "浙江海正药业股份有限公司", "调脂药", "盒", 28, 32.0, 18.0, "高脂血症", "X", "瑞舒伐他汀", OS),
    # ---- 降压
    _p("SKU-AML5-LHX", "苯磺酸氨氯地平片", "氨氯地平", "络活喜", "5mg*7片", OS, VIATRIS, "降压药", "盒", 7, 36.0, 25.0, "高血压|冠心病", "X", "氨氯地平", OS),
    _p("SKU-AML5-G", "苯磺酸氨氯地平片", "氨氯地平", "", "5mg*28片", OS, "浙江京新药业股份有限公司", "降压药", "盒", 28, 12.5, 6.8, "高血压", "X", "氨氯地平", OS),
    _p("SKU-LAML25-XN", "马来酸左旋氨氯地平片", "左氨氯地平", "玄宁", "2.5mg*14片", OS, "石药集团欧意药业有限公司", "降压药", "盒", 14, 29.0, 19.0, "高血压", "X", "左氨氯地平(左旋氨氯地平)", OS),
    _p("SKU-NIF30-BXT", "硝苯地平控释片", "硝苯地平", "拜新同", "30mg*7片", SR, BAYER, "降压药", "盒", 7, 36.5, 26.0, "高血压|心绞痛", "X", "硝苯地平", SR),
    _p("SKU-VAL80-DW", "缬沙坦胶囊", "缬沙坦", "代文", "80mg*7粒", OS, "北京诺华制药有限公司", "降压药", "盒", 7, 33.0, 23.5, "高血压", "X", "缬沙坦", OS),
    _p("SKU-IRB150-ABW", "厄贝沙坦片", "厄贝沙坦", "安博维", "150mg*7片", OS, "赛诺菲(杭州)制药有限公司", "降压药", "盒", 7, 36.0, 25.0, "高血压", "X", "厄贝沙坦", OS),
    _p("SKU-LOS50-KSY", "氯沙坦钾片", "氯沙坦", "科素亚", "50mg*7片", OS, MSD, "降压药", "盒", 7, 39.0, 27.0, "高血压", "X", "氯沙坦", OS),
    _p("SKU-TEL80-MKS", "替米沙坦片", "替米沙坦", "美卡素", "80mg*7片", OS, BI, "降压药", "盒", 7, 45.0, 32.0, "高血压", "X", "替米沙坦", OS),
    _p("SKU-TELAML", "替米沙坦氨氯地平片", "替米沙坦氨氯地平", "", "40mg/5mg*7片", OS, "浙江华海药业股份有限公司", "降压药", "盒", 7, 42.0, 27.0, "高血压", "X", "替米沙坦氨氯地平", OS, "restriction"),
    _p("SKU-OLMAML", "奥美沙坦酯氨氯地平片", "奥美沙坦酯氨氯地平", "", "20mg/5mg*7片", OS, "第一三共制药(上海)有限公司", "降压药", "盒", 7, 48.0, 34.0, "高血压", "X", "奥美沙坦酯氨氯地平", OS, "restriction"),
    _p("SKU-MTP25-BTLK", "酒石酸美托洛尔片", "美托洛尔", "倍他乐克", "25mg*20片", OS, AZ, "降压药", "盒", 20, 8.5, 6.0, "高血压|心绞痛|心律失常", "X", "美托洛尔", OS),
    _p("SKU-MTP47-ZOK", "琥珀酸美托洛尔缓释片", "美托洛尔", "倍他乐克", "47.5mg*7片", SR, AZ, "降压药", "盒", 7, 26.0, 18.5, "高血压|心绞痛|心力衰竭", "X", "美托洛尔", SR),
    _p("SKU-IND15-NCL", "吲达帕胺缓释片", "吲达帕胺", "纳催离", "1.5mg*10片", SR, SERVIER, "降压药", "盒", 10, 25.0, 17.0, "高血压", "X", "吲达帕胺", SR),
    _p("SKU-ENAFA-YY", "依那普利叶酸片", "依那普利叶酸", "依叶", "10mg/0.8mg*14片", OS, "深圳奥萨制药有限公司", "降压药", "盒", 14, 39.0, 28.0, "高血压|高同型半胱氨酸血症", "X", "依那普利叶酸", OS),
    # ---- 抗血栓
    _p("SKU-CLP75-BLW", "硫酸氢氯吡格雷片", "氯吡格雷", "波立维", "75mg*7片", OS, "赛诺菲(杭州)制药有限公司", "抗血栓药", "盒", 7, 89.0, 63.0, "冠心病|缺血性脑卒中", "X", "氯吡格雷", OS),
    _p("SKU-CLP25-TJ", "硫酸氢氯吡格雷片", "氯吡格雷", "泰嘉", "25mg*20片", OS, "深圳信立泰药业股份有限公司", "抗血栓药", "盒", 20, 36.0, 21.0, "冠心病|缺血性脑卒中", "X", "氯吡格雷", OS),
    _p("SKU-ASA100-BAY", "阿司匹林肠溶片", "阿司匹林", "拜阿司匹灵", "100mg*30片", OS, BAYER, "抗血栓药", "盒", 30, 15.8, 11.0, "冠心病|缺血性脑卒中", "X", "阿司匹林", "口服常释剂型(不含分散片)"),
    _p("SKU-RIV10-BRT", "利伐沙班片", "利伐沙班", "拜瑞妥", "10mg*5片", OS, BAYER, "抗血栓药", "盒", 5, 128.0, 90.0, "静脉血栓栓塞|心房颤动", "X", "利伐沙班", OS),
    # ---- 心血管中成药
    _p("SKU-FFDS-DW", "复方丹参滴丸", "复方丹参滴丸", "", "27mg*180丸", "滴丸剂", "天士力医药集团股份有限公司", "心血管中成药", "瓶", 180, 32.0, 24.0, "冠心病|心绞痛", "Z", "复方丹参片(丸、胶囊、颗粒、滴丸)"),
    _p("SKU-SXJX", "速效救心丸", "速效救心丸", "", "40mg*60粒*3瓶", "丸剂", "天津中新药业集团股份有限公司第六中药厂", "心血管中成药", "盒", 180, 36.0, 28.0, "冠心病|心绞痛", "Z", "速效救心丸"),
    _p("SKU-SXBX", "麝香保心丸", "麝香保心丸", "", "22.5mg*42丸", "丸剂", "上海和黄药业有限公司", "心血管中成药", "瓶", 42, 46.0, 36.0, "冠心病|心绞痛", "Z", "麝香保心丸"),
    _p("SKU-TXL", "通心络胶囊", "通心络胶囊", "", "0.26g*30粒", "胶囊剂", YL, "心血管中成药", "盒", 30, 38.0, 29.0, "冠心病|心绞痛|缺血性脑卒中", "Z", "通心络片(胶囊)"),
    _p("SKU-NXT", "脑心通胶囊", "脑心通胶囊", "", "0.4g*48粒", "胶囊剂", "陕西步长制药有限公司", "心血管中成药", "盒", 48, 52.0, 40.0, "缺血性脑卒中|冠心病", "Z", "脑心通丸(片、胶囊)"),
    _p("SKU-YXY-P", "银杏叶片", "银杏叶片", "", "19.2mg*24片", "片剂", "扬子江药业集团有限公司", "心血管中成药", "盒", 24, 28.0, 20.0, "缺血性脑卒中|冠心病", "Z", "银杏叶丸(片、颗粒、胶囊、软胶囊、滴丸、口服液、酊)"),
    # ---- 降糖
    _p("SKU-MET05-GHZ", "盐酸二甲双胍片", "二甲双胍", "格华止", "0.5g*20片", OS, "中美上海施贵宝制药有限公司", "降糖药", "盒", 20, 24.0, 17.0, "2型糖尿病", "X", "二甲双胍", OS),
    _p("SKU-MET05-XR", "盐酸二甲双胍缓释片", "二甲双胍", "", "0.5g*30片", SR, "石药集团欧意药业有限公司", "降糖药", "盒", 30, 16.0, 8.5, "2型糖尿病", "X", "二甲双胍", SR),
    _p("SKU-GLM2-YML", "格列美脲片", "格列美脲", "亚莫利", "2mg*15片", OS, "赛诺菲(北京)制药有限公司", "降糖药", "盒", 15, 52.0, 37.0, "2型糖尿病", "X", "格列美脲", OS),
    _p("SKU-ACB50-BTP", "阿卡波糖片", "阿卡波糖", "拜唐苹", "50mg*30片", OS, BAYER, "降糖药", "盒", 30, 68.0, 48.0, "2型糖尿病", "X", "阿卡波糖", OS),
    _p("SKU-ACB50-KBP", "阿卡波糖片", "阿卡波糖", "卡博平", "50mg*30片", OS, "杭州中美华东制药有限公司", "降糖药", "盒", 30, 42.0, 26.0, "2型糖尿病", "X", "阿卡波糖", OS),
    _p("SKU-SIT100-JNW", "磷酸西格列汀片", "西格列汀", "捷诺维", "100mg*7片", OS, MSD, "降糖药", "盒", 7, 58.0, 41.0, "2型糖尿病", "X", "西格列汀", OS, "restriction"),
    _p("SKU-SITMET-JND", "西格列汀二甲双胍片", "西格列汀二甲双胍", "捷诺达", "50mg/850mg*14片", OS, MSD, "降糖药", "盒", 14, 76.0, 54.0, "2型糖尿病", "X", "西格列汀二甲双胍Ⅰ西格列汀二甲双胍Ⅱ", OS, "restriction"),
    _p("SKU-LIN5-OTN", "利格列汀片", "利格列汀", "欧唐宁", "5mg*7片", OS, BI, "降糖药", "盒", 7, 62.0, 44.0, "2型糖尿病", "X", "利格列汀", OS, "restriction"),
    _p("SKU-DAP10-ADT", "达格列净片", "达格列净", "安达唐", "10mg*14片", OS, AZ, "降糖药", "盒", 14, 72.0, 50.0, "2型糖尿病|心力衰竭", "X", "达格列净片"),
    _p("SKU-EMP10-OTJ", "恩格列净片", "恩格列净", "欧唐静", "10mg*10片", OS, BI, "降糖药", "盒", 10, 75.0, 53.0, "2型糖尿病", "X", "恩格列净", OS),
    _p("SKU-DRZ75-HTN", "多格列艾汀片", "多格列艾汀", "华堂宁", "75mg*14片", OS, "华领医药技术(上海)有限公司", "降糖药", "盒", 14, 75.0, 62.0, "2型糖尿病", "X", "多格列艾汀片", "", "added"),
    _p("SKU-ASP-NHR", "门冬胰岛素注射液", "门冬胰岛素", "诺和锐", "3ml:300单位(笔芯)*1支", INJ, "诺和诺德(中国)制药有限公司", "降糖药", "支", 1, 72.0, 58.0, "2型糖尿病|1型糖尿病", "X", "门冬胰岛素", INJ),
    _p("SKU-GLA-LDS", "甘精胰岛素注射液", "甘精胰岛素", "来得时", "3ml:300单位(预填充)*1支", INJ, "赛诺菲(北京)制药有限公司", "降糖药", "支", 1, 78.0, 62.0, "2型糖尿病|1型糖尿病", "X", "甘精胰岛素", INJ),
    # ---- 消化
    _p("SKU-OME20", "奥美拉唑肠溶胶囊", "奥美拉唑", "", "20mg*14粒", OS, "常州四药制药有限公司", "消化系统用药", "盒", 14, 15.0, 7.5, "消化性溃疡|胃食管反流病", "X", "奥美拉唑", OS),
    _p("SKU-ESO20-NX", "艾司奥美拉唑镁肠溶片", "艾司奥美拉唑", "耐信", "20mg*7片", OS, AZ, "消化系统用药", "盒", 7, 56.0, 40.0, "胃食管反流病|消化性溃疡|幽门螺杆菌感染", "X", "埃索美拉唑(艾司奥美拉唑)", OS),
    _p("SKU-RAB10-BLT", "雷贝拉唑钠肠溶片", "雷贝拉唑", "波利特", "10mg*7片", OS, "卫材(中国)药业有限公司", "消化系统用药", "盒", 7, 48.0, 34.0, "消化性溃疡|胃食管反流病|幽门螺杆菌感染", "X", "雷贝拉唑", OS),
    _p("SKU-PAN40", "泮托拉唑钠肠溶片", "泮托拉唑", "", "40mg*7片", OS, "杭州中美华东制药有限公司", "消化系统用药", "盒", 7, 22.0, 12.0, "消化性溃疡|胃食管反流病", "X", "泮托拉唑", OS),
    _p("SKU-KPZ10", "盐酸凯普拉生片", "凯普拉生", "", "10mg*14片", OS, "轩竹生物科技股份有限公司", "消化系统用药", "盒", 14, 79.0, 66.0, "消化性溃疡|胃食管反流病", "X", "盐酸凯普拉生片", "", "added"),
    _p("SKU-ANPZ20", "安奈拉唑钠肠溶片", "安奈拉唑", "", "20mg*14片", OS, "轩竹生物科技股份有限公司", "消化系统用药", "盒", 14, 98.0, 78.0, "消化性溃疡", "X", "安奈拉唑钠肠溶片", "", "added"),
    _p("SKU-ALC-DX", "铝碳酸镁咀嚼片", "铝碳酸镁", "达喜", "0.5g*20片", "咀嚼片", BAYER, "消化系统用药", "盒", 20, 27.0, 19.0, "消化性溃疡|胃炎", "X", "铝碳酸镁", "咀嚼片"),
    _p("SKU-DOM10-MDL", "多潘立酮片", "多潘立酮", "吗丁啉", "10mg*30片", OS, "西安杨森制药有限公司", "消化系统用药", "盒", 30, 26.0, 18.5, "功能性消化不良", "X", "多潘立酮", OS),
    _p("SKU-DOM-SUS", "多潘立酮混悬液", "多潘立酮", "吗丁啉", "1ml:1mg*100ml", LQ, "西安杨森制药有限公司", "消化系统用药", "瓶", 1, 32.0, 23.0, "功能性消化不良", "X", "多潘立酮", LQ, "restriction"),
    _p("SKU-SMT-SMD", "蒙脱石散", "蒙脱石", "思密达", "3g*10袋", "口服散剂", "博福-益普生(天津)制药有限公司", "消化系统用药", "盒", 10, 22.0, 15.5, "急性腹泻", "X", "蒙脱石", "口服散剂"),
    _p("SKU-SMT-SUS", "蒙脱石混悬液", "蒙脱石", "", "20ml:3g*6袋", LQ, "先声药业有限公司", "消化系统用药", "盒", 6, 36.0, 24.0, "急性腹泻", "X", "蒙脱石", LQ, "restriction"),
    _p("SKU-BIF-PFK", "双歧杆菌三联活菌胶囊", "双歧杆菌三联活菌", "培菲康", "210mg*36粒", OS, "上海上药信谊药厂有限公司", "消化系统用药", "盒", 36, 32.0, 23.0, "急性腹泻|便秘|肠道菌群失调", "X", "双歧杆菌三联活菌", OS),
    # ---- 抗感染
    _p("SKU-AMX025-AMX", "阿莫西林胶囊", "阿莫西林", "阿莫仙", "0.25g*24粒", OS, "珠海联邦制药股份有限公司中山分公司", "抗菌药", "盒", 24, 14.0, 8.0, "上呼吸道感染|幽门螺杆菌感染", "X", "阿莫西林", OS),
    _p("SKU-AMX-DS", "阿莫西林干混悬剂", "阿莫西林", "", "0.125g*12袋", LQ, "石药集团中诺药业(石家庄)有限公司", "抗菌药", "盒", 12, 16.0, 9.0, "上呼吸道感染", "X", "阿莫西林", LQ, "restriction"),
    _p("SKU-AMC375", "阿莫西林克拉维酸钾片", "阿莫西林克拉维酸", "", "0.375g*12片", OS, "华北制药股份有限公司", "抗菌药", "盒", 12, 32.0, 19.0, "上呼吸道感染|社区获得性肺炎", "X", "阿莫西林克拉维酸", OS),
    _p("SKU-CXM250", "头孢呋辛酯片", "头孢呋辛酯", "", "0.25g*12片", OS, "国药集团致君(深圳)制药有限公司", "抗菌药", "盒", 12, 35.0, 21.0, "上呼吸道感染|急性支气管炎", "X", "头孢呋辛酯", OS),
    _p("SKU-AZI250-XSM", "阿奇霉素片", "阿奇霉素", "希舒美", "0.25g*6片", OS, "辉瑞制药有限公司", "抗菌药", "盒", 6, 45.0, 32.0, "上呼吸道感染|社区获得性肺炎", "X", "阿奇霉素", OS),
    _p("SKU-ROX-GR", "罗红霉素颗粒", "罗红霉素", "", "50mg*12袋", GR, "哈药集团制药六厂", "抗菌药", "盒", 12, 18.0, 10.0, "上呼吸道感染", "X", "罗红霉素", GR, "restriction"),
    _p("SKU-LVX500-KLBT", "左氧氟沙星片", "左氧氟沙星", "可乐必妥", "0.5g*4片", OS, "第一三共制药(北京)有限公司", "抗菌药", "盒", 4, 42.0, 30.0, "社区获得性肺炎|尿路感染", "X", "左氧氟沙星", OS),
    _p("SKU-MXF400-BFL", "盐酸莫西沙星片", "莫西沙星", "拜复乐", "0.4g*3片", OS, BAYER, "抗菌药", "盒", 3, 72.0, 52.0, "社区获得性肺炎|急性鼻窦炎", "X", "莫西沙星", OS),
    # ---- 抗病毒
    _p("SKU-OSE75-DF", "磷酸奥司他韦胶囊", "奥司他韦", "达菲", "75mg*10粒", OS, "上海罗氏制药有限公司", "抗病毒药", "盒", 10, 118.0, 85.0, "流行性感冒", "X", "奥司他韦", OS),
    _p("SKU-OSE15-KW", "磷酸奥司他韦颗粒", "奥司他韦", "可威", "15mg*12袋", GR, "宜昌东阳光长江药业股份有限公司", "抗病毒药", "盒", 12, 58.0, 44.0, "流行性感冒", "X", "奥司他韦", GR, "restriction"),
    _p("SKU-ARB100", "盐酸阿比多尔片", "阿比多尔", "", "0.1g*12片", OS, "石药集团欧意药业有限公司", "抗病毒药", "盒", 12, 28.0, 17.0, "流行性感冒", "X", "阿比多尔", OS, "restriction"),
    _p("SKU-LRTW200", "来瑞特韦片", "来瑞特韦", "", "0.2g*30片", OS, "广东众生睿创生物科技有限公司", "抗病毒药", "盒", 30, 498.0, 420.0, "新型冠状病毒感染", "X", "来瑞特韦片", "", "added"),
    _p("SKU-SNTW-XNX", "先诺特韦片/利托那韦片组合包装", "先诺特韦/利托那韦", "先诺欣", "先诺特韦片0.375g*20片+利托那韦片0.1g*10片", OS, "海南先声药业有限公司", "抗病毒药", "盒", 30, 479.0, 430.0, "新型冠状病毒感染", "X", "先诺特韦片/利托那韦片组合包装", "", "added"),
    _p("SKU-ETV05-BLD", "恩替卡韦片", "恩替卡韦", "博路定", "0.5mg*7片", OS, "中美上海施贵宝制药有限公司", "抗病毒药", "盒", 7, 62.0, 44.0, "慢性乙型肝炎", "X", "恩替卡韦", OS),
    _p("SKU-TAF25-WLD", "富马酸丙酚替诺福韦片", "丙酚替诺福韦", "韦立德", "25mg*30片", OS, "Gilead Sciences Ireland UC", "抗病毒药", "盒", 30, 436.0, 380.0, "慢性乙型肝炎", "X", "丙酚替诺福韦", OS),
    # ---- 呼吸
    _p("SKU-MON10-SEN", "孟鲁司特钠片", "孟鲁司特", "顺尔宁", "10mg*5片", OS, MSD, "呼吸系统用药", "盒", 5, 36.0, 26.0, "支气管哮喘|过敏性鼻炎", "X", "孟鲁司特", OS),
    _p("SKU-MON4-SEN", "孟鲁司特钠咀嚼片", "孟鲁司特", "顺尔宁", "4mg*5片", "咀嚼片", MSD, "呼吸系统用药", "盒", 5, 30.0, 21.0, "支气管哮喘|过敏性鼻炎", "X", "孟鲁司特", "咀嚼片"),
    _p("SKU-BUDF-XBK", "布地奈德福莫特罗吸入粉雾剂(Ⅱ)", "布地奈德福莫特罗", "信必可都保", "160μg/4.5μg*60吸", INH, "AstraZeneca AB", "呼吸系统用药", "支", 1, 268.0, 205.0, "支气管哮喘|慢性阻塞性肺病", "X", "布地奈德福莫特罗Ⅰ布地奈德福莫特罗Ⅱ", INH),
    _p("SKU-SFC-SLD", "沙美特罗替卡松吸入粉雾剂", "沙美特罗替卡松", "舒利迭", "50μg/250μg*60泡", INH, "Glaxo Wellcome Production", "呼吸系统用药", "盒", 1, 245.0, 190.0, "支气管哮喘|慢性阻塞性肺病", "X", "沙美特罗替卡松", INH),
    _p("SKU-TIO18-SLH", "噻托溴铵粉吸入剂", "噻托溴铵", "思力华", "18μg*10粒", INH, BI, "呼吸系统用药", "盒", 10, 118.0, 90.0, "慢性阻塞性肺病", "X", "噻托溴铵", INH),
    _p("SKU-AMB30-MST", "盐酸氨溴索片", "氨溴索", "沐舒坦", "30mg*20片", OS, "上海勃林格殷格翰药业有限公司", "呼吸系统用药", "盒", 20, 24.0, 17.0, "急性支气管炎|慢性阻塞性肺病", "X", "氨溴索", OS),
    _p("SKU-NAC600-FLS", "乙酰半胱氨酸泡腾片", "乙酰半胱氨酸", "富露施", "0.6g*4片", "泡腾片", "海南赞邦制药有限公司", "呼吸系统用药", "盒", 4, 34.0, 25.0, "慢性阻塞性肺病|急性支气管炎", "X", "乙酰半胱氨酸", "泡腾片"),
    _p("SKU-SHZK", "苏黄止咳胶囊", "苏黄止咳胶囊", "", "0.45g*12粒", "胶囊剂", "扬子江药业集团有限公司", "止咳化痰中成药", "盒", 12, 42.0, 32.0, "咳嗽", "Z", "苏黄止咳胶囊"),
    _p("SKU-JZ-SYR", "急支糖浆", "急支糖浆", "", "200ml", "糖浆剂", "太极集团重庆涪陵制药厂有限公司", "止咳化痰中成药", "瓶", 1, 22.0, 16.0, "咳嗽|急性支气管炎", "Z", "急支糖浆"),
    _p("SKU-PDL-KFY", "蒲地蓝消炎口服液", "蒲地蓝消炎口服液", "", "10ml*10支", "合剂", "济川药业集团有限公司", "感冒清热中成药", "盒", 10, 39.0, 30.0, "咽喉肿痛|上呼吸道感染", "Z", "蒲地蓝消炎口服液", "", "unlisted"),
    # ---- 抗过敏
    _p("SKU-LOR10-KRT", "氯雷他定片", "氯雷他定", "开瑞坦", "10mg*6片", OS, BAYER, "抗过敏药", "盒", 6, 29.0, 21.0, "过敏性鼻炎|荨麻疹", "X", "氯雷他定", OS),
    _p("SKU-DLOR-DS", "地氯雷他定干混悬剂", "地氯雷他定", "", "2.5mg*6袋", LQ, "海南普利制药股份有限公司", "抗过敏药", "盒", 6, 26.0, 16.0, "过敏性鼻炎|荨麻疹", "X", "地氯雷他定", LQ, "restriction"),
    _p("SKU-CET10-XTM", "盐酸西替利嗪片", "西替利嗪", "仙特明", "10mg*12片", OS, "优时比(珠海)制药有限公司", "抗过敏药", "盒", 12, 38.0, 27.0, "过敏性鼻炎|荨麻疹", "X", "西替利嗪", OS),
    _p("SKU-CET-DROP", "盐酸西替利嗪滴剂", "西替利嗪", "", "10ml:0.1g", LQ, "苏州东瑞制药有限公司", "抗过敏药", "瓶", 1, 28.0, 18.0, "过敏性鼻炎|荨麻疹", "X", "西替利嗪", LQ, "restriction"),
    # ---- 解热镇痛、骨科
    _p("SKU-IBU300-FBD", "布洛芬缓释胶囊", "布洛芬", "芬必得", "0.3g*20粒", SR, "中美天津史克制药有限公司", "解热镇痛抗炎药", "盒", 20, 22.0, 16.0, "发热|疼痛", "X", "布洛芬", SR),
    _p("SKU-IBU-ML", "布洛芬混悬液", "布洛芬", "美林", "100ml:2g", LQ, "上海强生制药有限公司", "解热镇痛抗炎药", "瓶", 1, 26.0, 19.0, "发热|疼痛", "X", "布洛芬", LQ),
    _p("SKU-APAP650-TNL", "对乙酰氨基酚缓释片", "对乙酰氨基酚", "泰诺林", "0.65g*18片", SR, "上海强生制药有限公司", "解热镇痛抗炎药", "盒", 18, 24.0, 17.0, "发热|疼痛", "X", "对乙酰氨基酚", SR),
    _p("SKU-CEL200-XLB", "塞来昔布胶囊", "塞来昔布", "西乐葆", "0.2g*6粒", OS, VIATRIS, "解热镇痛抗炎药", "盒", 6, 42.0, 30.0, "骨关节炎|类风湿关节炎", "X", "塞来昔布", OS),
    _p("SKU-DIC75-FTL", "双氯芬酸钠缓释片", "双氯芬酸", "扶他林", "75mg*10片", SR, "北京诺华制药有限公司", "解热镇痛抗炎药", "盒", 10, 25.0, 18.0, "骨关节炎|疼痛", "X", "双氯芬酸", SR),
    _p("SKU-IMR100", "艾瑞昔布片", "艾瑞昔布", "", "0.1g*10片", OS, "江苏恒瑞医药股份有限公司", "解热镇痛抗炎药", "盒", 10, 56.0, 40.0, "骨关节炎", "X", "艾瑞昔布", OS, "restriction"),
    _p("SKU-ALN70-FSM", "阿仑膦酸钠片", "阿仑膦酸", "福善美", "70mg*1片", OS, MSD, "骨科用药", "盒", 1, 45.0, 33.0, "骨质疏松", "X", "阿仑膦酸", OS, "restriction"),
    _p("SKU-CTR025-LGQ", "骨化三醇软胶囊", "骨化三醇", "罗盖全", "0.25μg*10粒", OS, "上海罗氏制药有限公司", "骨科用药", "盒", 10, 32.0, 24.0, "骨质疏松|肾性骨病", "X", "骨化三醇", OS, "restriction"),
    _p("SKU-FEB40-YLT", "非布司他片", "非布司他", "优立通", "40mg*16片", OS, "江苏万邦生化医药集团有限责任公司", "抗痛风药", "盒", 16, 68.0, 46.0, "痛风|高尿酸血症", "X", "非布司他", OS),
    # ---- 肝病、电解质
    _p("SKU-SLM140", "水飞蓟素胶囊", "水飞蓟素", "", "140mg*10粒", OS, "Madaus GmbH", "肝病用药", "盒", 10, 52.0, 38.0, "肝功能异常|慢性肝炎", "X", "水飞蓟素", OS, "restriction"),
    _p("SKU-PPC228-YSF", "多烯磷脂酰胆碱胶囊", "多烯磷脂酰胆碱", "易善复", "228mg*24粒", OS, "赛诺菲(北京)制药有限公司", "肝病用药", "盒", 24, 68.0, 49.0, "肝功能异常|脂肪肝", "X", "多烯磷脂酰胆碱", OS),
    _p("SKU-GSH100", "谷胱甘肽片", "谷胱甘肽", "", "0.1g*36片", OS, "重庆药友制药有限责任公司", "肝病用药", "盒", 36, 58.0, 40.0, "肝功能异常", "X", "谷胱甘肽", OS, "restriction"),
    _p("SKU-PMA-PNJ", "门冬氨酸钾镁片", "门冬氨酸钾镁", "潘南金", "158mg:140mg*50片", OS, "Gedeon Richter Plc.", "电解质补充药", "瓶", 50, 29.0, 21.0, "低钾血症|心律失常", "X", "门冬氨酸钾镁", OS, "restriction"),
    # ---- 其他西药
    _p("SKU-TAM02-HL", "盐酸坦索罗辛缓释胶囊", "坦索罗辛", "哈乐", "0.2mg*10粒", SR, "安斯泰来制药(中国)有限公司", "泌尿系统用药", "盒", 10, 45.0, 33.0, "良性前列腺增生", "X", "坦洛新(坦索罗辛)", SR),
    # ---- 专科(DTP)
    _p("SKU-IMA100-GLW", "甲磺酸伊马替尼片", "伊马替尼", "格列卫", "100mg*60片", OS, "Novartis Pharma Stein AG", "抗肿瘤药", "盒", 60, 3280.0, 2800.0, "慢性髓细胞白血病", "X", "伊马替尼", OS),
    _p("SKU-GEF250-YRS", "吉非替尼片", "吉非替尼", "易瑞沙", "250mg*10片", OS, "AstraZeneca UK Limited", "抗肿瘤药", "盒", 10, 558.0, 470.0, "非小细胞肺癌", "X", "吉非替尼", OS),
    _p("SKU-LEN25-RFM", "来那度胺胶囊", "来那度胺", "瑞复美", "25mg*21粒", OS, "Celgene International Sàrl", "抗肿瘤药", "盒", 21, 5980.0, 5200.0, "多发性骨髓瘤", "X", "来那度胺", OS, "restriction"),
    _p("SKU-DAS50-SDS", "达沙替尼片", "达沙替尼", "施达赛", "50mg*60片", OS, "Bristol-Myers Squibb Company", "抗肿瘤药", "盒", 60, 6480.0, 5600.0, "慢性髓细胞白血病", "X", "达沙替尼", OS, "restriction"),
    _p("SKU-AXI5-YLD", "阿昔替尼片", "阿昔替尼", "英立达", "5mg*28片", OS, "Pfizer Manufacturing Deutschland GmbH", "抗肿瘤药", "盒", 28, 5880.0, 5100.0, "肾细胞癌", "X", "阿昔替尼片", "", "restriction"),
    _p("SKU-PFD100", "吡非尼酮胶囊", "吡非尼酮", "", "100mg*48粒", OS, "北京康蒂尼药业股份有限公司", "呼吸系统用药", "盒", 48, 298.0, 250.0, "特发性肺纤维化", "X", "吡非尼酮", OS),
    _p("SKU-NIN150-WJT", "乙磺酸尼达尼布软胶囊", "尼达尼布", "维加特", "150mg*60粒", OS, BI, "呼吸系统用药", "盒", 60, 7980.0, 6900.0, "特发性肺纤维化", "X", "乙磺酸尼达尼布软胶囊", "", "restriction"),
    _p("SKU-ADA40-XML", "阿达木单抗注射液", "阿达木单抗", "修美乐", "40mg/0.4ml*1支(预填充)", INJ, "AbbVie Biotechnology GmbH", "免疫调节药", "支", 1, 1290.0, 1120.0, "类风湿关节炎|强直性脊柱炎|银屑病", "X", "阿达木单抗", INJ),
    # ---- 中成药
    _p("SKU-LHQW-JN", "连花清瘟胶囊", "连花清瘟胶囊", "", "0.35g*24粒", "胶囊剂", YL, "感冒清热中成药", "盒", 24, 26.8, 19.5, "流行性感冒|普通感冒", "Z", "连花清瘟片(胶囊、颗粒)"),
    _p("SKU-LWDH-ZJ", "六味地黄丸(浓缩丸)", "六味地黄丸", "仲景", "200丸", "丸剂", ZJ, "补益中成药", "瓶", 200, 26.0, 19.0, "肾阴虚证", "Z", "六味地黄丸"),
    _p("SKU-HXZQ-S", "藿香正气水", "藿香正气水", "", "10ml*10支", "酊剂", "太极集团重庆涪陵制药厂有限公司", "感冒清热中成药", "盒", 10, 18.0, 13.0, "胃肠型感冒|中暑", "Z", "藿香正气水(丸、片、胶囊、颗粒、口服液、软胶囊)"),
    _p("SKU-BLG-KL", "板蓝根颗粒", "板蓝根颗粒", "", "10g*20袋", "颗粒剂", "广州白云山和记黄埔中药有限公司", "感冒清热中成药", "包", 20, 17.0, 12.0, "咽喉肿痛|普通感冒", "Z", "板蓝根颗粒"),
    _p("SKU-GMQR-KL", "感冒清热颗粒", "感冒清热颗粒", "", "12g*10袋", "颗粒剂", TRT_KJ, "感冒清热中成药", "盒", 10, 22.0, 16.0, "普通感冒", "Z", "感冒清热颗粒(片、胶囊)"),
    _p("SKU-SHL-KFY", "双黄连口服液", "双黄连口服液", "", "10ml*10支", "合剂", "哈药集团三精制药有限公司", "感冒清热中成药", "盒", 10, 26.0, 19.0, "普通感冒|咽喉肿痛", "Z", "双黄连片(胶囊、颗粒、合剂、口服液)"),
    _p("SKU-XCH-KL", "小柴胡颗粒", "小柴胡颗粒", "", "10g*10袋", "颗粒剂", "广州白云山光华制药股份有限公司", "感冒清热中成药", "盒", 10, 19.0, 14.0, "普通感冒", "Z", "小柴胡片(胶囊、颗粒)"),
    _p("SKU-KBD-KFY", "抗病毒口服液", "抗病毒口服液", "", "10ml*12支", "合剂", "广州市香雪制药股份有限公司", "感冒清热中成药", "盒", 12, 35.0, 26.0, "上呼吸道感染|流行性感冒", "Z", "抗病毒胶囊(颗粒、口服液)"),
    _p("SKU-999GML", "感冒灵颗粒", "感冒灵颗粒", "999", "10g*9袋", "颗粒剂", "华润三九医药股份有限公司", "感冒清热中成药", "盒", 9, 16.5, 12.0, "普通感冒", "Z", "感冒灵颗粒", "", "unlisted"),
    _p("SKU-JSB-JN", "金水宝胶囊", "金水宝胶囊", "", "0.33g*72粒", "胶囊剂", "江西济民可信金水宝制药有限公司", "补益中成药", "盒", 72, 62.0, 47.0, "慢性支气管炎|慢性肾功能不全", "Z", "金水宝片(胶囊)", "", "restriction"),
    _p("SKU-AGNH-TRT", "安宫牛黄丸", "安宫牛黄丸", "同仁堂", "3g*1丸", "丸剂", TRT, "急救中成药", "盒", 1, 860.0, 780.0, "中风|高热惊厥", "Z", "安宫牛黄丸", "", "restriction"),
    _p("SKU-GZFL-JN", "桂枝茯苓胶囊", "桂枝茯苓胶囊", "", "0.31g*60粒", "胶囊剂", "江苏康缘药业股份有限公司", "妇科中成药", "盒", 60, 42.0, 31.0, "子宫肌瘤|月经不调", "Z", "桂枝茯苓丸(片、胶囊)"),
    _p("SKU-WJBF-W", "乌鸡白凤丸", "乌鸡白凤丸", "同仁堂", "9g*10丸", "丸剂", TRT, "妇科中成药", "盒", 10, 36.0, 27.0, "月经不调", "Z", "乌鸡白凤丸(片、胶囊)"),
    _p("SKU-XYW-ZJ", "逍遥丸(浓缩丸)", "逍遥丸", "仲景", "200丸", "丸剂", ZJ, "妇科中成药", "瓶", 200, 21.0, 15.0, "肝郁脾虚证|月经不调", "Z", "逍遥丸(颗粒)"),
    _p("SKU-XY-P", "逍遥片", "逍遥片", "", "0.35g*36片", "片剂", "太极集团重庆桐君阁药厂有限公司", "妇科中成药", "盒", 36, 18.0, 12.0, "肝郁脾虚证|月经不调", "Z", "逍遥片", "", "removed"),
    _p("SKU-XSLJ-P", "香砂六君片", "香砂六君片", "", "0.46g*36片", "片剂", "江西汇仁药业股份有限公司", "消化中成药", "盒", 36, 19.0, 13.0, "脾胃虚弱证|功能性消化不良", "Z", "香砂六君片", "", "removed"),
    _p("SKU-XSZZ-W", "香砂枳术丸", "香砂枳术丸", "", "6g*10袋", "丸剂", TRT_KJ, "消化中成药", "盒", 10, 16.0, 11.0, "脾胃虚弱证|功能性消化不良", "Z", "香砂枳术丸", "", "removed"),
    _p("SKU-XLZX-P", "香连止泻片", "香连止泻片", "", "0.3g*24片", "片剂", "吉林敖东延边药业股份有限公司", "消化中成药", "盒", 24, 16.0, 11.0, "急性腹泻", "Z", "香连止泻片", "", "removed"),
    _p("SKU-XSYW-ZJ", "香砂养胃丸(浓缩丸)", "香砂养胃丸", "仲景", "200丸", "丸剂", ZJ, "消化中成药", "瓶", 200, 22.0, 16.0, "脾胃虚弱证|胃炎", "Z", "香砂养胃丸(片、胶囊、颗粒)"),
    _p("SKU-BHW", "保和丸", "保和丸", "", "6g*10袋", "丸剂", TRT, "消化中成药", "盒", 10, 15.0, 10.5, "功能性消化不良", "Z", "保和丸(片、颗粒)"),
    _p("SKU-JWXS-JZ", "健胃消食片", "健胃消食片", "江中", "0.5g*36片", "片剂", "江中药业股份有限公司", "消化中成药", "盒", 36, 15.0, 10.0, "功能性消化不良", "Z", "健胃消食片", "", "restriction"),
    _p("SKU-SJWT-KL", "三九胃泰颗粒", "三九胃泰颗粒", "999", "20g*6袋", "颗粒剂", "华润三九医药股份有限公司", "消化中成药", "盒", 6, 19.0, 14.0, "胃炎", "Z", "三九胃泰颗粒(胶囊)"),
    _p("SKU-YNBY-JN", "云南白药胶囊", "云南白药胶囊", "云南白药", "0.25g*32粒", "胶囊剂", "云南白药集团股份有限公司", "骨伤科中成药", "盒", 32, 42.0, 32.0, "跌打损伤|出血", "Z", "云南白药、云南白药片(胶囊)"),
)
# fmt: on
"""The curated SKUs (commercial facts by hand, formulary facts looked up from the list files)."""


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def squeeze(text: str) -> str:
    """Text of a list cell without the line breaks and spaces of the printed layout (Chinese needs none)."""
    return re.sub(r"\s+", "", text.replace("（", "(").replace("）", ")"))


def name_keys(raw: str) -> set[str]:
    """The keys one name cell answers to: the whole cell, and each name when a cell lists several."""
    text = raw.replace("（", "(").replace("）", ")")
    return {squeeze(text), *(t for t in text.split() if t)}


def _sheet_entries(rows: Iterable[Sequence[object]], edition: str, section: str) -> Iterator[ListEntry]:
    """Drug rows of one sheet: the header row names the columns; classification rows have no 甲/乙."""
    cols: dict[str, int] | None = None
    for raw in rows:
        cells = [_cell(c) for c in raw]
        flat = [squeeze(c) for c in cells]
        if "编号" in flat and any("药品名称" in c for c in flat):
            cols = {"number": flat.index("编号"), "name": next(i for i, c in enumerate(flat) if "药品名称" in c)}
            for key, label in (("form", "剂型"), ("remark", "备注"), ("pay", "医保支付标准")):
                found = [i for i, c in enumerate(flat) if label in c]
                if found:
                    cols[key] = found[0]
            continue
        if cols is None:
            continue
        category = [c for c in flat[: cols["number"]] if c in ("甲", "乙")]
        if not category or not flat[cols["name"]]:
            continue
        got = {key: cells[i] for key, i in cols.items()}
        yield ListEntry(
            edition=edition,
            section=section,
            category=category[0],
            number=squeeze(got["number"]),
            name=got["name"].strip(),
            form=squeeze(got.get("form", "")),
            remark=squeeze(got.get("remark", "")),
            payment_standard=squeeze(got.get("pay", "")),
        )


def read_lists(nrdl_dir: Path) -> list[ListEntry]:
    """Every drug row of the 2022 (western + TCM) and 2024 list files in ``nrdl_dir``."""
    import openpyxl  # only this script needs it

    out: list[ListEntry] = []
    sources = [
        ("nrdl-2024.xlsx", "2024", None),
        ("nrdl-2022-western.xlsx", "2022", "西药部分"),
        ("nrdl-2022-tcm.xlsx", "2022", "中成药部分"),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the files carry no default style
        for file, edition, section in sources:
            book = openpyxl.load_workbook(nrdl_dir / file, read_only=True)
            for sheet in book.sheetnames:
                rows = book[sheet].iter_rows(values_only=True)
                out.extend(_sheet_entries(rows, edition, section or sheet))
            book.close()
    return out


def find(entries: Sequence[ListEntry], sku: Sku, edition: str) -> ListEntry | None:
    """The one entry of ``edition`` that ``sku`` belongs to, or ``None`` when the edition does not list it."""
    hits = [
        e
        for e in entries
        if e.edition == edition
        and e.section in SECTIONS[sku.part]
        and squeeze(sku.nrdl_name) in name_keys(e.name)
        and e.form == squeeze(sku.nrdl_form)
    ]
    if len(hits) > 1:
        raise ValueError(f"{sku.sku}: {len(hits)} entries in {edition} match {sku.nrdl_name!r} {sku.nrdl_form!r}")
    return hits[0] if hits else None


def _same_text(a: str, b: str) -> bool:
    return a.rstrip("。") == b.rstrip("。")


def check_expectation(sku: Sku, old: ListEntry | None, new: ListEntry | None) -> None:
    """Fail unless the editions differ for ``sku`` exactly as its curation says."""
    if sku.expect == "unlisted":
        ok = old is None and new is None
    elif sku.expect == "added":
        ok = old is None and new is not None
    elif sku.expect == "removed":
        ok = old is not None and new is None
    elif old is None or new is None:
        ok = False
    elif sku.expect == "same":
        ok = old.category == new.category and _same_text(old.remark, new.remark)
    else:  # restriction
        ok = old.category == new.category and not _same_text(old.remark, new.remark)
    if not ok:
        raise ValueError(f"{sku.sku}: expected '{sku.expect}', found 2022={old} 2024={new}")


def catalog_rows(entries: Sequence[ListEntry]) -> list[dict[str, str]]:
    """One CSV row per curated SKU with its 2022 and 2024 formulary status."""
    rows: list[dict[str, str]] = []
    for sku in CATALOG:
        old, new = find(entries, sku, "2022"), find(entries, sku, "2024")
        check_expectation(sku, old, new)
        pay = new.payment_standard if new is not None and new.section != "西药部分" else ""
        rows.append(
            {
                "sku": sku.sku,
                "name": sku.name,
                "generic_name": sku.generic_name,
                "brand": sku.brand,
                "spec": sku.spec,
                "dosage_form": sku.dosage_form,
                "manufacturer": sku.manufacturer,
                "category": sku.category,
                "unit": sku.unit,
                "pack_size": str(sku.pack_size),
                "list_price": f"{sku.list_price:.2f}",
                "floor_price": f"{sku.floor_price:.2f}",
                "indications": sku.indications,
                "nrdl_2022_category": old.category if old else "",
                "nrdl_2022_restriction": old.remark if old else "",
                "nrdl_2022_code": old.code if old else "",
                "nrdl_2024_category": new.category if new else "",
                "nrdl_2024_restriction": new.remark if new else "",
                "nrdl_2024_payment_standard": pay,
                "nrdl_2024_code": new.code if new else "",
            }
        )
    return rows


def write_csv(rows: Sequence[dict[str, str]], out: Path) -> None:
    """Write the catalogue as UTF-8 CSV with a header row."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Rebuild ``products.csv`` from the list files; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--nrdl-dir", type=Path, default=Path("../shared/data/nrdl"))
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data" / "products.csv")
    args = parser.parse_args(argv)
    skus = [s.sku for s in CATALOG]
    if len(set(skus)) != len(skus):
        raise ValueError("duplicate SKU in CATALOG")
    rows = catalog_rows(read_lists(args.nrdl_dir))
    write_csv(rows, args.out)
    changed = {e: sum(s.expect == e for s in CATALOG) for e in ("restriction", "added", "removed", "unlisted")}
    sys.stdout.write(f"wrote {len(rows)} products to {args.out}; changes 2022→2024: {changed}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Products named in a rep's query: names, brands, abbreviations and one-character typos."""

from __future__ import annotations

from graph.model import Product
from resolution.mentions import QueryProductMatcher

T = "t"
CATALOGUE = [
    Product(tenant=T, sku="RSV", name="瑞舒伐他汀钙片", generic_name="瑞舒伐他汀钙", brand="可定"),
    Product(tenant=T, sku="CLP", name="硫酸氢氯吡格雷片", generic_name="硫酸氢氯吡格雷", brand="波立维"),
    Product(tenant=T, sku="AML", name="苯磺酸氨氯地平片", generic_name="苯磺酸氨氯地平", brand="络活喜"),
    Product(tenant=T, sku="AMX", name="阿莫西林胶囊", generic_name="阿莫西林"),
    Product(tenant=T, sku="AMR", name="阿莫罗芬乳膏", generic_name="阿莫罗芬"),
]


def test_names_brands_abbreviations_and_typos() -> None:
    match = QueryProductMatcher(CATALOGUE)
    assert match("客户说可定太贵") == ["RSV"]
    assert match("瑞舒 断货了") == ["RSV"]
    assert match("氯吡 被压价") == ["CLP"]
    assert match("络活西价格被仿制药打下来了") == ["AML"]  # 西 for 喜
    assert match("波立唯又涨价") == ["CLP"]  # 唯 for 维
    assert match("可订太贵了") == []  # a two-character name with a typo is too loose a signal


def test_ambiguous_abbreviations_and_unrelated_text_name_nothing() -> None:
    match = QueryProductMatcher(CATALOGUE)
    assert match("阿莫 没货") == []  # 阿莫西林 or 阿莫罗芬: not a signal
    assert match("医保卡刷不了怎么办") == []

"""Customers, reps and doctors of one tenant, with realistic Chinese names and a few near-duplicate customers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from demo.catalog import ProductFacts
from demo.vocab import (
    CHAIN_HOME,
    CLINIC_DEPARTMENT_WEIGHTS,
    CLINIC_DEPARTMENTS,
    CLINIC_KINDS,
    CLINIC_TITLE_WEIGHTS,
    CLINIC_TITLES,
    CUSTOMER_TAGS,
    DEPARTMENTS_BY_CATEGORY,
    GIVEN_OLD,
    GIVEN_YOUNG,
    HOSPITAL_DEPARTMENT_WEIGHTS,
    HOSPITAL_DEPARTMENTS,
    HOSPITAL_PATTERNS,
    SINGLE_PHARMACY_SUFFIXES,
    SINGLE_PHARMACY_WORDS,
    SURNAMES,
    TITLE_WEIGHTS,
    TITLES,
    City,
    TenantSpec,
)
from graph.model import CustomerType

TYPE_SHARES: dict[CustomerType, float] = {
    "chain": 0.34,
    "single_pharmacy": 0.26,
    "hospital": 0.09,
    "clinic": 0.25,
    "dtp": 0.06,
}
"""Share of each customer type among a tenant's customers."""

CUSTOMERS_PER_SCALE = 320
HQ_PER_CHAIN_CUSTOMERS = 14
"""One chain headquarters per this many chain customers (the rest are chain stores ordering on their own)."""
NEAR_DUPLICATE_SHARE = 0.03


@dataclass
class Customer:
    """One customer with the attributes the order and text generators need."""

    id: str
    name: str
    type: CustomerType
    city: City
    district: str
    tier: str
    insurance_designated: bool
    dtp_certified: bool
    store_count: int
    annual_revenue: float
    tags: list[str]
    chain_brand: str = ""
    is_hq: bool = False
    duplicate_of: int | None = None

    @property
    def short(self) -> str:
        """The name without the legal suffix, as people say it."""
        for suffix in ("有限责任公司", "股份有限公司", "有限公司"):
            if self.name.endswith(suffix):
                return self.name[: -len(suffix)]
        return self.name


@dataclass
class Rep:
    """A field rep and the customers it owns."""

    id: str
    name: str
    territory: str
    customers: list[int] = field(default_factory=list)


@dataclass
class Doctor:
    """A prescriber at a hospital or clinic."""

    id: str
    name: str
    department: str
    title: str
    customer: int
    prescribes: list[tuple[int, float, int, dt.date]] = field(default_factory=list)


def person_name(rng: np.random.Generator, *, young: bool) -> str:
    """A Chinese personal name: one surname, one or two given characters."""
    surname = SURNAMES[int(rng.integers(len(SURNAMES)))]
    pool = GIVEN_YOUNG if young else GIVEN_OLD
    return surname + pool[int(rng.integers(len(pool)))]


def _pick_city(rng: np.random.Generator, spec: TenantSpec) -> City:
    weights = np.array([c.weight for c in spec.cities])
    return spec.cities[int(rng.choice(len(spec.cities), p=weights / weights.sum()))]


def _pick(rng: np.random.Generator, items: Sequence[str]) -> str:
    return items[int(rng.integers(len(items)))]


def _district_short(district: str) -> str:
    """``西湖区`` → ``西湖``, ``浦东新区`` → ``浦东``, ``义乌市`` → ``义乌``."""
    if district.endswith("新区") and len(district) > 3:
        return district[:-2]
    return district[:-1] if district[-1] in "区县市" and len(district) > 2 else district


def _tags(rng: np.random.Generator, kind: CustomerType, k: int) -> list[str]:
    pool = CUSTOMER_TAGS[kind]
    idx = rng.choice(len(pool), size=min(k, len(pool)), replace=False)
    return [pool[int(i)] for i in sorted(idx)]


def customers(spec: TenantSpec, scale: int, rng: np.random.Generator) -> list[Customer]:
    """A tenant's customers: chain HQs and chain stores, single pharmacies, hospitals, clinics, DTP pharmacies."""
    total = CUSTOMERS_PER_SCALE * scale
    counts = {t: int(round(total * s)) for t, s in TYPE_SHARES.items()}
    counts["chain"] += total - sum(counts.values())
    used: set[str] = set()
    out: list[Customer] = []

    def unique(name: str) -> str:
        if name not in used:
            used.add(name)
            return name
        for ordinal in "二三四五六七八九":
            alt = name.replace("店)", f"{ordinal}店)") if name.endswith("店)") else f"{name}({ordinal}部)"
            if alt not in used:
                used.add(alt)
                return alt
        alt = f"{name}-{len(used)}"
        used.add(alt)
        return alt

    # chain headquarters: the regional companies of the big chains, then (at larger scales) local chains
    n_hq = max(len(spec.chain_hq), counts["chain"] // HQ_PER_CHAIN_CUSTOMERS)
    for k in range(n_hq):
        if k < len(spec.chain_hq):
            legal, brand, stores = spec.chain_hq[k]
            home = CHAIN_HOME.get(brand, (spec.cities[0].name,))[0]
            city = next(c for c in spec.cities if c.name == home)
            store_count = int(stores * scale**0.5 * rng.uniform(0.9, 1.1))
        else:
            city = _pick_city(rng, spec)
            brand = f"{_pick(rng, SINGLE_PHARMACY_WORDS)}{_pick(rng, ('大药房', '堂', '医药'))}"
            legal = f"{city.name}{brand}连锁有限公司"
            store_count = int(rng.integers(5, 60))
        out.append(
            Customer(
                id="", name=unique(legal), type="chain", city=city, district=city.districts[0],
                tier="A" if store_count >= 30 else "B", insurance_designated=True,
                dtp_certified=bool(store_count >= 100 and rng.random() < 0.5), store_count=store_count,
                annual_revenue=round(store_count * rng.uniform(2.6, 4.2) * 1e6, -4),
                tags=["连锁总部", *_tags(rng, "chain", 2)], chain_brand=brand, is_hq=True,
            )
        )  # fmt: skip
    for _ in range(counts["chain"] - n_hq):
        city = _pick_city(rng, spec)
        district = _pick(rng, city.districts)
        brands = [b for b in spec.chains if city.name in CHAIN_HOME.get(b, (city.name,))]
        brand = _pick(rng, brands)
        road = _pick(rng, city.roads)
        county = district[-1] in "县市"
        # a store in a county-level city is named after the county and one of its own main streets
        where = _district_short(district) + _pick(rng, COUNTY_ROADS) if county and rng.random() < 0.6 else road
        out.append(
            Customer(
                id="", name=unique(f"{brand}({where}店)"), type="chain", city=city, district=district, tier="",
                insurance_designated=bool(rng.random() < 0.88), dtp_certified=False, store_count=1,
                annual_revenue=round(float(rng.lognormal(np.log(3.2e6), 0.45)), -3),
                tags=_tags(rng, "chain", int(rng.integers(1, 4))), chain_brand=brand,
            )
        )  # fmt: skip
    for _ in range(counts["single_pharmacy"]):
        city = _pick_city(rng, spec)
        district = _pick(rng, city.districts)
        word = _pick(rng, SINGLE_PHARMACY_WORDS)
        suffix = _pick(rng, SINGLE_PHARMACY_SUFFIXES)
        prefix = city.name if rng.random() < 0.5 else _district_short(district)
        out.append(
            Customer(
                id="", name=unique(f"{prefix}{word}{suffix}"), type="single_pharmacy", city=city, district=district,
                tier="", insurance_designated=bool(rng.random() < 0.72), dtp_certified=False, store_count=1,
                annual_revenue=round(float(rng.lognormal(np.log(1.8e6), 0.55)), -3),
                tags=_tags(rng, "single_pharmacy", int(rng.integers(1, 3))),
            )
        )  # fmt: skip
    for _ in range(counts["hospital"]):
        city = _pick_city(rng, spec)
        district = _pick(rng, city.districts)
        pattern = _pick(rng, HOSPITAL_PATTERNS)
        big = "{city}" in pattern
        if city.name == "上海":  # Shanghai's hospitals carry the district: 上海市浦东新区人民医院
            name = "上海市" + district + pattern.split("}", 1)[1].removeprefix("市")
        elif district.endswith("区"):
            name = pattern.format(city=city.name, district=f"{city.name}市{district}")
        else:
            name = pattern.format(city=city.name, district=district)
        out.append(
            Customer(
                id="", name=unique(name), type="hospital", city=city, district=district, tier="",
                insurance_designated=True, dtp_certified=False, store_count=0,
                annual_revenue=round(float(rng.lognormal(np.log(1.6e9 if big else 4.5e8), 0.4)), -5),
                tags=["三级医院" if big else "二级医院", *_tags(rng, "hospital", 2)],
            )
        )  # fmt: skip
    for _ in range(counts["clinic"]):
        city = _pick_city(rng, spec)
        district = _pick(rng, city.districts)
        kind = _pick(rng, CLINIC_KINDS)
        street = _pick(rng, city.streets)
        if kind == "镇卫生院" and district.endswith("区"):
            kind = "社区卫生服务中心"
        seat = f"{city.name}市{district}" if district.endswith("区") else district  # 杭州市西湖区 / 嵊州市
        if kind in ("社区卫生服务中心", "街道社区卫生服务中心"):
            name = f"{seat}{street}{kind}"
        elif kind == "镇卫生院":
            name = f"{seat}{street.removesuffix('路')}镇卫生院"
        else:
            owner = person_name(rng, young=False)[0]
            name = (
                f"{city.name}{_district_short(district)}{owner}氏{kind}"
                if rng.random() < 0.4
                else (f"{city.name}{_pick(rng, SINGLE_PHARMACY_WORDS)}{kind}")
            )
        public = "卫生" in kind
        out.append(
            Customer(
                id="", name=unique(name), type="clinic", city=city, district=district, tier="",
                insurance_designated=bool(public or rng.random() < 0.55), dtp_certified=False, store_count=0,
                annual_revenue=round(float(rng.lognormal(np.log(9e6 if public else 2.5e6), 0.5)), -3),
                tags=_tags(rng, "clinic", int(rng.integers(1, 3))),
            )
        )  # fmt: skip
    for _ in range(counts["dtp"]):
        city = _pick_city(rng, spec)
        district = _pick(rng, city.districts)
        brand = _pick(rng, spec.dtp_brands)
        out.append(
            Customer(
                id="", name=unique(f"{brand}({_pick(rng, city.roads)}店)"), type="dtp", city=city,
                district=district, tier="", insurance_designated=bool(rng.random() < 0.85), dtp_certified=True,
                store_count=1, annual_revenue=round(float(rng.lognormal(np.log(6e7), 0.5)), -4),
                tags=["特药", *_tags(rng, "dtp", 2)],
            )
        )  # fmt: skip
    _assign_tiers(out)
    out.extend(_near_duplicates(out, rng, used))
    for i, c in enumerate(out):
        c.id = f"C-{spec.code}-{i + 1:05d}"
    return out


def _assign_tiers(found: list[Customer]) -> None:
    """A/B/C by annual revenue within each type: the top fifth A, the next two fifths B."""
    for kind in TYPE_SHARES:
        group = [c for c in found if c.type == kind and not c.is_hq]
        order = sorted(group, key=lambda c: -c.annual_revenue)
        for rank, c in enumerate(order):
            q = rank / max(1, len(order))
            c.tier = "A" if q < 0.2 else "B" if q < 0.6 else "C"


COUNTY_ROADS = ("人民路", "解放路", "中山路", "新华路", "建设路", "胜利路", "环城路", "府前路")


def _variant(name: str, rng: np.random.Generator) -> str:
    """The same customer written differently: brackets, spacing, abbreviations, a dropped word."""
    options: list[str] = []
    if "(" in name:
        options += [name.replace("(", "（").replace(")", "）"), name.replace("(", "").replace(")", "")]
        head = name.split("(")[0]
        if head.endswith("大药房") and len(head) > 4:  # 康邻大药房(…) → 康邻(…), never a 4-character X大药房 → X
            options.append(head[:-3] + name[len(head) :])
    if name.endswith("医院") and "中医院" not in name:  # 杭州市康澜医院 → 杭州市康澜医院(总院), 杭州康澜医院
        options.append(name + "(总院)")
        if "市" in name[:4]:
            options.append(name.replace("市", "", 1))
    if "中医院" in name:
        options.append(name.replace("中医院", "中医医院"))
    if "社区卫生服务中心" in name:
        options += [name.replace("社区卫生服务中心", "社区卫生中心"), name.replace("街道社区", "街道社区 ")]
    if name.endswith("大药房"):
        options += [name[:-3] + "药房", name + "(总店)"]
    if name.endswith("有限公司"):
        options.append(name.replace("有限公司", "公司"))
    for city in ("杭州", "宁波", "温州", "绍兴", "嘉兴", "湖州", "金华", "台州", "苏州", "无锡", "常州"):
        if name.startswith(city) and not name.startswith(city + "市"):
            options.append(city + "市" + name[len(city) :])
    options = [o for o in options if o != name] or [name + "(原址)"]
    return options[int(rng.integers(len(options)))]


def _near_duplicates(found: list[Customer], rng: np.random.Generator, used: set[str]) -> list[Customer]:
    """A few customers entered twice under slightly different names (what entity resolution should find)."""
    n = max(3, int(len(found) * NEAR_DUPLICATE_SHARE))
    picks = rng.choice(len(found), size=n, replace=False)
    out: list[Customer] = []
    for i in sorted(int(p) for p in picks):
        src = found[i]
        name = _variant(src.name, rng)
        if name in used:
            continue
        used.add(name)
        out.append(
            Customer(
                id="", name=name, type=src.type, city=src.city, district=src.district, tier=src.tier,
                insurance_designated=src.insurance_designated, dtp_certified=src.dtp_certified,
                store_count=src.store_count, annual_revenue=src.annual_revenue, tags=list(src.tags[:1]),
                chain_brand=src.chain_brand, is_hq=src.is_hq, duplicate_of=i,
            )
        )  # fmt: skip
    return out


def reps(spec: TenantSpec, found: list[Customer], rng: np.random.Generator) -> list[Rep]:
    """Reps by territory (city and channel), each owning the customers of its territory."""
    territories: dict[str, list[int]] = {}
    for i, c in enumerate(found):
        if c.is_hq:
            key = "KA-连锁总部"
        elif c.type in ("hospital", "dtp"):
            key = f"{c.city.region}-医院及DTP"
        else:
            key = f"{c.city.name if c.city.name != '上海' else c.city.region}-零售及基层"
        territories.setdefault(key, []).append(i)
    out: list[Rep] = []
    for key in sorted(territories):
        members = territories[key]
        n_reps = max(1, int(np.ceil(len(members) / 28)))
        for part in range(n_reps):
            owned = members[part::n_reps]
            name = f"{key}{part + 1}组" if n_reps > 1 else key
            out.append(Rep(id="", name=person_name(rng, young=True), territory=name, customers=owned))
    for i, r in enumerate(out):
        r.id = f"R-{spec.code}-{i + 1:03d}"
    return out


def doctors(
    spec: TenantSpec, found: list[Customer], catalog: tuple[ProductFacts, ...], rng: np.random.Generator,
    as_of: dt.date,
) -> list[Doctor]:  # fmt: skip
    """Doctors of the hospitals and clinics, each with 3–8 prescription preferences in their department's classes."""
    by_dept: dict[str, list[int]] = {}
    for j, p in enumerate(catalog):
        for dept in DEPARTMENTS_BY_CATEGORY.get(p.category, ()):
            by_dept.setdefault(dept, []).append(j)
    out: list[Doctor] = []
    hw = np.array(HOSPITAL_DEPARTMENT_WEIGHTS, float)
    cw = np.array(CLINIC_DEPARTMENT_WEIGHTS, float)
    tw = np.array(TITLE_WEIGHTS, float)
    ctw = np.array(CLINIC_TITLE_WEIGHTS, float)
    for i, c in enumerate(found):
        if c.duplicate_of is not None or c.type not in ("hospital", "clinic"):
            continue
        hospital = c.type == "hospital"
        n = int(rng.integers(8, 22)) if hospital else int(rng.integers(1, 4))
        for _ in range(n):
            if hospital:
                dept = HOSPITAL_DEPARTMENTS[int(rng.choice(len(hw), p=hw / hw.sum()))]
                title = TITLES[int(rng.choice(len(tw), p=tw / tw.sum()))]
            else:
                dept = CLINIC_DEPARTMENTS[int(rng.choice(len(cw), p=cw / cw.sum()))]
                title = CLINIC_TITLES[int(rng.choice(len(ctw), p=ctw / ctw.sum()))]
            d = Doctor(id="", name=person_name(rng, young=title in ("住院医师", "医师")), department=dept,
                       title=title, customer=i)  # fmt: skip
            pool = by_dept.get(dept, [])
            if pool:
                k = min(len(pool), int(rng.integers(3, 9)))
                chosen = [pool[int(x)] for x in rng.choice(len(pool), size=k, replace=False)]
                shares = rng.dirichlet(np.full(k, 1.2))
                for j, share in zip(chosen, shares, strict=True):
                    count = int(rng.integers(3, 60 if title in ("主任医师", "副主任医师") else 30) * (1 + 2 * share))
                    last = as_of - dt.timedelta(days=int(rng.exponential(12)) + 1)
                    d.prescribes.append((j, round(float(share), 3), count, last))
            out.append(d)
    for i, d in enumerate(out):
        d.id = f"D-{spec.code}-{i + 1:05d}"
    return out

"""A small graph with every node and edge type, Chinese text throughout."""

from __future__ import annotations

import datetime as dt

from graph.model import (
    AboutIndication,
    AboutProduct,
    AuditEvent,
    CaseOf,
    Change,
    CompetesWith,
    CompetitorObservation,
    CompetitorPhoto,
    CompetitorProduct,
    Contract,
    ContractWith,
    Customer,
    Deal,
    DealFor,
    Doctor,
    Edge,
    Entry,
    EntryVersion,
    FormularyDecision,
    FormularyEdition,
    FormularyStatus,
    Had,
    Indication,
    Interaction,
    InteractionWith,
    ListedIn,
    Mentions,
    Node,
    Owns,
    Prescribes,
    Previous,
    PriceEvent,
    Product,
    Promotion,
    Purchased,
    Quotes,
    Rep,
    SafetyReport,
    ScriptRequest,
    SkuCorrection,
    Task,
    Treats,
    WorksAt,
)


def sample_nodes(t: str) -> list[list[Node]]:
    """Batches of nodes, one batch per type."""
    return [
        [
            Product(
                tenant=t,
                sku="SKU-ATV-20",
                name="阿托伐他汀钙片",
                generic_name="阿托伐他汀钙",
                brand="立普妥",
                spec="20mg*7片",
                dosage_form="片剂",
                manufacturer="辉瑞制药有限公司",
                category="心血管",
                unit="盒",
                pack_size=7,
                list_price=35.5,
                floor_price=28.0,
            ),
            Product(
                tenant=t,
                sku="SKU-MET-05",
                name="二甲双胍缓释片",
                generic_name="二甲双胍",
                spec="0.5g*30片",
                dosage_form="缓释片",
                list_price=18.0,
                floor_price=12.5,
            ),
        ],
        [Indication(tenant=t, name="高胆固醇血症", description="血脂异常"), Indication(tenant=t, name="2型糖尿病")],
        [
            FormularyEdition(
                tenant=t, id="NRDL-2024", name="国家医保药品目录（2024年）", effective_date=dt.date(2025, 1, 1)
            )
        ],
        [
            CompetitorProduct(
                tenant=t,
                id="CP-1",
                name="瑞舒伐他汀钙片",
                company="阿斯利康",
                price=32.0,
                observed_at=dt.date(2025, 6, 1),
                source="门店走访",
            )
        ],
        [
            Customer(
                tenant=t,
                id="C-001",
                name="康邻大药房(人民路店)",
                type="chain",
                region="华东",
                city="杭州",
                tier="A",
                insurance_designated=True,
                dtp_certified=False,
                store_count=120,
                annual_revenue=5.2e7,
                tags=["重点客户", "医保定点"],
            ),
            Customer(tenant=t, id="C-002", name="仁心诊所", type="clinic", region="华南", city="广州", tier="C"),
            Customer(tenant=t, id="C-003", name="浙一医院DTP药房", type="dtp", region="华东", city="杭州", tier="B"),
        ],
        [Doctor(tenant=t, id="D-1", name="张医生", department="心内科", title="主任医师")],
        [Rep(tenant=t, id="R-1", name="李娜", territory="杭州西湖区")],
        [
            Interaction(
                tenant=t,
                id="I-1",
                at=dt.datetime(2025, 9, 1, 10, 30),
                channel="拜访",
                summary="店长担心阿托伐他汀价格高于竞品",
                next_step="下周带降价方案回访",
            )
        ],
        [Deal(tenant=t, id="DL-1", stage="报价", created_at=dt.date(2025, 9, 2), outcome="open")],
        [Contract(tenant=t, id="K-1", start_date=dt.date(2025, 1, 1), end_date=dt.date(2025, 12, 31), value=1.2e6)],
        [
            Entry(
                tenant=t,
                id="E-1",
                kind="objection_script",
                title="价格比竞品高怎么办",
                body="强调原研品质与医保支付标准，算清日治疗费用。",
                tags=["价格", "竞品"],
                status="published",
                version=2,
                author="培训部王老师",
                updated_at=dt.datetime(2025, 8, 1, 9, 0),
                category="price",
                customer_types=["chain", "single_pharmacy"],
            ),
            Entry(
                tenant=t,
                id="E-2",
                kind="case_study",
                title="连锁药房慢病会员提升复购",
                body="通过慢病管理提高复购率",
                status="draft",
                version=1,
            ),
        ],
        [
            EntryVersion(
                tenant=t,
                id="E-1@1",
                entry_id="E-1",
                version=1,
                kind="objection_script",
                title="价格高",
                body="旧话术",
                status="published",
            )
        ],
        [
            AuditEvent(
                tenant=t,
                id="A-1",
                at=dt.datetime(2025, 8, 1, 9, 0),
                actor="王老师",
                action="publish",
                target_label="Entry",
                target_key="E-1",
                details='{"version": 2}',
            )
        ],
        [
            FormularyDecision(
                tenant=t,
                sku="SKU-MET-05",
                product_name="盐酸二甲双胍片",
                state="not_listed",
                edition_id="NRDL-2024",
                reason="form_excluded",
                rejected=["西药部分|129|二甲双胍|口服常释剂型"],
                actor="李老师",
                decided_at=dt.datetime(2025, 8, 2, 10, 0),
            )
        ],
        [
            Change(
                tenant=t,
                id="000000000001",
                seq=1,
                kind="ingest",
                at=dt.datetime(2025, 8, 1, 9, 5),
                actor="数据管理员",
                ids=["商品.csv"],
                details='{"files": 1}',
            )
        ],
        [
            Promotion(
                tenant=t,
                id="CX-1",
                name="双11健康节",
                start_date=dt.date(2025, 10, 28),
                end_date=dt.date(2025, 11, 14),
                customer_types=["chain", "single_pharmacy"],
                tiers=["A", "B"],
                skus=["SKU-ATV-20", "SKU-MET-05"],
                min_discount=0.05,
                max_discount=0.1,
            )
        ],
        [
            PriceEvent(
                tenant=t,
                id="PE-1",
                sku="SKU-ATV-20",
                effective_date=dt.date(2025, 9, 20),
                kind="vbp",
                new_list_price=18.5,
                new_floor_price=14.0,
                customer_types=["hospital", "clinic"],
            )
        ],
        [
            ScriptRequest(
                tenant=t,
                id="SR-1",
                query="发票老是开错",
                skus=["SKU-ATV-20"],
                category="payment_terms",
                customer_type="chain",
                requested_by="rep-1 (rep, key K1)",
                at=dt.datetime(2025, 9, 3, 10, 0),
            )
        ],
        [
            CompetitorPhoto(
                tenant=t,
                id="ab" * 32,
                media_type="image/jpeg",
                size_bytes=120_000,
                width=1200,
                height=1600,
                customer_id="C-001",
                competitor="益丰大药房",
                city="杭州",
                taken_on=dt.date(2025, 9, 5),
                uploaded_by="店长-西湖店",
                uploaded_at=dt.datetime(2025, 9, 5, 18, 30),
                ocr_lines='[["立普妥 20mg*7片", [[0, 0], [10, 0], [10, 5], [0, 5]], 0.97]]',
            )
        ],
        [
            CompetitorObservation(
                tenant=t,
                id="abababababababab-01",
                photo_id="ab" * 32,
                item_index=1,
                text="立普妥 阿托伐他汀钙片 20mg*7片",
                sku="SKU-ATV-20",
                resolution="matched",
                resolution_confidence=0.96,
                competitor="益丰大药房",
                city="杭州",
                observed_on=dt.date(2025, 9, 5),
                original_price=39.8,
                current_price=35.8,
                effective_price=26.85,
                rule="第二件半价",
            )
        ],
        [
            SkuCorrection(
                tenant=t,
                id="立普妥20mg7片",
                text="立普妥 20mg 7片",
                sku="SKU-ATV-20",
                decided_by="培训师",
                decided_at=dt.datetime(2025, 9, 6, 9, 0),
            )
        ],
        [
            SafetyReport(
                tenant=t,
                id="SAFE-I-001",
                source="interaction",
                source_id="I-001",
                customer_id="C-001",
                skus=["SKU-ATV-20"],
                at=dt.datetime(2025, 9, 1, 10, 30),
                text="店长反映有顾客吃了立普妥后肌肉酸痛",
                sentence="店长反映有顾客吃了立普妥后肌肉酸痛",
                symptoms=["肌肉酸痛"],
                reported_by="R-001",
            )
        ],
        [
            Task(
                tenant=t,
                id="T-0123456789abcdef0123",
                trigger="followup_overdue",
                customer_id="C-001",
                subject="I-001",
                reason="2025-09-01 拜访 I-001 约定“下周送样”，已过 20 天，之后没有拜访记录",
                due=dt.date(2025, 9, 21),
                state="done",
                interaction_id="I-001",
                rep_id="R-001",
                updated_by="test rep",
                updated_at=dt.datetime(2025, 9, 21, 8, 0),
            )
        ],
    ]


def sample_edges(t: str) -> list[list[Edge]]:
    """Batches of edges, one batch per edge type."""
    return [
        [
            Treats(tenant=t, sku="SKU-ATV-20", indication="高胆固醇血症"),
            Treats(tenant=t, sku="SKU-MET-05", indication="2型糖尿病"),
        ],
        [
            ListedIn(
                tenant=t,
                sku="SKU-ATV-20",
                edition_id="NRDL-2024",
                category="甲",
                restriction=None,
                payment_standard="3.49元(20mg/片)",
                code="455",
                section="西药部分",
                nrdl_name="阿托伐他汀",
                dosage_form="口服常释剂型",
                match_reason="通用名一致（盐基/酸根不同，凡例七）",
                decided_by="rule",
            )
        ],
        [
            FormularyStatus(
                tenant=t,
                sku="SKU-MET-05",
                edition_id="NRDL-2024",
                state="review",
                reason="ambiguous",
                explanation="多个目录行同样相符",
                candidates='[{"section": "西药部分", "number": "129", "name": "二甲双胍"}]',
                decided_by="rule",
            )
        ],
        [CompetesWith(tenant=t, sku="SKU-ATV-20", competitor_id="CP-1")],
        [WorksAt(tenant=t, doctor_id="D-1", customer_id="C-003")],
        [Prescribes(tenant=t, doctor_id="D-1", sku="SKU-ATV-20", share=0.6, count=42, last_at=dt.date(2025, 9, 1))],
        [Owns(tenant=t, rep_id="R-1", customer_id="C-001")],
        [Had(tenant=t, rep_id="R-1", interaction_id="I-1")],
        [InteractionWith(tenant=t, interaction_id="I-1", customer_id="C-001")],
        [Mentions(tenant=t, interaction_id="I-1", sku="SKU-ATV-20")],
        [
            Purchased(
                tenant=t,
                customer_id="C-001",
                sku="SKU-ATV-20",
                order_id="SO-1",
                line=1,
                at=dt.date(2025, 3, 1),
                qty=100,
                unit_price=30.0,
            ),
            Purchased(
                tenant=t,
                customer_id="C-001",
                sku="SKU-ATV-20",
                order_id="SO-2",
                line=1,
                at=dt.date(2025, 6, 1),
                qty=120,
                unit_price=29.5,
            ),
            Purchased(
                tenant=t,
                customer_id="C-002",
                sku="SKU-ATV-20",
                order_id="SO-3",
                line=1,
                at=dt.date(2025, 6, 15),
                qty=10,
                unit_price=34.0,
                unit="盒",
            ),
            Purchased(
                tenant=t,
                customer_id="C-003",
                sku="SKU-ATV-20",
                order_id="SO-4",
                line=2,
                at=dt.date(2025, 7, 1),
                qty=50,
                unit_price=31.0,
            ),
            Purchased(
                tenant=t,
                customer_id="C-001",
                sku="SKU-MET-05",
                order_id="SO-4",
                line=1,
                at=dt.date(2025, 7, 1),
                qty=200,
                unit_price=15.0,
            ),
        ],
        [DealFor(tenant=t, deal_id="DL-1", customer_id="C-001")],
        [Quotes(tenant=t, deal_id="DL-1", sku="SKU-ATV-20", unit_price=29.0, qty=300)],
        [ContractWith(tenant=t, contract_id="K-1", customer_id="C-001")],
        [AboutProduct(tenant=t, entry_id="E-1", sku="SKU-ATV-20")],
        [AboutIndication(tenant=t, entry_id="E-1", indication="高胆固醇血症")],
        [CaseOf(tenant=t, entry_id="E-2", customer_id="C-001")],
        [Previous(tenant=t, entry_id="E-1", version_id="E-1@1")],
    ]

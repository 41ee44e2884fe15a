"""Cypher statements both backends accept, written once.

Labels, relationship types and property names come only from the model's allow-list (`graph.model`); values are
always parameters. Statements that differ per engine (DDL, bulk writes) live in the backend modules.
"""

from __future__ import annotations

from functools import cache

from graph.model import (
    AuditEvent,
    Change,
    CompetitorObservation,
    CompetitorPhoto,
    Contract,
    Customer,
    Deal,
    Doctor,
    Edge,
    Entry,
    EntryVersion,
    Interaction,
    Node,
    Purchased,
    Rep,
)


def rel(rel_type: str) -> str:
    """Relationship type quoted for Cypher (``WITH`` and ``FOR`` are keywords)."""
    return f"`{rel_type}`"


def node_projection(var: str, model: type[Node]) -> str:
    """``RETURN`` items yielding exactly the model's fields."""
    return ", ".join(f"{var}.{name} AS {name}" for name in model.model_fields)


def edge_projection(model: type[Edge], src: str = "a", r: str = "r", dst: str = "b") -> str:
    """``RETURN`` items yielding the edge model's fields from its endpoints and the relationship."""
    src_field, dst_field = model.endpoint_fields()
    items = [
        f"{src}.{model.source.node.key_field} AS {src_field}",
        f"{dst}.{model.target.node.key_field} AS {dst_field}",
    ]
    items += [f"{r}.{name} AS {name}" for name in model.stored_properties()]
    return ", ".join(items)


def edge_pattern(model: type[Edge], src: str = "a", r: str = "r", dst: str = "b") -> str:
    """``(a:From)-[r:TYPE]->(b:To)`` for the edge model."""
    return f"({src}:{model.source.node.label})-[{r}:{rel(model.rel_type)}]->({dst}:{model.target.node.label})"


@cache
def get_node(model: type[Node]) -> str:
    """One node by uid, within the tenant."""
    return f"MATCH (n:{model.label} {{uid: $uid}}) WHERE n.tenant = $tenant RETURN {node_projection('n', model)}"


@cache
def count_tenant_nodes(model: type[Node]) -> str:
    """How many nodes of ``model`` the tenant has."""
    return f"MATCH (n:{model.label}) WHERE n.tenant = $tenant RETURN count(*) AS n"


@cache
def list_nodes(model: type[Node]) -> str:
    """One page of nodes ordered by natural key."""
    return (
        f"MATCH (n:{model.label}) WHERE n.tenant = $tenant RETURN {node_projection('n', model)} "
        f"ORDER BY n.{model.key_field} SKIP $skip LIMIT $limit"
    )


@cache
def all_nodes(model: type[Node]) -> str:
    """Every node of a type in the tenant, ordered by natural key (streamed)."""
    return (
        f"MATCH (n:{model.label}) WHERE n.tenant = $tenant RETURN {node_projection('n', model)} "
        f"ORDER BY n.{model.key_field}"
    )


@cache
def all_edges(model: type[Edge]) -> str:
    """Every edge of a type in the tenant (streamed)."""
    src_field, dst_field = model.endpoint_fields()
    order = ", ".join([src_field, dst_field, *model.identity])
    return f"MATCH {edge_pattern(model)} WHERE r.tenant = $tenant RETURN {edge_projection(model)} ORDER BY {order}"


@cache
def existing_node_uids(model: type[Node]) -> str:
    """Which of ``$uids`` exist as nodes of this type."""
    return f"UNWIND $uids AS u MATCH (n:{model.label} {{uid: u}}) RETURN n.uid AS uid"


@cache
def count_nodes(model: type[Node]) -> str:
    """Nodes of one label per tenant."""
    return f"MATCH (n:{model.label}) RETURN n.tenant AS tenant, count(*) AS n"


@cache
def count_edges(rel_type: str) -> str:
    """Relationships of one type per tenant."""
    return f"MATCH ()-[r:{rel(rel_type)}]->() RETURN r.tenant AS tenant, count(*) AS n"


PRICE_HISTORY_MATCH = (
    f"MATCH {edge_pattern(Purchased, src='c', r='r', dst='p')} WHERE p.uid = $sku_uid AND r.tenant = $tenant"
)
"""Scoped by the product's uid (it holds the tenant) and the order line's tenant. No ``c.tenant`` test: with one,
Neo4j's planner started from a scan of every Customer and expanded each into the product (100k db hits for 800
lines at 100k order lines, all of a tenant's lines at 2M); without it, it expands from the product (832)."""
PRICE_HISTORY_FILTERS: dict[str, str] = {
    "customer_type": " AND c.type = $customer_type",
    "tier": " AND c.tier = $tier",
    "region": " AND c.region = $region",
    "date_from": " AND r.at >= $date_from",
    "date_to": " AND r.at <= $date_to",
}
PRICE_HISTORY_RETURN = (
    " RETURN c.id AS customer_id, c.name AS customer_name, c.type AS customer_type, c.tier AS tier,"
    " c.region AS region, c.city AS city, r.order_id AS order_id, r.line AS line, r.at AS at, r.qty AS qty,"
    " r.unit_price AS unit_price, r.unit AS unit"
)

_CUSTOMER = "(c:Customer {uid: $uid})"

CUSTOMER = f"MATCH (c:Customer {{uid: $uid}}) WHERE c.tenant = $tenant RETURN {node_projection('c', Customer)}"
CUSTOMER_REPS = (
    f"MATCH (n:Rep)-[:{rel('OWNS')}]->{_CUSTOMER} WHERE n.tenant = $tenant "
    f"RETURN {node_projection('n', Rep)} ORDER BY id"
)
CUSTOMER_INTERACTIONS = (
    f"MATCH (n:Interaction)-[:{rel('WITH')}]->{_CUSTOMER} WHERE n.tenant = $tenant "
    "WITH n ORDER BY n.at DESC LIMIT $limit "
    f"OPTIONAL MATCH (rep:Rep)-[:{rel('HAD')}]->(n) "
    f"OPTIONAL MATCH (n)-[:{rel('MENTIONS')}]->(p:Product) "
    f"RETURN {node_projection('n', Interaction)}, rep.id AS rep_id, p.sku AS mentioned_sku ORDER BY at DESC, id"
)
CUSTOMER_DOCTORS = (
    f"MATCH (n:Doctor)-[:{rel('WORKS_AT')}]->{_CUSTOMER} WHERE n.tenant = $tenant "
    f"OPTIONAL MATCH (n)-[pr:{rel('PRESCRIBES')}]->(p:Product) "
    f"RETURN {node_projection('n', Doctor)}, p.sku AS sku, pr.share AS share, pr.count AS count, pr.last_at AS last_at "
    "ORDER BY id, sku"
)
CUSTOMER_PURCHASES_SINCE = " AND r.at >= $since"
CUSTOMER_PURCHASES = (
    f"MATCH {edge_pattern(Purchased, src='c', r='r', dst='p')} WHERE c.uid = $uid AND r.tenant = $tenant"
)
CUSTOMER_PURCHASES_RETURN = (
    f" RETURN {edge_projection(Purchased, src='c', r='r', dst='p')} ORDER BY at DESC, order_id, line LIMIT $limit"
)
PURCHASE_LINES = (
    f"MATCH {edge_pattern(Purchased, src='c', r='r', dst='p')} WHERE c.uid IN $uids AND r.tenant = $tenant "
    "AND r.at >= $since AND r.at <= $until "
    "RETURN c.id AS customer_id, p.sku AS sku, r.at AS at, r.qty AS qty, r.unit_price AS unit_price"
)
"""Order lines of many customers in a date range (a rep's territory for its task list)."""
CUSTOMER_INTERACTIONS_MANY = (
    f"MATCH (n:Interaction)-[:{rel('WITH')}]->(c:Customer) WHERE c.uid IN $uids AND n.tenant = $tenant "
    "AND n.at <= $until RETURN c.id AS customer_id, n.id AS id, n.at AS at, n.channel AS channel, "
    "n.summary AS summary, n.next_step AS next_step"
)
"""The interactions of many customers up to a time (a rep's territory for its task list)."""
CUSTOMER_CONTRACTS = (
    f"MATCH (n:Contract)-[:{rel('WITH')}]->{_CUSTOMER} WHERE n.tenant = $tenant "
    f"RETURN {node_projection('n', Contract)} ORDER BY end_date, id"
)
CUSTOMER_DEALS = (
    f"MATCH (n:Deal)-[:{rel('FOR')}]->{_CUSTOMER} WHERE n.tenant = $tenant "
    f"OPTIONAL MATCH (n)-[q:{rel('QUOTES')}]->(p:Product) "
    f"RETURN {node_projection('n', Deal)}, p.sku AS sku, q.unit_price AS unit_price, q.qty AS qty "
    "ORDER BY created_at DESC, id, sku"
)
CUSTOMER_CASES = (
    f"MATCH (n:Entry)-[:{rel('CASE_OF')}]->{_CUSTOMER} WHERE n.tenant = $tenant "
    f"RETURN {node_projection('n', Entry)} ORDER BY id"
)


@cache
def nodes_by_uids(model: type[Node]) -> str:
    """The nodes of ``$uids`` (with their ``uid``) that exist in the tenant."""
    return (
        f"UNWIND $uids AS u MATCH (n:{model.label} {{uid: u}}) WHERE n.tenant = $tenant "
        f"RETURN n.uid AS uid, {node_projection('n', model)}"
    )


API_KEY = "_ApiKey"
"""Label of the API key records (one per deployment, outside the tenant graph: a key names its tenant)."""
API_KEY_FIELDS = ("id", "tenant", "role", "name", "digest", "created_at", "revoked_at", "rep_id", "last_used_at")
_KEY_RETURN = ", ".join(f"k.{f} AS {f}" for f in API_KEY_FIELDS)
CREATE_API_KEY = f"CREATE (k:{API_KEY} {{{', '.join(f'{f}: ${f}' for f in API_KEY_FIELDS)}}})"
API_KEYS_BY_IDS = f"UNWIND $ids AS i MATCH (k:{API_KEY} {{id: i}}) RETURN {_KEY_RETURN}"
API_KEYS_ALL = f"MATCH (k:{API_KEY}) RETURN {_KEY_RETURN} ORDER BY created_at DESC, id"
API_KEYS_OF_TENANT = f"MATCH (k:{API_KEY}) WHERE k.tenant = $tenant RETURN {_KEY_RETURN} ORDER BY created_at DESC, id"
REVOKE_API_KEY = f"MATCH (k:{API_KEY} {{id: $id}}) SET k.revoked_at = coalesce(k.revoked_at, $at) RETURN {_KEY_RETURN}"
TOUCH_API_KEY = (
    f"MATCH (k:{API_KEY} {{id: $id}}) WHERE k.last_used_at IS NULL OR k.last_used_at < $at "
    "SET k.last_used_at = $at RETURN k.id AS id"
)
DELETE_TENANT_API_KEYS = f"MATCH (k:{API_KEY}) WHERE k.tenant = $tenant DELETE k"

CHANGE_HEAD = "_ChangeHead"
"""Label of the per-tenant record holding the last change sequence number (not part of the domain model)."""
NEXT_CHANGE_SEQ = (
    f"MERGE (h:{CHANGE_HEAD} {{tenant: $tenant}}) ON CREATE SET h.seq = 1 ON MATCH SET h.seq = h.seq + 1 "
    "RETURN h.seq AS seq"
)
RAISE_CHANGE_SEQ = (
    f"MERGE (h:{CHANGE_HEAD} {{tenant: $tenant}}) ON CREATE SET h.seq = $seq "
    "ON MATCH SET h.seq = CASE WHEN h.seq < $seq THEN $seq ELSE h.seq END"
)
"""Move the head past change records loaded as data (an import of a backup), so new ones never reuse a number."""
CHANGE_HEAD_SEQ = f"MATCH (h:{CHANGE_HEAD}) WHERE h.tenant = $tenant RETURN h.seq AS seq"
"""The tenant's last change sequence number (no row: no change yet)."""
CHANGES_AFTER = (
    f"MATCH (n:Change) WHERE n.tenant = $tenant AND n.seq > $after RETURN {node_projection('n', Change)} "
    "ORDER BY seq LIMIT $limit"
)

ENTRIES_ALL = "MATCH (n:Entry) WHERE n.tenant = $tenant"
ENTRIES_BY_PRODUCT = f"MATCH (n:Entry)-[:{rel('ABOUT')}]->(x:Product) WHERE x.uid = $target_uid AND n.tenant = $tenant"
ENTRIES_BY_INDICATION = (
    f"MATCH (n:Entry)-[:{rel('ABOUT')}]->(x:Indication) WHERE x.uid = $target_uid AND n.tenant = $tenant"
)
ENTRIES_FILTERS: dict[str, str] = {"status": " AND n.status = $status", "kind": " AND n.kind = $kind"}
ENTRIES_RETURN = f" RETURN DISTINCT {node_projection('n', Entry)} ORDER BY id"
ENTRIES_ABOUT_PRODUCTS = (
    f"MATCH (n:Entry)-[:{rel('ABOUT')}]->(x:Product) WHERE x.uid IN $target_uids AND n.tenant = $tenant "
    f"AND n.status = $status AND n.kind IN $kinds RETURN DISTINCT x.sku AS about_sku, {node_projection('n', Entry)} "
    "ORDER BY about_sku, id"
)
"""The entries about several products (the briefing's scripts and cases), each with the SKU it is about."""


@cache
def create_node(model: type[Node]) -> str:
    """Create one node from parameters named as its fields (plus ``uid``)."""
    props = ", ".join(f"{name}: ${name}" for name in ["uid", *model.model_fields])
    return f"CREATE (n:{model.label} {{{props}}})"


@cache
def create_edge(model: type[Edge], with_uid: bool) -> str:
    """Create one edge between two nodes given by ``$from`` / ``$to`` uids, with its stored properties."""
    names = (["uid"] if with_uid else []) + list(model.stored_properties())
    props = ", ".join(f"{name}: ${name}" for name in names)
    return (
        f"MATCH (a:{model.source.node.label} {{uid: $from}}), (b:{model.target.node.label} {{uid: $to}}) "
        f"CREATE (a)-[r:{rel(model.rel_type)} {{{props}}}]->(b)"
    )


def lock_entry(lock_clause: str) -> str:
    """Read one entry for an update, taking the engine's write lock first when it needs one (``lock_clause``)."""
    return f"MATCH (n:Entry {{uid: $uid}}) WHERE n.tenant = $tenant {lock_clause} RETURN {node_projection('n', Entry)}"


def update_entry(unlock_clause: str) -> str:
    """Overwrite every field of one entry (and release the lock taken by ``lock_entry``)."""
    sets = ", ".join(f"n.{name} = ${name}" for name in Entry.model_fields if name != "tenant")
    return f"MATCH (n:Entry {{uid: $uid}}) WHERE n.tenant = $tenant SET {sets}{unlock_clause}"


@cache
def delete_edges(model: type[Edge]) -> str:
    """Delete the edges of one type between the endpoint pairs given in ``$rows`` (``src``/``dst`` uids)."""
    return (
        f"UNWIND $rows AS row MATCH (a:{model.source.node.label} {{uid: row.src}})-[r:{rel(model.rel_type)}]->"
        f"(b:{model.target.node.label} {{uid: row.dst}}) WHERE r.tenant = $tenant DELETE r RETURN count(*) AS n"
    )


@cache
def delete_entry_about(target: type[Node]) -> str:
    """Remove an entry's ABOUT links to nodes of one label (before writing the new set)."""
    return f"MATCH (n:Entry {{uid: $uid}})-[r:{rel('ABOUT')}]->(x:{target.label}) WHERE n.tenant = $tenant DELETE r"


# Relationships from given nodes are matched with ``n.uid IN $uids``: both engines seek the nodes by index, while
# LadybugDB plans ``UNWIND $uids … MATCH (n {uid: u})-[r]->()`` as a hash join over the whole relationship table.
ENTRY_LINKS: dict[str, str] = {
    field: f"MATCH (n:Entry)-[r:{rel(rel_type)}]->(x:{label}) WHERE n.uid IN $uids AND r.tenant = $tenant "
    f"RETURN n.id AS id, x.{key} AS key"
    for field, rel_type, label, key in (
        ("skus", "ABOUT", "Product", "sku"),
        ("indications", "ABOUT", "Indication", "name"),
        ("customers", "CASE_OF", "Customer", "id"),
    )
}
"""Per kind of link: the linked keys of the entries given by ``$uids``."""

ENTRY_VERSIONS = (
    f"MATCH (n:EntryVersion) WHERE n.tenant = $tenant AND n.entry_id = $entry_id "
    f"RETURN {node_projection('n', EntryVersion)} ORDER BY version"
)
AUDIT_TRAIL = (
    f"MATCH (n:AuditEvent) WHERE n.tenant = $tenant AND n.target_label = $label AND n.target_key = $key "
    f"RETURN {node_projection('n', AuditEvent)} ORDER BY at, id"
)


# ------------------------------------------------------------------ targeted reads


@cache
def search_nodes(model: type[Node], fields: tuple[str, ...]) -> tuple[str, str]:
    """A page of nodes ordered by key, with ``$text`` (lower case) in one of ``fields``; and the matching count."""
    where = f"MATCH (n:{model.label}) WHERE n.tenant = $tenant"
    if fields:
        where += " AND (" + " OR ".join(f"toLower(n.{f}) CONTAINS $text" for f in fields) + ")"
    page = f"{where} RETURN {node_projection('n', model)} ORDER BY n.{model.key_field} SKIP $skip LIMIT $limit"
    return page, f"{where} RETURN count(*) AS n"


ENTRIES_TEXT = " AND toLower(n.title + '\n' + n.body) CONTAINS $text"
"""Entries with ``$text`` (lower case) in their title or body (joined as a person reads them)."""
ENTRIES_PAGE = f" RETURN DISTINCT {node_projection('n', Entry)} ORDER BY id SKIP $skip LIMIT $limit"
ENTRIES_COUNT = " RETURN count(DISTINCT n) AS n"
ENTRIES_NAMING = (
    "MATCH (n:Entry) WHERE n.tenant = $tenant AND any(x IN $names WHERE n.title CONTAINS x OR n.body CONTAINS x)"
    + ENTRIES_RETURN
)


@cache
def edges_from(model: type[Edge], with_targets: bool) -> str:
    """Edges of a type leaving the nodes of ``$uids`` (and, ``with_targets``, entering those of ``$dst``)."""
    src, dst = model.source.node.label, model.target.node.label
    also = " AND b.uid IN $dst" if with_targets else ""
    return (
        f"MATCH (a:{src})-[r:{rel(model.rel_type)}]->(b:{dst}) "
        f"WHERE a.uid IN $uids AND r.tenant = $tenant{also} RETURN {edge_projection(model)}"
    )


@cache
def edges_to(model: type[Edge]) -> str:
    """Edges of a type entering the nodes of ``$uids``: each target looked up by its key, then its incoming edges.

    ``MATCH … WHERE b.uid IN $uids`` let LadybugDB scan every edge of the type: at demo scale 20 the contracts of a
    rep's 300 customers took 58 ms of CPU that way and 14 ms this way (the deals 60 and 8 ms).
    """
    src, dst = model.source.node.label, model.target.node.label
    return (
        f"UNWIND $uids AS u MATCH (a:{src})-[r:{rel(model.rel_type)}]->(b:{dst} {{uid: u}}) "
        f"WHERE r.tenant = $tenant RETURN {edge_projection(model)}"
    )


@cache
def tenant_nodes(model: type[Node], where: str = "") -> str:
    """Every node of a type in the tenant (with an extra ``where`` condition on ``n``), ordered by key."""
    return (
        f"MATCH (n:{model.label}) WHERE n.tenant = $tenant{where} RETURN {node_projection('n', model)} "
        f"ORDER BY n.{model.key_field}"
    )


CUSTOMERS_WITH_CITY = " AND n.city IS NOT NULL AND n.city <> ''"
INTERACTIONS_SINCE = " AND n.at >= $since"
PRICE_EVENTS_OF_SKU = " AND n.sku = $sku"
INTERACTION_LINKS: dict[str, str] = {
    "reps": f"MATCH (x:Rep)-[:{rel('HAD')}]->(n:Interaction) WHERE n.uid IN $uids AND n.tenant = $tenant "
    "RETURN n.id AS id, x.id AS key",
    "skus": f"MATCH (n:Interaction)-[:{rel('MENTIONS')}]->(x:Product) WHERE n.uid IN $uids AND n.tenant = $tenant "
    "RETURN n.id AS id, x.sku AS key",
    "customers": f"MATCH (n:Interaction)-[:{rel('WITH')}]->(x:Customer) WHERE n.uid IN $uids AND n.tenant = $tenant "
    "RETURN n.id AS id, x.id AS key",
}
"""Per kind of link: the reps who had, the products mentioned by, and the customers of the interactions ``$uids``."""

_CASE = "n.tenant = $tenant AND n.kind = 'case_study' AND n.status = 'published'"
CASES_BY_PRODUCT = (
    f"MATCH (n:Entry)-[:{rel('ABOUT')}]->(x:Product) WHERE x.uid IN $uids AND {_CASE} RETURN DISTINCT n.id AS id"
)
CASES_BY_INDICATION = (
    f"MATCH (n:Entry)-[:{rel('ABOUT')}]->(x:Indication) WHERE x.uid IN $uids AND {_CASE} RETURN DISTINCT n.id AS id"
)
CASES_BY_TREATED_INDICATION = (
    f"MATCH (n:Entry)-[:{rel('ABOUT')}]->(:Product)-[:{rel('TREATS')}]->(x:Indication) "
    f"WHERE x.uid IN $uids AND {_CASE} RETURN DISTINCT n.id AS id"
)
CASES_BY_CUSTOMER = f"MATCH (n:Entry)-[:{rel('CASE_OF')}]->(c:Customer) WHERE {_CASE} AND ("
CASES_CUSTOMER_ATTRS: dict[str, str] = {"customer_type": "c.type = $type", "tier": "c.tier = $tier",
                                        "region": "c.region = $region"}  # fmt: skip
"""Per attribute of the deal's customer: the condition a case's customer meets when it shares it (joined by OR)."""
CASES_BY_CUSTOMER_RETURN = ") RETURN n.id AS id"


COMPETITOR_OBSERVATIONS_MATCH = (
    "MATCH (o:CompetitorObservation) WHERE o.tenant = $tenant"
    " AND ($sku = '' OR o.sku = $sku)"
    " AND ($photo_id = '' OR o.photo_id = $photo_id)"
    " AND o.observed_on >= $since"
    " AND ($resolution = '' OR o.resolution = $resolution)"
)
COMPETITOR_OBSERVATIONS = (
    COMPETITOR_OBSERVATIONS_MATCH
    + f" RETURN {node_projection('o', CompetitorObservation)}"
    + " ORDER BY observed_on DESC, id SKIP $offset LIMIT $limit"
)
"""Observations of a tenant, newest first, filtered by SKU, photo, date and resolution (``''``: any).

An empty string rather than a null means "any": LadybugDB types a null parameter as BOOL and cannot compare it."""

COMPETITOR_PHOTOS = (
    "MATCH (p:CompetitorPhoto) WHERE p.tenant = $tenant"
    f" RETURN {node_projection('p', CompetitorPhoto)} ORDER BY uploaded_at DESC, id SKIP $offset LIMIT $limit"
)
COUNT_COMPETITOR_PHOTOS = "MATCH (p:CompetitorPhoto) WHERE p.tenant = $tenant RETURN count(p) AS n"

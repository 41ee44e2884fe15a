"""Territories: which customers a rep may read (the rep's ``OWNS`` edges, from the customers file's 负责代表 column).

A rep key is bound to a rep; every read about a customer (the list, one customer, briefings, price checks, case
suggestions, objection answers for a customer, promotions for a customer) is limited to the customers that rep owns.
A customer outside the territory is answered exactly like an id the tenant does not have ("unknown"), so a rep cannot
learn that it exists. Trainers, admins and quote-screen services see the whole tenant. A customer nobody owns yet is
visible to trainers and admins only, until the customers file (or the demo) assigns it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from graph.errors import NotFoundError
from graph.model import Customer, Owns
from graph.ports import GraphStore


@dataclass(frozen=True)
class Territory:
    """The customers a caller may read: ``None`` is the whole tenant, else a set of customer ids."""

    customer_ids: frozenset[str] | None

    @classmethod
    def whole_tenant(cls) -> Territory:
        """No limit (trainers, admins, services)."""
        return cls(None)

    @classmethod
    def of_rep(cls, store: GraphStore, tenant: str, rep_id: str | None) -> Territory:
        """The customers ``rep_id`` owns (none for an unbound rep key)."""
        if not rep_id:
            return cls(frozenset())
        owned = store.edges_of(tenant, Owns, sources=[rep_id])
        return cls(frozenset(e.customer_id for e in owned))

    @property
    def limited(self) -> bool:
        """Whether this territory is smaller than the tenant."""
        return self.customer_ids is not None

    def allows(self, customer_id: str) -> bool:
        """Whether the caller may read ``customer_id``."""
        return self.customer_ids is None or customer_id in self.customer_ids

    def keep(self, customer_ids: Iterable[str]) -> list[str]:
        """The ids of ``customer_ids`` the caller may read, in their order."""
        return [c for c in customer_ids if self.allows(c)]

    def customer(self, store: GraphStore, tenant: str, customer_id: str) -> Customer:
        """The customer, or ``NotFoundError`` — the same for an id outside the territory as for an unknown one."""
        found = store.get_node(tenant, Customer, customer_id) if self.allows(customer_id) else None
        if found is None:
            raise NotFoundError(f"no customer {customer_id}", details={"customer_id": customer_id})
        return found

"""Today's tasks over HTTP: a rep reads its own customers' tasks only, state changes, the done round trip."""

from __future__ import annotations

import datetime as dt
from typing import Any

from graph.model import AboutProduct, Had, Interaction, InteractionWith, Owns, Rep, Task
from tests.api.conftest import HOME_CUSTOMER, TODAY, Deployment


def _tasks(deployment: Deployment, role: str = "rep", tenant: str = "hz-pharma", **params: str) -> dict[str, Any]:
    r = deployment.client.get(
        "/v1/me/tasks", headers=deployment.headers(role, tenant), params={"as_of": TODAY.isoformat(), **params}
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _owned(deployment: Deployment, tenant: str, rep_id: str) -> set[str]:
    return {e.customer_id for e in deployment.state.store.edges_of(tenant, Owns, sources=[rep_id])}


def test_a_rep_reads_the_tasks_of_its_own_customers_only(deployment: Deployment) -> None:
    mine, theirs = _tasks(deployment), _tasks(deployment, "rep-other")
    assert mine["items"] and theirs["items"]
    assert {t["customer_id"] for t in mine["items"]} <= _owned(deployment, "hz-pharma", mine["rep_id"])
    assert {t["customer_id"] for t in theirs["items"]} <= _owned(deployment, "hz-pharma", theirs["rep_id"])
    assert not {t["customer_id"] for t in mine["items"]} & {t["customer_id"] for t in theirs["items"]}
    assert mine["customers"] == len(_owned(deployment, "hz-pharma", mine["rep_id"]))
    first = mine["items"][0]
    assert first["reason"] and first["trigger_name"] and first["due"] >= TODAY.isoformat()
    assert [t["priority"] for t in mine["items"] if t["state"] == "open"] == sorted(
        t["priority"] for t in mine["items"] if t["state"] == "open"
    )
    suggested = [t["suggestion"] for t in mine["items"] if t["suggestion"]]
    assert suggested and all(s["entry_id"] and s["title"] for s in suggested)


def test_another_reps_or_tenants_task_is_unknown(deployment: Deployment) -> None:
    theirs = _tasks(deployment, "rep-other")["items"][0]["id"]
    c = deployment.client
    for headers in (deployment.headers("rep"), deployment.headers("rep", "sh-pharma")):
        r = c.get(f"/v1/me/tasks/{theirs}", headers=headers, params={"as_of": TODAY.isoformat()})
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text
        body = {"state": "dismissed", "dismiss_reason": "不是我的客户", "as_of": TODAY.isoformat()}
        r = c.patch(f"/v1/me/tasks/{theirs}", headers=headers, json=body)
        assert r.status_code == 404, r.text
    r = c.get("/v1/me/tasks/T-does-not-exist", headers=deployment.headers("rep"))
    assert r.status_code == 404 and "unknown task" in r.json()["error"]["message"]


def test_trainers_name_the_rep_and_reps_cannot(deployment: Deployment) -> None:
    mine = _tasks(deployment)
    as_trainer = _tasks(deployment, "trainer", rep_id=mine["rep_id"])
    assert [t["id"] for t in as_trainer["items"]] == [t["id"] for t in mine["items"]]
    c = deployment.client
    assert c.get("/v1/me/tasks", headers=deployment.headers("trainer")).status_code == 422
    other = _tasks(deployment, "rep-other")["rep_id"]
    assert c.get("/v1/me/tasks", headers=deployment.headers("rep"), params={"rep_id": other}).status_code == 403
    r = c.get("/v1/me/tasks", headers=deployment.headers("trainer"), params={"rep_id": "R-NOBODY"})
    assert r.status_code == 404
    assert c.get("/v1/me/tasks", headers=deployment.headers("service")).status_code == 403
    assert c.get("/v1/me/tasks", headers=deployment.headers("rep"), params={"as_of": "2026-13-01"}).status_code == 422


def test_bad_state_changes_are_4xx_and_write_nothing(deployment: Deployment) -> None:
    task = _tasks(deployment)["items"][-1]
    url, headers = f"/v1/me/tasks/{task['id']}", deployment.headers("rep")
    day = TODAY.isoformat()
    for body in (
        {"state": "snoozed", "as_of": day},
        {"state": "dismissed", "as_of": day},
        {"state": "dismissed", "dismiss_reason": "  ", "as_of": day},
        {"state": "done", "as_of": day},
        {"state": "done", "interaction_id": "x", "interaction": {"summary": "y"}, "as_of": day},
        {"state": "open", "interaction_id": "x", "as_of": day},
        {"state": "finished", "as_of": day},
        {"state": "dismissed", "dismiss_reason": "x", "colour": "red", "as_of": day},
        {"state": "snoozed", "snoozed_until": day, "as_of": day},
    ):
        r = deployment.client.patch(url, headers=headers, json=body)
        assert r.status_code == 422, (body, r.text)
    r = deployment.client.patch(url, headers=headers, json={"state": "done", "interaction_id": "I-404", "as_of": day})
    assert r.status_code == 404, r.text
    assert deployment.state.store.get_node("hz-pharma", Task, task["id"]) is None


def test_done_with_a_new_interaction_round_trip(deployment: Deployment) -> None:
    """Marking a task done records the visit: the interaction is in the graph, of the rep, with the customer."""
    listed = _tasks(deployment)
    task = next(t for t in listed["items"] if t["customer_id"] != HOME_CUSTOMER["hz-pharma"] and t["state"] == "open")
    body = {
        "state": "done",
        "interaction": {"summary": "电话回访店长，确认本月补货计划", "channel": "电话", "next_step": None},
        "as_of": TODAY.isoformat(),
    }
    r = deployment.client.post(f"/v1/me/tasks/{task['id']}/state", headers=deployment.headers("rep"), json=body)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["state"] == "done" and done["interaction_id"]
    store, iid = deployment.state.store, done["interaction_id"]
    made = store.get_node("hz-pharma", Interaction, iid)
    assert made is not None and made.summary == "电话回访店长，确认本月补货计划"
    assert [e.customer_id for e in store.edges_of("hz-pharma", InteractionWith, sources=[iid])] == [task["customer_id"]]
    assert [e.rep_id for e in store.edges_of("hz-pharma", Had, targets=[iid])] == [listed["rep_id"]]
    stored = store.get_node("hz-pharma", Task, task["id"])
    assert stored is not None and stored.state == "done" and stored.interaction_id == iid
    again = {t["id"]: t for t in _tasks(deployment)["items"]}
    assert task["id"] not in again or again[task["id"]]["state"] == "done"  # gone (followed up) or kept as done


def test_snooze_and_dismiss_are_kept(deployment: Deployment) -> None:
    items = [t for t in _tasks(deployment)["items"] if t["state"] == "open"
             and t["customer_id"] != HOME_CUSTOMER["hz-pharma"]]  # fmt: skip
    a, b = items[-1], items[-2]
    headers, day = deployment.headers("rep"), TODAY.isoformat()
    snooze = {"state": "snoozed", "snoozed_until": (TODAY + dt.timedelta(days=7)).isoformat(), "as_of": day}
    assert deployment.client.patch(f"/v1/me/tasks/{a['id']}", headers=headers, json=snooze).status_code == 200
    dismiss = {"state": "dismissed", "dismiss_reason": "客户已转由连锁总部统一采购", "as_of": day}
    assert deployment.client.patch(f"/v1/me/tasks/{b['id']}", headers=headers, json=dismiss).status_code == 200
    now = {t["id"]: t for t in _tasks(deployment)["items"]}
    assert now[a["id"]]["state"] == "snoozed" and now[b["id"]]["state"] == "dismissed"
    assert now[b["id"]]["dismiss_reason"] == "客户已转由连锁总部统一采购"
    one = deployment.client.get(f"/v1/me/tasks/{b['id']}", headers=headers, params={"as_of": day})
    assert one.status_code == 200 and one.json()["state"] == "dismissed"


def _every_reps_tasks(deployment: Deployment, tenant: str) -> list[dict[str, Any]]:
    reps = [r.id for r in deployment.state.store.list_nodes(tenant, Rep, limit=1000)]
    return [t for r in reps for t in _tasks(deployment, "trainer", tenant, rep_id=r)["items"]]


def test_a_task_on_a_suspected_adverse_reaction_names_the_report_and_offers_no_script(deployment: Deployment) -> None:
    """The demo's side-effect notes are in the drug-safety queue: their tasks name the report, suggest nothing."""
    found = [t for t in _every_reps_tasks(deployment, "hz-pharma") if t["safety_report_id"]]
    assert found
    for t in found:
        assert t["suggestion"] is None and t["safety_report_id"] in t["reason"], t
        assert "配合药物警戒部门随访" in t["reason"] and t["safety_report_id"] in t["fact_ids"]
        r = deployment.client.get(f"/v1/safety-reports/{t['safety_report_id']}", headers=deployment.headers("admin"))
        assert r.status_code == 200 and r.json()["source_id"] == t["subject"], r.text


def test_a_product_task_suggests_no_other_products_script(deployment: Deployment) -> None:
    """A suggested entry about a product is about one of the task's products; else it is about none (通用)."""
    store = deployment.state.store
    checked = 0
    for t in _every_reps_tasks(deployment, "hz-pharma"):
        s = t["suggestion"]
        if s is None or (s["kind"] == "case_study" and not t["skus"]):
            continue
        about = {e.sku for e in store.edges_of("hz-pharma", AboutProduct, sources=[s["entry_id"]])}
        assert not about or about & set(t["skus"]), (t["trigger"], t["skus"], s)
        assert s["badge"] == ("本品" if about else s["badge"]) and s["badge"] in ("本品", "通用", "同适应症"), s
        checked += 1
    assert checked

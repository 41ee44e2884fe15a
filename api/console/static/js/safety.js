// The drug-safety queue (药物警戒): suspected adverse reactions found in reps' notes and queries, for the safety role.

import { api } from "./api.js";
import { busy, dateTime, errorBox, fill, h, spinner, toast } from "./ui.js";

const STATUS = { new: "新报告", forwarded: "已转药物警戒", closed: "已关闭" };
const SOURCE = { interaction: "拜访记录", objection_query: "异议查询", note: "上传记录" };

/** The queue: one card per report (customer, products, date, the text with the reporting words marked), by status. */
export function safetyPage(main) {
  const list = h("div", { class: "cards", id: "safety-reports" }, spinner());
  const errors = h("div");
  const filter = h("select", { name: "status", "aria-label": "状态" },
    Object.entries({ ...STATUS, all: "全部" }).map(([k, label]) => h("option", { value: k }, label)));
  const count = h("span", { class: "muted", role: "status" });
  filter.addEventListener("change", () => load().catch((e) => fill(errors, errorBox(e))));
  main.append(
    h("h1", null, "疑似不良反应 · 安全队列"),
    h("p", { class: "muted" }, "拜访记录、上传记录和异议查询中报告的疑似不良反应。请核实后转交药物警戒部门，或在无需上报时关闭；每次状态变更都有审计记录。"),
    h("div", { class: "row" }, h("div", { class: "field", style: "flex:0 0 auto" }, h("label", null, "状态"), filter), count),
    errors, list);

  // Loads can overlap (a status change reloads the list while the reload after a forward is still in flight): only
  // the latest one may fill the list, or a late answer for the old status replaces the cards the user now acts on.
  let latest = 0;
  async function load() {
    const mine = ++latest;
    fill(list, spinner());
    const page = await api(`safety-reports?status=${filter.value}&limit=200`);
    if (mine !== latest) return;
    count.textContent = `共 ${page.total} 条`;
    if (!page.items.length) {
      fill(list, h("div", { class: "notice" }, "队列中没有这个状态的报告。"));
      return;
    }
    fill(list, page.items.map(card));
  }

  function marked(text, sentence) {
    const at = text.indexOf(sentence);
    if (at < 0) return text;
    return [text.slice(0, at), h("mark", null, sentence), text.slice(at + sentence.length)];
  }

  function card(r) {
    const note = h("input", { type: "text", name: "note", maxlength: 2000, placeholder: "备注（可选，如药物警戒病例编号）", "aria-label": "备注" });
    const here = h("div");
    const trail = h("div", { class: "muted" });
    const set = (status) => async (e) => {
      const done = await busy(e.target, "提交中…", () =>
        api(`safety-reports/${encodeURIComponent(r.id)}/status`, { method: "POST", body: { status, note: note.value.trim() || null } }), here);
      if (done) {
        toast(`${STATUS[status]}：${r.id}`);
        load();
      }
    };
    const showTrail = async () => {
      const d = await api(`safety-reports/${encodeURIComponent(r.id)}`);
      fill(trail, d.audit.length ? d.audit.map((a) => h("div", null, `${dateTime(a.at)} · ${a.actor} · ${a.action} · ${a.details}`)) : "尚无状态变更");
    };
    const open = r.status !== "closed";
    return h(
      "article",
      { class: "card safety-report", dataset: { reportId: r.id, status: r.status } },
      h("h3", null, `${r.customer_name || r.customer_id || "未关联客户"} · ${(r.symptoms || []).join("、")}`),
      h("div", { class: "meta" },
        h("span", { class: "badge" }, STATUS[r.status] || r.status),
        h("span", null, `来源：${SOURCE[r.source] || r.source}${r.source_id ? `（${r.source_id}）` : ""}`),
        r.products.length ? h("span", null, `产品：${r.products.join("、")}`) : h("span", null, "产品：未识别"),
        h("span", { class: "muted" }, `${dateTime(r.at)} · ${r.reported_by || ""}`)),
      h("p", { class: "report-text" }, marked(r.text, r.sentence)),
      r.note ? h("p", { class: "muted" }, `备注：${r.note}（${r.updated_by || ""} ${r.updated_at ? dateTime(r.updated_at) : ""}）`) : null,
      h("div", { class: "actions" },
        open ? note : null,
        open && r.status !== "forwarded" ? h("button", { type: "button", class: "primary", name: "forward", onclick: set("forwarded") }, "转药物警戒") : null,
        open ? h("button", { type: "button", name: "close", onclick: set("closed") }, "关闭") : null,
        h("button", { type: "button", name: "audit", onclick: () => showTrail().catch((e) => fill(here, errorBox(e))) }, "审计记录")),
      trail, here,
    );
  }

  load().catch((e) => fill(errors, errorBox(e)));
}

// 今日待办: a rep's tasks for its own customers (phone first): why, by when, the script or case to use, and the
// state changes (done with the visit that closed it, snoozed until a day, dismissed with a reason).

import { api, session } from "./api.js";
import { busy, errorBox, fill, h, spinner, toast } from "./ui.js";

const PRIORITY = { 1: "紧急", 2: "本周", 3: "可安排" };
const STATE = { open: "待办", snoozed: "已推迟", done: "已完成", dismissed: "已忽略" };
const KIND = { objection_script: "话术", case_study: "案例", product_note: "产品资料", faq: "FAQ" };

function isoDay(d) {
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
}

function addDays(iso, n) {
  const d = new Date(`${iso}T00:00:00`);
  d.setDate(d.getDate() + n);
  return isoDay(d);
}

/** The list: open tasks first (priority, due date, value at risk); a tab per state. */
export function tasksPage(main, { query }) {
  const role = session()?.role;
  const day = h("input", { type: "date", name: "as_of", value: query.get("as_of") || isoDay(new Date()), "aria-label": "日期" });
  const repField = h("input", { type: "text", name: "rep_id", value: query.get("rep") || "", placeholder: "代表编号，如 R-HZ-001", "aria-label": "代表" });
  const tabs = h("div", { class: "task-tabs", role: "tablist" });
  const list = h("div", { class: "cards", id: "task-list" });
  const errors = h("div");
  const summary = h("p", { class: "muted", role: "status" });
  let shown = "open";
  let data = null;

  main.append(
    h("h1", null, "今日待办"),
    h("div", { class: "row task-filters" },
      h("div", { class: "field" }, h("label", null, "日期"), day),
      role === "rep" ? null : h("div", { class: "field" }, h("label", null, "代表"), repField)),
    summary, tabs, errors, list);
  day.addEventListener("change", () => load());
  repField.addEventListener("change", () => load());

  async function load() {
    fill(errors);
    if (role !== "rep" && !repField.value.trim()) {
      fill(list, h("div", { class: "notice" }, "输入代表编号查看其待办。"));
      return;
    }
    fill(list, spinner());
    try {
      const rep = role === "rep" ? "" : `&rep_id=${encodeURIComponent(repField.value.trim())}`;
      data = await api(`me/tasks?as_of=${day.value}${rep}`);
      draw();
    } catch (e) {
      fill(list);
      fill(errors, errorBox(e));
    }
  }

  function draw() {
    summary.textContent = `${data.customers} 个客户 · ${data.counts.open || 0} 项待办`;
    fill(tabs, Object.entries(STATE).map(([s, label]) =>
      h("button", { type: "button", role: "tab", class: s === shown ? "tab active" : "tab", "aria-selected": String(s === shown),
        onclick: () => { shown = s; draw(); } }, `${label} ${data.counts[s] || 0}`)));
    const items = data.items.filter((t) => t.state === shown);
    fill(list, items.length ? items.map(card) : h("div", { class: "notice" }, shown === "open" ? "今天没有待办，干得好。" : "没有这个状态的任务。"));
  }

  function card(t) {
    const here = h("div", { class: "task-form" });
    const change = (body) => async (e) => {
      const ok = await busy(e.target, "提交中…", () =>
        api(`me/tasks/${encodeURIComponent(t.id)}${role === "rep" ? "" : `?rep_id=${encodeURIComponent(repField.value.trim())}`}`,
          { method: "PATCH", body: { ...body, as_of: day.value } }), here);
      if (ok) {
        toast(`${STATE[body.state]}：${t.customer_name}`);
        load();
      }
    };
    const doneForm = () => {
      const summaryField = h("textarea", { name: "summary", rows: 2, maxlength: 4000, placeholder: "这次拜访/电话的内容，例如：已与店长确认续签意向" });
      const channel = h("select", { name: "channel", "aria-label": "方式" }, ["拜访", "电话", "微信"].map((c) => h("option", { value: c }, c)));
      fill(here,
        h("label", null, "记录本次跟进（完成后关联到该任务）"), summaryField,
        h("div", { class: "actions" }, channel,
          h("button", { type: "button", class: "primary", name: "confirm-done",
            onclick: (e) => summaryField.value.trim()
              ? change({ state: "done", interaction: { summary: summaryField.value.trim(), channel: channel.value } })(e)
              : fill(here.querySelector(".hint") || here.appendChild(h("p", { class: "hint muted" })), "请先写下跟进内容。") }, "确认完成")));
      summaryField.focus();
    };
    const snoozeForm = () => {
      const until = h("input", { type: "date", name: "snoozed_until", value: addDays(day.value, 3), min: addDays(day.value, 1), "aria-label": "推迟到" });
      fill(here, h("div", { class: "actions" }, h("span", null, "推迟到"), until,
        h("button", { type: "button", class: "primary", name: "confirm-snooze", onclick: (e) => change({ state: "snoozed", snoozed_until: until.value })(e) }, "确认推迟")));
    };
    const dismissForm = () => {
      const reason = h("input", { type: "text", name: "dismiss_reason", maxlength: 1000, placeholder: "忽略原因（必填）", "aria-label": "忽略原因" });
      fill(here, h("div", { class: "actions" }, reason,
        h("button", { type: "button", class: "primary", name: "confirm-dismiss",
          onclick: (e) => reason.value.trim() ? change({ state: "dismissed", dismiss_reason: reason.value.trim() })(e) : reason.focus() }, "确认忽略")));
      reason.focus();
    };
    const s = t.suggestion;
    return h("article", { class: `card task p${t.priority}`, dataset: { taskId: t.id, trigger: t.trigger, state: t.state } },
      h("div", { class: "task-head" },
        h("span", { class: `badge prio-${t.priority}` }, PRIORITY[t.priority]),
        h("span", { class: "task-kind" }, [t.trigger_name, ...(t.also.length ? ["＋跟进"] : [])].join(" ")),
        h("span", { class: "task-due" }, `截止 ${t.due.slice(5)}`)),
      h("h3", null, h("a", { href: `#/customer/${encodeURIComponent(t.customer_id)}` }, t.customer_name)),
      h("p", { class: "task-reason" }, t.reason),
      s ? h("p", { class: "task-suggestion" }, `建议${KIND[s.kind] || "参考"}：`, s.badge ? h("span", { class: "badge" }, s.badge) : null, h("strong", null, s.title), h("span", { class: "muted" }, ` （${s.entry_id}）`)) : null,
      t.safety_report_id ? h("p", { class: "task-suggestion" }, "药物警戒报告：", h("strong", null, t.safety_report_id), h("span", { class: "muted" }, "（不用销售话术）")) : null,
      t.state === "snoozed" ? h("p", { class: "muted" }, `推迟到 ${t.snoozed_until}`) : null,
      t.state === "dismissed" ? h("p", { class: "muted" }, `忽略原因：${t.dismiss_reason}`) : null,
      t.state === "done" ? h("p", { class: "muted" }, `已由跟进记录 ${t.interaction_id} 完成`) : null,
      t.state === "open" || t.state === "snoozed"
        ? h("div", { class: "actions" },
          h("button", { type: "button", class: "primary", name: "done", onclick: doneForm }, "完成"),
          h("button", { type: "button", name: "snooze", onclick: snoozeForm }, "推迟"),
          h("button", { type: "button", name: "dismiss", onclick: dismissForm }, "忽略"))
        : null,
      here);
  }

  load();
}

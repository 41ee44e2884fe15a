// The trainer's pages: entries by status with search, the editor (409 → compare and merge), review and publish,
// history with diffs, the stale queue after a formulary change, and FAQ proposals turned into drafts.

import { api, ApiError } from "./api.js";
import { diffText, merge3, mergeLists } from "./diff.js";
import {
  busy,
  confirmButton,
  dateTime,
  debounce,
  errorBox,
  fill,
  h,
  idChip,
  KIND,
  spinner,
  STATUS,
  statusBadge,
  table,
  toast,
} from "./ui.js";

const PAGE_SIZE = 50;
const TABS = ["", "draft", "in_review", "published", "stale", "retired"];

// ---------------------------------------------------------------------------------------------- list

/** Entries by status (tabs with counts), kind and a text search; a click opens the editor. */
export function entriesPage(main, { query, go }) {
  let status = query.get("status") || "";
  let kind = query.get("kind") || "";
  let offset = 0;
  let alive = true;
  const tabs = h("div", { class: "tabs", role: "tablist" });
  const search = h("input", { type: "search", name: "q", placeholder: "搜索标题或正文", value: query.get("q") || "", "aria-label": "搜索" });
  const kindSelect = h(
    "select",
    { name: "kind", "aria-label": "类型" },
    h("option", { value: "" }, "全部类型"),
    Object.entries(KIND).map(([k, label]) => h("option", { value: k, selected: k === kind }, label)),
  );
  const list = h("div", { id: "entry-list" });
  const pager = h("div", { class: "actions" });

  async function counts() {
    const found = await Promise.all(
      TABS.map((s) => api("entries", { query: { status: s, kind, q: search.value.trim(), limit: 1 } }).then((r) => r.total)),
    );
    if (!alive) return;
    fill(
      tabs,
      TABS.map((s, i) =>
        h(
          "button",
          {
            type: "button",
            role: "tab",
            class: s === status ? "active" : null,
            "aria-selected": String(s === status),
            dataset: { status: s || "all" },
            onclick: () => {
              status = s;
              offset = 0;
              load();
            },
          },
          s ? STATUS[s] : "全部",
          h("span", { class: "count" }, String(found[i])),
        ),
      ),
    );
  }

  async function load() {
    fill(list, spinner());
    const q = search.value.trim();
    history.replaceState(null, "", `#/entries${new URLSearchParams(Object.entries({ status, kind, q }).filter(([, v]) => v)).toString().replace(/^(?=.)/, "?")}`);
    try {
      counts();
      const page = await api("entries", { query: { status, kind, q, limit: PAGE_SIZE, offset } });
      if (!alive) return;
      fill(
        list,
        page.items.length
          ? table(
              [
                { label: "标题", value: (e) => h("a", { href: `#/entry/${encodeURIComponent(e.id)}` }, e.title) },
                { label: "类型", value: (e) => KIND[e.kind] || e.kind, class: "nowrap" },
                { label: "状态", value: (e) => statusBadge(e.status) },
                { label: "版本", value: (e) => `v${e.version}`, class: "num" },
                { label: "作者", value: (e) => e.author || "—", class: "nowrap" },
                { label: "更新时间", value: (e) => dateTime(e.updated_at), class: "nowrap" },
                { label: "编号", value: (e) => idChip(e.id) },
              ],
              page.items,
              { onRowClick: (e) => go("entry", e.id), rowAttrs: (e) => ({ dataset: { entryId: e.id } }) },
            )
          : h("p", { class: "muted" }, "没有符合条件的条目。"),
      );
      fill(
        pager,
        h("span", { class: "muted small" }, `共 ${page.total} 条，第 ${page.total ? offset + 1 : 0}–${offset + page.items.length} 条`),
        offset > 0 ? h("button", { type: "button", onclick: () => ((offset = Math.max(0, offset - PAGE_SIZE)), load()) }, "上一页") : null,
        offset + PAGE_SIZE < page.total ? h("button", { type: "button", onclick: () => ((offset += PAGE_SIZE), load()) }, "下一页") : null,
      );
    } catch (e) {
      if (alive) fill(list, errorBox(e));
    }
  }

  search.addEventListener("input", debounce(() => ((offset = 0), load()), 250));
  kindSelect.addEventListener("change", () => {
    kind = kindSelect.value;
    offset = 0;
    load();
  });
  main.append(
    h("div", { class: "page-head" }, h("h1", null, "知识条目"), h("button", { type: "button", class: "primary", onclick: () => go("entry", "new") }, "＋ 新建条目")),
    h("div", { class: "panel" }, tabs, h("div", { class: "row" }, h("div", { class: "field" }, search), h("div", { class: "field", style: "flex:0 1 180px" }, kindSelect))),
    list,
    pager,
  );
  load();
  return () => (alive = false);
}

// ---------------------------------------------------------------------------------------------- editor

const FIELDS = [
  { key: "title", label: "标题", type: "text" },
  { key: "body", label: "正文", type: "text" },
  { key: "tags", label: "标签", type: "list" },
  { key: "skus", label: "关联产品（SKU）", type: "list" },
  { key: "indications", label: "适应症", type: "list" },
  { key: "category", label: "异议类别", type: "choice" },
  { key: "customer_types", label: "适用客户类型（不选 = 全部）", type: "list" },
  { key: "source", label: "来源", type: "text" },
];

/** Objection categories and customer types as trainers name them (the API takes the codes). */
export const CATEGORIES = {
  price: "价格", formulary: "进院/目录", efficacy: "疗效", side_effects: "不良反应", stock: "库存/配送",
  payment_terms: "账期/付款", insurance_card: "医保报销", compliance: "合规", dtp_prescription: "DTP/处方",
  vbp: "集采", margin_display: "毛利/陈列", incumbent_supplier: "现有供应商", contract_renewal: "合同续约",
};
const CUSTOMER_TYPES = { chain: "连锁", single_pharmacy: "单体药店", hospital: "医院", clinic: "诊所", dtp: "DTP药房" };

function categorySelect() {
  return h("select", { name: "category", "aria-label": "异议类别" }, h("option", { value: "" }, "（无）"),
    Object.entries(CATEGORIES).map(([k, label]) => h("option", { value: k }, label)));
}

function typesSelect() {
  return h("select", { name: "customer_types", multiple: true, size: 5, "aria-label": "适用客户类型" },
    Object.entries(CUSTOMER_TYPES).map(([k, label]) => h("option", { value: k }, label)));
}

const selectedTypes = (select) => Array.from(select.selectedOptions).map((o) => o.value);
function selectTypes(select, types) {
  for (const o of select.options) o.selected = (types || []).includes(o.value);
}

const ACTIONS = [
  { action: "submit", label: "提交审核", from: ["draft", "stale"] },
  { action: "publish", label: "审核通过并发布", from: ["in_review"] },
  { action: "reject", label: "退回修改", from: ["in_review"] },
  { action: "withdraw", label: "下架（销售不再看到）", from: ["published"] },
];
/** Steps of a pending revision of a published entry, by the revision's state. */
const REVISION_ACTIONS = [
  { action: "submit", label: "提交修订审核", from: ["draft"] },
  { action: "publish", label: "审核通过，发布修订", from: ["in_review"] },
  { action: "reject", label: "退回修订", from: ["in_review"] },
];
const SEVERITY = {
  withdraw: "与新目录不符：已停止向销售展示",
  review: "待复核：内容仍正确但不完整，销售仍可看到",
};

const AUDIT = {
  create: "创建",
  edit: "修改",
  submit: "提交审核",
  publish: "发布",
  reject: "退回",
  retire: "停用",
  mark_stale: "标记待复核",
  formulary_note: "医保目录变更提示",
  edit_revision: "修改修订稿",
  confirm: "确认仍正确",
  withdraw: "下架",
  faq_draft_create: "FAQ 草稿生成",
  faq_draft_update: "FAQ 草稿更新",
};

const splitList = (text) =>
  text
    .split(/[,，、;；|\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const shown = (field, value) => (field.type === "list" ? (value || []).join("、") || "（空）" : value || "（空）");

/** The editor of one entry (or a new one): fields, save with optimistic locking, workflow, history and diffs. */
export function entryPage(main, { args, go }) {
  const id = args[0];
  if (!id || id === "new") return newEntry(main, go);
  let base = null; // the entry as stored when this form was filled: the version a save is made against
  let alive = true;
  const inputs = {
    title: h("input", { type: "text", name: "title", maxlength: 200, "aria-label": "标题" }),
    body: h("textarea", { name: "body", class: "body", maxlength: 20000, "aria-label": "正文" }),
    tags: h("input", { type: "text", name: "tags", placeholder: "用逗号或顿号分隔", "aria-label": "标签" }),
    skus: h("input", { type: "text", name: "skus", placeholder: "如 SKU-999GML，多个用逗号分隔", "aria-label": "关联产品" }),
    indications: h("input", { type: "text", name: "indications", "aria-label": "适应症" }),
    category: categorySelect(),
    customer_types: typesSelect(),
    source: h("input", { type: "text", name: "source", maxlength: 500, "aria-label": "来源" }),
  };
  const header = h("div", { id: "entry-header" });
  const conflictHost = h("div", { id: "conflict" });
  const errors = h("div");
  const saveButton = h("button", { type: "submit", class: "primary", name: "save" }, "保存");
  const dirtyNote = h("span", { class: "muted small" });
  const side = h("aside", null);
  const historyHost = h("div", { id: "history" }, spinner());
  const form = h(
    "form",
    { class: "panel", id: "entry-form" },
    FIELDS.map((f) => h("div", { class: "field" }, h("label", null, f.label), inputs[f.key])),
    errors,
    h("div", { class: "actions" }, saveButton, dirtyNote),
  );

  const values = () => ({
    title: inputs.title.value.trim(),
    body: inputs.body.value,
    tags: splitList(inputs.tags.value),
    skus: splitList(inputs.skus.value),
    indications: splitList(inputs.indications.value),
    category: inputs.category.value || null,
    customer_types: selectedTypes(inputs.customer_types),
    source: inputs.source.value.trim() || null,
  });
  const changes = () => {
    const now = values();
    return Object.fromEntries(FIELDS.filter((f) => !same(now[f.key], base[f.key] ?? (f.type === "list" ? [] : null))).map((f) => [f.key, now[f.key]]));
  };
  const dirty = () => base && Object.keys(changes()).length > 0;

  function load(stored) {
    // A published entry being revised: the form edits the revision; reps keep the published text meanwhile.
    const r = stored.revision;
    const entry = r ? { ...stored, ...r, skus: r.skus ?? stored.skus, indications: r.indications ?? stored.indications, status: stored.status, version: stored.version } : stored;
    base = entry;
    base.stored = stored;
    inputs.title.value = entry.title;
    inputs.body.value = entry.body;
    inputs.tags.value = entry.tags.join("、");
    inputs.skus.value = entry.skus.join(", ");
    inputs.indications.value = entry.indications.join("、");
    inputs.category.value = entry.category || "";
    selectTypes(inputs.customer_types, entry.customer_types);
    inputs.source.value = entry.source || "";
    drawHeader();
    drawSide();
    refreshDirty();
    loadHistory();
  }

  function drawHeader() {
    const stored = base.stored;
    const rev = stored.revision;
    fill(
      header,
      h("h1", null, stored.title),
      h(
        "div",
        { class: "meta card-meta muted small" },
        statusBadge(base.status),
        ` ${KIND[base.kind] || base.kind} · `,
        h("span", { class: "version", dataset: { version: base.version } }, `第 ${base.version} 版`),
        ` · ${stored.author || "—"} · ${dateTime(stored.updated_at)} `,
        idChip(base.id),
      ),
      stored.stale_reason
        ? h(
            "div",
            { class: `stale-reason severity-${stored.impact_severity || "note"}`, id: "formulary-note" },
            h("b", null, SEVERITY[stored.impact_severity] || "医保目录变更提示"),
            h("div", null, stored.stale_reason),
            stored.impact_sentence ? h("blockquote", { class: "trigger" }, stored.impact_sentence) : null,
            h("div", { class: "small muted" }, "核对后点“确认仍正确”清除提示；修改后送审，发布时一并确认。"),
          )
        : null,
      rev
        ? h(
            "div",
            { class: "notice", id: "revision-banner" },
            h("b", null, `有一份修订稿（${rev.status === "in_review" ? "审核中" : "草稿"}，${rev.author || "—"}，${dateTime(rev.updated_at)}）`),
            h("div", { class: "small" }, "销售现在看到的仍是已发布的版本；修订稿经另一位培训师审核发布后一次替换。下方表单编辑的是修订稿。"),
            h("div", { class: "label small" }, "已发布正文 → 修订稿："),
            diffView(stored.body, rev.body),
          )
        : null,
    );
  }

  function refreshDirty() {
    const d = dirty();
    dirtyNote.textContent = d ? "有未保存的修改" : "";
    side.querySelectorAll("button[data-action]").forEach((b) => (b.disabled = d));
  }

  function drawSide() {
    const note = h("input", { type: "text", name: "note", maxlength: 1000, placeholder: "备注，写入审核记录（可选）", "aria-label": "审核备注" });
    const sideErrors = h("div");
    const stored = base.stored;
    const steps = stored.revision
      ? REVISION_ACTIONS.filter((a) => a.from.includes(stored.revision.status))
      : ACTIONS.filter((a) => a.from.includes(stored.status));
    const buttons = steps.map((a) =>
      h("button", { type: "button", class: a.action === "publish" ? "primary" : null, dataset: { action: a.action }, onclick: (e) => transition(e.target, a.action, note.value, sideErrors) }, a.label),
    );
    if (stored.stale_reason) {
      buttons.unshift(h("button", { type: "button", dataset: { action: "confirm" }, onclick: (e) => transition(e.target, "confirm", note.value, sideErrors) }, "确认仍正确（清除提示）"));
    }
    const editor = stored.revision ? stored.revision.author : stored.author;
    const retire =
      base.status !== "retired"
        ? confirmButton("停用", "确认停用？", (b) => transition(b, "retire", note.value, sideErrors), { dataset: { action: "retire" } })
        : null;
    fill(
      side,
      h(
        "div",
        { class: "panel" },
        h("h3", null, "审核流程"),
        h("p", { class: "small muted" }, "草稿 → 提交审核 → 发布。发布后再修改会生成修订稿：销售仍看到已发布的版本，修订稿审核发布后一次替换。"),
        h("p", { class: "small muted", id: "four-eyes-rule" }, `四眼原则：发布须由最后编辑者（${editor || "—"}）以外的培训师操作。`),
        h("div", { class: "field" }, note),
        h("div", { class: "actions" }, buttons, retire),
        base.status === "retired" ? h("p", { class: "muted small" }, "已停用的条目不能再修改。") : null,
        sideErrors,
      ),
      h("div", { class: "panel" }, h("h3", null, "版本与差异"), historyHost),
    );
  }

  async function transition(button, action, note, host) {
    if (dirty()) {
      fill(host, errorBox({ message: "有未保存的修改，请先保存。" }));
      return;
    }
    await busy(button, "处理中…", async () => {
      try {
        const body = { version: base.version, note: note || null };
        if (action === "publish" && base.stored.stale_reason) body.clear_note = window.confirm(`这条知识有医保目录变更提示：${base.stored.stale_reason}\n已核对内容，发布时一并清除提示？`);
        const entry = await api(`entries/${encodeURIComponent(id)}/${action}`, { method: "POST", body });
        load(entry);
        toast(`已${AUDIT[action]}：第 ${entry.version} 版，状态 ${STATUS[entry.status]}`);
      } catch (e) {
        if (e instanceof ApiError && e.code === "version_conflict") {
          load(await api(`entries/${encodeURIComponent(id)}`));
          fill(host, h("div", { class: "notice" }, `条目刚被他人修改，已载入最新的第 ${base.version} 版，请确认后再操作。`));
          return;
        }
        if (e instanceof ApiError && e.code === "four_eyes_required") {
          fill(host, h("div", { class: "error-box four-eyes", role: "alert" }, h("b", null, "不能发布："), e.message, h("div", { class: "code" }, e.code)));
          return;
        }
        throw e;
      }
    }, host);
  }

  async function save(patch, version) {
    const body = { version, ...patch };
    if ("category" in body && !body.category) {
      delete body.category;
      body.clear_category = true; // null alone leaves the category as it is
    }
    const entry = await api(`entries/${encodeURIComponent(id)}`, { method: "PATCH", body });
    fill(conflictHost);
    load(entry);
    toast(`已保存：第 ${entry.version} 版`);
    return entry;
  }

  form.addEventListener("input", refreshDirty);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const patch = changes();
    if (!Object.keys(patch).length) {
      toast("没有修改");
      return;
    }
    if (patch.title === "") {
      fill(errors, errorBox({ message: "标题不能为空。" }));
      return;
    }
    busy(saveButton, "保存中…", async () => {
      try {
        await save(patch, base.version);
      } catch (err) {
        if (err instanceof ApiError && err.code === "version_conflict") {
          await showConflict(base, values(), err.details.current);
          return;
        }
        throw err;
      }
    }, errors);
  });

  /** A 409: what the stored version changed against mine, field by field, with a merge to save on top of it. */
  async function showConflict(start, mine, current) {
    let theirs;
    try {
      theirs = await api(`entries/${encodeURIComponent(id)}`); // with its products and indications
    } catch {
      theirs = { skus: start.skus, indications: start.indications, ...current };
    }
    const results = {};
    const rows = [];
    for (const f of FIELDS) {
      const b = start[f.key] ?? (f.type === "list" ? [] : null);
      const m = mine[f.key];
      const t = theirs[f.key] ?? (f.type === "list" ? [] : null);
      if (same(m, b) && same(t, b)) continue;
      if (same(m, b) || same(m, t)) {
        results[f.key] = () => t;
        rows.push(h("div", { class: "merge-field", dataset: { field: f.key } }, h("b", null, f.label), h("div", { class: "auto" }, same(m, t) ? "双方改得一样。" : "只有对方改了，采用对方的版本。"), sideBySide(f, b, t, null)));
        continue;
      }
      if (same(t, b)) {
        results[f.key] = () => m;
        rows.push(h("div", { class: "merge-field", dataset: { field: f.key } }, h("b", null, f.label), h("div", { class: "auto" }, "只有你改了，保留你的修改。"), sideBySide(f, b, null, m)));
        continue;
      }
      if (f.type === "list") {
        const merged = mergeLists(b, m, t);
        results[f.key] = () => merged;
        rows.push(h("div", { class: "merge-field", dataset: { field: f.key } }, h("b", null, f.label), h("div", { class: "auto" }, `双方都改了，已合并为：${merged.join("、") || "（空）"}`), sideBySide(f, b, t, m)));
        continue;
      }
      rows.push(conflictField(f, b, t, m, results));
    }
    const errorsHere = h("div");
    const saveMerged = h("button", { type: "button", class: "primary", name: "save-merged" }, `保存合并结果（基于第 ${theirs.version} 版）`);
    saveMerged.addEventListener("click", () =>
      busy(saveMerged, "保存中…", async () => {
        const merged = Object.fromEntries(Object.entries(results).map(([k, get]) => [k, get()]));
        const patch = Object.fromEntries(Object.entries(merged).filter(([k, v]) => !same(v, theirs[k] ?? null)));
        try {
          if (Object.keys(patch).length) await save(patch, theirs.version);
          else {
            fill(conflictHost);
            load(theirs);
            toast("合并结果与现存版本相同，无需保存");
          }
        } catch (err) {
          if (err instanceof ApiError && err.code === "version_conflict") {
            await showConflict(theirs, { ...values(), ...merged }, err.details.current);
            return;
          }
          throw err;
        }
      }, errorsHere),
    );
    const discard = h("button", { type: "button", name: "discard-mine", onclick: () => (fill(conflictHost), load(theirs), toast(`已载入第 ${theirs.version} 版，你的修改已放弃`)) }, "放弃我的修改，载入最新版");
    fill(
      conflictHost,
      h(
        "section",
        { class: "conflict", role: "alert" },
        h("h2", null, "保存冲突：这条目刚被别人修改过"),
        h("p", null, `你的修改基于第 ${start.version} 版；现在保存的是第 ${theirs.version} 版（${theirs.author || "—"}，${dateTime(theirs.updated_at)}）。下面逐项列出双方的改动，选好合并结果后保存，不会覆盖对方的修改。`),
        rows,
        errorsHere,
        h("div", { class: "actions" }, saveMerged, discard),
      ),
    );
    conflictHost.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  function sideBySide(f, base, theirs, mine) {
    const panel = (label, value) =>
      h("div", { class: "side" }, h("div", { class: "label" }, label), f.type === "list" ? shown(f, value) : diffView(base || "", value || ""));
    return h("div", { class: "side-by-side" }, theirs !== null ? panel("对方的改动（现存版本）", theirs) : null, mine !== null ? panel("你的改动", mine) : null);
  }

  function conflictField(f, b, t, m, results) {
    const auto = f.key === "body" ? merge3(b || "", m || "", t || "") : { clean: false };
    const merged = h(f.key === "body" ? "textarea" : "input", { name: `merge-${f.key}`, class: f.key === "body" ? "body" : null, "aria-label": `${f.label}的合并结果` });
    merged.value = auto.clean ? auto.text : m || "";
    results[f.key] = () => (f.key === "title" ? merged.value.trim() : f.key === "source" ? merged.value.trim() || null : merged.value);
    const choice = (value, label, text, checked) =>
      h("label", null, h("input", { type: "radio", name: `choice-${f.key}`, value, checked, onchange: () => (merged.value = text) }), ` ${label}`);
    return h(
      "div",
      { class: "merge-field", dataset: { field: f.key, conflict: "true" } },
      h("b", null, f.label),
      h("div", { class: "notice small" }, auto.clean ? "双方改了不同的句子，已自动合并，请检查。" : "双方改了同一处，请选择保留哪一版，或在下面直接编辑合并结果。"),
      sideBySide(f, b, t, m),
      h(
        "div",
        { class: "choices" },
        auto.clean ? choice("auto", "自动合并", auto.text, true) : null,
        choice("mine", "用我的", m || "", !auto.clean),
        choice("theirs", "用对方的", t || "", false),
      ),
      h("div", { class: "field" }, h("label", null, "合并结果（可直接编辑）"), merged),
    );
  }

  async function loadHistory() {
    try {
      const hist = await api(`entries/${encodeURIComponent(id)}/history`);
      if (alive) drawHistory(hist);
    } catch (e) {
      if (alive) fill(historyHost, errorBox(e));
    }
  }

  function drawHistory(hist) {
    const versions = hist.versions.map((v) => v.version);
    const current = versions[versions.length - 1];
    const pick = (name, selected) =>
      h("select", { name, "aria-label": name === "from" ? "从版本" : "到版本" }, versions.map((v) => h("option", { value: v, selected: v === selected }, `第 ${v} 版`)));
    const from = pick("from", versions.length > 1 ? versions[versions.length - 2] : current);
    const to = pick("to", current);
    const out = h("div", { class: "diff", id: "version-diff" });
    const show = async () => {
      fill(out, spinner());
      try {
        const d = await api(`entries/${encodeURIComponent(id)}/diff`, { query: { from: from.value, to: to.value } });
        fill(out, h("div", { class: "small muted" }, "标题"), diffLines(d.title), h("div", { class: "small muted" }, "正文"), diffLines(d.body));
      } catch (e) {
        fill(out, errorBox(e));
      }
    };
    from.addEventListener("change", show);
    to.addEventListener("change", show);
    fill(
      historyHost,
      h("div", { class: "version-pick" }, from, h("span", { class: "muted" }, "→"), to),
      out,
      h("h3", null, "审核记录"),
      h(
        "ul",
        { class: "audit" },
        [...hist.audit].reverse().map((a) =>
          h(
            "li",
            null,
            h("b", null, AUDIT[a.action] || a.action),
            ` · ${dateTime(a.at)} · ${a.actor}`,
            a.details && a.details.note ? h("div", { class: "muted" }, `备注：${a.details.note}`) : null,
            a.details && a.details.reason ? h("div", { class: "muted" }, `原因：${a.details.reason}`) : null,
          ),
        ),
      ),
    );
    if (versions.length > 1) show();
    else fill(out, h("p", { class: "muted small" }, "只有一个版本。"));
  }

  main.append(header, conflictHost, h("div", { class: "editor-grid" }, form, side));
  fill(header, spinner());
  api(`entries/${encodeURIComponent(id)}`)
    .then((entry) => alive && load(entry))
    .catch((e) => alive && fill(header, errorBox(e)));
  const leave = (e) => {
    if (dirty()) e.preventDefault();
  };
  window.addEventListener("beforeunload", leave);
  return () => {
    alive = false;
    window.removeEventListener("beforeunload", leave);
  };
}

/** The API's diff lines (equal / insert / delete / replace) as marked-up text. */
function diffLines(lines) {
  if (!lines.length) return h("p", { class: "muted small" }, "（空）");
  return lines.map((d) => {
    if (d.op === "equal") return h("div", { class: "d-line d-equal" }, d.old);
    if (d.op === "insert") return h("div", { class: "d-line d-insert" }, h("ins", null, d.new));
    if (d.op === "delete") return h("div", { class: "d-line d-delete" }, h("del", null, d.old));
    return h("div", { class: "d-line d-replace" }, h("del", null, d.old), h("ins", null, d.new));
  });
}

/** The client-side sentence diff of two texts, drawn like the API's. */
function diffView(oldText, newText) {
  return h("div", { class: "diff" }, diffLines(diffText(oldText, newText).filter((d) => d.op !== "equal" || d.old.trim())));
}

function newEntry(main, go) {
  const kind = h("select", { name: "kind", "aria-label": "类型" }, Object.entries(KIND).map(([k, label]) => h("option", { value: k }, label)));
  const title = h("input", { type: "text", name: "title", maxlength: 200, required: true, "aria-label": "标题" });
  const body = h("textarea", { name: "body", class: "body", maxlength: 20000, rows: 10, "aria-label": "正文" });
  const tags = h("input", { type: "text", name: "tags", "aria-label": "标签" });
  const skus = h("input", { type: "text", name: "skus", placeholder: "如 SKU-999GML", "aria-label": "关联产品" });
  const category = categorySelect();
  const types = typesSelect();
  const errors = h("div");
  const button = h("button", { type: "submit", class: "primary" }, "创建草稿");
  const form = h(
    "form",
    { class: "panel" },
    h("div", { class: "field" }, h("label", null, "类型"), kind),
    h("div", { class: "field" }, h("label", null, "标题"), title),
    h("div", { class: "field" }, h("label", null, "正文"), body),
    h("div", { class: "field" }, h("label", null, "标签"), tags),
    h("div", { class: "field" }, h("label", null, "关联产品（SKU）"), skus),
    h("div", { class: "field" }, h("label", null, "异议类别"), category),
    h("div", { class: "field" }, h("label", null, "适用客户类型（不选 = 全部）"), types),
    errors,
    h("div", { class: "actions" }, button),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(button, "创建中…", async () => {
      const entry = await api("entries", {
        method: "POST",
        body: {
          kind: kind.value, title: title.value.trim(), body: body.value, tags: splitList(tags.value), skus: splitList(skus.value),
          category: category.value || null, customer_types: selectedTypes(types),
        },
      });
      toast("已创建草稿");
      go("entry", entry.id);
    }, errors);
  });
  main.append(h("h1", null, "新建条目"), form);
}

// ---------------------------------------------------------------------------------------------- stale queue

/** The review queue after a formulary update: apply the impact, then confirm, edit or retire each stale entry. */
export function stalePage(main, { go }) {
  let alive = true;
  const impactHost = h("div", { id: "impact" });
  const list = h("div", { class: "cards", id: "stale-list" });
  const oldSel = h("select", { name: "old", "aria-label": "旧版目录" });
  const newSel = h("select", { name: "new", "aria-label": "新版目录" });
  const preview = h("button", { type: "button", name: "preview" }, "预览影响");
  const applyButton = h("button", { type: "button", class: "primary", name: "apply-impact" }, "标记内容冲突的条目");

  const params = () => ({ old: oldSel.value || null, new: newSel.value || null });
  preview.addEventListener("click", () =>
    busy(preview, "计算中…", async () => drawImpact(await api("formulary/impact", { query: params() })), impactHost),
  );
  applyButton.addEventListener("click", () =>
    busy(applyButton, "标记中…", async () => {
      const report = await api("formulary/impact", { method: "POST", query: params() });
      drawImpact(report);
      await loadQueue();
    }, impactHost),
  );

  function drawImpact(r) {
    const by = (sev) => r.entries.filter((e) => e.severity === sev).length;
    fill(
      impactHost,
      h(
        "div",
        { class: r.applied ? "ok-box" : "notice" },
        `${r.old_edition || "—"} → ${r.new_edition}：${r.changes.length} 个产品的医保状态变化，影响 ${Object.keys(r.customers).length} 个客户；`,
        `提到这些产品的条目 ${r.mentioning} 条，其中内容与新目录冲突的 ${r.entries.length} 条（下架 ${by("withdraw")}、待复核 ${by("review")}）`,
        r.applied ? "，已标记" : "（预览，尚未标记）",
        r.already_marked ? `，另有 ${r.already_marked} 条已标记` : "",
        r.conflicts.length ? `；${r.conflicts.length} 条正被编辑，未标记（稍后再试）` : "",
        "。",
      ),
    );
  }

  async function bulk(button, action, target, label) {
    await busy(button, "处理中…", async () => {
      const result = await api(`formulary/notes/${action}`, { method: "POST", body: target });
      const skipped = Object.keys(result.skipped).length;
      toast(`${label}：${result.done.length} 条${skipped ? `，${skipped} 条未处理（${Object.values(result.skipped)[0]}）` : ""}`);
      await loadQueue();
    }, impactHost);
  }

  async function loadQueue() {
    fill(list, spinner());
    try {
      const page = await api("entries", { query: { noted: true, limit: 500 } });
      if (!alive) return;
      const groups = new Map();
      for (const e of page.items) {
        for (const sku of e.impact_skus.length ? e.impact_skus : ["—"]) {
          if (!groups.has(sku)) groups.set(sku, []);
          groups.get(sku).push(e);
        }
      }
      const editions = [...new Set(page.items.map((e) => e.impact_edition).filter(Boolean))];
      fill(
        list,
        h("h2", null, `待处理 ${page.total} 条`),
        editions.map((ed) =>
          h(
            "div",
            { class: "actions bulk", dataset: { edition: ed } },
            h("span", null, `${ed} 的全部提示：`),
            confirmButton("全部确认仍正确", `确认 ${ed} 的全部提示？`, (b) => bulk(b, "confirm", { edition: ed }, "已确认"), { name: "confirm-edition" }),
            confirmButton("全部下架", `下架 ${ed} 提示的全部在线条目？`, (b) => bulk(b, "withdraw", { edition: ed }, "已下架"), { name: "withdraw-edition" }),
          ),
        ),
        page.items.length
          ? [...groups.entries()].map(([sku, items]) =>
              h(
                "section",
                { class: "note-group", dataset: { sku } },
                h(
                  "h3",
                  null,
                  `${sku}（${items.length} 条）`,
                  sku !== "—" ? confirmButton("本产品全部确认", `确认 ${sku} 的全部提示？`, (b) => bulk(b, "confirm", { sku }, "已确认"), { name: "confirm-product" }) : null,
                  sku !== "—" ? confirmButton("本产品全部下架", `下架 ${sku} 的全部在线条目？`, (b) => bulk(b, "withdraw", { sku }, "已下架"), { name: "withdraw-product" }) : null,
                ),
                items.map(staleCard),
              ),
            )
          : h("p", { class: "muted" }, "队列是空的：没有因医保目录变化需要处理的条目。"),
      );
    } catch (e) {
      if (alive) fill(list, errorBox(e));
    }
  }

  function staleCard(entry) {
    const errors = h("div");
    const card = h("article", { class: "card stale", dataset: { entryId: entry.id, severity: entry.impact_severity || "" } });
    const act = (action, note) => async (button) => {
      await busy(button, "处理中…", async () => {
        const done = await api(`entries/${encodeURIComponent(entry.id)}/${action}`, { method: "POST", body: { version: entry.version, note } });
        toast(`${entry.title}：${STATUS[done.status]}`);
        loadQueue();
      }, errors);
    };
    const confirm = h("button", { type: "button", class: "primary", name: "confirm" }, "内容仍准确，确认");
    confirm.addEventListener("click", () => act("confirm", "医保目录变更后复核：内容仍准确")(confirm));
    const withdraw = entry.status === "published" ? confirmButton("下架", "确认下架？销售将不再看到", act("withdraw", "医保目录变更后下架"), { name: "withdraw" }) : null;
    fill(
      card,
      h("h3", null, entry.title),
      h("div", { class: "meta" }, statusBadge(entry.status), h("span", null, `${KIND[entry.kind] || entry.kind} · 第 ${entry.version} 版`), idChip(entry.id)),
      h("div", { class: `stale-reason severity-${entry.impact_severity || "note"}` }, h("b", null, SEVERITY[entry.impact_severity] || "医保目录变更提示"), h("div", null, entry.stale_reason)),
      entry.impact_sentence ? h("blockquote", { class: "trigger" }, entry.impact_sentence) : null,
      h(
        "div",
        { class: "actions" },
        confirm,
        withdraw,
        h("button", { type: "button", onclick: () => go("entry", entry.id) }, "编辑"),
      ),
      errors,
    );
    return card;
  }

  main.append(
    h("h1", null, "目录变更·知识复核"),
    h(
      "div",
      { class: "panel" },
      h("h3", null, "医保目录变更影响"),
      h("p", { class: "small muted" }, "新版目录导入后，找出内容与新目录冲突的话术、案例和产品要点（只提到产品名不算）：说法已不成立的下架，仍正确但不完整的标“待复核”继续展示；草稿和审核中的条目状态不变，只加提示，发布前须清除。"),
      h("div", { class: "row" }, h("div", { class: "field" }, h("label", null, "旧版"), oldSel), h("div", { class: "field" }, h("label", null, "新版"), newSel)),
      h("div", { class: "actions" }, preview, applyButton),
      impactHost,
    ),
    list,
  );
  api("formulary/editions")
    .then(({ editions }) => {
      const opts = (sel, chosen) => fill(sel, editions.map((e) => h("option", { value: e.id, selected: e.id === chosen }, `${e.id}（${e.effective_date || "—"}）`)));
      opts(oldSel, editions.length > 1 ? editions[editions.length - 2].id : null);
      opts(newSel, editions.length ? editions[editions.length - 1].id : null);
    })
    .catch((e) => fill(impactHost, errorBox(e)));
  loadQueue();
  return () => (alive = false);
}

// ---------------------------------------------------------------------------------------------- FAQ

const DRAFT = { new: "新提案", drafted: "已有草稿", curated: "培训师已接手" };

/** FAQ proposals clustered from customers' questions; chosen ones become draft FAQ entries. */
export function faqPage(main, { go }) {
  let alive = true;
  const minSize = h("input", { type: "number", name: "min_size", min: 2, max: 1000, value: 5, "aria-label": "最少出现次数" });
  const load = h("button", { type: "button" }, "重新生成提案");
  const list = h("div", { class: "cards", id: "proposals" });
  const result = h("div", { id: "draft-result" });
  const make = h("button", { type: "button", class: "primary", name: "make-drafts", disabled: true }, "生成草稿");
  const chosen = new Set();

  const refreshMake = () => {
    make.disabled = chosen.size === 0;
    make.textContent = chosen.size ? `把选中的 ${chosen.size} 个提案生成草稿` : "生成草稿";
  };

  async function proposals() {
    chosen.clear();
    refreshMake();
    fill(list, spinner("正在从互动记录中聚类客户问题…"));
    try {
      const r = await api("faq/proposals", { query: { min_size: minSize.value } });
      if (!alive) return;
      fill(
        list,
        h("p", { class: "muted small" }, `从 ${r.interactions} 条互动中找到 ${r.questions} 个客户问题，聚成 ${r.proposals.length} 个提案（${r.seconds} 秒）。`),
        r.proposals.map((p) => {
          const box = h("input", { type: "checkbox", name: "proposal", value: p.id, "aria-label": `选择 ${p.title}` });
          box.addEventListener("change", () => (box.checked ? chosen.add(p.id) : chosen.delete(p.id), refreshMake()));
          return h(
            "article",
            { class: "card proposal", dataset: { proposalId: p.id } },
            h("label", { class: "card-title" }, box, h("h3", { style: "margin-left:.5rem" }, p.title)),
            h(
              "div",
              { class: "meta" },
              h("span", { class: "badge" }, DRAFT[p.draft_status] || p.draft_status),
              h("span", null, `${p.size} 次互动提到`),
              h("span", null, `一致度 ${p.cohesion.toFixed(2)}`),
              p.first_on ? h("span", null, `${p.first_on} – ${p.last_on}`) : null,
              p.answered_by ? h("span", null, "已有答案：", h("a", { href: `#/entry/${encodeURIComponent(p.answered_by)}` }, p.answered_by)) : null,
              p.draft_status !== "new" ? h("a", { href: `#/entry/${encodeURIComponent(p.id)}` }, "打开草稿") : null,
            ),
            h("ul", { class: "why" }, p.examples.slice(0, 4).map((e) => h("li", null, e.text, e.same_wording > 1 ? h("span", { class: "muted small" }, `（同样说法 ${e.same_wording} 次）`) : null, " ", idChip(e.interaction_id)))),
            p.products.length ? h("div", null, p.products.slice(0, 8).map((c) => h("span", { class: "tag" }, `${c.name} ×${c.count}`))) : null,
          );
        }),
      );
    } catch (e) {
      if (alive) fill(list, errorBox(e));
    }
  }

  load.addEventListener("click", proposals);
  make.addEventListener("click", () =>
    busy(make, "生成中…", async () => {
      const r = await api("faq/drafts", { method: "POST", body: { proposal_ids: [...chosen], min_size: Number(minSize.value) } });
      const links = (ids) => ids.map((i) => h("a", { href: `#/entry/${encodeURIComponent(i)}`, style: "margin-right:.6rem" }, i));
      fill(
        result,
        h(
          "div",
          { class: "ok-box" },
          h("div", null, `新建草稿 ${r.created.length} 条 `, links(r.created)),
          r.updated.length ? h("div", null, `更新草稿 ${r.updated.length} 条 `, links(r.updated)) : null,
          r.unchanged.length ? h("div", null, `无变化 ${r.unchanged.length} 条 `, links(r.unchanged)) : null,
          r.skipped_curated.length ? h("div", null, `培训师已接手、未改动 ${r.skipped_curated.length} 条 `, links(r.skipped_curated)) : null,
          h("div", { class: "small" }, "打开草稿写好答案后，提交审核并发布。"),
        ),
      );
      await proposals();
    }, result),
  );
  main.append(
    h("h1", null, "FAQ 提案"),
    h(
      "div",
      { class: "panel" },
      h("p", { class: "small muted" }, "把销售记录里客户反复问到的问题聚成提案；选中后生成常见问题草稿，由培训师补充答案并审核发布。"),
      h("div", { class: "row" }, h("div", { class: "field", style: "flex:0 1 160px" }, h("label", null, "至少出现次数"), minSize), h("div", { class: "field", style: "flex:0 0 auto" }, load)),
      h("div", { class: "actions" }, make),
      result,
    ),
    list,
  );
  proposals();
  return () => (alive = false);
}

// ---------------------------------------------------------------------------------------------- script requests

/** The queue of script requests: objections reps met that no script answers; close each with the script written. */
export function requestsPage(main, { go }) {
  const list = h("div", { class: "cards", id: "requests" }, spinner());
  const errors = h("div");
  main.append(h("h1", null, "待写话术"), h("p", { class: "muted" }, "代表遇到“无匹配话术”时提交的问题。写好话术后，把它的条目编号填在这里关闭请求。"), errors, list);

  async function load() {
    const page = await api("script-requests?status=open&limit=200");
    if (!page.items.length) {
      fill(list, h("div", { class: "notice" }, "没有待写的话术请求。"));
      return;
    }
    fill(list, page.items.map(card));
  }

  function card(r) {
    const entryId = h("input", { type: "text", name: "entry_id", placeholder: "写好的条目编号", "aria-label": "条目编号" });
    const note = h("input", { type: "text", name: "note", maxlength: 1000, placeholder: "备注（可选）", "aria-label": "备注" });
    const here = h("div");
    const close = (status) => async (e) => {
      const done = await busy(e.target, "提交中…", () =>
        api(`script-requests/${encodeURIComponent(r.id)}/close`, { method: "POST", body: { status, entry_id: entryId.value.trim() || null, note: note.value.trim() || null } }), here);
      if (done) {
        toast(status === "done" ? "已关闭：话术已写好" : "已关闭：不写");
        load();
      }
    };
    return h(
      "article",
      { class: "card request", dataset: { requestId: r.id } },
      h("h3", null, r.query),
      h("div", { class: "meta" },
        r.category ? h("span", { class: "badge" }, CATEGORIES[r.category] || r.category) : null,
        r.skus.length ? h("span", null, `产品：${r.skus.join("、")}`) : null,
        r.customer_type ? h("span", null, `客户类型：${CUSTOMER_TYPES[r.customer_type] || r.customer_type}`) : null,
        h("span", { class: "muted" }, `${r.requested_by} · ${dateTime(r.at)}`)),
      h("div", { class: "actions" }, entryId, note,
        h("button", { type: "button", class: "primary", name: "done", onclick: close("done") }, "已写好"),
        h("button", { type: "button", name: "decline", onclick: close("declined") }, "不写"),
        h("button", { type: "button", name: "new-entry", onclick: () => go("entry", "new") }, "新建话术")),
      here,
    );
  }

  load().catch((e) => fill(errors, errorBox(e)));
}

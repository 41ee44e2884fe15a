// The admin's pages: file ingest with progress and the row errors of a rejected file, formulary editions and their
// diff, and API keys (create — the key shown once — and revoke).

import { api, upload } from "./api.js";
import { busy, confirmButton, dateTime, debounce, errorBox, fill, h, idChip, ROLE, spinner, table, toast } from "./ui.js";

// ---------------------------------------------------------------------------------------------- ingest

const TYPE_NAMES = {
  products: "商品",
  indications: "适应症",
  competitors: "竞品价格",
  customers: "客户",
  doctors: "医生",
  prescriptions: "处方",
  reps: "销售代表",
  interactions: "互动记录",
  orders: "订单",
  deals: "商机",
  contracts: "合同",
  entries: "知识条目",
  formulary: "医保目录",
};

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1 << 20) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1 << 20)).toFixed(1)} MB`;
}

/** Upload files to ingest, one after another: progress while sending, then the report or the rejected rows. */
export function ingestPage(main) {
  const input = h("input", { type: "file", name: "file", multiple: true, accept: ".csv,.tsv,.txt,.xlsx,.json,.jsonl,.pdf", "aria-label": "选择文件" });
  const zone = h(
    "div",
    { class: "dropzone" },
    h("p", null, "把文件拖到这里，或"),
    h("label", { class: "button primary" }, "选择文件", input),
    h("p", { class: "small muted" }, "CSV（UTF-8/GBK）、XLSX、JSON、JSON Lines、PDF；表头中英文均可，文件类型按表头自动识别。任何一行有错，整个文件都不会写入。"),
  );
  const fileType = h(
    "select",
    { name: "file_type", "aria-label": "文件类型" },
    h("option", { value: "" }, "自动识别（按表头）"),
    ...Object.entries(TYPE_NAMES).map(([name, label]) => h("option", { value: name }, `${label}（${name}）`)),
  );
  const typeRow = h("p", { class: "small" }, h("label", null, "文件类型：", fileType), h("span", { class: "muted" }, " 表头无法自动识别时，在这里选择类型后重新上传。"));
  const results = h("div", { id: "uploads" });
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    run([...e.dataTransfer.files]);
  });
  input.addEventListener("change", () => {
    run([...input.files]);
    input.value = "";
  });

  async function run(files) {
    for (const file of files) await one(file);
  }

  async function one(file) {
    const bar = h("progress", { max: 100, value: 0 });
    const state = h("div", { class: "small muted state" }, "等待上传…");
    const out = h("div", { class: "outcome" });
    const item = h("div", { class: "upload-item", dataset: { file: file.name } }, h("b", null, file.name), h("span", { class: "muted small" }, ` ${size(file.size)}`), bar, state, out);
    results.prepend(item);
    try {
      const report = await upload("ingest", file, (sent, total) => {
        if (sent === null) {
          bar.removeAttribute("value"); // indeterminate: the server validates and writes
          state.textContent = "已上传，服务器正在校验并写入…";
          return;
        }
        bar.value = total ? Math.round((sent / total) * 100) : 0;
        state.textContent = `上传中 ${bar.value}%`;
      }, { file_type: fileType.value });
      bar.hidden = true;
      item.dataset.outcome = "loaded";
      state.textContent = `已导入，用时 ${report.seconds.toFixed(2)} 秒`;
      fill(out, ingestReport(report));
      toast(`${file.name} 已导入`);
    } catch (e) {
      bar.hidden = true;
      item.dataset.outcome = "rejected";
      state.textContent = "未导入";
      fill(out, rejection(e));
    }
  }

  main.append(h("h1", null, "数据导入"), h("div", { class: "panel" }, zone, typeRow), results);
}

function ingestReport(r) {
  return h(
    "div",
    { class: "ok-box" },
    table(
      [
        { label: "文件", value: (f) => f.file },
        { label: "类型", value: (f) => TYPE_NAMES[f.file_type] || f.file_type },
        { label: "读取行数", value: (f) => String(f.rows_read), class: "num" },
        { label: "写入行数", value: (f) => String(f.rows_loaded), class: "num" },
        { label: "忽略的列", value: (f) => f.ignored_columns.join("、") || "—" },
      ],
      r.files,
    ),
    r.writes.length
      ? table(
          [
            { label: "图谱类型", value: (w) => w.type_name },
            { label: "收到", value: (w) => String(w.received), class: "num" },
            { label: "新建", value: (w) => String(w.created), class: "num" },
            { label: "更新", value: (w) => String(w.updated), class: "num" },
            { label: "未变", value: (w) => String(w.unchanged), class: "num" },
          ],
          r.writes,
        )
      : null,
    r.duplicate_customers ? h("p", { class: "small" }, `发现 ${r.duplicate_customers} 对疑似重复客户（未合并，请人工核对）。`) : null,
    ...r.files
      .filter((f) => f.unconvertible_units)
      .map((f) =>
        h(
          "p",
          { class: "small warn", "data-testid": "unconvertible-units" },
          `${f.file}：${f.unconvertible_units} 行订单的单位无法换算成商品的计价单位（已导入，但在补齐商品的件装量或包装数量之前不参与价格核对）：${f.unit_examples.join("；")}`,
        ),
      ),
  );
}

function rejection(e) {
  const rows = e.details && Array.isArray(e.details.errors) ? e.details.errors : null;
  if (!rows) {
    // the whole file was refused (unknown type, encoding, layout): the message says what to do
    const where = e.details && e.details.row ? `（第 ${e.details.row} 行${e.details.column ? `，列「${e.details.column}」` : ""}）` : "";
    const advice = e.code === "unknown_file_type" ? "。请改正表头，或在上方「文件类型」中选择类型后重新上传。" : "";
    return errorBox({ message: `${e.message}${where}${advice}`, code: e.code });
  }
  const total = e.details.total || rows.length;
  return h(
    "div",
    { class: "row-errors" },
    h("div", { class: "error-box", role: "alert" }, `文件被拒绝：共 ${total} 处错误，没有写入任何数据。${total > rows.length ? `下面列出前 ${rows.length} 处。` : ""}改正后重新上传。`),
    table(
      [
        { label: "文件", value: (r) => r.file },
        { label: "工作表", value: (r) => r.sheet || "—" },
        { label: "行", value: (r) => (r.row === null ? "—" : String(r.row)), class: "num" },
        { label: "列", value: (r) => r.column || "—" },
        { label: "原因", value: (r) => r.reason },
      ],
      rows,
      { rowAttrs: (r) => ({ class: "row-error", dataset: { row: r.row ?? "", column: r.column ?? "" } }) },
    ),
  );
}

// ---------------------------------------------------------------------------------------------- formulary

/** Formulary editions and the products whose status changed between two of them. */
export function formularyPage(main) {
  let alive = true;
  const editionsHost = h("div", null, spinner());
  const oldSel = h("select", { name: "old", "aria-label": "旧版目录" });
  const newSel = h("select", { name: "new", "aria-label": "新版目录" });
  const filter = h("input", { type: "search", name: "filter", placeholder: "筛选品名、编码或变化", "aria-label": "筛选" });
  const compare = h("button", { type: "button", class: "primary", name: "compare" }, "对比");
  const out = h("div", { id: "formulary-diff" });
  let changes = [];

  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    const shown = q ? changes.filter((c) => `${c.sku} ${c.name} ${c.detail}`.toLowerCase().includes(q)) : changes;
    fill(
      out,
      h("p", { class: "muted small" }, `${changes.length} 个产品的目录状态有变化${q ? `，筛选后 ${shown.length} 个` : ""}。`),
      shown.length
        ? table(
            [
              { label: "产品", value: (c) => c.name },
              { label: "编码", value: (c) => idChip(c.sku) },
              { label: "变化", value: (c) => c.detail },
            ],
            shown,
            { rowAttrs: () => ({ class: "change" }) },
          )
        : null,
    );
  };
  filter.addEventListener("input", draw);
  compare.addEventListener("click", () =>
    busy(compare, "对比中…", async () => {
      if (oldSel.value === newSel.value) {
        fill(out, h("div", { class: "notice" }, "请选择两个不同的版本。"));
        return;
      }
      const d = await api("formulary/diff", { query: { old: oldSel.value, new: newSel.value } });
      changes = d.changes;
      draw();
    }, out),
  );

  main.append(
    h("h1", null, "医保目录"),
    h("div", { class: "panel" }, h("h3", null, "已导入的版本"), editionsHost),
    h(
      "div",
      { class: "panel" },
      h("h3", null, "版本对比"),
      h("div", { class: "row" }, h("div", { class: "field" }, h("label", null, "旧版"), oldSel), h("div", { class: "field" }, h("label", null, "新版"), newSel), h("div", { class: "field", style: "flex:0 0 auto" }, compare)),
      h("div", { class: "field" }, filter),
      out,
    ),
  );
  api("formulary/editions")
    .then(({ editions }) => {
      if (!alive) return;
      fill(
        editionsHost,
        editions.length
          ? table(
              [
                { label: "版本", value: (e) => idChip(e.id) },
                { label: "名称", value: (e) => e.name || "—" },
                { label: "生效日期", value: (e) => e.effective_date || "—" },
              ],
              editions,
            )
          : h("p", { class: "muted" }, "还没有导入医保目录（salescopilot formulary apply）。"),
      );
      const opts = (sel, chosen) => fill(sel, editions.map((e) => h("option", { value: e.id, selected: e.id === chosen }, e.id)));
      opts(oldSel, editions.length > 1 ? editions[editions.length - 2].id : null);
      opts(newSel, editions.length ? editions[editions.length - 1].id : null);
      if (editions.length > 1) compare.click();
    })
    .catch((e) => alive && fill(editionsHost, errorBox(e)));
  return () => (alive = false);
}

// ---------------------------------------------------------------------------------------------- keys

/** The tenant's API keys: create one (its text is shown once) and revoke. */
export function keysPage(main, { session }) {
  let alive = true;
  const name = h("input", { type: "text", name: "name", maxlength: 100, required: true, placeholder: "如：张三的报价屏", "aria-label": "名称" });
  const role = h("select", { name: "role", "aria-label": "角色" }, Object.entries(ROLE).map(([k, label]) => h("option", { value: k }, `${label}（${k}）`)));
  const repId = h("input", { type: "text", name: "rep_id", maxlength: 200, placeholder: "销售代表密钥必填：代表编码", "aria-label": "代表编码" });
  const create = h("button", { type: "submit", class: "primary" }, "创建密钥");
  const created = h("div", { id: "created-key" });
  const list = h("div", { id: "key-list" }, spinner());
  const form = h(
    "form",
    { class: "panel" },
    h("h3", null, "新建密钥"),
    h("div", { class: "row" }, h("div", { class: "field" }, h("label", null, "名称"), name), h("div", { class: "field" }, h("label", null, "角色"), role), h("div", { class: "field" }, h("label", null, "代表编码（辖区）"), repId), h("div", { class: "field", style: "flex:0 0 auto" }, create)),
    created,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(create, "创建中…", async () => {
      const rep = role.value === "rep" ? repId.value.trim() || null : null;
      const r = await api("keys", { method: "POST", body: { role: role.value, name: name.value.trim(), rep_id: rep } });
      const text = h("input", { type: "text", readonly: true, value: r.key, name: "new-key", "aria-label": "新密钥" });
      const copyButton = h("button", { type: "button" }, "复制");
      copyButton.addEventListener("click", async () => {
        text.select();
        try {
          await navigator.clipboard.writeText(r.key);
          copyButton.textContent = "已复制";
        } catch {
          copyButton.textContent = "请手动复制";
        }
      });
      fill(
        created,
        h(
          "div",
          { class: "ok-box" },
          h("b", null, `已为「${r.record.name}」创建${ROLE[r.record.role]}密钥。`),
          h("div", { class: "keybox" }, text, copyButton),
          h("div", { class: "small" }, "这是唯一一次显示完整密钥：请现在复制并妥善保存。服务器只保存它的摘要，丢失后只能吊销重建。"),
        ),
      );
      name.value = "";
      load();
    }, created);
  });

  async function load() {
    try {
      const { keys } = await api("keys");
      if (!alive) return;
      fill(
        list,
        table(
          [
            { label: "名称", value: (k) => k.name },
            { label: "角色", value: (k) => ROLE[k.role] || k.role },
            { label: "代表", value: (k) => k.rep_id || "" },
            { label: "编号", value: (k) => idChip(k.id) },
            { label: "创建时间", value: (k) => dateTime(k.created_at) },
            { label: "状态", value: (k) => (k.revoked_at ? h("span", { class: "badge st-retired" }, `已吊销 ${dateTime(k.revoked_at)}`) : h("span", { class: "badge st-published" }, "有效")) },
            {
              label: "操作",
              value: (k) =>
                k.revoked_at
                  ? "—"
                  : confirmButton(k.id === session.keyId ? "吊销（当前登录的密钥）" : "吊销", "确认吊销？", (b) =>
                      busy(b, "吊销中…", async () => {
                        await api(`keys/${encodeURIComponent(k.id)}`, { method: "DELETE" });
                        toast(`已吊销：${k.name}`);
                        load();
                      }),
                    { class: "danger small", name: "revoke" }),
            },
          ],
          keys,
          { rowAttrs: (k) => ({ dataset: { keyId: k.id } }) },
        ),
      );
    } catch (e) {
      if (alive) fill(list, errorBox(e));
    }
  }

  main.append(h("h1", null, "API 密钥"), form, h("div", { class: "panel" }, h("h3", null, "本租户的密钥"), list));
  load();
  return () => (alive = false);
}

// ---------------------------------------------------------------------------------------------- formulary review

const STATE_NAMES = { review: "待复核", not_listed: "不在目录", matched: "已匹配", unchecked: "未判定", all: "全部" };
const NOT_LISTED_REASONS = {
  not_a_drug: "不是药品（保健食品、器械、化妆品…）",
  generic_not_listed: "目录没有该通用名",
  form_excluded: "该剂型/规格不在目录内",
  scope_excluded: "支付范围排除（如含天然麝香、天然牛黄）",
};
/** Every reason code a state can carry, in words (the code stays visible for a support question). */
const REASON_NAMES = {
  ...NOT_LISTED_REASONS,
  ambiguous: "多个目录行同样相符",
  similar_name: "目录中有相近的名称",
  no_form: "品名没有剂型，无法确定目录行",
  variant_missing: "目录行有型号（Ⅰ/Ⅱ），品名没有",
  qualifier: "目录行有限定词，品名没有",
};
const DECIDERS = { rule: "规则", demo: "演示数据" };

/** The formulary review queue: each product's state in an edition; confirm a candidate row or mark it not listed. */
export function formularyReviewPage(main) {
  const stateSel = h("select", { name: "state", "aria-label": "状态" }, ...Object.entries(STATE_NAMES).map(([v, t]) => h("option", { value: v }, t)));
  const search = h("input", { type: "search", name: "q", placeholder: "品名或编码", "aria-label": "搜索" });
  const counts = h("p", { class: "muted small", id: "review-counts" });
  const out = h("div", { id: "formulary-review" }, spinner());
  let edition = null;

  const rowText = (i) => [i.section, i.number, i.nrdl_name || i.name, i.dosage_form, i.category ? `${i.category}类` : ""].filter(Boolean).join(" ");

  async function load() {
    const query = { status: stateSel.value, limit: 200 };
    if (search.value.trim()) query.q = search.value.trim();
    try {
      const page = await api("formulary/review", { query });
      edition = page.edition_id;
      fill(counts, `${edition}：已匹配 ${page.counts.matched}，不在目录 ${page.counts.not_listed}，待复核 ${page.counts.review}，未判定 ${page.counts.unchecked}；当前列表 ${page.total} 个。`);
      fill(out, page.items.length ? h("div", null, ...page.items.map(card)) : h("p", { class: "muted" }, "没有需要处理的商品。"));
    } catch (e) {
      fill(out, errorBox(e));
    }
  }

  function card(item) {
    const reasonSel = h("select", { name: "reason", "aria-label": "不在目录的原因" }, ...Object.entries(NOT_LISTED_REASONS).map(([v, t]) => h("option", { value: v, selected: v === item.reason }, t)));
    const note = h("input", { type: "text", name: "note", placeholder: "备注（可选）", "aria-label": "备注" });
    const markBtn = h("button", { type: "button", name: "not-listed" }, "标为不在目录");
    markBtn.addEventListener("click", () =>
      busy(markBtn, "保存中…", async () => {
        await api(`formulary/review/${encodeURIComponent(item.sku)}/not-listed`, {
          method: "POST",
          body: { edition_id: edition, reason: reasonSel.value, note: note.value.trim() || null },
        });
        toast(`${item.product_name}：已标为不在目录，下一版目录会沿用`);
        load();
      }),
    );
    const candidates = (item.candidates || []).map((c) => {
      const pick = h("button", { type: "button", class: "primary", name: "confirm" }, "确认此行");
      pick.addEventListener("click", () =>
        busy(pick, "保存中…", async () => {
          await api(`formulary/review/${encodeURIComponent(item.sku)}/confirm`, { method: "POST", body: { edition_id: edition, row: c.identity } });
          toast(`${item.product_name}：已确认 ${rowText(c)}`);
          load();
        }),
      );
      return h("li", null, h("span", null, rowText(c)), " ", h("span", { class: "muted small" }, c.why || ""), " ", item.state === "matched" ? null : pick);
    });
    const state = STATE_NAMES[item.state] || item.state;
    return h(
      "div",
      { class: "panel review-item", "data-sku": item.sku },
      h("h3", null, item.product_name, " ", idChip(item.sku), " ", h("span", { class: `badge ${item.state}` }, state)),
      item.state === "matched" ? h("p", null, "目录行：", rowText(item)) : null,
      item.explanation ? h("p", { class: "small" }, item.explanation) : null,
      item.reason && item.state !== "matched" ? h("p", { class: "muted small" }, `原因：${REASON_NAMES[item.reason] || item.reason}（${item.reason}）`) : null,
      candidates.length ? h("div", null, h("p", { class: "small" }, "候选目录行："), h("ul", null, ...candidates)) : null,
      h("div", { class: "row" }, h("div", { class: "field" }, reasonSel), h("div", { class: "field" }, note), h("div", { class: "field", style: "flex:0 0 auto" }, markBtn)),
      item.decided_by ? h("p", { class: "muted small" }, `决定人：${DECIDERS[item.decided_by] || item.decided_by.replace("person:", "")}`) : null,
    );
  }

  stateSel.addEventListener("change", load);
  search.addEventListener("input", debounce(load, 300));
  main.append(
    h("h1", null, "医保目录复核"),
    h("p", { class: "muted" }, "每个商品在所选目录版本中只有一种状态：已匹配（目录行）、不在目录（原因）或待复核。确认或标记后，下一版目录会沿用这一决定。"),
    h("div", { class: "row" }, h("div", { class: "field" }, h("label", null, "状态"), stateSel), h("div", { class: "field" }, h("label", null, "搜索"), search)),
    counts,
    out,
  );
  load();
}

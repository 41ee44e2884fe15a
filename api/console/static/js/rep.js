// The rep's pages: deal draft → matching cases, objection box, customer briefing (with PDF), and the quote editor.

import { api, filenameOf } from "./api.js";
import { colorOf, priceChart } from "./chart.js";
import {
  busy,
  customerPicker,
  debounce,
  errorBox,
  fill,
  h,
  idChip,
  parseAmount,
  productChips,
  productPicker,
  saveBlob,
  spinner,
  table,
  TYPE,
  understood,
  yuan,
} from "./ui.js";

const PART = {
  problem: "同类问题",
  products: "同产品",
  indications: "同适应症",
  segment: "客户类型",
  type: "客户类型",
  tier: "客户级别",
  region: "区域",
  size: "规模",
  text: "情境文本",
};

// ---------------------------------------------------------------------------------------------- deal draft

/** Deal draft: pick the customer and products, describe the situation, get the 3 best past cases and why. */
export function dealPage(main) {
  let customer = null;
  const cust = customerPicker((c) => (customer = c));
  const products = productChips();
  const text = h("textarea", {
    name: "situation",
    rows: 3,
    maxlength: 2000,
    placeholder: "例如：连锁总部想做慢病会员日，担心毛利",
    "aria-label": "情况描述",
  });
  // a new customer has no id yet: the rep describes it (type, tier, region, size) instead of picking one
  const isNew = h("input", { type: "checkbox", name: "new_customer", "aria-label": "新客户" });
  const newType = h("select", { name: "profile_type", "aria-label": "新客户类型" },
    Object.entries(TYPE).map(([v, label]) => h("option", { value: v }, label)));
  const newTier = h("input", { name: "profile_tier", maxlength: 50, placeholder: "级别，如 B", "aria-label": "级别" });
  const newRegion = h("input", { name: "profile_region", maxlength: 100, placeholder: "大区，如 华东", "aria-label": "大区" });
  const newStores = h("input", { name: "profile_stores", type: "number", min: 0, placeholder: "门店数", "aria-label": "门店数" });
  const newBox = h("div", { class: "field", hidden: true }, h("label", null, "新客户情况"), newType, newTier, newRegion, newStores);
  isNew.addEventListener("change", () => {
    newBox.hidden = !isNew.checked;
    cust.el.hidden = isNew.checked;
  });
  const errors = h("div");
  const results = h("div", { class: "cards", id: "cases" });
  const button = h("button", { type: "submit", class: "primary" }, "推荐案例");
  const form = h(
    "form",
    { class: "panel" },
    h("div", { class: "field" }, h("label", null, "客户"), cust.el, h("label", { class: "small" }, isNew, " 新客户（还没有编码）")),
    newBox,
    products.el,
    h("div", { class: "field" }, h("label", null, "情况描述（可选）"), text),
    errors,
    h("div", { class: "actions" }, button),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!customer && !isNew.checked) {
      fill(errors, errorBox({ message: "请先从列表中选择客户，或勾选“新客户”填写客户情况。" }));
      return;
    }
    const who = isNew.checked
      ? {
          profile: {
            type: newType.value,
            tier: newTier.value || null,
            region: newRegion.value || null,
            store_count: newStores.value ? Number(newStores.value) : null,
          },
        }
      : { customer_id: customer.id };
    busy(button, "推荐中…", async () => {
      const found = await api("case-suggestions", {
        method: "POST",
        body: { ...who, skus: products.get().map((p) => p.sku), text: text.value, k: 3 },
      });
      drawCases(results, found.cases, found.label);
    }, errors);
  });
  main.append(h("h1", null, "商机草稿 · 案例推荐"), form, results);
}

function drawCases(host, cases, label) {
  if (!cases.length) {
    fill(host, h("div", { class: "notice" }, "没有找到匹配的已发布成功案例。换几个产品或补充情况描述再试。"));
    return;
  }
  fill(
    host,
    label
      ? h("div", { class: "notice" }, `${label}：没有与这个情况很相符的成功案例，下面的案例仅供参考。`)
      : null,
    h("h2", null, label ? `${cases.length} 个相关案例（${label}）` : `为你找到 ${cases.length} 个相似成功案例`),
    cases.map((c, i) =>
      h(
        "article",
        { class: "card case", dataset: { entryId: c.entry_id } },
        h("div", { class: "card-title" }, h("span", { class: "rank" }, String(i + 1)), h("h3", null, c.title)),
        c.outcome ? h("p", { class: "outcome" }, c.outcome) : null,
        h("p", null, c.summary),
        h("div", { class: "label small muted" }, "为什么匹配"),
        h("ul", { class: "why" }, c.why.map((w) => h("li", null, w))),
        h(
          "div",
          { class: "parts" },
          Object.entries(c.parts).map(([k, v]) =>
            h("div", { class: "part" }, `${PART[k] || k} ${v.toFixed(2)}`, h("div", { class: "bar" }, h("i", { style: `width:${Math.round(v * 100)}%` }))),
          ),
        ),
        h("div", { class: "meta" }, h("span", null, `匹配度 ${c.score.toFixed(2)}${c.weak ? "（低）" : ""}`), idChip(c.entry_id), c.customer_id ? idChip(c.customer_id) : null),
      ),
    ),
  );
}

// ---------------------------------------------------------------------------------------------- objections

/** Objection box: what the customer said → published scripts, each with its source entry and version. */
export function objectionPage(main) {
  const text = h("textarea", {
    name: "objection",
    rows: 3,
    maxlength: 1000,
    required: true,
    placeholder: "例如：店长说立普妥太贵了，隔壁药房便宜",
    "aria-label": "客户异议",
  });
  const products = productChips("相关产品（可选）");
  const errors = h("div");
  const results = h("div", { class: "cards", id: "answers" });
  const button = h("button", { type: "submit", class: "primary" }, "找话术");
  const form = h(
    "form",
    { class: "panel" },
    h("div", { class: "field" }, h("label", null, "客户怎么说"), text),
    products.el,
    errors,
    h("div", { class: "actions" }, button),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!text.value.trim()) return;
    busy(button, "检索中…", async () => {
      const found = await api("objection-answers", {
        method: "POST",
        body: { objection: text.value.trim(), skus: products.get().map((p) => p.sku), k: 3 },
      });
      drawAnswers(results, found);
    }, errors);
  });
  main.append(h("h1", null, "异议应答"), form, results);
}

const CATEGORY = {
  price: "价格", formulary: "进院/目录", efficacy: "疗效", side_effects: "不良反应", stock: "库存/配送",
  payment_terms: "账期/付款", insurance_card: "医保报销", compliance: "合规", dtp_prescription: "DTP/处方",
  vbp: "集采", margin_display: "毛利/陈列", incumbent_supplier: "现有供应商", contract_renewal: "合同续约",
};

/** What the copilot read: typos put right, products, terms — so a rep can see why an answer came back. */
function readingLine(r) {
  const parts = [];
  if (r.fixes.length) parts.push(`已纠正：${r.fixes.map((f) => `${f.typed}→${f.read_as}`).join("、")}`);
  if (r.terms.length) parts.push(`识别术语：${r.terms.join("、")}`);
  if (r.categories.length) parts.push(`异议类别：${r.categories.map((c) => CATEGORY[c] || c).join("、")}`);
  return parts.length ? h("p", { class: "muted reading" }, parts.join("　")) : null;
}

function answerCard(a) {
  return h(
    "article",
    { class: `card answer${a.nearest ? " nearest" : ""}`, dataset: { entryId: a.entry_id, version: a.version, level: a.level } },
    h("h3", null, h("span", { class: `badge level-${a.level}` }, a.nearest ? `${a.badge}·最接近` : a.badge), " ", a.title),
    a.under_review ? h("div", { class: "stale-reason severity-review small" }, `待复核：${a.under_review}（内容仍正确，可能不完整）`) : null,
    h("div", { class: "pre" }, a.script),
    h(
      "div",
      { class: "meta" },
      h("span", { class: "source" }, `来源：${a.entry_id} · 第 ${a.version} 版`),
      a.category ? h("span", { class: "badge" }, CATEGORY[a.category] || a.category) : null,
      h("span", { class: "muted" }, a.why.join("；")),
      h("button", { type: "button", class: "small", onclick: (e) => copy(e.target, a.script) }, "复制话术"),
    ),
  );
}

/** The formulary changes of the question's products: said first, from the formulary itself. */
function formularyLead(found) {
  if (!found.formulary_changes || !found.formulary_changes.length) return null;
  return h(
    "div",
    { class: "notice formulary-change", id: "formulary-change" },
    h("strong", null, "先说医保目录变化："),
    found.formulary_changes.map((c) => h("div", null, c.text)),
  );
}

function drawAnswers(host, found) {
  const reading = readingLine(found.reading);
  const lead = formularyLead(found);
  if (found.status === "no_match") {
    const request = h("button", { type: "button", class: "primary", id: "request-script" }, "请培训部补写话术");
    const done = h("span", { class: "muted", role: "status" });
    request.addEventListener("click", async () => {
      const made = await busy(request, "提交中…", () => api("script-requests", { method: "POST", body: found.request_script.body }), done);
      if (made) {
        request.disabled = true;
        request.textContent = "已提交";
        done.textContent = `已提交（${made.id}），培训部会在待写话术队列中看到。`;
      }
    });
    fill(
      host,
      lead,
      h("div", { class: "notice no-match" }, h("strong", null, "无匹配话术"), "：没有针对这个问题的已发布话术。", reading),
      found.nearest_general.length ? h("h2", null, "最接近的通用话术（仅供参考）") : null,
      ...found.nearest_general.map(answerCard),
      h("div", { class: "actions" }, request, done),
    );
    return;
  }
  fill(host, lead, reading, ...found.answers.map(answerCard));
}

async function copy(button, text) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "已复制";
  } catch {
    button.textContent = "复制失败，请手动选择";
  }
}

// ---------------------------------------------------------------------------------------------- briefing

const SECTIONS = [
  ["interactions", "最近互动"],
  ["open_next_steps", "待跟进事项"],
  ["doctors", "医生处方偏好"],
  ["likely_objections", "可能的异议与话术"],
  ["matching_cases", "相似成功案例"],
  ["contracts_ending", "即将到期的合同"],
  ["open_deals", "在谈商机"],
];

/** Customer page: pick a customer, read the visit briefing pack, download it as PDF (or Markdown). */
export function customerPage(main, { args, go }) {
  const id = args[0];
  const cust = customerPicker((c) => go("customer", c.id), "选择客户");
  const body = h("div", { id: "briefing" });
  main.append(h("h1", null, "客户简报"), h("div", { class: "panel" }, h("div", { class: "field" }, h("label", null, "客户"), cust.el)), body);
  if (!id) {
    body.append(h("p", { class: "muted" }, "选择一个客户，查看拜访前的简报：概况、健康度、互动、采购缺口、医保变化、可能的异议、相似案例和合同。"));
    return;
  }
  body.append(spinner("正在生成简报…"));
  let alive = true;
  Promise.all([api(`customers/${encodeURIComponent(id)}`), api(`customers/${encodeURIComponent(id)}/briefing`)])
    .then(([customer, pack]) => {
      if (!alive) return;
      cust.set(customer);
      drawBriefing(body, customer, pack);
    })
    .catch((e) => alive && fill(body, errorBox(e)));
  return () => (alive = false);
}

function facts(list) {
  if (!list || !list.length) return h("p", { class: "muted" }, "无");
  return h("ul", { class: "facts-list" }, list.map((f) => h("li", null, f.text, " ", idChip(f.node_id))));
}

function drawBriefing(host, customer, pack) {
  const errors = h("div");
  const download = (fmt, label) => {
    const b = h("button", { type: "button", class: fmt === "pdf" ? "primary" : null, dataset: { download: fmt } }, label);
    b.addEventListener("click", () =>
      busy(b, "生成中…", async () => {
        const r = await api(`customers/${encodeURIComponent(customer.id)}/briefing`, { query: { format: fmt }, raw: true });
        saveBlob(await r.blob(), filenameOf(r, `briefing-${customer.id}.${fmt}`));
      }, errors),
    );
    return b;
  };
  const tierClass = { 健康: "st-published", 关注: "st-stale", 风险: "st-retired" }[pack.health.tier] || "";
  fill(
    host,
    h(
      "div",
      { class: "panel" },
      h("h2", null, customer.name),
      h(
        "p",
        { class: "muted" },
        [TYPE[customer.type] || customer.type, customer.city, customer.region, customer.tier ? `${customer.tier}级` : null]
          .filter(Boolean)
          .join(" · "),
        " ",
        idChip(customer.id),
        ` · 简报日期 ${pack.as_of}`,
      ),
      h("div", { class: "actions" }, download("pdf", "下载 PDF"), download("md", "下载 Markdown")),
      errors,
    ),
    pack.urgent && pack.urgent.length
      ? h("section", { class: "panel urgent", id: "urgent" }, h("h3", null, "紧急事项（先处理）"), facts(pack.urgent))
      : null,
    h(
      "div",
      { class: "brief-grid" },
      h(
        "section",
        { class: "panel" },
        h("h3", null, "客户概况与健康度"),
        h(
          "div",
          { class: "health" },
          h("span", { class: "score" }, String(pack.health.score)),
          h("span", { class: `badge ${tierClass}` }, pack.health.tier),
        ),
        table(
          [
            { label: "因素", value: (f) => f.name },
            { label: "情况", value: (f) => f.value },
            { label: "得分", value: (f) => String(f.points), class: "num" },
          ],
          pack.health.factors,
          { stack: false },
        ),
        facts(pack.profile),
      ),
      h(
        "section",
        { class: "panel" },
        h("h3", null, "采购缺口"),
        pack.purchase_gaps.length
          ? h(
              "ul",
              { class: "facts-list" },
              pack.purchase_gaps.map((g) =>
                h("li", null, h("b", null, g.name), `：${g.detail} `, h("span", { class: "badge" }, g.kind === "overdue" ? "该补货" : "同类在买"), " ", idChip(g.sku)),
              ),
            )
          : h("p", { class: "muted" }, "无"),
        h("h3", null, "医保目录变化"),
        pack.formulary_changes.length
          ? h("ul", { class: "facts-list" }, pack.formulary_changes.map((c) => h("li", null, h("b", null, c.name), `：${c.detail} `, idChip(c.sku))))
          : h("p", { class: "muted" }, "无"),
      ),
      SECTIONS.map(([key, title]) => h("section", { class: "panel" }, h("h3", null, title), facts(pack[key]))),
    ),
  );
}

// ---------------------------------------------------------------------------------------------- quote editor

const VERDICT = {
  ok: "价格正常",
  low: "低于同类成交",
  high: "高于同类成交",
  below_floor: "低于公司底价",
  above_payment_standard: "高于医保支付标准",
  no_history: "无同类成交记录",
  unknown_customer: "未知客户",
  unknown_product: "未知商品",
  unknown_unit: "单位无法换算",
};
const SEVERITY = { none: "", minor: "轻度", major: "明显", critical: "严重" };
const CHECK_DELAY_MS = 100; // debounce: one check per pause in typing

/** Quote editor: every line is checked as the rep types (debounced), with the verdict, band, evidence and a chart. */
export function quotePage(main) {
  let customer = null;
  const lines = [];
  const cust = customerPicker((c) => {
    customer = c;
    lines.forEach((l) => l.check());
  });
  const list = h("div", { id: "quote-lines" });
  const add = h("button", { type: "button", onclick: () => addLine() }, "＋ 添加一行");

  function addLine() {
    const line = quoteLine(() => customer, () => {
      lines.splice(lines.indexOf(line), 1);
      line.el.remove();
    });
    lines.push(line);
    list.append(line.el);
    return line;
  }

  main.append(
    h("h1", null, "报价校验"),
    h(
      "div",
      { class: "panel" },
      h("div", { class: "field" }, h("label", null, "客户"), cust.el),
      h("p", { class: "muted small" }, "每改一次单价或数量，都会按同类客户近 12 个月的成交自动校验：绿色正常，黄色轻度偏离，红色明显偏离或违反价格政策。"),
    ),
    list,
    h("div", { class: "actions" }, add),
  );
  addLine();
  return () => lines.forEach((l) => l.dispose());
}

function quoteLine(getCustomer, remove) {
  let product = null;
  let seq = 0;
  let controller = null;
  const facts = h("div", { class: "product-facts" });
  const pick = productPicker((p) => {
    product = p;
    fill(facts, [p.sku, p.spec, p.list_price != null ? `指导价 ${yuan(p.list_price)}` : null, p.floor_price != null ? `底价 ${yuan(p.floor_price)}` : null]
      .filter(Boolean).join(" · "));
    unitLabel.textContent = `单价（元/${p.unit || "单位"}）`;
    qtyLabel.textContent = `数量（${p.unit || "单位"}）`;
    check();
  });
  // text fields, not type=number: a Chinese input method types full-width digits, which a number field refuses
  const qty = h("input", { type: "text", name: "qty", inputmode: "decimal", autocomplete: "off", placeholder: "1", "aria-label": "数量" });
  const price = h("input", { type: "text", name: "price", inputmode: "decimal", autocomplete: "off", placeholder: "0.00", "aria-label": "单价" });
  const qtyRead = h("span", { class: "understood small muted", "aria-live": "polite", dataset: { for: "qty" } });
  const priceRead = h("span", { class: "understood small muted", "aria-live": "polite", dataset: { for: "price" } });
  const unitLabel = h("label", null, "单价（元）");
  const qtyLabel = h("label", null, "数量");
  const verdict = h("div", { class: "verdict", "aria-live": "polite", dataset: { state: "empty" } },
    h("p", { class: "muted small" }, "选择客户和产品、输入单价后自动校验。"));
  const el = h(
    "div",
    { class: "quote-line c-grey" },
    h(
      "div",
      { class: "quote-inputs" },
      h("div", { class: "field product" }, h("label", null, "产品"), pick.el, facts),
      h("div", { class: "field" }, qtyLabel, qty, qtyRead),
      h("div", { class: "field" }, unitLabel, price, priceRead),
      h("button", { type: "button", class: "ghost small remove", onclick: () => (dispose(), remove()), "aria-label": "删除这一行" }, "删除"),
    ),
    verdict,
  );

  const scheduled = debounce(() => check(), CHECK_DELAY_MS);
  // the number each field was read as shows at once; the check itself waits for a pause in typing
  const showRead = () => {
    priceRead.textContent = understood(price.value);
    qtyRead.textContent = understood(qty.value);
  };
  price.addEventListener("input", () => (showRead(), scheduled()));
  qty.addEventListener("input", () => (showRead(), scheduled()));

  function setColor(color) {
    el.className = `quote-line c-${color}`;
  }

  async function check() {
    scheduled.cancel();
    const customer = getCustomer();
    showRead();
    const raw = price.value.trim();
    const unitPrice = parseAmount(raw);
    const my = ++seq;
    if (controller) controller.abort();
    if (!customer || !product || !raw) {
      setColor("grey");
      verdict.dataset.state = "empty";
      delete verdict.dataset.price;
      fill(verdict, h("p", { class: "muted small" }, !customer ? "先选择客户。" : !product ? "选择产品。" : "输入单价后自动校验。"));
      return;
    }
    if (!Number.isFinite(unitPrice) || unitPrice <= 0) {
      setColor("grey");
      verdict.dataset.state = "invalid";
      fill(verdict, h("p", { class: "muted small" }, "单价需要是大于 0 的数字。"));
      return;
    }
    const q = parseAmount(qty.value);
    const line = { customer_id: customer.id, sku: product.sku, unit_price: unitPrice };
    if (Number.isFinite(q) && q > 0) line.qty = q;
    controller = new AbortController();
    try {
      const found = await api("price-checks", { method: "POST", body: { lines: [line] }, signal: controller.signal });
      if (my !== seq) return;
      drawVerdict(found.lines[0], raw, unitPrice);
    } catch (e) {
      if (my !== seq || (e && e.name === "AbortError")) return;
      setColor("grey");
      verdict.dataset.state = "error";
      fill(verdict, errorBox(e));
    }
  }

  function drawVerdict(v, typed, read) {
    const color = colorOf(v.verdict, v.severity);
    setColor(color);
    verdict.dataset.state = "checked";
    verdict.dataset.verdict = v.verdict;
    verdict.dataset.color = color;
    verdict.dataset.price = typed;
    verdict.dataset.read = String(read);
    const hasBand = v.band_low !== null && v.band_high !== null;
    const chart = priceChart(v);
    fill(
      verdict,
      h(
        "div",
        { class: "verdict-head" },
        h("span", { class: `light c-${color}` }, VERDICT[v.verdict] || v.verdict, SEVERITY[v.severity] ? `（${SEVERITY[v.severity]}）` : ""),
        h("span", { class: "explanation" }, v.explanation),
      ),
      v.suggestions && v.suggestions.length
        ? h("p", { class: "small suggestions" }, v.verdict === "unknown_unit" ? "可用单位：" : "您是不是要找：", v.suggestions.join("、"))
        : null,
      h(
        "div",
        { class: "facts" },
        hasBand ? h("div", { class: "wide" }, h("span", { class: "k" }, "合理区间"), h("b", { class: "band" }, `${yuan(v.band_low)} – ${yuan(v.band_high)}`)) : null,
        v.reference_price !== null && v.reference_price !== undefined ? h("div", null, h("span", { class: "k" }, "参考价"), h("b", null, yuan(v.reference_price))) : null,
        v.percentile !== null ? h("div", null, h("span", { class: "k" }, "报价分位"), h("b", { class: "percentile" }, `P${Math.round(v.percentile)}`)) : null,
        v.level_name ? h("div", null, h("span", { class: "k" }, "依据"), v.level_name) : null,
        h("div", null, h("span", { class: "k" }, v.reference === "own" ? "本客户成交" : "参考客户"), h("b", null, `${v.peer_count} ${v.reference === "own" ? "笔" : "家"}`)),
        v.promotion_name ? h("div", { class: "wide" }, h("span", { class: "k" }, "促销"), v.promotion_name) : null,
        v.event ? h("div", null, h("span", { class: "k" }, "价格事件"), v.event) : null,
        v.floor_price !== null ? h("div", null, h("span", { class: "k" }, "底价"), h("b", null, yuan(v.floor_price))) : null,
        v.payment_standard !== null ? h("div", null, h("span", { class: "k" }, "医保支付标准"), h("b", null, yuan(v.payment_standard))) : null,
      ),
      chart,
      chart ? h("div", { class: "small muted" }, "绿色区域：合理区间；竖线：参考价；灰点：参考成交；彩色标记：本次报价。") : null,
      v.evidence.length
        ? h(
            "details",
            { class: "evidence" },
            h("summary", null, `参考成交 ${v.evidence.length} 笔`),
            table(
              [
                { label: "客户", value: (e) => e.customer_name },
                { label: "日期", value: (e) => e.at },
                { label: "数量", value: (e) => String(e.qty), class: "num" },
                { label: "单价", value: (e) => yuan(e.unit_price), class: "num" },
                { label: "订单", value: (e) => idChip(e.order_id) },
              ],
              v.evidence,
            ),
          )
        : null,
    );
  }

  function dispose() {
    scheduled.cancel();
    if (controller) controller.abort();
    seq++;
  }

  return { el, check, dispose };
}

// Small DOM helpers shared by the pages. Text from the API is always set as text (never as HTML).

import { api } from "./api.js";

/**
 * Create an element: h("button", {class: "primary", onclick: fn, dataset: {x: 1}}, "文字", child, [more]).
 * Strings become text nodes; null/false children are skipped; arrays are flattened.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "value") el.value = v;
    else if (k === "style") el.style.cssText = v; // through the CSSOM: allowed by the page's CSP
    else if (k === "checked" || k === "disabled" || k === "selected") el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** An SVG element with attributes. */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

/** Replace an element's content. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

/** A short message in the corner for a few seconds. */
export function toast(message, kind = "") {
  const box = document.getElementById("toast");
  const t = h("div", { class: `t ${kind}` }, message);
  box.append(t);
  setTimeout(() => t.remove(), kind === "err" ? 6000 : 3500);
}

/** A box with an API error's message (and its code, for a support request). */
export function errorBox(error) {
  if (error && error.name === "AbortError") return null;
  const code = error && error.code ? error.code : "";
  const message = (error && error.message) || String(error);
  return h("div", { class: "error-box", role: "alert" }, message, code ? h("div", { class: "code" }, code) : null);
}

export function spinner(text = "加载中…") {
  return h("span", { class: "spinner" }, text);
}

/** Run `work` with the button disabled and showing `busyText`; errors go to `errorHost` (or a toast). */
export async function busy(button, busyText, work, errorHost) {
  const label = button.textContent;
  button.disabled = true;
  button.textContent = busyText;
  if (errorHost) errorHost.replaceChildren();
  try {
    return await work();
  } catch (e) {
    if (errorHost) errorHost.replaceChildren(errorBox(e) || "");
    else toast(e.message || String(e), "err");
    return undefined;
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

/** A button that asks once more ("确认…?") before doing something that cannot be undone. */
export function confirmButton(label, confirmLabel, action, attrs = {}) {
  let armed = false;
  let timer = null;
  const button = h("button", { type: "button", class: "danger", ...attrs }, label);
  button.addEventListener("click", async () => {
    if (!armed) {
      armed = true;
      button.textContent = confirmLabel;
      button.classList.add("confirming");
      timer = setTimeout(() => {
        armed = false;
        button.textContent = label;
        button.classList.remove("confirming");
      }, 4000);
      return;
    }
    clearTimeout(timer);
    armed = false;
    button.classList.remove("confirming");
    button.textContent = label;
    await action(button);
  });
  return button;
}

/** Save a Blob as a file through a temporary link (the key stays in the request header, never in a URL). */
export function saveBlob(blob, filename) {
  const href = URL.createObjectURL(blob);
  const a = h("a", { href, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(href);
    a.remove();
  }, 1000);
}

export const STATUS = {
  draft: "草稿",
  in_review: "待审核",
  published: "已发布",
  stale: "已下架",
  retired: "已停用",
};

export const KIND = {
  objection_script: "异议话术",
  case_study: "成功案例",
  product_note: "产品要点",
  faq: "常见问题",
};

export const ROLE = { rep: "销售代表", trainer: "培训师", admin: "管理员", service: "报价系统", store: "店长", safety: "药物警戒" };

export function statusBadge(status) {
  return h("span", { class: `badge st-${status}`, dataset: { status } }, STATUS[status] || status);
}

export function idChip(id) {
  return h("span", { class: "id", title: "来源节点" }, id);
}

export function yuan(x, digits = 2) {
  if (x === null || x === undefined || Number.isNaN(x)) return "—";
  return `¥${Number(x).toFixed(digits)}`;
}

/**
 * The number in what a person typed into an amount field, or NaN. Chinese input methods give full-width digits
 * (１２.８) and a full-width or ideographic decimal point (１２．８, 12。8): both are read as ASCII; ¥, ￥, 元 and spaces
 * are ignored. A single comma followed by one or two digits at the end is a decimal comma (12,8 → 12.8); otherwise
 * commas must separate thousands (1,280 → 1280, 1,280.50 → 1280.5), and anything else is not a number.
 */
export function parseAmount(text) {
  let t = String(text ?? "")
    .replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0))
    .replace(/[．。｡]/g, ".")
    .replace(/，/g, ",")
    .replace(/[¥￥元\s]/g, "");
  if (/^\d+,\d{1,2}$/.test(t)) t = t.replace(",", ".");
  else if (/^\d{1,3}(,\d{3})+(\.\d*)?$/.test(t)) t = t.replace(/,/g, "");
  return /^(\d+(\.\d*)?|\.\d+)$/.test(t) ? Number(t) : NaN;
}

/** How an amount field shows the number it understood (empty while the field is empty). */
export function understood(text) {
  if (!String(text ?? "").trim()) return "";
  const n = parseAmount(text);
  return Number.isFinite(n) ? `读作 ${n}` : "不是数字";
}

export function dateTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/**
 * A table; `columns` = [{label, value: row => text|Node, class}]. On a phone it stacks (each cell labelled) unless
 * `stack` is false (a small table that fits).
 */
export function table(columns, rows, { onRowClick, rowAttrs, stack = true } = {}) {
  const head = h("thead", null, h("tr", null, columns.map((c) => h("th", { class: c.class }, c.label))));
  const body = h(
    "tbody",
    null,
    rows.map((row) =>
      h(
        "tr",
        {
          class: onRowClick ? "clickable" : null,
          onclick: onRowClick ? () => onRowClick(row) : null,
          ...(rowAttrs ? rowAttrs(row) : {}),
        },
        columns.map((c) => {
          const v = c.value(row);
          return h("td", { class: c.class, "data-label": c.label }, v === null || v === undefined ? "—" : v);
        }),
      ),
    ),
  );
  return h("div", { class: "table-wrap" }, h("table", { class: stack ? "stack" : null }, head, body));
}

/**
 * A search-as-you-type field: `search(q)` gives items, `render(item)` = {title, sub}; `onPick(item)` on choice.
 * Arrow keys and Enter choose too. Returns {el, input, set(item), clear()}.
 */
export function picker({ label, placeholder, search, render, onPick, name }) {
  const input = h("input", {
    type: "search",
    placeholder,
    autocomplete: "off",
    "aria-label": label,
    name,
    role: "combobox",
    "aria-expanded": "false",
  });
  const list = h("ul", { class: "suggest", role: "listbox", hidden: true });
  let items = [];
  let active = -1;
  let seq = 0;

  const hide = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
  };
  const choose = (item) => {
    hide();
    input.value = render(item).title;
    onPick(item);
  };
  const draw = () => {
    fill(
      list,
      items.length
        ? items.map((item, i) => {
            const r = render(item);
            return h(
              "li",
              {
                role: "option",
                class: i === active ? "active" : null,
                onmousedown: (e) => {
                  e.preventDefault();
                  choose(item);
                },
              },
              r.title,
              r.sub ? h("span", { class: "sub" }, r.sub) : null,
            );
          })
        : h("li", { class: "empty" }, "没有匹配项"),
    );
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  };
  const run = debounce(async () => {
    const my = ++seq;
    try {
      const found = await search(input.value.trim());
      if (my !== seq || document.activeElement !== input) return;
      items = found;
      active = items.length ? 0 : -1;
      draw();
    } catch {
      hide();
    }
  }, 120);
  input.addEventListener("input", run);
  input.addEventListener("focus", run);
  input.addEventListener("blur", () => setTimeout(hide, 150));
  input.addEventListener("keydown", (e) => {
    if (list.hidden) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (!items.length) return;
      active = (active + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      draw();
    } else if (e.key === "Enter" && active >= 0 && items[active]) {
      e.preventDefault();
      choose(items[active]);
    } else if (e.key === "Escape") {
      hide();
    }
  });
  const el = h("div", { class: "picker" }, input, list);
  return {
    el,
    input,
    set(item) {
      input.value = item ? render(item).title : "";
    },
    clear() {
      input.value = "";
    },
  };
}

/** Customers of the caller's tenant matching a name, id or city. */
export async function searchCustomers(q) {
  return (await api("customers", { query: { q, limit: 8 } })).items;
}

/** Products matching a name, generic name, brand or SKU. */
export async function searchProducts(q) {
  return (await api("products", { query: { q, limit: 8 } })).items;
}

export const TYPE = { chain: "连锁", single_pharmacy: "单体药店", hospital: "医院", clinic: "诊所", dtp: "DTP药房" };

export function customerPicker(onPick, label = "客户") {
  return picker({
    label,
    name: "customer",
    placeholder: "输入客户名称、编码或城市",
    search: searchCustomers,
    render: (c) => ({
      title: `${c.name}（${c.id}）`,
      sub: [TYPE[c.type] || c.type, c.city, c.tier ? `${c.tier}级` : null].filter(Boolean).join(" · "),
    }),
    onPick,
  });
}

export function productPicker(onPick, label = "产品") {
  return picker({
    label,
    name: "product",
    placeholder: "输入品名、通用名、品牌或编码",
    search: searchProducts,
    render: (p) => ({
      title: `${p.name}${p.spec ? ` ${p.spec}` : ""}`,
      sub: [p.sku, p.brand, p.manufacturer].filter(Boolean).join(" · "),
    }),
    onPick,
  });
}

/** A product picker that collects several products as removable chips; `get()` gives the chosen products. */
export function productChips(label = "产品（可多选）") {
  const chosen = new Map();
  const chips = h("div", { class: "chips" });
  const draw = () =>
    fill(
      chips,
      [...chosen.values()].map((p) =>
        h(
          "span",
          { class: "chip", dataset: { sku: p.sku } },
          h("span", null, p.name),
          h("button", { type: "button", "aria-label": `移除 ${p.name}`, onclick: () => (chosen.delete(p.sku), draw()) }, "×"),
        ),
      ),
    );
  const pick = productPicker((p) => {
    chosen.set(p.sku, p);
    pick.clear();
    draw();
  }, label);
  const el = h("div", { class: "field" }, h("label", null, label), pick.el, chips);
  return { el, get: () => [...chosen.values()], input: pick.input };
}

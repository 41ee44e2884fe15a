// Competitor prices: a store manager uploads a photo of a competitor's poster or price tag; the photo page shows it
// with the recognised boxes drawn; the matrix page lists the latest price per SKU × competitor × city against ours;
// reviewers settle the items the SKU resolution was not sure of, each shown with its crop of the photo.

import { api, filenameOf, upload } from "./api.js";
import { errorBox, fill, h, saveBlob, spinner, svg, table, toast, yuan } from "./ui.js";

const RESOLUTION = { matched: "已匹配", not_carried: "非我方商品", review: "待复核", corrected: "已人工确认" };
const COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#17becf", "#8c564b", "#e377c2"];

/** The photo file as an object URL (fetched with the session's key: the key never goes into a URL). */
async function photoUrl(photoId) {
  const response = await api(`competitor-photos/${photoId}/image`, { raw: true });
  return URL.createObjectURL(await response.blob());
}

function price(x) {
  return x === null || x === undefined ? "—" : yuan(x);
}

function resolutionBadge(o) {
  return h("span", { class: `badge res-${o.resolution}`, title: o.resolution_reason }, RESOLUTION[o.resolution] || o.resolution);
}

// ---------------------------------------------------------------------------------------------- upload

export function uploadPage(main, { go }) {
  const file = h("input", { type: "file", name: "file", accept: "image/jpeg,image/png,image/heic,.heic", required: true, "aria-label": "照片" });
  const customer = h("input", { name: "customer_id", placeholder: "如 C-HZ-00001（可不填）", "aria-label": "门店客户编号" });
  const competitor = h("input", { name: "competitor", placeholder: "如 益丰大药房（不填则按海报上的店名）", "aria-label": "竞品门店" });
  const taken = h("input", { type: "date", name: "taken_on", "aria-label": "拍摄日期" });
  const progress = h("div", { class: "small muted" });
  const result = h("div");
  const button = h("button", { type: "submit", class: "primary" }, "上传并识别");
  const form = h(
    "form",
    { class: "panel", id: "photo-form" },
    h("h1", null, "上传竞品海报 / 价签照片"),
    h("p", { class: "muted" }, "JPEG、PNG 或 HEIC，最大 10 MB。照片里的拍摄日期优先；识别出的商品自动匹配到我方 SKU，价格矩阵随即更新。"),
    h("div", { class: "field" }, h("label", null, "照片"), file),
    h("div", { class: "field" }, h("label", null, "门店（我方客户编号）"), customer),
    h("div", { class: "field" }, h("label", null, "竞品门店名称"), competitor),
    h("div", { class: "field" }, h("label", null, "拍摄日期"), taken),
    h("div", { class: "actions" }, button),
    progress,
    result,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!file.files.length) return;
    button.disabled = true;
    result.replaceChildren();
    try {
      const body = await upload(
        "competitor-photos",
        file.files[0],
        (sent, total) => {
          progress.textContent = sent === null ? "正在识别照片…" : `上传中 ${Math.round((100 * sent) / (total || 1))}%`;
        },
        { customer_id: customer.value.trim(), competitor: competitor.value.trim(), taken_on: taken.value },
      );
      progress.textContent = "";
      toast(body.duplicate ? "这张照片之前已上传过" : `识别出 ${body.observations.length} 个商品`);
      go("competitor-photo", body.id);
    } catch (err) {
      progress.textContent = "";
      result.replaceChildren(errorBox(err));
    } finally {
      button.disabled = false;
    }
  });
  fill(main, form);
}

// ---------------------------------------------------------------------------------------------- one photo

/** The photo with the OCR lines (thin grey) and the items' regions (coloured, numbered) drawn over it. */
function overlay(url, photo, highlight) {
  const layer = svg("svg", { viewBox: `0 0 ${photo.width} ${photo.height}`, class: "photo-layer", preserveAspectRatio: "none" });
  for (const line of photo.lines) {
    layer.append(svg("polygon", { points: line.quad.map((p) => p.join(",")).join(" "), class: "ocr-line" }));
  }
  photo.observations.forEach((o, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const pts = o.quad.map((p) => p.join(",")).join(" ");
    layer.append(
      svg("polygon", { points: pts, class: `item-box${highlight === o.id ? " on" : ""}`, stroke: colour, "data-item": o.id }),
      svg("text", { x: o.quad[0][0] + 4, y: o.quad[0][1] + Math.max(18, photo.height / 60), fill: colour, class: "item-no", "font-size": Math.max(18, photo.height / 45) }, String(i + 1)),
    );
  });
  return h("div", { class: "photo-wrap" }, h("img", { src: url, alt: "竞品海报照片", class: "photo" }), layer);
}

export function photoPage(main, { args }) {
  const id = args[0];
  fill(main, spinner());
  let url = null;
  (async () => {
    try {
      const photo = await api(`competitor-photos/${id}`);
      url = await photoUrl(id).catch(() => null);
      const rows = photo.observations.map((o, i) => ({ ...o, no: i + 1 }));
      const items = table(
        [
          { label: "#", value: (o) => h("span", { class: "item-no-chip", style: `background:${COLOURS[(o.no - 1) % COLOURS.length]}` }, String(o.no)) },
          { label: "商品（识别）", value: (o) => o.text },
          { label: "标价", value: (o) => price(o.current_price), class: "num" },
          { label: "原价", value: (o) => price(o.original_price), class: "num" },
          { label: "会员价", value: (o) => price(o.member_price), class: "num" },
          { label: "到手单价", value: (o) => h("strong", null, price(o.effective_price)), class: "num" },
          { label: "活动规则", value: (o) => o.rule || "—" },
          { label: "我方 SKU", value: (o) => o.sku || "—" },
          { label: "匹配", value: (o) => resolutionBadge(o) },
        ],
        rows,
      );
      const meta = [
        photo.competitor ? `竞品：${photo.competitor}${photo.competitor_branch ? `（${photo.competitor_branch}）` : ""}` : "竞品：未识别",
        `拍摄：${photo.taken_on}`,
        photo.valid_to ? `活动期：${photo.valid_from || "即日起"} 至 ${photo.valid_to}` : null,
        photo.city ? `城市：${photo.city}` : null,
        `识别用时 ${photo.seconds.toFixed(1)} 秒`,
      ].filter(Boolean);
      fill(
        main,
        h("div", { class: "panel" },
          h("h1", null, "竞品照片"),
          h("p", { class: "muted" }, meta.join(" · ")),
          photo.poster_rules.length ? h("p", null, "全场规则：", photo.poster_rules.map((r) => r.text).join("，")) : null,
          h("div", { class: "photo-grid" },
            url ? overlay(url, photo, null) : h("div", { class: "notice" }, "照片文件已过保存期限（价格记录仍在）"),
            h("div", null, h("h2", null, `识别出的商品（${photo.observations.length}）`), items),
          ),
        ),
      );
    } catch (err) {
      fill(main, errorBox(err));
    }
  })();
  return () => url && URL.revokeObjectURL(url);
}

// ---------------------------------------------------------------------------------------------- matrix

export function matrixPage(main, { go }) {
  const sku = h("input", { name: "sku", placeholder: "SKU（可不填）", "aria-label": "SKU" });
  const type = h(
    "select",
    { name: "customer_type", "aria-label": "客户类型" },
    h("option", { value: "" }, "我方价格：目录价"),
    ...Object.entries({ chain: "连锁", single_pharmacy: "单体药店", hospital: "医院", clinic: "诊所", dtp: "DTP药房" }).map(([v, t]) =>
      h("option", { value: v }, `我方价格：${t}近90天成交中位数`),
    ),
  );
  const csv = h("button", { type: "button" }, "导出 CSV");
  const out = h("div");
  const query = () => ({ sku: sku.value.trim(), customer_type: type.value });
  async function load() {
    fill(out, spinner());
    try {
      const m = await api("competitor-prices", { query: query() });
      if (!m.cells.length) return fill(out, h("p", { class: "muted" }, "还没有竞品价格。店长上传竞品海报或价签照片后，这里自动更新。"));
      fill(
        out,
        table(
          [
            { label: "商品", value: (c) => h("span", null, c.product_name, h("br"), h("span", { class: "small muted" }, c.sku)) },
            { label: "竞品门店", value: (c) => c.competitor },
            { label: "城市", value: (c) => c.city || "—" },
            { label: "标价", value: (c) => price(c.current_price), class: "num" },
            { label: "到手单价", value: (c) => h("strong", null, price(c.effective_price)), class: "num" },
            { label: "活动规则", value: (c) => c.rule || "—" },
            { label: "我方价格", value: (c) => price(c.our_price), class: "num" },
            {
              label: "价差",
              value: (c) => (c.gap_pct === null ? "—" : h("span", { class: c.gap_pct > 0 ? "gap-up" : "gap-down" }, `${c.gap_pct > 0 ? "+" : ""}${c.gap_pct}%`)),
              class: "num",
            },
            { label: "观察日期", value: (c) => h("span", { class: c.stale ? "warn" : null }, c.observed_on, c.stale ? "（已过时）" : "") },
            { label: "次数", value: (c) => String(c.seen), class: "num" },
          ],
          m.cells,
          { onRowClick: (c) => go("competitor-photo", c.photo_id) },
        ),
        h("p", { class: "small muted" }, `截至 ${m.as_of}；价差 =（我方 − 竞品到手单价）÷ 竞品到手单价；超过 ${m.stale_after_days} 天的观察标为已过时。点击一行查看原照片。`),
      );
    } catch (err) {
      fill(out, errorBox(err));
    }
  }
  csv.addEventListener("click", async () => {
    try {
      const response = await api("competitor-prices", { query: { ...query(), format: "csv" }, raw: true });
      saveBlob(await response.blob(), filenameOf(response, "competitor-prices.csv"));
    } catch (err) {
      toast(err.message, "error");
    }
  });
  sku.addEventListener("change", load);
  type.addEventListener("change", load);
  fill(
    main,
    h("div", { class: "panel" },
      h("h1", null, "竞品价格矩阵"),
      h("div", { class: "toolbar" }, sku, type, csv),
      out,
    ),
  );
  load();
}

// ---------------------------------------------------------------------------------------------- review

/** The item's region cut out of its photo (a canvas), so a reviewer sees exactly what was read. */
async function crop(o) {
  const url = await photoUrl(o.photo_id);
  const img = new Image();
  img.src = url;
  await img.decode();
  const xs = o.quad.map((p) => p[0]);
  const ys = o.quad.map((p) => p[1]);
  const x0 = Math.max(0, Math.min(...xs) - 10);
  const y0 = Math.max(0, Math.min(...ys) - 10);
  const w = Math.min(img.naturalWidth, Math.max(...xs) + 10) - x0;
  const hgt = Math.min(img.naturalHeight, Math.max(...ys) + 10) - y0;
  const canvas = h("canvas", { width: Math.max(1, w), height: Math.max(1, hgt), class: "crop" });
  canvas.getContext("2d").drawImage(img, x0, y0, w, hgt, 0, 0, w, hgt);
  URL.revokeObjectURL(url);
  return canvas;
}

export function reviewPage(main) {
  const out = h("div");
  async function load() {
    fill(out, spinner());
    try {
      const list = await api("competitor-observations", { query: { resolution: "review" } });
      if (!list.items.length) return fill(out, h("p", { class: "muted" }, "没有待复核的识别结果。"));
      fill(out, list.items.map((o) => card(o)));
    } catch (err) {
      fill(out, errorBox(err));
    }
  }
  function card(o) {
    const cropBox = h("div", { class: "crop-box" }, spinner("加载照片…"));
    crop(o).then((c) => fill(cropBox, c)).catch(() => fill(cropBox, h("span", { class: "muted" }, "照片已过保存期限")));
    const skuInput = h("input", { name: "sku", value: o.sku || "", placeholder: "我方 SKU", "aria-label": "我方 SKU" });
    const decide = async (sku) => {
      try {
        await api(`competitor-observations/${o.id}/resolution`, { method: "POST", body: { sku } });
        toast(sku ? `已确认为 ${sku}，同样的文字以后自动采用` : "已标为非我方商品");
        load();
      } catch (err) {
        toast(err.message, "error");
      }
    };
    return h("div", { class: "panel review-card", dataset: { observation: o.id } },
      cropBox,
      h("div", null,
        h("p", null, h("strong", null, o.text), " · 标价 ", price(o.current_price), " · 到手 ", price(o.effective_price)),
        h("p", { class: "small muted" }, o.resolution_reason, "（置信度 ", o.resolution_confidence.toFixed(2), "）"),
        o.candidates.length ? h("p", { class: "small" }, "候选：", o.candidates.map((c) => `${c.sku} ${c.name}`).join("；")) : null,
        h("div", { class: "actions" },
          skuInput,
          h("button", { type: "button", class: "primary", onclick: () => decide(skuInput.value.trim() || null) }, "确认 SKU"),
          h("button", { type: "button", onclick: () => decide(null) }, "不是我方商品"),
        ),
      ),
    );
  }
  fill(main, h("div", { class: "panel" }, h("h1", null, "竞品识别复核"), h("p", { class: "muted" }, "识别不确定的商品：对照照片确认是哪个 SKU，或标为非我方商品。决定会被记住，同样的文字以后自动采用。")), out);
  load();
}

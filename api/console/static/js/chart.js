// The price check's picture: the peers' band and evidence deals on a price axis, with the quoted price marked.

import { svg, yuan } from "./ui.js";

const COLORS = { green: "#1a7f37", amber: "#b7791f", red: "#c62828", grey: "#6b7480" };

/** Traffic-light colour of a verdict: severity none → green, minor → amber, major or critical → red. */
export function colorOf(verdict, severity) {
  if (verdict === "no_history" || verdict.startsWith("unknown_")) return "grey";
  if (severity === "none") return "green";
  if (severity === "minor") return "amber";
  return "red";
}

/**
 * An inline SVG: the acceptable band (shaded), the reference price, the evidence deals (dots), the floor price and the payment
 * standard (dashed), and the quoted price (a marker in the verdict's colour). Null when there is nothing to compare.
 */
export function priceChart(v) {
  const quote = v.unit_price;
  const deals = (v.evidence || []).map((e) => e.unit_price);
  const marks = [quote, v.band_low, v.band_high, v.median, v.floor_price, v.payment_standard, ...deals].filter(
    (x) => typeof x === "number" && Number.isFinite(x),
  );
  if (marks.length < 2) return null;
  let lo = Math.min(...marks);
  let hi = Math.max(...marks);
  const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 1;
  lo -= pad;
  hi += pad;
  const W = 320;
  const H = 78;
  const L = 8;
  const R = W - 8;
  const x = (p) => L + ((p - lo) / (hi - lo)) * (R - L);
  const axisY = 50;
  const color = COLORS[colorOf(v.verdict, v.severity)];
  const parts = [];

  parts.push(svg("line", { x1: L, x2: R, y1: axisY, y2: axisY, stroke: "#c4ccd5" }));
  if (typeof v.band_low === "number" && typeof v.band_high === "number") {
    parts.push(
      svg("rect", {
        x: x(v.band_low),
        y: axisY - 14,
        width: Math.max(2, x(v.band_high) - x(v.band_low)),
        height: 28,
        fill: "#d9f0df",
        stroke: "#8cc79c",
        rx: 3,
        "data-role": "band",
      }, svg("title", null, `同类成交区间 ${yuan(v.band_low)}–${yuan(v.band_high)}`)),
    );
  }
  if (typeof v.median === "number") {
    parts.push(
      svg("line", { x1: x(v.median), x2: x(v.median), y1: axisY - 14, y2: axisY + 14, stroke: "#3f8f55", "stroke-width": 2 },
        svg("title", null, `参考价 ${yuan(v.median)}`)),
    );
  }
  (v.evidence || []).forEach((e, i) => {
    parts.push(
      svg("circle", { cx: x(e.unit_price), cy: axisY + (i % 2 ? 6 : -6), r: 3.5, fill: "#56606b", "fill-opacity": 0.75,
        "data-role": "deal" },
        svg("title", null, `${e.customer_name} ${e.at} ${yuan(e.unit_price)} × ${e.qty}`)),
    );
  });
  const policy = [
    [v.floor_price, "底价", COLORS.red],
    [v.payment_standard, "支付标准", "#6f42c1"],
  ];
  for (const [price, label, stroke] of policy) {
    if (typeof price !== "number") continue;
    parts.push(svg("line", { x1: x(price), x2: x(price), y1: 22, y2: axisY + 18, stroke, "stroke-dasharray": "3 3" }));
    parts.push(svg("text", { x: x(price), y: H - 2, "text-anchor": anchor(x(price), W) }, `${label} ${yuan(price)}`));
  }
  const qx = x(quote);
  parts.push(svg("line", { x1: qx, x2: qx, y1: 18, y2: axisY + 16, stroke: color, "stroke-width": 2.5, "data-role": "quote" }));
  parts.push(svg("path", { d: `M${qx - 6},10 L${qx + 6},10 L${qx},18 Z`, fill: color }));
  parts.push(svg("text", { x: qx, y: 8, "text-anchor": anchor(qx, W), fill: color, "font-weight": 600 }, `报价 ${yuan(quote)}`));
  const label = `同类成交区间 ${yuan(v.band_low)}–${yuan(v.band_high)}，本次报价 ${yuan(quote)}`;
  return svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": label }, svg("title", null, label), parts);
}

function anchor(px, width) {
  if (px < 50) return "start";
  if (px > width - 50) return "end";
  return "middle";
}

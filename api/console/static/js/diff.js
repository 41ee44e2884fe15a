// Sentence-level differences and three-way merges, for the editor's version-conflict view.
// Chinese text is compared by sentence (。！？；and line breaks), as the API's own diff does.

const SENTENCE = /[^。！？；!?;\n]*[。！？；!?;]+\n?|[^。！？；!?;\n]+\n?|\n/g;

/** The text cut into sentences; joining them gives the text back. */
export function sentences(text) {
  return (text || "").match(SENTENCE) || [];
}

/** Longest-common-subsequence edit script of two arrays: [{op: equal|delete|insert, items}]. */
export function diffArrays(a, b) {
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const ops = [];
  const push = (op, item) => {
    const last = ops[ops.length - 1];
    if (last && last.op === op) last.items.push(item);
    else ops.push({ op, items: [item] });
  };
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      push("equal", a[i]);
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) push("delete", a[i++]);
    else push("insert", b[j++]);
  }
  while (i < n) push("delete", a[i++]);
  while (j < m) push("insert", b[j++]);
  return ops;
}

/** The differences of two texts as [{op: equal|insert|delete|replace, old, new}] (as the API's diff answers). */
export function diffText(oldText, newText) {
  const ops = diffArrays(sentences(oldText), sentences(newText));
  const out = [];
  for (let k = 0; k < ops.length; k++) {
    const o = ops[k];
    const text = o.items.join("");
    if (o.op === "delete" && ops[k + 1] && ops[k + 1].op === "insert") {
      out.push({ op: "replace", old: text, new: ops[k + 1].items.join("") });
      k++;
    } else if (o.op === "equal") out.push({ op: "equal", old: text, new: text });
    else if (o.op === "delete") out.push({ op: "delete", old: text, new: "" });
    else out.push({ op: "insert", old: "", new: text });
  }
  return out;
}

/** The changes from `base` to `other` as hunks in base coordinates: [{start, end, items}]. */
function hunks(base, other) {
  const out = [];
  let i = 0;
  let open = null;
  for (const o of diffArrays(base, other)) {
    if (o.op === "equal") {
      if (open) out.push(open);
      open = null;
      i += o.items.length;
      continue;
    }
    if (!open) open = { start: i, end: i, items: [] };
    if (o.op === "delete") {
      i += o.items.length;
      open.end = i;
    } else open.items.push(...o.items);
  }
  if (open) out.push(open);
  return out;
}

function apply(base, start, end, list) {
  const out = [];
  let pos = start;
  for (const x of list) {
    out.push(...base.slice(pos, x.start), ...x.items);
    pos = x.end;
  }
  out.push(...base.slice(pos, end));
  return out;
}

/**
 * Three-way merge of texts by sentence: {clean: true, text} when the two sides changed different sentences (or
 * made the same change), {clean: false} when they changed the same place differently.
 */
export function merge3(baseText, mineText, theirsText) {
  const base = sentences(baseText);
  const all = [
    ...hunks(base, sentences(mineText)).map((x) => ({ ...x, side: "mine" })),
    ...hunks(base, sentences(theirsText)).map((x) => ({ ...x, side: "theirs" })),
  ].sort((x, y) => x.start - y.start || x.end - y.end);
  const out = [];
  let pos = 0;
  let k = 0;
  while (k < all.length) {
    const group = [all[k]];
    let start = all[k].start;
    let end = all[k].end;
    k++;
    // overlapping ranges, an insertion inside the other's range, or two insertions at one point: same place
    while (k < all.length && (all[k].start < end || (all[k].start === end && all[k].end === end && start === end))) {
      group.push(all[k]);
      start = Math.min(start, all[k].start);
      end = Math.max(end, all[k].end);
      k++;
    }
    out.push(...base.slice(pos, start));
    const mine = group.filter((x) => x.side === "mine");
    const theirs = group.filter((x) => x.side === "theirs");
    const a = apply(base, start, end, mine);
    const b = apply(base, start, end, theirs);
    if (!mine.length) out.push(...b);
    else if (!theirs.length || a.join("") === b.join("")) out.push(...a);
    else return { clean: false };
    pos = end;
  }
  out.push(...base.slice(pos));
  return { clean: true, text: out.join("") };
}

/** Three-way merge of lists (tags, SKUs): theirs, plus what I added, less what I removed. */
export function mergeLists(base, mine, theirs) {
  const added = mine.filter((x) => !base.includes(x));
  const removed = new Set(base.filter((x) => !mine.includes(x)));
  const out = theirs.filter((x) => !removed.has(x));
  for (const x of added) if (!out.includes(x)) out.push(x);
  return out;
}

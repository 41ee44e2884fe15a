// The console's shell: login with an API key, navigation by role, and a router over the URL fragment (#/page/arg).

import { api, ApiError, clearSession, onUnauthorized, saveSession, session } from "./api.js";
import * as admin from "./admin.js";
import * as competitors from "./competitors.js";
import * as rep from "./rep.js";
import * as safety from "./safety.js";
import * as tasks from "./tasks.js";
import * as trainer from "./trainer.js";
import { errorBox, fill, h, ROLE, toast } from "./ui.js";

const READERS = ["rep", "trainer", "admin"];
const PRICING = ["rep", "trainer", "admin", "service"];
const CURATORS = ["trainer", "admin"];
const ADMINS = ["admin"];
const SAFETY = ["safety", "admin"];
const UPLOADERS = ["store", "admin"];
const MATRIX = ["rep", "trainer", "admin", "store"];

/** Every page: its path, title, group, the roles whose key may call what it needs (the API's matrix), renderer. */
const PAGES = [
  { path: "tasks", title: "今日待办", group: "销售助手", roles: READERS, render: tasks.tasksPage },
  { path: "deal", title: "商机草稿 · 案例推荐", group: "销售助手", roles: READERS, render: rep.dealPage },
  { path: "objection", title: "异议应答", group: "销售助手", roles: READERS, render: rep.objectionPage },
  { path: "customer", title: "客户简报", group: "销售助手", roles: READERS, render: rep.customerPage },
  { path: "quote", title: "报价校验", group: "销售助手", roles: PRICING, render: rep.quotePage },
  { path: "entries", title: "知识条目", group: "知识库", roles: CURATORS, render: trainer.entriesPage },
  { path: "entry", title: "编辑条目", group: "知识库", roles: CURATORS, render: trainer.entryPage, hidden: true },
  { path: "stale", title: "目录变更·知识复核", group: "知识库", roles: CURATORS, render: trainer.stalePage },
  { path: "requests", title: "待写话术", group: "知识库", roles: CURATORS, render: trainer.requestsPage },
  { path: "faq", title: "FAQ 提案", group: "知识库", roles: CURATORS, render: trainer.faqPage },
  { path: "formulary-review", title: "医保目录复核", group: "知识库", roles: CURATORS, render: admin.formularyReviewPage },
  { path: "competitor-prices", title: "竞品价格矩阵", group: "竞品价格", roles: MATRIX, render: competitors.matrixPage },
  { path: "competitor-upload", title: "上传竞品照片", group: "竞品价格", roles: UPLOADERS, render: competitors.uploadPage },
  { path: "competitor-review", title: "识别复核", group: "竞品价格", roles: CURATORS, render: competitors.reviewPage },
  { path: "competitor-photo", title: "竞品照片", group: "竞品价格", roles: MATRIX, render: competitors.photoPage, hidden: true },
  { path: "safety", title: "不良反应安全队列", group: "药物警戒", roles: SAFETY, render: safety.safetyPage },
  { path: "ingest", title: "数据导入", group: "数据与权限", roles: ADMINS, render: admin.ingestPage },
  { path: "formulary", title: "医保目录", group: "数据与权限", roles: READERS, render: admin.formularyPage },
  { path: "keys", title: "API 密钥", group: "数据与权限", roles: ADMINS, render: admin.keysPage },
];

const HOME = { rep: "tasks", trainer: "entries", admin: "ingest", service: "quote", store: "competitor-upload", safety: "safety" };

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let current = null; // the page shown: {page, args}, and its cleanup

function route() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [pathPart, queryPart] = raw.split("?");
  const parts = pathPart.split("/").filter(Boolean).map(decodeURIComponent);
  return { path: parts[0] || "", args: parts.slice(1), query: new URLSearchParams(queryPart || "") };
}

/** Go to a page: go("entry", id) or go("entries", null, {status: "stale"}). */
export function go(path, arg, query) {
  const q = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v)).toString() : "";
  location.hash = `#/${path}${arg ? `/${encodeURIComponent(arg)}` : ""}${q ? `?${q}` : ""}`;
}

function drawShell(s) {
  const who = document.getElementById("who");
  const logout = document.getElementById("logout");
  document.body.classList.toggle("anon", !s);
  logout.hidden = !s;
  who.textContent = s ? `${ROLE[s.role] || s.role}${s.tenant ? ` · ${s.tenant}` : ""}${s.name ? ` · ${s.name}` : ""}` : "";
  if (!s) {
    nav.replaceChildren();
    return;
  }
  const { path } = route();
  const groups = new Map();
  for (const p of PAGES) {
    if (p.hidden || !p.roles.includes(s.role)) continue;
    if (!groups.has(p.group)) groups.set(p.group, []);
    groups.get(p.group).push(p);
  }
  const activePath = path === "entry" ? "entries" : path === "competitor-photo" ? "competitor-prices" : path;
  fill(
    nav,
    [...groups].map(([group, pages]) =>
      h(
        "div",
        { class: "group" },
        h("div", { class: "group-title" }, group),
        pages.map((p) =>
          h("a", { href: `#/${p.path}`, class: p.path === activePath ? "active" : null, dataset: { page: p.path } }, p.title),
        ),
      ),
    ),
  );
}

function loginPage(message) {
  const key = h("input", {
    type: "password",
    name: "api-key",
    autocomplete: "off",
    placeholder: "skg_…",
    "aria-label": "API 密钥",
    required: true,
  });
  const errors = h("div");
  const button = h("button", { type: "submit", class: "primary" }, "登录");
  const form = h(
    "form",
    { class: "panel", id: "login-form" },
    h("h1", null, "登录控制台"),
    h("p", { class: "muted" }, "用管理员发给你的 API 密钥登录。密钥只保存在本标签页的会话中，关闭标签页或退出后即清除。"),
    message ? h("div", { class: "notice" }, message) : null,
    h("div", { class: "field" }, h("label", null, "API 密钥"), key),
    errors,
    h("div", { class: "actions" }, button),
    h("p", { class: "roles-hint" }, "销售代表：商机草稿、异议应答、客户简报、报价校验；培训师：另加知识条目的编辑与审核；管理员：另加数据导入与密钥管理；店长：上传竞品照片、查看竞品价格矩阵；药物警戒：不良反应安全队列。"),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    errors.replaceChildren();
    button.disabled = true;
    try {
      const s = await identify(key.value.trim());
      saveSession(s);
      toast(`已登录：${ROLE[s.role]}`);
      if (route().path && route().path !== "login") render();
      else go(HOME[s.role]);
    } catch (err) {
      errors.replaceChildren(errorBox(err.status === 401 ? { message: "密钥无效或已被吊销。", code: err.code } : err));
    } finally {
      button.disabled = false;
    }
  });
  fill(main, h("div", { class: "login" }, form));
  key.focus();
}

/** Who the key is (its role, tenant and name), from the API; 401 is a bad key. */
async function identify(key) {
  if (!/^skg_[A-Za-z0-9]+_.+/.test(key)) throw new ApiError(401, "invalid_api_key", "密钥格式不对：应以 skg_ 开头。");
  const me = await api("me", { key });
  return { key, keyId: me.key_id, role: me.role, tenant: me.tenant, name: me.name };
}

function logout(message) {
  clearSession();
  if (current && current.cleanup) current.cleanup();
  current = null;
  drawShell(null);
  history.replaceState(null, "", "#/login");
  loginPage(message);
}

function render() {
  document.body.classList.remove("nav-open");
  const s = session();
  drawShell(s);
  if (current && current.cleanup) current.cleanup();
  current = null;
  if (!s) return loginPage();
  const { path, args, query } = route();
  if (!path || path === "login") return go(HOME[s.role]);
  const page = PAGES.find((p) => p.path === path);
  if (!page) {
    return fill(main, h("div", { class: "panel" }, h("h1", null, "找不到这个页面"), h("a", { href: `#/${HOME[s.role]}` }, "回到首页")));
  }
  if (!page.roles.includes(s.role)) {
    return fill(
      main,
      h("div", { class: "panel" }, h("h1", null, page.title), h("div", { class: "notice" }, `当前角色（${ROLE[s.role]}）没有这个页面的权限。`)),
    );
  }
  document.title = `${page.title} · 销售知识图谱`;
  main.replaceChildren();
  main.dataset.page = path;
  const cleanup = page.render(main, { args, query, session: s, go });
  current = { page, cleanup: typeof cleanup === "function" ? cleanup : null };
  main.focus({ preventScroll: true });
}

onUnauthorized(() => logout("密钥已失效或被吊销，请重新登录。"));
document.getElementById("logout").addEventListener("click", () => logout());
document.getElementById("menu-toggle").addEventListener("click", () => {
  const open = document.body.classList.toggle("nav-open");
  document.getElementById("menu-toggle").setAttribute("aria-expanded", String(open));
});
window.addEventListener("hashchange", render);
render();

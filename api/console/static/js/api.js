// The console's only way to the server: the public /v1 API, with the key of the session in the X-API-Key header.
// The key lives in sessionStorage (this tab, until it closes or the user logs out), never in a URL.

const SESSION = "skg.console.session";

/** An error answer of the API: its HTTP status and the {code, message, details} of the error body. */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

/** The logged-in session ({key, role, tenant, name, keyId}) or null. */
export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION) || "null");
  } catch {
    return null;
  }
}

export function saveSession(value) {
  sessionStorage.setItem(SESSION, JSON.stringify(value));
}

export function clearSession() {
  sessionStorage.removeItem(SESSION);
}

let unauthorized = () => {};

/** Called when the API answers 401 (the key was revoked or is unknown): the app logs out. */
export function onUnauthorized(handler) {
  unauthorized = handler;
}

function url(path, query) {
  const u = new URL(`v1/${path.replace(/^\//, "")}`, document.baseURI);
  for (const [k, v] of Object.entries(query || {})) {
    if (v === null || v === undefined || v === "") continue;
    u.searchParams.set(k, String(v));
  }
  return u;
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    /* not JSON: a proxy's page */
  }
  const e = body && body.error;
  if (e) return new ApiError(response.status, e.code, e.message, e.details);
  return new ApiError(response.status, "http_error", `服务器返回 ${response.status}`, {});
}

/**
 * Call the API. `body` (an object) is sent as JSON; `raw` returns the Response (for PDFs); `key` overrides the
 * session's key (login). Throws ApiError for an error answer, and a network failure as code "network".
 */
export async function api(path, { method = "GET", body, query, raw = false, key, signal } = {}) {
  const headers = { Accept: "application/json" };
  const apiKey = key || (session() || {}).key;
  if (apiKey) headers["X-API-Key"] = apiKey;
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url(path, query), { method, headers, body: payload, signal, cache: "no-store" });
  } catch (e) {
    if (e && e.name === "AbortError") throw e;
    throw new ApiError(0, "network", "无法连接服务器，请检查网络后重试", {});
  }
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401 && !key) unauthorized(error);
    throw error;
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

/**
 * Upload one file as multipart (field `file`, plus the non-empty form `fields`) with upload progress:
 * `onProgress(sentBytes, totalBytes)`, then `onProgress(null)` once the body is sent and the server is working.
 * Resolves to the JSON answer.
 */
export function upload(path, file, onProgress, fields = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url(path));
    xhr.setRequestHeader("X-API-Key", (session() || {}).key || "");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.upload.onload = () => onProgress(null);
    xhr.onerror = () => reject(new ApiError(0, "network", "上传中断：无法连接服务器", {}));
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON */
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body);
      const e = body && body.error;
      const error = e
        ? new ApiError(xhr.status, e.code, e.message, e.details)
        : new ApiError(xhr.status, "http_error", `服务器返回 ${xhr.status}`, {});
      if (xhr.status === 401) unauthorized(error);
      reject(error);
    };
    const form = new FormData();
    form.append("file", file, file.name);
    for (const [name, value] of Object.entries(fields)) if (value) form.append(name, value);
    xhr.send(form);
  });
}

/** The file name a Content-Disposition header gives, or `fallback`. */
export function filenameOf(response, fallback) {
  const header = response.headers.get("Content-Disposition") || "";
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (star) return decodeURIComponent(star[1]);
  const plain = /filename="?([^";]+)"?/i.exec(header);
  return plain ? plain[1] : fallback;
}

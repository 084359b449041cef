// The dashboard's only way to talk HTTP to voxlogd. It adds the API token (when the server has asked for
// one) to every request, turns problem+json answers into ApiError with the server's own message, and asks
// the user for the token once per browser session when the server answers 401.

const TOKEN_KEY = 'voxlog.apiToken';

export class ApiError extends Error {
  constructor(status, title, detail, body) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.body = body;
  }
}

let askForToken = async () => null;

// `ask(reason)` shows the token prompt and resolves to the token typed, or null when dismissed.
export function setTokenPrompt(ask) {
  askForToken = ask;
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

// One prompt at a time, even when several requests get their 401 together.
let pendingPrompt = null;
async function obtainToken(reason) {
  if (!pendingPrompt) {
    pendingPrompt = askForToken(reason).then((typed) => {
      pendingPrompt = null;
      if (typed) sessionStorage.setItem(TOKEN_KEY, typed);
      return typed;
    });
  }
  return pendingPrompt;
}

// `body` is sent as JSON, unless `contentType` is given: then it is sent as it is (a CSV file's text).
// With `asBlob` the answer's body is returned as a Blob (a download), not parsed.
async function request(method, path, body, { contentType, asBlob = false } = {}) {
  for (;;) {
    const headers = { Accept: asBlob ? '*/*' : 'application/json' };
    if (body !== undefined) headers['Content-Type'] = contentType || 'application/json';
    if (token()) headers.Authorization = `Bearer ${token()}`;
    const payload = body === undefined ? undefined : contentType ? body : JSON.stringify(body);
    const res = await fetch(path, { method, headers, body: payload });
    if (asBlob && res.ok) return res.blob();
    const text = await res.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (res.status === 401) {
      const reason = token() ? 'That token was refused. Try again.' : 'This server is protected by an API token.';
      forgetToken();
      if (await obtainToken(reason)) continue;
    }
    if (!res.ok || (parsed && parsed.success === false)) {
      const title = parsed?.title || res.statusText;
      const detail = parsed?.detail || parsed?.message || parsed?.error || text.slice(0, 300);
      throw new ApiError(res.status, title, detail, parsed);
    }
    return parsed;
  }
}

export const api = {
  get: (path) => request('GET', path),
  post: (path, body) => request('POST', path, body),
  put: (path) => request('PUT', path),
  delete: (path) => request('DELETE', path),
  // A body that is not JSON, e.g. postRaw(path, csvText, 'text/csv').
  postRaw: (path, body, contentType) => request('POST', path, body, { contentType }),
  // A file the server makes (an export), with the token: resolves to a Blob.
  blob: (path) => request('GET', path, undefined, { asBlob: true }),
};

// The /ws URL with the resume point and, when set, the token (browsers cannot send headers on WebSocket).
export function socketUrl(after) {
  const url = new URL('/ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('after', String(after));
  if (token()) url.searchParams.set('token', token());
  return url.toString();
}

// Query string from an object, skipping empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

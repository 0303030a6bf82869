// The REST client: one fetch wrapper that adds the bearer token, turns the
// API's JSON errors ({"error","message"}) into ApiError, and reports a 401
// (token expired, revoked or unknown) to the app, which signs out with a
// message. Nothing here caches: every screen asks the server.
let token = null;
let onExpired = () => {};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function setToken(t) { token = t; }
export function getToken() { return token; }
export function onSessionExpired(fn) { onExpired = fn; }

// A Text body (new Text(yaml, 'text/yaml')) is sent as it is, with its
// content type; anything else as JSON.
export class Text {
  constructor(text, type = 'text/plain') { this.text = text; this.type = type; }
}

async function send(method, path, body, headers = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload;
  if (body instanceof Text) {
    payload = body.text;
    h['content-type'] = body.type;
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    h['content-type'] = 'application/json';
  }
  try {
    return await fetch(path, { method, headers: h, body: payload });
  } catch (e) {
    throw new ApiError(0, 'network', 'Cannot reach the Switchboard server. Check your connection and try again.');
  }
}

async function errorOf(r) {
  let j = null;
  try { j = await r.json(); } catch { /* not JSON */ }
  const message = j?.message || `The server answered ${r.status} ${r.statusText || ''}`.trim();
  const e = new ApiError(r.status, j?.error || 'http_error', message);
  // invalid_flow says where: file, line (from 1; 0 = the whole file), block.
  if (j && typeof j.line === 'number') Object.assign(e, { file: j.file, line: j.line, block: j.block ?? null });
  return e;
}

export async function api(method, path, body) {
  const r = await send(method, path, body);
  if (r.status === 401 && path !== '/api/v1/login') {
    const e = await errorOf(r);
    onExpired(e);
    throw e;
  }
  if (!r.ok) throw await errorOf(r);
  if (r.status === 204) return null;
  const text = await r.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const put = (path, body) => api('PUT', path, body);
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path) => api('DELETE', path);
// A path segment: user names, queue names (spaces), numbers (+, #, *).
export const seg = (s) => encodeURIComponent(s);

// The query string of a filter object, leaving out empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

// A call's recording as a Blob URL for an <audio> element: the element
// cannot send the bearer token, so the file is fetched here, in Range
// chunks (the server sends at most 4 MiB per reply).
export async function recordingUrl(number) {
  const parts = [];
  let offset = 0;
  for (let i = 0; i < 64; i++) {
    const r = await send('GET', `/api/v1/interactions/${encodeURIComponent(number)}/recording`, undefined,
      offset ? { range: `bytes=${offset}-` } : {});
    if (r.status === 401) { const e = await errorOf(r); onExpired(e); throw e; }
    if (!r.ok) throw await errorOf(r);
    const buf = await r.arrayBuffer();
    parts.push(buf);
    offset += buf.byteLength;
    const total = Number((r.headers.get('content-range') || '').split('/')[1]);
    if (r.status === 200 || !total || offset >= total || !buf.byteLength) break;
  }
  return URL.createObjectURL(new Blob(parts, { type: 'audio/wav' }));
}

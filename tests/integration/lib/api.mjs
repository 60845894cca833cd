// REST helpers for the visitor session endpoints.
import assert from 'node:assert/strict';

// Sends one request and returns {status, headers, text, json}; `json` is undefined when
// the body is not JSON, so tests can assert on it without a try/catch.
export async function request(server, method, path, { body, headers = {} } = {}) {
  const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(10_000) };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['content-type'] ??= 'application/json';
  }
  let res;
  try {
    res = await fetch(`${server.baseUrl}${path}`, init);
  } catch (err) {
    // "fetch failed" alone says nothing; say whether parley is still alive and why not.
    const state = server.exit
      ? `parley has exited (code=${server.exit.code} signal=${server.exit.signal})`
      : 'parley is still running';
    throw new Error(
      `${method} ${path} failed: ${err.cause?.code ?? err.cause?.message ?? err.message}; ${state}\n` +
        `parley output (tail):\n${server.logTail()}`,
      { cause: err },
    );
  }
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

// POST /api/chats/sessions/ and insist on 201; `body` undefined sends no body at all.
export async function createSession(server, body) {
  const res = await request(server, 'POST', '/api/chats/sessions/', { body });
  assert.equal(res.status, 201, `creating a session: HTTP ${res.status} ${res.text}`);
  return res.json;
}

// GET /api/chats/sessions/{id}/?visitor_id=V and insist on 200.
export async function getSession(server, session) {
  const res = await request(server, 'GET', sessionPath(session.session_id, session.visitor_id));
  assert.equal(res.status, 200, `reading session ${session.session_id}: HTTP ${res.status} ${res.text}`);
  return res.json;
}

export function sessionPath(sessionId, visitorId) {
  const query = visitorId === undefined ? '' : `?visitor_id=${encodeURIComponent(visitorId)}`;
  return `/api/chats/sessions/${encodeURIComponent(sessionId)}/${query}`;
}

// The chat socket URL path that names a session, as a second tab or a reconnect uses.
export function chatPath(session) {
  const q = new URLSearchParams({ session_id: session.session_id, visitor_id: session.visitor_id });
  return `/ws/chat/?${q}`;
}

// Browsers calling parley from a frontend on another origin: the CORS preflight and
// the Access-Control-Allow-Origin header on answers, per PARLEY_CORS_ORIGINS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startServer } from './lib/server.mjs';

const SECRET = 'cors-test-secret-0123456789abcdef0123456789';
const b64url = (x) => Buffer.from(x).toString('base64url');
function token(sub) {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({ sub, exp: Math.floor(Date.now() / 1000) + 3600 }));
  return `${head}.${body}.${createHmac('sha256', SECRET).update(`${head}.${body}`).digest('base64url')}`;
}

const preflight = (server, path, origin) =>
  fetch(`${server.baseUrl}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
  });

test('by default any origin may call: preflight, REST and the SSE stream', async (t) => {
  const server = await startServer(t, { env: { PARLEY_JWT_SECRET: SECRET } });
  for (const path of ['/v1/chat/conversations', '/api/chats/sessions/', '/api/chat']) {
    const res = await preflight(server, path, 'http://localhost:3000');
    assert.equal(res.status, 204, path);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('access-control-allow-headers'), 'authorization,content-type');
    assert.match(res.headers.get('access-control-allow-methods'), /POST/);
    assert.match(res.headers.get('access-control-allow-methods'), /DELETE/);
  }
  const headers = { origin: 'http://localhost:3000', authorization: `Bearer ${token('alice')}` };
  const created = await fetch(`${server.baseUrl}/api/chat`, { method: 'POST', headers, body: '{}' });
  assert.equal(created.status, 201);
  assert.equal(created.headers.get('access-control-allow-origin'), '*');
  const { id } = await created.json();
  // An error answer carries it too, so the page can read the error.
  const missing = await fetch(`${server.baseUrl}/v1/chat/conversations/${id}`, { headers: { origin: 'http://x.test' } });
  assert.equal(missing.status, 401);
  assert.equal(missing.headers.get('access-control-allow-origin'), '*');
  const stream = await fetch(`${server.baseUrl}/api/chat/${id}/stream?message=hi&token=${token('alice')}`, {
    headers: { origin: 'http://localhost:3000' },
  });
  assert.equal(stream.headers.get('content-type'), 'text/event-stream');
  assert.equal(stream.headers.get('access-control-allow-origin'), '*');
  await stream.text();
  // Without an Origin (not a browser's cross-origin call) there is no header.
  const plain = await fetch(`${server.baseUrl}/healthz`);
  assert.equal(plain.headers.get('access-control-allow-origin'), null);
});

test('a list allows only its origins; none allows none', async (t) => {
  const server = await startServer(t, { env: { PARLEY_CORS_ORIGINS: 'https://app.example.com, https://admin.example.com' } });
  const ok = await preflight(server, '/api/chats/sessions/', 'https://admin.example.com');
  assert.equal(ok.headers.get('access-control-allow-origin'), 'https://admin.example.com');
  assert.equal(ok.headers.get('vary'), 'Origin');
  const res = await fetch(`${server.baseUrl}/api/chats/sessions/`, { method: 'POST', headers: { origin: 'https://app.example.com' } });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example.com');
  for (const origin of ['https://evil.example.com', 'https://app.example.com.evil.test', 'null']) {
    const no = await preflight(server, '/api/chats/sessions/', origin);
    assert.equal(no.status, 204);
    assert.equal(no.headers.get('access-control-allow-origin'), null, origin);
    const get = await fetch(`${server.baseUrl}/healthz`, { headers: { origin } });
    assert.equal(get.headers.get('access-control-allow-origin'), null, origin);
  }

  const closed = await startServer(t, { env: { PARLEY_CORS_ORIGINS: 'none' } });
  const none = await preflight(closed, '/api/chats/sessions/', 'http://localhost:3000');
  assert.equal(none.headers.get('access-control-allow-origin'), null);
});

// REST side of the visitor chat: health, session creation and reading, 404s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer } from './lib/server.mjs';
import { createSession, getSession, request, sessionPath } from './lib/api.mjs';
import { assertReply, assertTimestamp, assertUuid } from './lib/checks.mjs';

const TTL_SECONDS = 3600;

function assertNewSession(body, { visitorId } = {}) {
  const shown = JSON.stringify(body);
  assertUuid(body.session_id, 'session_id');
  assertUuid(body.visitor_id, 'visitor_id');
  if (visitorId) assert.equal(body.visitor_id, visitorId, shown);
  assert.equal(body.status, 'active', shown);
  assertTimestamp(body.created_at, 'created_at');
  assertTimestamp(body.expires_at, 'expires_at');
  // Allow one second for timestamps written at second precision; this is rounding,
  // not a speed assertion.
  const ttlMs = Date.parse(body.expires_at) - Date.parse(body.created_at);
  assert.ok(Math.abs(ttlMs - TTL_SECONDS * 1000) <= 1000, `expires_at - created_at should be ${TTL_SECONDS}s: ${shown}`);
}

test('REST endpoints', async (t) => {
  const server = await startServer(t, { env: { PARLEY_SESSION_TTL_SECONDS: String(TTL_SECONDS) } });

  await t.test('GET /healthz answers 200 {"status":"ok"}', async () => {
    const res = await request(server, 'GET', '/healthz');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { status: 'ok' });
  });

  await t.test('POST a session with no body', async () => {
    const res = await request(server, 'POST', '/api/chats/sessions/');
    assert.equal(res.status, 201, res.text);
    assertNewSession(res.json);
  });

  await t.test('POST a session with {}', async () => {
    const res = await request(server, 'POST', '/api/chats/sessions/', { body: {} });
    assert.equal(res.status, 201, res.text);
    assertNewSession(res.json);
  });

  await t.test('fresh sessions get distinct ids and fresh visitor ids', async () => {
    const a = await createSession(server, {});
    const b = await createSession(server, {});
    assert.notEqual(a.session_id, b.session_id);
    assert.notEqual(a.visitor_id, b.visitor_id);
  });

  await t.test('POST a session with visitor_id and conversation_data', async () => {
    const visitorId = randomUUID();
    const conversationData = { name: 'John Doe', email: 'john@example.com' };
    const res = await request(server, 'POST', '/api/chats/sessions/', {
      body: { visitor_id: visitorId, conversation_data: conversationData },
    });
    assert.equal(res.status, 201, res.text);
    assertNewSession(res.json, { visitorId });

    const read = await getSession(server, res.json);
    assert.equal(read.session_id, res.json.session_id);
    assert.equal(read.visitor_id, visitorId);
    assert.equal(read.status, 'active');
    assert.equal(read.created_at, res.json.created_at);
    assert.equal(read.expires_at, res.json.expires_at);
    assert.deepEqual(read.conversation_data, conversationData);
    assert.deepEqual(read.messages, []);
  });

  await t.test('bad JSON body answers 400 {"error":"Invalid JSON"}', async () => {
    for (const body of ['{', '{"visitor_id":', 'not json', '{"a":1}}']) {
      const res = await request(server, 'POST', '/api/chats/sessions/', { body });
      assert.equal(res.status, 400, `body ${JSON.stringify(body)}: ${res.text}`);
      assert.deepEqual(res.json, { error: 'Invalid JSON' }, `body ${JSON.stringify(body)}`);
    }
  });

  await t.test('a visitor_id that is not a UUID answers 400 with an error text', async () => {
    for (const visitorId of ['not-a-uuid', '12345', 42, { id: 1 }]) {
      const res = await request(server, 'POST', '/api/chats/sessions/', { body: { visitor_id: visitorId } });
      assert.equal(res.status, 400, `visitor_id ${JSON.stringify(visitorId)}: ${res.text}`);
      assert.ok(typeof res.json?.error === 'string' && res.json.error.length > 0, res.text);
    }
  });

  await t.test('GET an unknown session answers 404', async () => {
    const res = await request(server, 'GET', sessionPath(randomUUID(), randomUUID()));
    assert.equal(res.status, 404, res.text);
    assert.deepEqual(res.json, { error: 'Session not found' });
  });

  await t.test('GET with the wrong visitor answers 403', async () => {
    const s = await createSession(server, {});
    const res = await request(server, 'GET', sessionPath(s.session_id, randomUUID()));
    assert.equal(res.status, 403, res.text);
    assert.deepEqual(res.json, { error: 'Visitor ID does not match' });
  });

  await t.test('GET shows the messages of a chat, oldest first', async () => {
    const s = await createSession(server, {});
    const client = await server.connect();
    await client.next('connected');
    const sent = ['Hello there', 'What can you do?'];
    const replies = [];
    for (const text of sent) {
      const reply = await client.chat(text, s);
      assertReply(reply);
      replies.push(reply);
    }
    await client.close();

    const read = await getSession(server, s);
    assert.equal(read.status, 'active');
    assert.equal(read.messages.length, 4, JSON.stringify(read.messages));
    const expected = [
      { role: 'user', content: sent[0], id: replies[0].complete.message_id },
      { role: 'assistant', content: replies[0].complete.message, id: replies[0].complete.response_id },
      { role: 'user', content: sent[1], id: replies[1].complete.message_id },
      { role: 'assistant', content: replies[1].complete.message, id: replies[1].complete.response_id },
    ];
    let previous = -Infinity;
    read.messages.forEach((m, i) => {
      const shown = JSON.stringify(m);
      assert.equal(m.role, expected[i].role, shown);
      assert.equal(m.content, expected[i].content, shown);
      // message_id is the stored user message, response_id the stored assistant one.
      assert.equal(m.id, expected[i].id, shown);
      assert.equal(m.type, 'message', shown);
      assert.equal(m.state, 'complete', shown);
      assertTimestamp(m.created_at, 'message created_at');
      assert.ok(Date.parse(m.created_at) >= previous, `messages are oldest first: ${shown}`);
      previous = Date.parse(m.created_at);
    });
  });

  await t.test('an unknown path answers 404 with a JSON body', async () => {
    for (const path of ['/nope', '/api/chats/', '/api/chats/sessions/x/y/z/']) {
      const res = await request(server, 'GET', path);
      assert.equal(res.status, 404, `${path}: ${res.text}`);
      assert.equal(typeof res.json, 'object', `${path} should answer JSON: ${res.text}`);
    }
  });

  await t.test('a WebSocket upgrade on an unknown path answers 404', async () => {
    await assert.rejects(server.connect('/ws/nope/'), (err) => {
      assert.equal(err.statusCode, 404, err.message);
      return true;
    });
  });
});

// Error frames: each bad frame gets the documented text and the socket keeps working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer } from './lib/server.mjs';
import { createSession, request } from './lib/api.mjs';
import { assertErrorFrame, assertReply, assertStillUsable, sleep } from './lib/checks.mjs';

test('bad frames get error frames and the connection stays usable', async (t) => {
  const server = await startServer(t);
  const session = await createSession(server, {});
  const client = await server.connect();
  await client.next('connected');

  const chat = (fields) => ({
    type: 'chat_message',
    message: 'hello',
    session_id: session.session_id,
    visitor_id: session.visitor_id,
    ...fields,
  });
  const cases = [
    ['bad JSON', '{"type": "chat_message", ', 'Invalid JSON'],
    ['not JSON at all', 'hello server', 'Invalid JSON'],
    ['unknown type', chat({ type: 'dance' }), 'Unknown message type: dance'],
    ['missing type', { message: 'hi', session_id: session.session_id, visitor_id: session.visitor_id }, 'type is required'],
    ['missing message', chat({ message: undefined }), 'message is required'],
    ['empty message', chat({ message: '' }), 'message is required'],
    ['whitespace-only message', chat({ message: ' \t\n  ' }), 'message is required'],
    ['numeric message', chat({ message: 42 }), 'message is required'],
    ['object message', chat({ message: { text: 'hi' } }), 'message is required'],
    ['message with NUL', chat({ message: 'hi\u0000there' }), 'message must not contain NUL characters'],
    ['unknown session', chat({ session_id: randomUUID() }), 'Session not found'],
    ['non-UUID session', chat({ session_id: 'abc' }), 'Session not found'],
    ['wrong visitor', chat({ visitor_id: randomUUID() }), 'Visitor ID does not match'],
    ['binary frame', Buffer.from('{"type":"chat_message"}'), 'Binary frames are not supported'],
  ];
  for (const [name, payload, expected] of cases) {
    await t.test(`${name} → "${expected}"`, async () => {
      client.send(payload);
      assertErrorFrame(await client.next(), expected);
      await assertStillUsable(client, session);
    });
  }
  await client.close();
});

test('a message while a reply still streams is refused; the reply completes', async (t) => {
  // Slow chunks so the first reply is surely still streaming when the second arrives.
  const server = await startServer(t, { env: { PARLEY_STREAM_DELAY_MS: '50', PARLEY_BUILTIN_WORDS: '40' } });
  const session = await createSession(server, {});
  const client = await server.connect();
  await client.next('connected');

  client.sendChat('First question', session);
  const first = await client.next();
  assert.equal(first.type, 'chunk', JSON.stringify(first));
  client.sendChat('Second question', session);

  const rest = await client.collectReply({ allowErrors: true });
  const reply = { ...rest, chunks: [first, ...rest.chunks], text: first.chunk + rest.text };
  assertReply(reply, { wordCount: 40 });
  assert.equal(rest.errors.length, 1, `exactly one refusal: ${JSON.stringify(rest.errors)}`);
  assertErrorFrame(rest.errors[0], /still streaming/);

  // The refused message was not queued: nothing else arrives for it, and the session
  // takes the next message normally.
  const next = await client.chat('Third question', session);
  assertReply(next, { wordCount: 40 });
  assert.notEqual(next.complete.message_id, reply.complete.message_id);
  await client.close();
});

test('an expired session gets "Session has expired"', async (t) => {
  const ttlSeconds = 3;
  const server = await startServer(t, { env: { PARLEY_SESSION_TTL_SECONDS: String(ttlSeconds) } });
  const expiring = await createSession(server, {});
  const client = await server.connect();
  await client.next('connected');
  assertReply(await client.chat('Quick, before it expires', expiring));

  // Wait until expires_at has passed (same machine, same clock) with a margin.
  await sleep(Math.max(0, Date.parse(expiring.expires_at) - Date.now()) + 1000);
  client.sendChat('Am I too late?', expiring);
  assertErrorFrame(await client.next(), 'Session has expired');

  // A fresh session on the same socket still works.
  const fresh = await createSession(server, {});
  await assertStillUsable(client, fresh);
  await client.close();
});

test('a frame far over the limit still gets its 1009, not a reset', async (t) => {
  // The server closes while megabytes of the frame are still coming: closing the
  // socket on them would send a reset that can destroy the close frame (1006).
  const server = await startServer(t);
  for (let i = 0; i < 5; i++) {
    const client = await server.connect();
    await client.next('connected');
    client.send('x'.repeat(2_000_000));
    const { code } = await client.closed;
    assert.equal(code, 1009, `attempt ${i + 1}`);
  }
});

test('an oversized frame closes the connection with 1009', async (t) => {
  const server = await startServer(t, { env: { PARLEY_MAX_FRAME_BYTES: '4096' } });
  const session = await createSession(server, {});
  const client = await server.connect();
  await client.next('connected');

  const payload = JSON.stringify({
    type: 'chat_message',
    message: 'x'.repeat(10_000),
    session_id: session.session_id,
    visitor_id: session.visitor_id,
  });
  assert.ok(Buffer.byteLength(payload) > 10_000);
  client.send(payload);
  const { code } = await client.closed;
  assert.equal(code, 1009);

  // Only that connection suffered: the server and new connections are fine.
  const health = await request(server, 'GET', '/healthz');
  assert.equal(health.status, 200);
  const other = await server.connect();
  await other.next('connected');
  // A frame just under the limit is accepted.
  assertReply(await other.chat('y'.repeat(1000), session));
  await other.close();
});

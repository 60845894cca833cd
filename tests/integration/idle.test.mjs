// Inactivity: an idle_warning, then session_end; a visitor message resets both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { createSession, getSession } from './lib/api.mjs';
import { assertErrorFrame, assertIdleWarning, assertReply, assertSessionEnd } from './lib/checks.mjs';

const IDLE_ENV = { PARLEY_IDLE_WARNING_SECONDS: '2', PARLEY_SESSION_END_SECONDS: '4' };
// Bounds only against a hang: the warning is due 2 s after activity, the end 2 s later.
const WAIT_MS = 15_000;

test('an idle visitor is warned, then the session ends', async (t) => {
  const server = await startServer(t, { env: IDLE_ENV });
  const session = await createSession(server, {});
  const client = await server.connect();
  await client.next('connected');

  const reply = await client.chat('Hello, I will go quiet now', session);
  assertReply(reply);

  // The very next frames: one warning, then the end (no second warning in between).
  const warning = await client.next(() => true, WAIT_MS);
  assertIdleWarning(warning, session, 2);
  const end = await client.next(() => true, WAIT_MS);
  assertSessionEnd(end, session, 4);
  assert.notEqual(end.response_id, warning.response_id);

  // The ended session refuses messages, on this socket and on a new one.
  client.sendChat('Wait, I am back', session);
  assertErrorFrame(await client.next(), 'Session is not active');
  const other = await server.connect();
  await other.next('connected');
  other.sendChat('Hello from a new tab', session);
  assertErrorFrame(await other.next(), 'Session is not active');

  // Both notices were stored as assistant messages and the session is marked ended.
  const read = await getSession(server, session);
  assert.equal(read.status, 'ended', JSON.stringify(read));
  const stored = read.messages.map(({ role, type, content, id }) => ({ role, type, content, id }));
  assert.deepEqual(stored, [
    { role: 'user', type: 'message', content: 'Hello, I will go quiet now', id: reply.complete.message_id },
    { role: 'assistant', type: 'message', content: reply.complete.message, id: reply.complete.response_id },
    { role: 'assistant', type: 'idle_warning', content: warning.message, id: warning.response_id },
    { role: 'assistant', type: 'session_end', content: end.message, id: end.response_id },
  ]);
  for (const m of read.messages) assert.equal(m.state, 'complete', JSON.stringify(m));
  await Promise.all([client.close(), other.close()]);
});

test('a visitor message after the warning resets the timers', async (t) => {
  const server = await startServer(t, { env: IDLE_ENV });
  const session = await createSession(server, {});
  const client = await server.connect();
  await client.next('connected');

  assertReply(await client.chat('Hello', session));
  const firstWarning = await client.next(() => true, WAIT_MS);
  assertIdleWarning(firstWarning, session, 2);

  // Answering the warning counts as activity: the pending session_end is cancelled,
  // and the next thing after this reply is a fresh warning, not the end.
  assertReply(await client.chat('Yes, still here!', session));
  const secondWarning = await client.next(() => true, WAIT_MS);
  assertIdleWarning(secondWarning, session, 2);
  assert.notEqual(secondWarning.response_id, firstWarning.response_id);

  const end = await client.next(() => true, WAIT_MS);
  assertSessionEnd(end, session, 4);

  const read = await getSession(server, session);
  assert.equal(read.status, 'ended');
  assert.deepEqual(
    read.messages.map((m) => `${m.role}:${m.type}`),
    [
      'user:message',
      'assistant:message',
      'assistant:idle_warning',
      'user:message',
      'assistant:message',
      'assistant:idle_warning',
      'assistant:session_end',
    ],
  );
  await client.close();
});

// Durability: conversations, partial replies and idle deadlines survive a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { chatPath, createSession, getSession } from './lib/api.mjs';
import { assertFrameSchema, assertIdleWarning, assertReply } from './lib/checks.mjs';

test('a graceful restart keeps every message and the conversation goes on', async (t) => {
  const server = await startServer(t);
  const session = await createSession(server, {});
  const client = await server.connect();
  await client.next('connected');

  const sent = ['Hello', 'My name is Alice Smith and my email is alice@example.com', 'What next?'];
  const replies = [];
  for (const text of sent) {
    const reply = await client.chat(text, session);
    assertReply(reply);
    replies.push(reply);
  }

  assert.equal(await server.stop('SIGTERM'), 0, `parley should exit 0 on SIGTERM:\n${server.logTail()}`);
  await client.closed;
  await server.restart();

  const read = await getSession(server, session);
  assert.equal(read.status, 'active');
  const expected = sent.flatMap((text, i) => [
    { id: replies[i].complete.message_id, role: 'user', content: text, type: 'message', state: 'complete' },
    {
      id: replies[i].complete.response_id,
      role: 'assistant',
      content: replies[i].complete.message,
      type: 'message',
      state: 'complete',
    },
  ]);
  assert.deepEqual(
    read.messages.map(({ id, role, content, type, state }) => ({ id, role, content, type, state })),
    expected,
  );
  assert.equal(read.conversation_data?.name, 'Alice Smith');
  assert.equal(read.conversation_data?.email, 'alice@example.com');

  // A reconnecting tab picks the conversation up where it was.
  const again = await server.connect(chatPath(session));
  const connected = await again.next();
  assertFrameSchema(connected);
  assert.equal(connected.type, 'connected', JSON.stringify(connected));
  assert.equal(connected.session_id, session.session_id);
  assert.equal(connected.conversation_data?.name, 'Alice Smith', JSON.stringify(connected));
  assert.equal(connected.conversation_data?.email, 'alice@example.com', JSON.stringify(connected));

  const reply = await again.chat('I am back after the restart', session);
  assertReply(reply);
  assert.equal(reply.complete.conversation_data.name, 'Alice Smith');
  assert.equal(reply.complete.conversation_data.email, 'alice@example.com');
  assert.equal(reply.complete.needs_info, false);
  assert.equal((await getSession(server, session)).messages.length, expected.length + 2);
  await again.close();
});

test('SIGTERM during a streaming reply stores it as partial', async (t) => {
  // 200 words at 100 ms each: the reply is far from done when the signal lands.
  const server = await startServer(t, {
    env: { PARLEY_STREAM_DELAY_MS: '100', PARLEY_BUILTIN_WORDS: '200' },
  });
  const session = await createSession(server, {});
  const client = await server.connect();
  await client.next('connected');

  client.sendChat('Tell me everything', session);
  for (let i = 0; i < 3; i++) {
    const frame = await client.next();
    assert.equal(frame.type, 'chunk', JSON.stringify(frame));
  }

  // The bound inside stop() (10 s) is what "exits within a few seconds" means here.
  assert.equal(await server.stop('SIGTERM'), 0, `parley should exit 0 on SIGTERM:\n${server.logTail()}`);
  const { code } = await client.closed;
  assert.equal(code, 1001, 'going away');
  // An error frame may precede the close; a complete frame must not (it was cut short).
  const extra = client.history.filter((f) => !['connected', 'chunk', 'error'].includes(f.type));
  assert.deepEqual(extra, [], 'only chunks and possibly an error before the close');
  const chunks = client.history.filter((f) => f.type === 'chunk');
  const streamed = chunks.map((c) => c.chunk).join('');

  // Fast chunks from here on: the follow-up reply below need not take 20 s.
  await server.restart({ env: { PARLEY_STREAM_DELAY_MS: '5' } });
  const read = await getSession(server, session);
  assert.equal(read.messages.length, 2, JSON.stringify(read.messages));
  const [user, assistant] = read.messages;
  assert.equal(user.role, 'user');
  assert.equal(user.content, 'Tell me everything');
  assert.equal(user.id, chunks[0].message_id);
  assert.equal(assistant.role, 'assistant');
  assert.equal(assistant.type, 'message');
  assert.equal(assistant.state, 'partial', JSON.stringify(assistant));
  assert.ok(assistant.content.trim().length > 0, 'the partial reply is not empty');
  assert.ok(
    streamed.startsWith(assistant.content),
    `the stored partial reply should be a prefix of what was streamed:\n` +
      `  stored:   ${JSON.stringify(assistant.content)}\n  streamed: ${JSON.stringify(streamed)}`,
  );

  // The visitor can carry on after the interruption.
  const again = await server.connect(chatPath(session));
  assert.equal((await again.next()).type, 'connected');
  const reply = await again.chat('Go on, please', session);
  assertReply(reply, { wordCount: 200 });
  await again.close();
});

test('idle deadlines survive a restart', async (t) => {
  // Warning after 3 s; the end is pushed far out so only the warning is in play.
  const server = await startServer(t, {
    env: { PARLEY_IDLE_WARNING_SECONDS: '3', PARLEY_SESSION_END_SECONDS: '600' },
  });
  const session = await createSession(server, {});
  const client = await server.connect();
  await client.next('connected');
  assertReply(await client.chat('Hello, then silence', session));

  // Restart at once, long before the warning is due.
  assert.equal(await server.stop('SIGTERM'), 0, server.logTail());
  await server.restart();

  const again = await server.connect(chatPath(session));
  const connected = await again.next();
  assert.equal(connected.type, 'connected', JSON.stringify(connected));
  const warning = await again.next(() => true, 15_000);
  assertIdleWarning(warning, session, 3);
  await again.close();
});

test('a crash mid-reply after a warning keeps the deadline the message set', async (t) => {
  // The warning 2 s after the last activity, the end 6 s after it.
  const server = await startServer(t, {
    env: {
      PARLEY_IDLE_WARNING_SECONDS: '2',
      PARLEY_SESSION_END_SECONDS: '6',
      PARLEY_STREAM_DELAY_MS: '100',
      PARLEY_BUILTIN_WORDS: '200',
    },
  });
  const session = await createSession(server, {});
  const client = await server.connect(chatPath(session));
  await client.next('connected');
  assertIdleWarning(await client.next(() => true, 10_000), session, 2);

  // The visitor comes back; parley dies while replying. Only the message is stored,
  // not the session row as it changed (warned, activity at the session's creation).
  client.sendChat('Still here, tell me more', session);
  const chunk = await client.next();
  assert.equal(chunk.type, 'chunk', JSON.stringify(chunk));
  await server.stop('SIGKILL');
  await server.restart();

  // The message counts as activity: a fresh warning about 2 s after it, not the end
  // that the stored row alone would give (6 s after the session's creation).
  const again = await server.connect(chatPath(session));
  assert.equal((await again.next()).type, 'connected');
  const next = await again.next(() => true, 15_000);
  assertIdleWarning(next, session, 2);
  await again.close();
});

// The visitor chat over WebSocket: connection frames, streamed replies, visitor data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer } from './lib/server.mjs';
import { chatPath, createSession } from './lib/api.mjs';
import { assertErrorFrame, assertFrameSchema, assertReply, assertStillUsable, words } from './lib/checks.mjs';

test('visitor chat', async (t) => {
  const server = await startServer(t);

  await t.test('a bare connection is greeted with a connected frame', async () => {
    const client = await server.connect();
    const frame = await client.next();
    assertFrameSchema(frame);
    assert.equal(frame.type, 'connected', JSON.stringify(frame));
    assert.equal(frame.done, false);
    assert.equal(frame.complete, false);
    assert.equal(frame.metadata?.status, 'connected', JSON.stringify(frame));
    assert.equal(frame.session_id, undefined, 'no session named, so no session_id');
    await client.close();
  });

  await t.test('a chat message streams chunks then one complete frame', async () => {
    const session = await createSession(server, {});
    const client = await server.connect();
    await client.next('connected');
    const reply = await client.chat('Hello, what is a novated lease?', session);
    assertReply(reply);
    // A second message in the same session works the same way, with new ids.
    const again = await client.chat('Tell me more please', session);
    assertReply(again);
    assert.notEqual(again.complete.message_id, reply.complete.message_id);
    assert.notEqual(again.complete.response_id, reply.complete.response_id);
    await client.close();
  });

  await t.test('needs_info stays true until name and e-mail are known', async () => {
    const session = await createSession(server, {});
    const client = await server.connect();
    await client.next('connected');

    const first = await client.chat('Hi, I have a question about leasing.', session);
    assertReply(first);
    assert.equal(first.complete.needs_info, true, JSON.stringify(first.complete));

    const second = await client.chat('My name is Alice Smith and my email is alice@example.com', session);
    assertReply(second);
    const data = second.complete.conversation_data;
    assert.equal(data.name, 'Alice Smith', JSON.stringify(data));
    assert.equal(data.email, 'alice@example.com', JSON.stringify(data));
    assert.equal(second.complete.needs_info, false, JSON.stringify(second.complete));

    // What was learnt sticks for the rest of the conversation.
    const third = await client.chat('Thanks!', session);
    assertReply(third);
    assert.equal(third.complete.conversation_data.name, 'Alice Smith');
    assert.equal(third.complete.conversation_data.email, 'alice@example.com');
    assert.equal(third.complete.needs_info, false);
    await client.close();
  });

  await t.test('conversation_data given at creation shows in connected and complete', async () => {
    const conversationData = { name: 'John Doe', email: 'john@example.com' };
    const session = await createSession(server, { visitor_id: randomUUID(), conversation_data: conversationData });
    const client = await server.connect(chatPath(session));
    const connected = await client.next();
    assertFrameSchema(connected);
    assert.equal(connected.type, 'connected', JSON.stringify(connected));
    assert.equal(connected.session_id, session.session_id);
    assert.equal(connected.metadata?.status, 'connected');
    assert.equal(connected.conversation_data?.name, 'John Doe', JSON.stringify(connected));
    assert.equal(connected.conversation_data?.email, 'john@example.com', JSON.stringify(connected));

    const reply = await client.chat('Hello again', session);
    assertReply(reply);
    assert.equal(reply.complete.conversation_data.name, 'John Doe');
    assert.equal(reply.complete.conversation_data.email, 'john@example.com');
    // Both facts known from the start, so nothing more to ask.
    assert.equal(reply.complete.needs_info, false);
    await client.close();
  });

  await t.test('an unknown session in the URL gets "Session not found" and the socket stays open', async () => {
    const client = await server.connect(chatPath({ session_id: randomUUID(), visitor_id: randomUUID() }));
    // Whether a `connected` frame comes first is not fixed; the error must come.
    let frame = await client.next();
    if (frame.type === 'connected') frame = await client.next();
    assertErrorFrame(frame, 'Session not found');
    const session = await createSession(server, {});
    await assertStillUsable(client, session);
    await client.close();
  });
});

test('PARLEY_BUILTIN_WORDS fixes the reply length', async (t) => {
  const server = await startServer(t, { env: { PARLEY_BUILTIN_WORDS: '7' } });
  const session = await createSession(server, {});
  const client = await server.connect();
  await client.next('connected');
  for (const text of ['Hello', 'My name is Alice Smith and my email is alice@example.com', 'ok']) {
    const reply = await client.chat(text, session);
    assertReply(reply, { wordCount: 7 });
    assert.equal(words(reply.complete.message).length, 7);
  }
  await client.close();
});

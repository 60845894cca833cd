// Hostile input: garbage, absurd nesting, huge numbers and wrong types must each get an
// error frame, and must leave the server healthy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer } from './lib/server.mjs';
import { createSession, request } from './lib/api.mjs';
import { assertErrorFrame, assertReply, assertStillUsable } from './lib/checks.mjs';

const TOTAL_FRAMES = 200;

// A small seeded generator so a failure can be replayed: the seed is printed, and
// PARLEY_FUZZ_SEED=<n> reruns the same sequence.
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeRandom(seed) {
  const rnd = mulberry32(seed);
  const int = (n) => Math.floor(rnd() * n);
  const pick = (xs) => xs[int(xs.length)];
  const KEYS = ['type', 'message', 'session_id', 'visitor_id', 'metadata', 'chunk', '', '__proto__', 'type '];
  const ATOMS = [
    'null', 'true', 'false', '0', '-0', '1e999', '-1e-999', '123456789012345678901234567890',
    '"chat_message"', '"hello"', '""', '"\\u0000"', '"\\ud800"', '"é漢🙂"', `"${randomUUID()}"`,
  ];
  // Text made of JSON's own punctuation and literals, so most of it gets past the
  // first byte of the parser before going wrong.
  const jsonish = () => {
    const parts = ['{', '}', '[', ']', ':', ',', '"', '\\', ' ', 'type', 'chat_message', 'message', 'null', '1e', '-', '0x1F', '\t', 'é', '🙂'];
    let s = '';
    const n = 1 + int(60);
    for (let i = 0; i < n; i++) s += pick(parts);
    return s;
  };
  const value = (depth) => {
    if (depth > 3 || rnd() < 0.4) return pick(ATOMS);
    if (rnd() < 0.5) {
      const n = int(4);
      return `[${Array.from({ length: n }, () => value(depth + 1)).join(',')}]`;
    }
    const n = int(5);
    return `{${Array.from({ length: n }, () => `${JSON.stringify(pick(KEYS))}:${value(depth + 1)}`).join(',')}}`;
  };
  // Either structurally valid JSON with random content, or that JSON cut and spliced.
  return () => {
    const r = rnd();
    if (r < 0.3) return jsonish();
    const v = value(0);
    if (r < 0.65) return v;
    const cut = int(v.length + 1);
    return v.slice(0, cut) + (rnd() < 0.5 ? jsonish() : '');
  };
}

function fixedPayloads(session) {
  const valid = { type: 'chat_message', message: 'hi', session_id: session.session_id, visitor_id: session.visitor_id };
  const withField = (field, v) => JSON.stringify({ ...valid, [field]: v });
  const depth = 10_000;
  const payloads = [
    '', ' ', '\n', 'null', 'true', '0', '[]', '{}', '""', '"chat_message"', '[{"type":"chat_message"}]',
    '\ufeff{"type":"chat_message"}',
    '{"type":"chat_message","message":"hi"} trailing',
    '{"type":"chat_message",}',
    "{'type':'chat_message'}",
    '{"type":"chat_message","message":"hi","session_id":',
    '['.repeat(depth) + ']'.repeat(depth),
    '['.repeat(depth),
    '{"a":'.repeat(depth) + '1' + '}'.repeat(depth),
    `{"type":"chat_message","message":${'['.repeat(depth)}${']'.repeat(depth)}}`,
    `{"type":"chat_message","message":"hi","session_id":${'['.repeat(depth)}${']'.repeat(depth)}}`,
    `{"type":${'9'.repeat(5000)}}`,
    `{"type":"chat_message","message":"hi","session_id":1e999999,"visitor_id":-1e999999}`,
    `{"type":"chat_message","message":${'9'.repeat(5000)}.${'9'.repeat(5000)}}`,
    JSON.stringify({ ...valid, session_id: session.session_id.toUpperCase() + 'x' }),
    JSON.stringify({ ...valid, session_id: `${session.session_id}\u0000` }),
  ];
  // Every field of a chat message with every wrong type, the rest of the frame valid.
  const wrong = [0, -1, 3.5, 1e308, true, false, null, {}, { a: 1 }, [], ['hi'], ''];
  for (const field of ['type', 'message', 'session_id', 'visitor_id']) {
    for (const v of wrong) payloads.push(withField(field, v));
  }
  return payloads;
}

test('hostile frames each get an error frame and leave the server healthy', async (t) => {
  const server = await startServer(t);
  const session = await createSession(server, {});
  const client = await server.connect();
  await client.next('connected');

  const seed = Number(process.env.PARLEY_FUZZ_SEED ?? 20240601);
  t.diagnostic(`fuzz seed ${seed} (set PARLEY_FUZZ_SEED to replay)`);
  const random = makeRandom(seed);
  const payloads = fixedPayloads(session);
  while (payloads.length < TOTAL_FRAMES) payloads.push(random());

  for (const [i, payload] of payloads.entries()) {
    client.send(payload);
    const frame = await client.next();
    const shown = payload.length > 300 ? `${payload.slice(0, 150)}…${payload.slice(-150)} (${payload.length} chars)` : payload;
    try {
      assertErrorFrame(frame);
    } catch (err) {
      err.message = `frame #${i} ${JSON.stringify(shown)}: ${err.message}`;
      throw err;
    }
  }

  const health = await request(server, 'GET', '/healthz');
  assert.equal(health.status, 200);
  await assertStillUsable(client, session);

  const fresh = await server.connect();
  await fresh.next('connected');
  assertReply(await fresh.chat('A normal question after all that', await createSession(server, {})));
  await Promise.all([client.close(), fresh.close()]);
});

// Writing a document back recurses once per level: a few kilobytes nested thousands of
// levels deep would take the server down. Bodies and frames deeper than 64 are refused.
test('deeply nested JSON is refused everywhere and the server stays up', async (t) => {
  const server = await startServer(t);
  const deep = (n) => '['.repeat(n) + ']'.repeat(n);
  const created = await request(server, 'POST', '/api/chats/sessions/',
    { body: `{"conversation_data":{"a":${deep(5000)}}}` });
  assert.equal(created.status, 400);
  assert.equal(created.json.error, 'JSON is nested more than 64 levels deep');
  const session = await createSession(server, { conversation_data: { a: JSON.parse(deep(10)) } });
  const client = await server.connect();
  await client.next('connected');
  client.send(`{"type":"chat_message","message":"hi","session_id":"${session.session_id}",` +
    `"visitor_id":"${session.visitor_id}","x":${deep(5000)}}`);
  const frame = await client.next();
  assertErrorFrame(frame);
  assert.equal(frame.error, 'JSON is nested more than 64 levels deep');
  await assertStillUsable(client, session);
  assert.equal((await request(server, 'GET', '/healthz')).status, 200);
  await client.close();
});

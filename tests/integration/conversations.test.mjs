// Seed 000: a signed-in user's conversations over REST (/v1/chat/conversations) and
// the notification WebSocket (/ws/conversations/{id}/?token=) that carries every
// stored message as {event:"message.created", payload:{message}}.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHmac, createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { startServer } from './lib/server.mjs';
import { request } from './lib/api.mjs';
import { connect } from './lib/client.mjs';
import { startFakeLlm } from './lib/fake_llm.mjs';

const SECRET = 'conversations-test-secret-0123456789abcdef';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

// A 1x1 PNG and the first bytes of a JPEG (type checks read only the magic bytes).
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==';
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1]).toString('base64');

const b64url = (x) => Buffer.from(x).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

function hs256(claims, { secret = SECRET, header = { alg: 'HS256', typ: 'JWT' } } = {}) {
  const head = b64url(JSON.stringify(header));
  const body = b64url(JSON.stringify({ exp: now() + 3600, ...claims }));
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

function rs256(claims, privateKey, kid) {
  const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
  const body = b64url(JSON.stringify({ exp: now() + 3600, ...claims }));
  const sig = createSign('RSA-SHA256').update(`${head}.${body}`).sign(privateKey).toString('base64url');
  return `${head}.${body}.${sig}`;
}

const bearer = (token) => ({ authorization: `Bearer ${token}` });
const as = (sub) => bearer(hs256({ sub }));

function serve(t, env = {}) {
  return startServer(t, { env: { PARLEY_JWT_SECRET: SECRET, PARLEY_STREAM_DELAY_MS: '5', PARLEY_BUILTIN_WORDS: '6', ...env } });
}

async function create(server, headers, title = 'Trip planning') {
  const res = await request(server, 'POST', '/v1/chat/conversations', { body: { title }, headers });
  assert.equal(res.status, 201, res.text);
  assert.match(res.json.id, UUID);
  assert.equal(res.json.title, title);
  assert.match(res.json.created_at, ISO);
  return res.json.id;
}

function socketUrl(server, id, token, query = '') {
  return `${server.wsBase}/ws/conversations/${id}/?token=${encodeURIComponent(token)}${query}`;
}

// Reads notification frames until the conversation's next assistant message that
// is not a tool call (the end of a reply), returning every frame on the way.
async function untilReply(client) {
  const frames = [];
  for (;;) {
    const f = await client.next();
    frames.push(f);
    const m = f.payload?.message;
    if (f.event === 'message.created' && m.role === 'assistant' && !m.tool_calls) return frames;
  }
}

function assertMessage(m, { id, role }) {
  assert.match(m.id, UUID);
  assert.equal(m.conversation_id, id);
  assert.equal(m.role, role);
  assert.equal(typeof m.content, 'string');
  assert.match(m.created_at, ISO);
  for (const key of ['tool_call_id', 'tool_calls', 'image', 'base64_image', 'media_type'])
    assert.ok(key in m, `message has ${key}`);
}

test('a posted message is stored (202), and the socket gets it and the reply as message.created', async (t) => {
  const server = await serve(t);
  const id = await create(server, as('alice'));
  const list = await request(server, 'GET', '/v1/chat/conversations', { headers: as('alice') });
  assert.equal(list.status, 200);
  assert.deepEqual(list.json.map((c) => c.id), [id]);

  const ws = await connect(socketUrl(server, id, hs256({ sub: 'alice' })), { server });
  const posted = await request(server, 'POST', `/v1/chat/conversations/${id}/messages`, {
    body: { content: 'Where should we go in May?' },
    headers: as('alice'),
  });
  assert.equal(posted.status, 202, posted.text);
  assertMessage(posted.json, { id, role: 'user' });
  assert.equal(posted.json.content, 'Where should we go in May?');

  const frames = await untilReply(ws);
  // Only whole messages: the user's first, then the reply; no other event kind.
  assert.deepEqual(frames.map((f) => f.event), ['message.created', 'message.created']);
  assert.deepEqual(frames[0].payload.message, posted.json);
  const reply = frames[1].payload.message;
  assertMessage(reply, { id, role: 'assistant' });
  assert.equal(reply.content.trim().split(/\s+/).length, 6);

  const got = await request(server, 'GET', `/v1/chat/conversations/${id}`, { headers: as('alice') });
  assert.equal(got.status, 200);
  assert.equal(got.json.id, id);
  assert.equal(got.json.conversation.id, id);
  assert.deepEqual(got.json.messages, [posted.json, reply]);
  const times = got.json.messages.map((m) => Date.parse(m.created_at));
  assert.deepEqual(times, [...times].sort((a, b) => a - b), 'ascending created_at');
});

test('two sockets see a tool call, its result and the reply in the same order; ?stream=1 adds deltas', async (t) => {
  const fake = await startFakeLlm(t);
  const server = await serve(t, {
    PARLEY_AGENT: 'openai',
    PARLEY_LLM_BASE_URL: fake.url,
    PARLEY_LLM_API_KEY: 'sk-test',
    PARLEY_LLM_MODEL: 'fake-model-1',
  });
  const id = await create(server, as('alice'));
  const token = hs256({ sub: 'alice' });
  const first = await connect(socketUrl(server, id, token), { server });
  // The second tab sends its token in the header instead of the query.
  const second = await connect(`${server.wsBase}/ws/conversations/${id}`, { server, headers: bearer(token) });
  const streaming = await connect(socketUrl(server, id, token, '&stream=1'), { server });
  fake.plan(
    { tokens: ['Let me check.'], toolCalls: [{ id: 'call_1', name: 'search_knowledge', arguments: '{"query":"pricing plans"}' }] },
    { tokens: ['The Team', ' plan', ' costs more.'] },
  );
  const posted = await request(server, 'POST', `/v1/chat/conversations/${id}/messages`, {
    body: { content: 'What does it cost?' },
    headers: as('alice'),
  });
  assert.equal(posted.status, 202, posted.text);

  const a = await untilReply(first);
  const b = await untilReply(second);
  assert.deepEqual(b, a, 'both sockets got the same frames in the same order');
  const messages = a.map((f) => f.payload.message);
  assert.deepEqual(messages.map((m) => m.role), ['user', 'assistant', 'tool', 'assistant']);
  const [, call, result, reply] = messages;
  assert.equal(call.tool_calls[0].id, 'call_1');
  assert.equal(call.tool_calls[0].function.name, 'search_knowledge');
  assert.equal(result.tool_call_id, 'call_1');
  assert.ok(JSON.parse(result.content), 'the tool result is JSON text');
  assert.equal(reply.content, 'Let me check.The Team plan costs more.');

  // The opted-in socket: the same messages, with deltas of the reply between.
  const s = await untilReply(streaming);
  assert.deepEqual(s.filter((f) => f.event === 'message.created'), a);
  const deltas = s.filter((f) => f.event === 'message.delta').map((f) => f.payload);
  assert.ok(deltas.length >= 2, JSON.stringify(s));
  assert.ok(deltas.every((d) => d.conversation_id === id && d.message_id === reply.id));
  assert.deepEqual(deltas.map((d) => d.seq), deltas.map((_, i) => i + 1));
  assert.equal(deltas.map((d) => d.delta).join(''), reply.content);
  // Every delta comes before the whole reply.
  assert.equal(s.at(-1).payload.message.id, reply.id);

  const got = await request(server, 'GET', `/v1/chat/conversations/${id}`, { headers: as('alice') });
  assert.deepEqual(got.json.messages, messages);
});

test('users see only their own conversations: 404 on REST, the socket refused', async (t) => {
  const server = await serve(t);
  const mine = await create(server, as('alice'), 'Mine');
  const theirs = await create(server, as('bob'), 'Theirs');
  const list = await request(server, 'GET', '/v1/chat/conversations', { headers: as('bob') });
  assert.deepEqual(list.json.map((c) => c.title), ['Theirs']);
  assert.notEqual(mine, theirs);

  for (const [method, path, body] of [
    ['GET', `/v1/chat/conversations/${mine}`],
    ['POST', `/v1/chat/conversations/${mine}/messages`, { content: 'hi' }],
    ['GET', '/v1/chat/conversations/00000000-0000-4000-8000-000000000000'],
    ['GET', '/v1/chat/conversations/not-a-uuid'],
    // Deleting and sharing say the same for an id that never existed.
    ['DELETE', `/v1/chat/conversations/${mine}`],
    ['DELETE', '/v1/chat/conversations/00000000-0000-4000-8000-000000000000'],
    ['POST', '/v1/chat/conversations/00000000-0000-4000-8000-000000000000/members', { user_id: 'carol' }],
    ['DELETE', '/v1/chat/conversations/00000000-0000-4000-8000-000000000000/members/carol'],
  ]) {
    const res = await request(server, method, path, { body, headers: as('bob') });
    assert.equal(res.status, 404, `${method} ${path}: ${res.text}`);
    assert.equal(res.json.error, 'Conversation not found');
  }
  await assert.rejects(connect(socketUrl(server, mine, hs256({ sub: 'bob' }))), (err) => err.statusCode === 404);

  // Bob's socket on his own conversation sees nothing of Alice's traffic.
  const bobs = await connect(socketUrl(server, theirs, hs256({ sub: 'bob' })), { server });
  const alices = await connect(socketUrl(server, mine, hs256({ sub: 'alice' })), { server });
  const posted = await request(server, 'POST', `/v1/chat/conversations/${mine}/messages`, {
    body: { content: 'secret plans' },
    headers: as('alice'),
  });
  assert.equal(posted.status, 202);
  await untilReply(alices);
  const bobPost = await request(server, 'POST', `/v1/chat/conversations/${theirs}/messages`, {
    body: { content: 'hello' },
    headers: as('bob'),
  });
  const bobFrames = await untilReply(bobs);
  assert.equal(bobFrames[0].payload.message.id, bobPost.json.id, 'bob saw his own message first');
  assert.ok(bobFrames.every((f) => f.payload.message.conversation_id === theirs));
  // Nor does the visitor API open a conversation with the owner's sub.
  const visitor = await request(server, 'GET', `/api/chats/sessions/${mine}/?visitor_id=alice`);
  assert.notEqual(visitor.status, 200);
  // And a visitor id in the right shape learns nothing: the id is as unknown as any.
  const stranger = await request(server, 'GET',
    `/api/chats/sessions/${mine}/?visitor_id=${randomUUID()}`);
  assert.equal(stranger.status, 404);
  assert.equal(stranger.json.error, 'Session not found');
});

test('forged, expired and missing tokens: 401 JSON on REST, the upgrade refused with 401', async (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
  const jwks = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise((r) => jwks.listen(0, '127.0.0.1', r));
  t.after(() => jwks.close());
  const server = await serve(t, { PARLEY_JWKS_URL: `http://127.0.0.1:${jwks.address().port}/jwks.json` });

  // RS256 from the JWKS works for REST and the socket alike.
  const good = rs256({ sub: 'carol' }, privateKey, 'k1');
  const id = await create(server, bearer(good));
  const ws = await connect(socketUrl(server, id, good), { server });
  const posted = await request(server, 'POST', `/v1/chat/conversations/${id}/messages`, {
    body: { content: 'hello' },
    headers: bearer(good),
  });
  assert.equal(posted.status, 202);
  assert.equal((await ws.next()).payload.message.id, posted.json.id);

  const pem = publicKey.export({ format: 'pem', type: 'spki' });
  const [head, body] = good.split('.');
  const forged = {
    none: `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${body}.`,
    'wrong secret': hs256({ sub: 'carol' }, { secret: 'not-the-secret-at-all-0123456789' }),
    'HS256 with the public key': hs256({ sub: 'carol' }, { secret: pem, header: { alg: 'HS256', typ: 'JWT', kid: 'k1' } }),
    expired: hs256({ sub: 'carol', exp: now() - 3600 }),
    'tampered payload': `${head}.${b64url(JSON.stringify({ sub: 'mallory', exp: now() + 3600 }))}.${good.split('.')[2]}`,
    garbage: 'a.b.c',
    'bad base64': `${head}.${body}.!!!`,
  };
  for (const [what, token] of Object.entries(forged)) {
    for (const [method, path] of [['GET', '/v1/chat/conversations'], ['GET', `/v1/chat/conversations/${id}`]]) {
      const res = await request(server, method, path, { headers: bearer(token) });
      assert.equal(res.status, 401, `${what}: ${res.text}`);
      assert.match(res.json.error, /^Invalid token/);
    }
    await assert.rejects(connect(socketUrl(server, id, token)), (err) => err.statusCode === 401, what);
  }
  const none = await request(server, 'GET', '/v1/chat/conversations');
  assert.equal(none.status, 401);
  assert.equal(none.json.error, 'Authentication required');
  await assert.rejects(connect(`${server.wsBase}/ws/conversations/${id}/`), (err) => err.statusCode === 401);
});

test('an image round trip: type from the bytes, size limited, returned for rendering', async (t) => {
  const server = await serve(t, { PARLEY_MAX_IMAGE_BYTES: '4096' });
  const id = await create(server, as('alice'));
  const ws = await connect(socketUrl(server, id, hs256({ sub: 'alice' })), { server });
  const post = (body) => request(server, 'POST', `/v1/chat/conversations/${id}/messages`, { body, headers: as('alice') });

  const plain = await post({ content: 'Look at this', base64_image: PNG });
  assert.equal(plain.status, 202, plain.text);
  assert.equal(plain.json.media_type, 'image/png');
  assert.equal(plain.json.base64_image, PNG);
  assert.equal(plain.json.image, `data:image/png;base64,${PNG}`);
  const created = await ws.next();
  assert.deepEqual(created.payload.message, plain.json);
  await untilReply(ws);

  // A data: URL that claims the wrong type is stored as what the bytes are.
  const claimed = await post({ content: 'and this', base64_image: `data:image/png;base64,${JPEG}` });
  assert.equal(claimed.status, 202, claimed.text);
  assert.equal(claimed.json.media_type, 'image/jpeg');
  assert.equal(claimed.json.base64_image, JPEG);
  await untilReply(ws);

  const got = await request(server, 'GET', `/v1/chat/conversations/${id}`, { headers: as('alice') });
  const images = got.json.messages.filter((m) => m.role === 'user').map((m) => m.image);
  assert.deepEqual(images, [`data:image/png;base64,${PNG}`, `data:image/jpeg;base64,${JPEG}`]);

  const refused = [
    [{ content: 'x', base64_image: Buffer.from('just some text, not an image').toString('base64') }, 400, /PNG, JPEG, GIF or WebP/],
    [{ content: 'x', base64_image: 'iVBOR$$$' }, 400, /not valid base64/],
    [{ content: 'x', base64_image: 'data:image/png,iVBOR' }, 400, /must be base64/],
    [{ content: 'x', base64_image: 42 }, 400, /must be a string/],
    [{ content: 'x', base64_image: PNG + Buffer.alloc(30).toString('base64') }, 400, /not valid base64/],
    [{ content: 'x', base64_image: Buffer.concat([Buffer.from(PNG, 'base64'), Buffer.alloc(5000)]).toString('base64') }, 413, /larger than 4096 bytes/],
  ];
  for (const [body, status, error] of refused) {
    const res = await post(body);
    assert.equal(res.status, status, res.text);
    assert.match(res.json.error, error);
  }
  const after = await request(server, 'GET', `/v1/chat/conversations/${id}`, { headers: as('alice') });
  assert.equal(after.json.messages.length, got.json.messages.length, 'nothing refused was stored');
});

test('bad bodies get clear errors; a second message while a reply streams is 409', async (t) => {
  const server = await serve(t, { PARLEY_STREAM_DELAY_MS: '200', PARLEY_MAX_FRAME_BYTES: '2048' });
  const id = await create(server, as('alice'));
  const path = `/v1/chat/conversations/${id}/messages`;
  for (const [body, status, error] of [
    ['not json', 400, /JSON object/],
    ['[1,2]', 400, /JSON object/],
    [{}, 400, /content is required/],
    [{ content: 7 }, 400, /content is required/],
    [{ content: '   ' }, 400, /content is required/],
    [{ content: 'x'.repeat(3000) }, 413, /too large|too long/],
  ]) {
    const res = await request(server, 'POST', path, { body, headers: as('alice') });
    assert.equal(res.status, status, `${JSON.stringify(body).slice(0, 40)}: ${res.text}`);
    assert.match(res.json.error, error);
  }
  const title = await request(server, 'POST', '/v1/chat/conversations', { body: { title: 5 }, headers: as('alice') });
  assert.equal(title.status, 400);
  const wrong = await request(server, 'PUT', `/v1/chat/conversations/${id}`, { headers: as('alice') });
  assert.equal(wrong.status, 405);

  const ws = await connect(socketUrl(server, id, hs256({ sub: 'alice' })), { server });
  const first = await request(server, 'POST', path, { body: { content: 'one' }, headers: as('alice') });
  assert.equal(first.status, 202);
  const second = await request(server, 'POST', path, { body: { content: 'two' }, headers: as('alice') });
  assert.equal(second.status, 409, second.text);
  const frames = await untilReply(ws);
  assert.deepEqual(frames.map((f) => f.payload.message.role), ['user', 'assistant']);
  const again = await request(server, 'POST', path, { body: { content: 'two' }, headers: as('alice') });
  assert.equal(again.status, 202, 'accepted once the reply is done');
});

for (const flavor of ['openai', 'anthropic']) {
  test(`${flavor}: the model sees the newest message's image, and only that one`, async (t) => {
    const fake = await startFakeLlm(t);
    const server = await serve(t, {
      PARLEY_AGENT: flavor,
      PARLEY_LLM_BASE_URL: fake.url,
      PARLEY_LLM_API_KEY: 'sk-test',
      PARLEY_LLM_MODEL: 'fake-model-1',
    });
    const id = await create(server, as('alice'));
    const ws = await connect(socketUrl(server, id, hs256({ sub: 'alice' })), { server });
    const post = async (body) => {
      const res = await request(server, 'POST', `/v1/chat/conversations/${id}/messages`, { body, headers: as('alice') });
      assert.equal(res.status, 202, res.text);
      await untilReply(ws);
    };
    await post({ content: 'What is in this picture?', base64_image: `data:image/png;base64,${PNG}` });
    await post({ content: 'And now?' });
    const [first, second] = fake.requests.map((r) => r.body.messages.filter((m) => m.role !== 'system'));
    const blocks = first.at(-1).content;
    if (flavor === 'openai') {
      assert.deepEqual(blocks, [
        { type: 'text', text: 'What is in this picture?' },
        { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
      ]);
    } else {
      assert.deepEqual(blocks, [
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
        { type: 'text', text: 'What is in this picture?' },
      ]);
    }
    // The next turn carries the earlier question as text only.
    assert.equal(second[0].content, 'What is in this picture?');
    assert.equal(second.at(-1).content, 'And now?');
  });
}

test('hostile bodies and paths never crash the server or store anything', async (t) => {
  const server = await serve(t);
  const id = await create(server, as('alice'));
  const path = `/v1/chat/conversations/${id}/messages`;
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  const bodies = [
    deep,
    `{"content":${deep}}`,
    '{"content":"\\ud800"}',
    Buffer.from([0x7b, 0x22, 0x63, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    '{"content":"a\\u0000b"}',
    '{"content":null}',
    '{"content":["a"]}',
    '{"content":{"text":"a"}}',
    '{"content":"hi","base64_image":{}}',
    '{"content":"hi","base64_image":["iVBOR"]}',
    '{"content":"hi","base64_image":"data:;base64,"}',
    '{"content":"hi","base64_image":"data:image/png;base64,===="}',
    '{"content":"hi","content":7}',
    '',
  ];
  for (const body of bodies) {
    const res = await fetch(`${server.baseUrl}${path}`, {
      method: 'POST',
      headers: { ...as('alice'), 'content-type': 'application/json' },
      body,
    });
    assert.ok(res.status >= 400 && res.status < 500, `${String(body).slice(0, 40)} -> ${res.status}`);
    assert.equal(typeof (await res.json()).error, 'string');
  }
  for (const p of [`/v1/chat/conversations/${id}/messages/x`,
    `/v1/chat/conversations/${'a'.repeat(5000)}`, '/v1/chat/conversations//messages', `/v1/chat/conversations/${id}%00`]) {
    const res = await request(server, 'GET', p, { headers: as('alice') });
    assert.ok(res.status >= 400 && res.status < 500, `${p.slice(0, 60)} -> ${res.status}`);
  }
  for (const p of [`/ws/conversations/${id}/extra`, '/ws/conversations/', `/ws/conversations/${id}/?token=`]) {
    await assert.rejects(connect(`${server.wsBase}${p}`), (err) => err.statusCode >= 400 && err.statusCode < 500, p);
  }
  const got = await request(server, 'GET', `/v1/chat/conversations/${id}`, { headers: as('alice') });
  assert.deepEqual(got.json.messages, []);
  assert.equal((await request(server, 'GET', '/healthz')).status, 200);
});

test('members see and write to a conversation until removed; only the owner deletes it', async (t) => {
  const server = await serve(t);
  const id = await create(server, as('alice'), 'Shared');
  const other = await create(server, as('alice'), 'Private');
  const members = `/v1/chat/conversations/${id}/members`;

  const added = await request(server, 'POST', members, { body: { user_id: 'bob' }, headers: as('alice') });
  assert.equal(added.status, 200, added.text);
  assert.deepEqual(added.json.members, ['bob']);
  assert.equal(added.json.owner_id, 'alice');
  const bobList = await request(server, 'GET', '/v1/chat/conversations', { headers: as('bob') });
  // (Other tests' conversations share a PostgreSQL database: check these two.)
  const bobSees = bobList.json.map((c) => c.id);
  assert.ok(bobSees.includes(id) && !bobSees.includes(other), 'bob sees the shared one only');
  const bobWs = await connect(socketUrl(server, id, hs256({ sub: 'bob' })), { server });
  const aliceWs = await connect(socketUrl(server, id, hs256({ sub: 'alice' })), { server });
  const bobPost = await request(server, 'POST', `/v1/chat/conversations/${id}/messages`, {
    body: { content: 'Hi from bob' },
    headers: as('bob'),
  });
  assert.equal(bobPost.status, 202, bobPost.text);
  assert.deepEqual(await untilReply(bobWs), await untilReply(aliceWs));

  // A member may not manage the conversation.
  for (const [method, path, body] of [['DELETE', `/v1/chat/conversations/${id}`], ['POST', members, { user_id: 'mallory' }],
    ['DELETE', `${members}/bob`]]) {
    const res = await request(server, method, path, { body, headers: as('bob') });
    assert.equal(res.status, 403, `${method} ${path}: ${res.text}`);
  }
  for (const body of [{}, { user_id: 5 }, { user_id: '' }, { user_id: 'x'.repeat(300) }, { user_id: 'alice' }]) {
    const res = await request(server, 'POST', members, { body, headers: as('alice') });
    assert.equal(res.status, 400, `${JSON.stringify(body).slice(0, 30)}: ${res.text}`);
  }

  // Removed: bob's socket is told and hears nothing more; REST and the socket are 404.
  const removed = await request(server, 'DELETE', `${members}/bob`, { headers: as('alice') });
  assert.equal(removed.status, 200, removed.text);
  assert.deepEqual(removed.json.members, []);
  const told = await bobWs.next();
  assert.deepEqual(told, { event: 'error', payload: { error: 'You are no longer a member', type: 'membership_ended' } });
  assert.equal((await request(server, 'GET', `/v1/chat/conversations/${id}`, { headers: as('bob') })).status, 404);
  await assert.rejects(connect(socketUrl(server, id, hs256({ sub: 'bob' }))), (err) => err.statusCode === 404);
  const alicePost = await request(server, 'POST', `/v1/chat/conversations/${id}/messages`, {
    body: { content: 'just us now' },
    headers: as('alice'),
  });
  assert.equal(alicePost.status, 202);
  await untilReply(aliceWs);
  assert.equal(bobWs.queue.length, 0, 'nothing reached the removed member');

  // Deleted: the sockets are told, every path answers 404, the other conversation stays.
  const deleted = await request(server, 'DELETE', `/v1/chat/conversations/${id}`, { headers: as('alice') });
  assert.equal(deleted.status, 204, deleted.text);
  const gone = await aliceWs.next();
  assert.equal(gone.payload.type, 'conversation_deleted');
  for (const [method, path, body] of [['GET', `/v1/chat/conversations/${id}`], ['DELETE', `/v1/chat/conversations/${id}`],
    ['POST', `/v1/chat/conversations/${id}/messages`, { content: 'hello?' }], ['POST', members, { user_id: 'bob' }]]) {
    const res = await request(server, method, path, { body, headers: as('alice') });
    assert.equal(res.status, 404, `${method} ${path}: ${res.text}`);
  }
  await assert.rejects(connect(socketUrl(server, id, hs256({ sub: 'alice' }))), (err) => err.statusCode === 404);
  const list = await request(server, 'GET', '/v1/chat/conversations', { headers: as('alice') });
  const left = list.json.map((c) => c.id);
  assert.ok(left.includes(other) && !left.includes(id), JSON.stringify(left));
});

test('a large message body is refused for a bad token before it is read', async (t) => {
  // A message with an image may be megabytes; without a valid token the server
  // must not read and hold them (300 such connections held 1.2 GB).
  const server = await serve(t);
  const id = await create(server, as('alice'), 'Photos');
  const answer = await new Promise((resolve, reject) => {
    const req = http.request(`${server.baseUrl}/v1/chat/conversations/${id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': 7_000_000 },
    }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.write('{"content":"hi","base64_image":"');
    req.write('A'.repeat(64 * 1024)); // then nothing more: only the headers decide
    setTimeout(() => reject(new Error('no answer while the body was unfinished')), 5000).unref();
  });
  assert.equal(answer.status, 401);
  assert.equal(JSON.parse(answer.text).error, 'Authentication required');
});

test('a socket that stops reading gets a large message whole once it reads again', async (t) => {
  // The message's frame is 8 MB, more than a loopback socket takes at once from
  // a reader that reads nothing (net.ipv4.tcp_wmem allows 4 MB here; 3 MB went
  // whole): the worker's write of it is cut, and the io thread writes the rest
  // when the client reads.
  const server = await serve(t, { PARLEY_MAX_FRAME_BYTES: String(16 * 1024 * 1024) });
  const id = await create(server, as('alice'));
  const ws = await connect(socketUrl(server, id, hs256({ sub: 'alice' })), { server });
  ws.ws._socket.pause();
  const content = 'x'.repeat(8 * 1024 * 1024 - 7) + ' tail.';
  const posted = await request(server, 'POST', `/v1/chat/conversations/${id}/messages`, {
    body: { content },
    headers: as('alice'),
  });
  assert.equal(posted.status, 202, posted.text);
  await new Promise((resolve) => setTimeout(resolve, 300));
  ws.ws._socket.resume();
  const frames = await untilReply(ws);
  assert.deepEqual(frames.map((f) => f.event), ['message.created', 'message.created']);
  assert.equal(frames[0].payload.message.content, content);
  assert.equal(frames[1].payload.message.role, 'assistant');
});

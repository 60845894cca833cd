// Seed 001: chat rooms of a signed-in user and the AI reply as Server-Sent Events,
// read by a plain HTTP client (incrementally) and by the `eventsource` package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { EventSource } from 'eventsource';
import { startServer } from './lib/server.mjs';
import { request } from './lib/api.mjs';
import { startFakeLlm } from './lib/fake_llm.mjs';

const SECRET = 'sse-test-secret-with-enough-bytes-0123456789';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const b64url = (x) => Buffer.from(x).toString('base64url');
function token(sub, { secret = SECRET, exp = Math.floor(Date.now() / 1000) + 3600 } = {}) {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({ sub, exp }));
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}
const auth = (sub) => ({ authorization: `Bearer ${token(sub)}` });

function serve(t, env = {}) {
  return startServer(t, { env: { PARLEY_JWT_SECRET: SECRET, PARLEY_STREAM_DELAY_MS: '20', ...env } });
}

async function createRoom(server, sub, title = 'Pricing') {
  const res = await request(server, 'POST', '/api/chat', { body: { title }, headers: auth(sub) });
  assert.equal(res.status, 201, res.text);
  assert.match(res.json.id, UUID);
  assert.equal(res.json.title, title);
  return res.json.id;
}

// Parses SSE text into events {id, event, data}; comment lines are skipped.
function parseEvents(text) {
  const events = [];
  for (const block of text.split('\n\n')) {
    if (!block.trim()) continue;
    const ev = { id: undefined, event: 'message', data: '' };
    let comment = true;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      comment = false;
      const at = line.indexOf(':');
      const field = line.slice(0, at);
      const value = line.slice(at + 2);
      if (field === 'data') ev.data += value;
      else if (field === 'event') ev.event = value;
      else if (field === 'id') ev.id = value;
    }
    if (!comment) events.push({ ...ev, json: JSON.parse(ev.data) });
  }
  return events;
}

// POSTs a message and reads the stream as it comes. Returns the events, the raw
// text, the response, and what had arrived when the first content event did.
async function stream(server, room, sub, body, headers = {}) {
  const res = await fetch(`${server.baseUrl}/api/chat/${room}/stream`, {
    method: 'POST',
    headers: { ...auth(sub), ...headers },
    body,
    signal: AbortSignal.timeout(20_000),
  });
  let text = '';
  let atFirstContent;
  const decoder = new TextDecoder();
  for await (const piece of res.body) {
    text += decoder.decode(piece, { stream: true });
    if (atFirstContent === undefined && text.includes('"type":"content"')) atFirstContent = text;
  }
  return { res, text, atFirstContent, events: parseEvents(text) };
}

test('a message streams back as SSE, exactly as the document shows', async (t) => {
  const server = await serve(t);
  const room = await createRoom(server, 'alice');
  const form = new FormData();
  form.append('message', 'What do the pricing plans cost?');
  const { res, text, atFirstContent, events } = await stream(server, room, 'alice', form);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  assert.equal(res.headers.get('transfer-encoding'), 'chunked');
  assert.ok(
    text.startsWith('data: {"event":"start","data":{"message":"Starting AI response..."}}\n\n'),
    text.slice(0, 200),
  );
  // Incremental: the first content event was read before the reply ended.
  assert.ok(atFirstContent !== undefined, 'content events arrived');
  assert.ok(!atFirstContent.includes('event: end'), 'the first chunk came before the end');

  const [start, ...rest] = events;
  assert.equal(start.id, undefined);
  assert.deepEqual(start.json, { event: 'start', data: { message: 'Starting AI response...' } });
  const contents = rest.filter((e) => e.event === 'message');
  assert.ok(contents.length > 3, `several chunks: ${contents.length}`);
  for (const e of contents) assert.deepEqual(Object.keys(e.json), ['type', 'content']);
  const sources = rest.filter((e) => e.event === 'sources');
  assert.equal(sources.length, 1, 'the builtin agent cites the knowledge folder');
  assert.equal(sources[0].json.type, 'sources');
  for (const s of sources[0].json.sources) assert.deepEqual(Object.keys(s), ['id', 'title', 'content']);
  const last = rest.at(-1);
  assert.equal(last.event, 'end');
  assert.deepEqual(last.json, { type: 'end' });
  // Every event after the first: id <assistant message id>:<1, 2, 3...>.
  const replyId = rest[0].id.split(':')[0];
  assert.match(replyId, UUID);
  rest.forEach((e, i) => assert.equal(e.id, `${replyId}:${i + 1}`));

  // Stored: the user's message, the AI's with its HTML form and its knowledge.
  const listed = await request(server, 'GET', `/api/chat/${room}/messages`, { headers: auth('alice') });
  assert.equal(listed.status, 200, listed.text);
  const [user, ai] = listed.json;
  assert.equal(listed.json.length, 2);
  assert.equal(user.sender, 'USER');
  assert.equal(user.message, 'What do the pricing plans cost?');
  assert.equal(ai.sender, 'AI');
  assert.equal(ai.id, replyId);
  assert.equal(ai.message, contents.map((e) => e.json.content).join(''));
  assert.match(ai.htmlFormattedMessage, /^<p>/);
  assert.deepEqual(ai.knowledge, sources[0].json.sources.map(({ id, title }) => ({ id, title })));
});

test('the message may come urlencoded or as JSON, and EventSource can GET it', async (t) => {
  const server = await serve(t);
  const room = await createRoom(server, 'bob');
  const url = await stream(server, room, 'bob', new URLSearchParams({ message: 'Hello + bye' }));
  assert.equal(url.events.at(-1).event, 'end');
  const json = await stream(server, room, 'bob', JSON.stringify({ message: 'Hi again' }), {
    'content-type': 'application/json',
  });
  assert.equal(json.events.at(-1).event, 'end');

  const es = new EventSource(
    `${server.baseUrl}/api/chat/${room}/stream?message=${encodeURIComponent('Via EventSource')}&token=${token('bob')}`,
  );
  const seen = [];
  await new Promise((resolve, reject) => {
    es.addEventListener('message', (e) => seen.push(['message', JSON.parse(e.data), e.lastEventId]));
    es.addEventListener('sources', (e) => seen.push(['sources', JSON.parse(e.data)]));
    es.addEventListener('end', (e) => {
      seen.push(['end', JSON.parse(e.data)]);
      es.close(); // else it would reconnect and post again
      resolve();
    });
    es.addEventListener('error', (e) => reject(new Error(`EventSource error: ${e.message}`)));
  });
  // The start line has no event name: EventSource delivers it as `message`.
  assert.deepEqual(seen[0][1], { event: 'start', data: { message: 'Starting AI response...' } });
  assert.ok(seen.filter(([k, d]) => k === 'message' && d.type === 'content').length > 1);
  assert.deepEqual(seen.at(-1), ['end', { type: 'end' }]);

  const listed = await request(server, 'GET', `/api/chat/${room}/messages`, { headers: auth('bob') });
  assert.deepEqual(
    listed.json.filter((m) => m.sender === 'USER').map((m) => m.message),
    ['Hello + bye', 'Hi again', 'Via EventSource'],
  );
});

test('rooms are private and bad requests get clear errors', async (t) => {
  const server = await serve(t, { PARLEY_MAX_FRAME_BYTES: '4096' });
  const room = await createRoom(server, 'carol');
  await createRoom(server, 'carol', 'Second');
  await createRoom(server, 'dave', 'Dave only');

  const carols = await request(server, 'GET', '/api/chat', { headers: auth('carol') });
  assert.deepEqual(carols.json.map((r) => r.title), ['Second', 'Pricing']);
  const daves = await request(server, 'GET', '/api/chat', { headers: auth('dave') });
  assert.deepEqual(daves.json.map((r) => r.title), ['Dave only']);

  // Someone else's room does not exist for dave, whatever he asks.
  const peek = await request(server, 'GET', `/api/chat/${room}/messages`, { headers: auth('dave') });
  assert.equal(peek.status, 404);
  assert.deepEqual(peek.json, { error: 'Chat room not found' });
  const post = await request(server, 'POST', `/api/chat/${room}/stream`, {
    body: { message: 'let me in' },
    headers: auth('dave'),
  });
  assert.equal(post.status, 404, post.text);
  for (const id of ['not-a-uuid', '00000000-0000-4000-8000-000000000000']) {
    const res = await request(server, 'GET', `/api/chat/${id}/messages`, { headers: auth('carol') });
    assert.equal(res.status, 404, res.text);
  }

  const missing = await request(server, 'POST', `/api/chat/${room}/stream`, { body: {}, headers: auth('carol') });
  assert.equal(missing.status, 400);
  assert.deepEqual(missing.json, { error: 'Message is required' });
  const wrongType = await request(server, 'POST', `/api/chat/${room}/stream`, {
    body: { message: 42 },
    headers: auth('carol'),
  });
  assert.deepEqual(wrongType.json, { error: 'Message is required' });
  const huge = await request(server, 'POST', `/api/chat/${room}/stream`, {
    body: { message: 'x'.repeat(10_000) },
    headers: auth('carol'),
  });
  assert.equal(huge.status, 413, huge.text);

  for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: `Bearer ${token('carol', { secret: 'wrong' })}` },
    { authorization: `Bearer ${token('carol', { exp: 1000 })}` }]) {
    const res = await request(server, 'GET', '/api/chat', { headers });
    assert.equal(res.status, 401, JSON.stringify(headers));
    assert.equal(typeof res.json.error, 'string');
  }
  // The visitor API, which asks for no token, never opens a chat room, not
  // even for someone who knows the owner's `sub`; nor does it tell that the id exists.
  for (const visitor of ['carol', '\u0001user:carol']) {
    const res = await request(server, 'GET', `/api/chats/sessions/${room}/?visitor_id=${encodeURIComponent(visitor)}`);
    assert.equal(res.status, 404, res.text);
    assert.equal(res.json.error, 'Session not found');
  }
  // Dave's stranger room stays empty after all that.
  const after = await request(server, 'GET', `/api/chat/${room}/messages`, { headers: auth('carol') });
  assert.deepEqual(after.json, []);
});

test('a client that leaves mid-stream cancels nothing: the reply is stored whole', async (t) => {
  const server = await serve(t, { PARLEY_STREAM_DELAY_MS: '30', PARLEY_BUILTIN_WORDS: '40' });
  const room = await createRoom(server, 'erin');
  const abort = new AbortController();
  const res = await fetch(`${server.baseUrl}/api/chat/${room}/stream`, {
    method: 'POST',
    headers: auth('erin'),
    body: new URLSearchParams({ message: 'Tell me a lot' }),
    signal: abort.signal,
  });
  const reader = res.body.getReader();
  let text = '';
  while (!text.includes('"type":"content"')) text += new TextDecoder().decode((await reader.read()).value);
  abort.abort();
  let ai;
  for (let i = 0; i < 100 && !ai; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const listed = await request(server, 'GET', `/api/chat/${room}/messages`, { headers: auth('erin') });
    ai = listed.json.find((m) => m.sender === 'AI');
  }
  assert.ok(ai, 'the reply was stored');
  assert.equal(ai.message.trim().split(/\s+/).length, 40);
});

test('a failing upstream ends the stream with the error event', async (t) => {
  const fake = await startFakeLlm(t);
  const server = await serve(t, {
    PARLEY_AGENT: 'openai',
    PARLEY_LLM_BASE_URL: fake.url,
    PARLEY_LLM_API_KEY: 'sk-test',
    PARLEY_LLM_MAX_RETRIES: '0',
  });
  const room = await createRoom(server, 'frank');
  fake.plan({ status: 401 });
  const { events } = await stream(server, room, 'frank', JSON.stringify({ message: 'Hello' }), {
    'content-type': 'application/json',
  });
  const last = events.at(-1);
  assert.equal(last.event, 'error');
  assert.deepEqual(last.json, { error: 'Failed to process message' });
  assert.ok(!events.some((e) => e.event === 'end'));
});

// Reads a GET stream that resumes `lastId` to its end.
async function resume(server, room, sub, lastId) {
  const res = await fetch(`${server.baseUrl}/api/chat/${room}/stream?token=${token(sub)}`, {
    headers: { 'last-event-id': lastId },
    signal: AbortSignal.timeout(20_000),
  });
  assert.equal(res.status, 200);
  return parseEvents(await res.text());
}

test('Last-Event-ID resumes a reply without losing or repeating text', async (t) => {
  const server = await serve(t, { PARLEY_STREAM_DELAY_MS: '40', PARLEY_BUILTIN_WORDS: '30' });
  const room = await createRoom(server, 'gina');
  const abort = new AbortController();
  const res = await fetch(`${server.baseUrl}/api/chat/${room}/stream`, {
    method: 'POST',
    headers: auth('gina'),
    body: new URLSearchParams({ message: 'A long answer, please' }),
    signal: abort.signal,
  });
  const reader = res.body.getReader();
  let text = '';
  const decoder = new TextDecoder();
  // Read until three whole content events arrived, then drop the connection.
  const contentsOf = (evs) => evs.filter((e) => e.event === 'message' && e.json.type === 'content');
  let before = [];
  while (before.length < 3) {
    text += decoder.decode((await reader.read()).value, { stream: true });
    const whole = text.slice(0, text.lastIndexOf('\n\n') + 2);
    before = contentsOf(parseEvents(whole));
  }
  abort.abort();
  const seen = before.slice(0, 3);
  const lastId = seen.at(-1).id;
  const [replyId] = lastId.split(':');

  // Mid-reply: the rest arrives, numbered on from where we stopped.
  const after = await resume(server, room, 'gina', lastId);
  assert.ok(!after.some((e) => e.json.event === 'start'), 'no second start line');
  const rest = contentsOf(after);
  assert.equal(rest[0].id, `${replyId}:4`);
  assert.equal(after.at(-1).event, 'end');
  const streamed = [...seen, ...rest].map((e) => e.json.content).join('');

  const listed = await request(server, 'GET', `/api/chat/${room}/messages`, { headers: auth('gina') });
  const ai = listed.json.find((m) => m.sender === 'AI');
  assert.equal(streamed, ai.message, 'nothing lost, nothing repeated');
  assert.equal(listed.json.filter((m) => m.sender === 'USER').length, 1, 'resuming posts nothing');

  // After the end: the chunks after the id, then the end again.
  const late = await resume(server, room, 'gina', `${replyId}:25`);
  assert.deepEqual(
    contentsOf(late).map((e) => e.id),
    [26, 27, 28, 29, 30].map((n) => `${replyId}:${n}`),
  );
  assert.equal(late.at(-1).event, 'end');
  // An id nobody knows ends in the error event.
  const unknown = await resume(server, room, 'gina', '00000000-0000-4000-8000-000000000000:1');
  assert.equal(unknown.at(-1).event, 'error');
});

// Real providers against a fake upstream (lib/fake_llm.mjs): PARLEY_AGENT=openai and
// anthropic stream the fake's tokens into the visitor chat; every upstream failure ends
// in an error frame with a clear text, and what streamed so far is stored as "partial".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, freePort } from './lib/server.mjs';
import { createSession, getSession } from './lib/api.mjs';
import { assertErrorFrame, assertReply } from './lib/checks.mjs';
import { DEFAULT_TOKENS, joined, startFakeLlm } from './lib/fake_llm.mjs';

const API_KEY = 'sk-test-PARLEY-SECRET-0123456789abcdef';
const SYSTEM_PROMPT = 'You are the parley test assistant.';
const MAX_RETRIES = 2;

// Short limits so that failure paths take a moment, not a minute.
function llmEnv(flavor, fake, extra = {}) {
  return {
    PARLEY_AGENT: flavor,
    PARLEY_LLM_BASE_URL: fake.url,
    PARLEY_LLM_API_KEY: API_KEY,
    PARLEY_LLM_MODEL: 'fake-model-1',
    PARLEY_LLM_SYSTEM_PROMPT: SYSTEM_PROMPT,
    PARLEY_LLM_RETRY_BASE_MS: '20',
    PARLEY_LLM_RETRY_MAX_MS: '3000',
    PARLEY_LLM_MAX_RETRIES: String(MAX_RETRIES),
    PARLEY_LLM_FIRST_TOKEN_TIMEOUT_MS: '1500',
    PARLEY_LLM_IDLE_TIMEOUT_MS: '700',
    PARLEY_LOG_LEVEL: 'debug', // the key must not show even in the chattiest log
    ...extra,
  };
}

// Reads a reply's frames until `complete` or `error`.
async function replyOrError(client, timeoutMs = 15_000) {
  const chunks = [];
  for (;;) {
    const frame = await client.next(() => true, timeoutMs);
    if (frame.type === 'chunk') {
      chunks.push(frame);
    } else if (frame.type === 'complete' || frame.type === 'error') {
      return { chunks, end: frame, text: chunks.map((c) => c.chunk).join('') };
    } else {
      throw new Error(`unexpected frame during a reply: ${JSON.stringify(frame)}`);
    }
  }
}

async function open(server) {
  const session = await createSession(server, {});
  const client = await server.connect();
  await client.next('connected');
  return { session, client };
}

// The error frame is clear, carries no secret, and the reply is stored as partial
// with exactly the text that streamed.
async function assertFailure(server, session, result, { text, type }) {
  const { end } = result;
  assertErrorFrame(end, text);
  assert.equal(end.metadata.error_type, type, JSON.stringify(end));
  assert.ok(!JSON.stringify(end).includes(API_KEY), 'the key is not in the frame');
  assert.ok(!JSON.stringify(end).includes(API_KEY.slice(0, 12)), 'no part of the key either');
  const stored = await getSession(server, session);
  const reply = stored.messages.find((m) => m.id === end.response_id);
  assert.ok(reply, `the partial reply ${end.response_id} is stored: ${JSON.stringify(stored.messages)}`);
  assert.equal(reply.role, 'assistant');
  assert.equal(reply.state, 'partial', JSON.stringify(reply));
  assert.equal(reply.content, result.text, 'the partial holds what streamed');
}

function assertKeyNotLogged(server) {
  assert.ok(!server.log.includes(API_KEY), 'the API key never appears in the log');
  assert.ok(!server.log.includes(API_KEY.slice(-16)), 'nor its tail');
}

for (const flavor of ['openai', 'anthropic']) {
  test(`${flavor}: replies stream from the upstream`, async (t) => {
    const fake = await startFakeLlm(t);
    const server = await startServer(t, { env: llmEnv(flavor, fake) });
    const { session, client } = await open(server);

    await t.test('the tokens arrive as chunks and the reply completes', async () => {
      fake.reset();
      fake.plan({ chatter: true, lineEnding: '\r\n' });
      const reply = await client.chat('Hello, what is a novated lease?', session);
      assertReply(reply);
      assert.equal(reply.text, joined());
      assert.equal(reply.chunks.length, DEFAULT_TOKENS.length, 'one chunk per delta');
      assert.equal(reply.complete.message, joined());

      assert.equal(fake.requests.length, 1);
      const req = fake.requests[0];
      assert.equal(req.flavor, flavor);
      assert.equal(req.method, 'POST');
      assert.equal(req.body.model, 'fake-model-1');
      assert.equal(req.body.stream, true);
      const last = req.body.messages.at(-1);
      assert.deepEqual(last, { role: 'user', content: 'Hello, what is a novated lease?' });
      if (flavor === 'openai') {
        assert.equal(req.path, '/chat/completions');
        assert.equal(req.headers.authorization, `Bearer ${API_KEY}`);
        assert.equal(req.body.messages[0].role, 'system');
        assert.ok(req.body.messages[0].content.startsWith(SYSTEM_PROMPT));
      } else {
        assert.equal(req.path, '/v1/messages');
        assert.equal(req.headers['x-api-key'], API_KEY);
        assert.equal(req.headers['anthropic-version'], '2023-06-01');
        assert.ok(req.body.system.startsWith(SYSTEM_PROMPT));
        assert.ok(req.body.max_tokens > 0);
      }
    });

    await t.test('the history goes with the next turn', async () => {
      fake.reset();
      fake.defaultPlan = { tokens: ['Sure', ', Alice.'] };
      const reply = await client.chat('My name is Alice and my email is alice@example.com', session);
      assert.equal(reply.text, 'Sure, Alice.');
      assert.equal(reply.complete.conversation_data.name, 'Alice');
      assert.equal(reply.complete.needs_info, false);
      const messages = fake.requests[0].body.messages.filter((m) => m.role !== 'system');
      assert.deepEqual(messages.map((m) => m.role), ['user', 'assistant', 'user']);
      assert.equal(messages[0].content, 'Hello, what is a novated lease?');
      assert.equal(messages[1].content, joined());
      // What the visitor told us reaches the model.
      const system = flavor === 'openai' ? fake.requests[0].body.messages[0].content : fake.requests[0].body.system;
      assert.match(system, /alice@example\.com/);
    });

    for (const [name, plan] of [
      ['byte by byte, CR line ends, with comments and pings', { split: 'bytes', lineEnding: '\r', chatter: true }],
      ['random splits across events', { split: 'random', chatter: true }],
      ['3-byte writes with CRLF, paced', { split: 3, lineEnding: '\r\n', delayMs: 1 }],
    ]) {
      await t.test(`the stream survives ${name}`, async () => {
        fake.reset();
        fake.plan(plan);
        const reply = await client.chat('Tell me more please', session);
        assertReply(reply);
        assert.equal(reply.text, joined());
      });
    }
    await client.close();
    assertKeyNotLogged(server);
  });

  test(`${flavor}: upstream failures become error frames with a stored partial`, async (t) => {
    const fake = await startFakeLlm(t);
    const server = await startServer(t, { env: llmEnv(flavor, fake) });
    const { session, client } = await open(server);
    const partial = (n) => joined(DEFAULT_TOKENS.slice(0, n));

    const cases = [
      {
        name: '401: the key is rejected, no retry',
        plans: [{ status: 401 }],
        text: 'The AI service rejected the API key (HTTP 401)',
        type: 'llm_auth',
        requests: 1,
        streamed: '',
      },
      {
        name: '429 every time: retried, then a clear error',
        plans: [{ status: 429, headers: { 'retry-after': '0' } }, { status: 429, headers: { 'retry-after': '0' } }, { status: 429, headers: { 'retry-after': '0' } }],
        text: /rate limiting requests \(HTTP 429\)/,
        type: 'llm_rate_limited',
        requests: 1 + MAX_RETRIES,
        streamed: '',
      },
      {
        name: '429 asking for longer than the retry limit: no retry',
        plans: [{ status: 429, headers: { 'retry-after': '120' } }],
        text: /rate limiting requests \(HTTP 429\)/,
        type: 'llm_rate_limited',
        requests: 1,
        streamed: '',
      },
      {
        name: '500 every time: retried, then a clear error',
        plans: [{ status: 500 }, { status: 502 }, { status: 503 }],
        text: /The AI service is unavailable \(HTTP 503\)/,
        type: 'llm_unavailable',
        requests: 1 + MAX_RETRIES,
        streamed: '',
      },
      {
        name: 'the connection is cut after 3 tokens: no retry after the first token',
        plans: [{ dropAfter: 3 }],
        text: /cut before the reply was complete/,
        type: 'llm_cut',
        requests: 1,
        streamed: partial(3),
      },
      {
        name: 'the connection is cut inside a multi-byte character',
        // Token 5 is " 👋": cut after its first two bytes are on the wire.
        plans: [{ cutInsideEmoji: true }],
        text: /cut before the reply was complete/,
        type: 'llm_cut',
        requests: 1,
        streamed: partial(5),
      },
      {
        name: 'a malformed stream after 2 tokens',
        plans: [{ corruptAfter: 2 }],
        text: 'The AI service sent a malformed stream',
        type: 'llm_bad_stream',
        requests: 1,
        streamed: partial(2),
      },
      {
        name: 'silence in the middle of the reply',
        plans: [{ hangAfter: 2 }],
        text: /stopped sending in the middle of the reply \(nothing for 700 ms\)/,
        type: 'llm_timeout',
        requests: 1,
        streamed: partial(2),
        closedEarly: true,
      },
      {
        name: 'no first token in time',
        plans: [{ firstByteDelayMs: 2500 }],
        text: 'The AI service did not start answering within 1500 ms',
        type: 'llm_timeout',
        requests: 1,
        streamed: '',
        closedEarly: true,
      },
      {
        name: 'an error event in the middle of the stream',
        plans: [{ errorAfter: 2 }],
        text: flavor === 'openai' ? 'The AI service reported an error (server_error)' : 'The AI service reported an error (overloaded_error)',
        type: 'llm_unavailable',
        requests: 1,
        streamed: partial(2),
      },
      {
        name: 'the stream ends without its terminal events',
        plans: [{ noEnd: true }],
        text: /cut before the reply was complete/,
        type: 'llm_cut',
        requests: 1,
        streamed: joined(),
      },
      {
        name: 'JSON instead of an event stream',
        plans: [{ contentType: 'application/json' }],
        text: 'The AI service sent a malformed stream',
        type: 'llm_bad_stream',
        requests: 1,
        streamed: '',
      },
    ];
    for (const c of cases) {
      await t.test(c.name, async () => {
        fake.reset();
        if (c.plans[0].cutInsideEmoji) {
          // Where token 5 starts in this flavor's stream, plus its event's prefix and 2
          // bytes into the emoji: found by asking the fake for the stream it would send.
          c.plans[0] = { split: 'bytes', dropAtByte: await emojiCut(flavor) };
        }
        fake.plan(...c.plans);
        client.sendChat('Hi there, anything new?', session);
        const result = await replyOrError(client);
        assert.equal(result.text, c.streamed, 'the chunks that streamed before the failure');
        await assertFailure(server, session, result, c);
        assert.equal(fake.requests.length, c.requests, `upstream requests: ${fake.requests.length}`);
        if (c.closedEarly) {
          await waitFor(() => fake.requests.every((r) => r.closedEarly), 'parley aborts the upstream request');
        }
        // The socket and the session keep working.
        fake.reset();
        const again = await client.chat('Are you still with me?', session);
        assertReply(again);
      });
    }

    await t.test('a 429 with Retry-After is honoured, then the reply streams', async () => {
      fake.reset();
      fake.plan({ status: 429, headers: { 'retry-after': '1' } });
      const reply = await client.chat('Still there?', session);
      assertReply(reply);
      assert.equal(reply.text, joined());
      assert.equal(fake.requests.length, 2);
      const gap = fake.requests[1].at - fake.requests[0].at;
      assert.ok(gap >= 900, `waited ${gap} ms for Retry-After: 1`);
    });

    await t.test('5xx and a cut before the first token are retried, then the reply streams', async () => {
      fake.reset();
      fake.plan({ status: 500 }, { dropAfter: 0 });
      const reply = await client.chat('Once more', session);
      assertReply(reply);
      assert.equal(reply.text, joined());
      assert.equal(fake.requests.length, 3);
    });

    await client.close();
    assertKeyNotLogged(server);
  });
}

test('an unreachable upstream gives a clear error after the retries', async (t) => {
  const port = await freePort(); // nothing listens there
  const fake = { url: `http://127.0.0.1:${port}` };
  const server = await startServer(t, { env: llmEnv('openai', fake) });
  const { session, client } = await open(server);
  client.sendChat('Hello?', session);
  const result = await replyOrError(client);
  await assertFailure(server, session, result, { text: 'Could not reach the AI service', type: 'llm_unreachable' });
  await client.close();
  assertKeyNotLogged(server);
});

test('stopping parley mid-reply aborts the upstream request and stores the partial', async (t) => {
  const fake = await startFakeLlm(t);
  const server = await startServer(t, { env: llmEnv('anthropic', fake, { PARLEY_LLM_IDLE_TIMEOUT_MS: '60000' }) });
  const { session, client } = await open(server);
  fake.plan({ hangAfter: 2 });
  client.sendChat('Tell me a long story', session);
  const first = await client.next('chunk');
  const second = await client.next('chunk');
  assert.equal(first.chunk + second.chunk, joined(DEFAULT_TOKENS.slice(0, 2)));
  assert.equal(await server.stop('SIGTERM'), 0);
  await waitFor(() => fake.requests[0]?.closedEarly, 'the upstream request is aborted');
  // The partial survives a restart.
  await server.restart();
  const stored = await getSession(server, session);
  const partial = stored.messages.find((m) => m.role === 'assistant');
  assert.equal(partial?.state, 'partial', JSON.stringify(stored.messages));
  assert.equal(partial.content, first.chunk + second.chunk);
});

test('1,000 concurrent upstream streams on one node, without a thread each', async (t) => {
  const N = 1000;
  const CLIENTS = 20;
  const fake = await startFakeLlm(t);
  const server = await startServer(t, { env: llmEnv('openai', fake, { PARLEY_LLM_FIRST_TOKEN_TIMEOUT_MS: '60000' }) });
  // Every stream is held open until all N requests are in: proof they run at once.
  let release;
  const hold = new Promise((r) => (release = r));
  fake.defaultPlan = { hold, tokens: ['One', ' two', ' three.'] };

  const sessions = [];
  for (let i = 0; i < N; i += 50) {
    sessions.push(...(await Promise.all(Array.from({ length: Math.min(50, N - i) }, () => createSession(server, {})))));
  }
  const clients = [];
  for (let i = 0; i < CLIENTS; i++) {
    const c = await server.connect();
    await c.next('connected');
    clients.push(c);
  }
  const completes = clients.map((c, i) => {
    const mine = sessions.filter((_, k) => k % CLIENTS === i);
    for (const s of mine) c.sendChat('Concurrent hello', s);
    return (async () => {
      const texts = [];
      while (texts.length < mine.length) {
        const f = await c.next((x) => x.type === 'complete' || x.type === 'error', 60_000);
        assert.equal(f.type, 'complete', JSON.stringify(f));
        texts.push(f.message);
      }
      return texts;
    })();
  });
  await waitFor(() => fake.requests.length === N, `all ${N} upstream requests arrive`, 60_000);
  assert.equal(fake.open, N, 'all of them open at once');
  const threads = threadCount(server.child.pid);
  release();
  const texts = (await Promise.all(completes)).flat();
  assert.equal(texts.length, N);
  assert.ok(texts.every((x) => x === 'One two three.'));
  assert.ok(threads < 64, `parley ran ${N} streams on ${threads} threads`);
  await Promise.all(clients.map((c) => c.close()));
});

// -- helpers -------------------------------------------------------------------------

async function waitFor(predicate, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function threadCount(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^Threads:\s+(\d+)/m.exec(status)[1]);
}

// The byte offset two bytes into the 👋 of token 5 in `flavor`'s stream.
async function emojiCut(flavor) {
  const probe = await startFakeLlm();
  try {
    const path = flavor === 'openai' ? '/chat/completions' : '/v1/messages';
    const res = await fetch(`${probe.url}${path}`, { method: 'POST', body: '{"model":"fake-model-1"}' });
    const bytes = Buffer.from(await res.arrayBuffer());
    const emoji = Buffer.from('\u{1F44B}', 'utf8');
    return bytes.indexOf(emoji) + 2;
  } finally {
    await probe.close();
  }
}

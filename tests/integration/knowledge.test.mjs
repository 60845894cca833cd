// Knowledge and tools against the real binary: the builtin agent answers from
// PARLEY_KNOWLEDGE_DIR and its replies carry sources that are stored with the reply;
// real providers (a fake upstream) get the passages and the tools, call
// search_knowledge, and answer with the result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, parleyBinary, freePort } from './lib/server.mjs';
import { createSession, getSession } from './lib/api.mjs';
import { assertReply } from './lib/checks.mjs';
import { startFakeLlm } from './lib/fake_llm.mjs';

async function open(server) {
  const session = await createSession(server, {});
  const client = await server.connect();
  await client.next('connected');
  return { session, client };
}

function assertSources(sources) {
  assert.ok(Array.isArray(sources) && sources.length > 0, JSON.stringify(sources));
  for (const s of sources) {
    assert.deepEqual(Object.keys(s).sort(), ['content', 'id', 'title']);
    assert.match(s.id, /^[^#]+\.(md|txt)#[0-9a-f]{8}$/);
    assert.ok(s.title.length > 0);
    assert.ok(s.content.length > 0 && s.content.length <= 203, 'a short snippet');
  }
}

test('the builtin agent answers from the shipped knowledge and stores its sources', async (t) => {
  const server = await startServer(t);
  const { session, client } = await open(server);
  const reply = await client.chat('How much does parley cost with hosted models?', session);
  assertReply(reply);
  assert.match(reply.text, /From "Pricing and plans/, reply.text);
  // The visitor frame has no sources field (seed 002 has none).
  assert.equal(reply.complete.sources, undefined);

  const stored = await getSession(server, session);
  const answer = stored.messages.find((m) => m.id === reply.complete.response_id);
  assert.ok(answer, JSON.stringify(stored.messages));
  assertSources(answer.sources);
  assert.match(answer.sources[0].title, /^Pricing and plans/);
  assert.ok(answer.sources.every((s) => !s.id.startsWith('/')), 'ids are relative to the folder');
  // The user's message cites nothing.
  assert.equal(stored.messages[0].sources, undefined);

  // A message that matches no passage gets the usual reply and no sources.
  const plain = await client.chat('hello', session);
  const again = await getSession(server, session);
  assert.equal(again.messages.find((m) => m.id === plain.complete.response_id).sources, undefined);
});

test('PARLEY_KNOWLEDGE_DIR names the folder; a bad one stops start-up', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-kb-'));
  writeFileSync(join(dir, 'zebra.md'), '# Zebras\n\nZebras have black and white stripes.\n\n## Food\nZebras eat grass.\n');
  writeFileSync(join(dir, 'notes.txt'), 'Penguins live in the south.\n');
  const server = await startServer(t, { env: { PARLEY_KNOWLEDGE_DIR: dir, PARLEY_BUILTIN_WORDS: '5' } });
  const { session, client } = await open(server);
  const reply = await client.chat('what do zebras eat?', session);
  assert.equal(reply.chunks.length, 5, 'PARLEY_BUILTIN_WORDS still fixes the length');
  const stored = await getSession(server, session);
  const sources = stored.messages.at(-1).sources;
  assertSources(sources);
  assert.deepEqual(sources.map((s) => s.title), ['Zebras - Food', 'Zebras']);
  assert.equal(sources[0].content, 'Zebras eat grass.');

  const bad = spawnSync(parleyBinary(), [], {
    env: { PATH: process.env.PATH, PARLEY_KNOWLEDGE_DIR: join(dir, 'missing'), PARLEY_PORT: String(await freePort()),
           PARLEY_DATABASE_URL: `sqlite:${join(dir, 'x.db')}` },
    timeout: 10_000,
    encoding: 'utf8',
  });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr + bad.stdout, /PARLEY_KNOWLEDGE_DIR .*missing is not a readable folder/);
});

for (const flavor of ['openai', 'anthropic']) {
  test(`${flavor}: the model calls search_knowledge, then answers with its sources`, async (t) => {
    const fake = await startFakeLlm(t);
    const server = await startServer(t, {
      env: {
        PARLEY_AGENT: flavor,
        PARLEY_LLM_BASE_URL: fake.url,
        PARLEY_LLM_API_KEY: 'sk-test',
        PARLEY_LLM_MODEL: 'fake-model-1',
      },
    });
    const { session, client } = await open(server);
    fake.plan(
      {
        tokens: ['Let me look that up.'],
        toolCalls: [{ id: 'call_kb_1', name: 'search_knowledge', arguments: '{"query":"connect a language model Ollama"}' }],
        split: 'bytes',
      },
      { tokens: ['Set PARLEY_AGENT', ' to openai.'] },
    );
    const reply = await client.chat('How much does it cost?', session);
    assertReply(reply);
    assert.equal(reply.text, 'Let me look that up.Set PARLEY_AGENT to openai.');

    assert.equal(fake.requests.length, 2);
    const [first, second] = fake.requests.map((r) => r.body);
    // The first request: the passages for the question in the system prompt, and
    // the tools.
    const system = flavor === 'openai' ? first.messages[0].content : first.system;
    assert.match(system, /\[1\] Pricing and plans/);
    const toolNames = first.tools.map((x) => (flavor === 'openai' ? x.function.name : x.name));
    assert.deepEqual(toolNames, ['search_knowledge', 'save_contact_details']);
    // The second request carries the call and its result.
    if (flavor === 'openai') {
      const [call, result] = second.messages.slice(-2);
      assert.equal(call.role, 'assistant');
      assert.equal(call.tool_calls[0].id, 'call_kb_1');
      assert.equal(call.tool_calls[0].function.arguments, '{"query":"connect a language model Ollama"}');
      assert.equal(result.role, 'tool');
      assert.equal(result.tool_call_id, 'call_kb_1');
      assert.match(result.content, /Connecting a language model/);
    } else {
      const [call, result] = second.messages.slice(-2);
      assert.equal(call.role, 'assistant');
      const use = call.content.find((b) => b.type === 'tool_use');
      assert.deepEqual(use.input, { query: 'connect a language model Ollama' });
      assert.equal(result.role, 'user');
      assert.equal(result.content[0].type, 'tool_result');
      assert.equal(result.content[0].tool_use_id, 'call_kb_1');
      assert.match(result.content[0].content, /Connecting a language model/);
    }

    // Stored: user, the call, its result, the answer citing the prompt's passages and
    // what the tool found.
    const stored = await getSession(server, session);
    const roles = stored.messages.map((m) => `${m.role}/${m.type}`);
    assert.deepEqual(roles, ['user/message', 'assistant/tool_call', 'tool/tool_result', 'assistant/message']);
    const [, call, result, answer] = stored.messages;
    assert.equal(call.tool_calls[0].function.name, 'search_knowledge');
    assert.equal(call.content, 'Let me look that up.');
    assert.equal(result.tool_call_id, 'call_kb_1');
    assert.equal(answer.id, reply.complete.response_id);
    assert.equal(answer.content, reply.text);
    assertSources(answer.sources);
    const titles = answer.sources.map((s) => s.title);
    assert.match(titles[0], /^Pricing and plans/);
    assert.ok(titles.includes('Getting started - Connecting a language model'), titles.join(' | '));
  });
}

test('tool rounds stop at PARLEY_LLM_MAX_TOOL_STEPS; a bad call gets an error result', async (t) => {
  const fake = await startFakeLlm(t);
  const server = await startServer(t, {
    env: { PARLEY_AGENT: 'openai', PARLEY_LLM_BASE_URL: fake.url, PARLEY_LLM_MAX_TOOL_STEPS: '1' },
  });
  const { session, client } = await open(server);
  fake.plan(
    { tokens: ['One two.'], toolCalls: [{ id: 'c1', name: 'delete_everything', arguments: '{}' }, { id: 'c2', name: 'search_knowledge', arguments: '{"query":' }] },
    { tokens: [' Three four.'], toolCalls: [{ id: 'c3', name: 'search_knowledge', arguments: '{"query":"pricing"}' }] },
    { tokens: [' never asked'] },
  );
  const reply = await client.chat('Do something', session);
  assertReply(reply);
  assert.equal(reply.text, 'One two. Three four.');
  assert.equal(fake.requests.length, 2, 'no third model call after one tool round');
  const results = fake.requests[1].body.messages.filter((m) => m.role === 'tool');
  assert.deepEqual(results.map((m) => [m.tool_call_id, JSON.parse(m.content)]), [
    ['c1', { error: 'unknown tool: delete_everything' }],
    ['c2', { error: 'arguments must be a JSON object' }],
  ]);
  const stored = await getSession(server, session);
  assert.deepEqual(stored.messages.map((m) => m.role), ['user', 'assistant', 'tool', 'tool', 'assistant']);
  assert.equal(stored.messages.at(-1).content, 'One two. Three four.');

  // With no tool rounds allowed the model is not offered any.
  const plain = await startServer(t, { env: { PARLEY_AGENT: 'openai', PARLEY_LLM_BASE_URL: fake.url, PARLEY_LLM_MAX_TOOL_STEPS: '0' } });
  fake.reset();
  const other = await open(plain);
  await other.client.chat('Hi', other.session);
  assert.equal(fake.requests[0].body.tools, undefined);
});

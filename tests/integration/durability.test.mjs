// Acknowledged means durable, and a database outage is survived. Runs against SQLite
// by default; ctest also runs it against a throwaway PostgreSQL server
// (scripts/pg-test-env.sh sets PARLEY_TEST_DATABASE_URL and the commands that stop and
// start that server, which the outage test needs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { ParleyServer, startServer } from './lib/server.mjs';
import { chatPath, createSession, getSession, request } from './lib/api.mjs';
import { assertReply } from './lib/checks.mjs';
import { startFakeLlm } from './lib/fake_llm.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls GET /healthz until `accept(status, json)` holds; the bound only stops a hung test.
async function healthUntil(server, accept, boundMs = 30_000) {
  const deadline = Date.now() + boundMs;
  let last;
  while (Date.now() < deadline) {
    last = await request(server, 'GET', '/healthz');
    if (accept(last.status, last.json)) return last;
    await sleep(100);
  }
  throw new Error(`/healthz never reached the expected state; last: ${last?.status} ${last?.text}`);
}

test('two processes starting at once against one database both serve it', async (t) => {
  const a = new ParleyServer();
  const b = new ParleyServer();
  // Same SQLite file too, when that is the backend.
  b.dbPath = a.dbPath;
  t.after(() => Promise.all([a.dispose(), b.dispose()]));
  await Promise.all([a.start(), b.start()]);
  const session = await createSession(a, {});
  const read = await getSession(b, session);
  assert.equal(read.session_id, session.session_id);
});

test('every message acknowledged before SIGKILL is there after restart', async (t) => {
  const server = await startServer(t, {});
  const writers = 8;
  const sessions = await Promise.all(Array.from({ length: writers }, () => createSession(server, {})));
  const clients = await Promise.all(sessions.map((s) => server.connect(chatPath(s))));
  await Promise.all(clients.map((c) => c.next('connected')));

  // Every writer chats in a loop; the first `complete` of the third round kills parley
  // at once, while the other writers are mid-reply or mid-write.
  const acked = sessions.map(() => []);
  let killed = false;
  let kill;
  const killedNow = new Promise((r) => {
    kill = r;
  });
  const loops = clients.map(async (client, i) => {
    for (let round = 0; !killed; round++) {
      const text = `writer ${i} round ${round} '); DROP TABLE messages; --`;
      let reply;
      try {
        reply = await client.chat(text, sessions[i]);
      } catch {
        return; // the connection died with the server
      }
      if (killed) return; // read after the kill: not counted, though it was acked
      acked[i].push({ text, reply });
      if (round === 2 && !killed) {
        killed = true;
        server.child.kill('SIGKILL');
        kill();
      }
    }
  });
  await killedNow;
  server.stopping = true; // an exit we asked for
  await server.exited;
  await Promise.all(loops);
  assert.equal(server.exit.signal, 'SIGKILL');

  await server.restart();
  let total = 0;
  for (let i = 0; i < writers; i++) {
    const read = await getSession(server, sessions[i]);
    const byId = new Map(read.messages.map((m) => [m.id, m]));
    for (const { text, reply } of acked[i]) {
      const user = byId.get(reply.complete.message_id);
      const assistant = byId.get(reply.complete.response_id);
      assert.ok(user, `acknowledged user message ${reply.complete.message_id} lost`);
      assert.equal(user.content, text, 'stored verbatim');
      assert.ok(assistant, `acknowledged reply ${reply.complete.response_id} lost`);
      assert.equal(assistant.content, reply.complete.message);
      assert.equal(assistant.state, 'complete');
      total++;
    }
  }
  assert.ok(total >= 3, `at least the killing writer's three replies were checked (${total})`);
});

test('a database outage degrades /healthz, fails writes clearly and heals by itself', async (t) => {
  if (!process.env.PARLEY_TEST_DB_STOP || !process.env.PARLEY_TEST_DB_START) {
    t.skip('needs a database server this test can stop (run under scripts/pg-test-env.sh)');
    return;
  }
  // A provider's reply starts only once its message is stored: a message that cannot
  // be stored never reaches the model.
  const fake = await startFakeLlm(t);
  const server = await startServer(t, {
    env: {
      PARLEY_AGENT: 'openai',
      PARLEY_LLM_BASE_URL: fake.url,
      PARLEY_LLM_API_KEY: 'sk-test',
      PARLEY_LLM_MODEL: 'fake-model-1',
    },
  });
  const session = await createSession(server, {});
  const client = await server.connect(chatPath(session));
  await client.next('connected');
  const before = await client.chat('Before the outage', session);
  assertReply(before);
  assert.equal(fake.requests.length, 1);

  let restarted = false;
  t.after(() => {
    if (!restarted) execSync(process.env.PARLEY_TEST_DB_START, { shell: '/bin/bash' });
  });
  execSync(process.env.PARLEY_TEST_DB_STOP, { shell: '/bin/bash' });

  const degraded = await healthUntil(server, (status) => status === 503);
  assert.equal(degraded.json?.status, 'degraded', degraded.text);
  assert.match(degraded.json?.reason ?? '', /postgresql/i, degraded.text);

  // A message while the database is down gets an error frame, not silence or a crash.
  client.sendChat('During the outage', session);
  const failed = await client.next(() => true, 30_000);
  assert.equal(failed.type, 'error', JSON.stringify(failed));
  assert.equal(failed.metadata?.error_type, 'storage_error', JSON.stringify(failed));
  assert.equal(fake.requests.length, 1, 'the model was asked about a message that was not stored');
  const created = await request(server, 'POST', '/api/chats/sessions/', { body: {} });
  assert.equal(created.status, 503, created.text);
  assert.match(created.json?.error ?? '', /storage/i, created.text);

  execSync(process.env.PARLEY_TEST_DB_START, { shell: '/bin/bash' });
  restarted = true;
  await healthUntil(server, (status, json) => status === 200 && json?.status === 'ok');

  const after = await client.chat('After the outage', session);
  assertReply(after);
  const read = await getSession(server, session);
  const ids = read.messages.map((m) => m.id);
  for (const id of [before.complete.message_id, before.complete.response_id,
    after.complete.message_id, after.complete.response_id]) {
    assert.ok(ids.includes(id), `message ${id} missing after recovery`);
  }
  assert.ok(!read.messages.some((m) => m.content === 'During the outage'),
    'a message answered with an error was not stored later');
  await client.close();
});

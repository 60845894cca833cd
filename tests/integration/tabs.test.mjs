// Two browser tabs on one session see the same stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { chatPath, createSession } from './lib/api.mjs';
import { assertReply } from './lib/checks.mjs';

// Both sockets must see identical chunk frames in identical order and the same complete.
function assertSameReply(a, b) {
  assert.deepEqual(b.chunks, a.chunks, 'both tabs get the same chunk frames in the same order');
  assert.deepEqual(b.complete, a.complete, 'both tabs get the same complete frame');
}

test('two tabs on one session', async (t) => {
  // Slower chunks make real interleaving of the two sockets' traffic likely.
  const server = await startServer(t, { env: { PARLEY_STREAM_DELAY_MS: '20' } });

  await t.test('second tab joins through the URL', async () => {
    const session = await createSession(server, {});
    const tabA = await server.connect();
    await tabA.next('connected');
    assertReply(await tabA.chat('Hello from tab A', session));

    const tabB = await server.connect(chatPath(session));
    const connected = await tabB.next();
    assert.equal(connected.type, 'connected', JSON.stringify(connected));
    assert.equal(connected.session_id, session.session_id);

    tabA.sendChat('Second message from tab A', session);
    const [onA, onB] = await Promise.all([tabA.collectReply(), tabB.collectReply()]);
    assertReply(onA);
    assertSameReply(onA, onB);

    // And the other way round: tab B asks, tab A sees it.
    tabB.sendChat('Now tab B asks', session);
    const [onB2, onA2] = await Promise.all([tabB.collectReply(), tabA.collectReply()]);
    assertReply(onB2);
    assertSameReply(onB2, onA2);
    await Promise.all([tabA.close(), tabB.close()]);
  });

  await t.test('second tab joins by sending a message', async () => {
    const session = await createSession(server, {});
    const tabA = await server.connect();
    const tabB = await server.connect();
    await tabA.next('connected');
    await tabB.next('connected');

    assertReply(await tabA.chat('Tab A first', session));
    // Tab A is attached by now, so tab B's reply reaches it too.
    tabB.sendChat('Tab B first', session);
    const [onB, onA] = await Promise.all([tabB.collectReply(), tabA.collectReply()]);
    assertReply(onB);
    assertSameReply(onB, onA);

    tabA.sendChat('Tab A again', session);
    const [onA2, onB2] = await Promise.all([tabA.collectReply(), tabB.collectReply()]);
    assertReply(onA2);
    assertSameReply(onA2, onB2);

    // A tab that leaves does not disturb the other.
    await tabB.close();
    assertReply(await tabA.chat('Only tab A now', session));
    await tabA.close();
  });
});

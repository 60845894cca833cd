// The WebSocket layer itself (parley's own RFC 6455 framing, net/ws_frame.*): the
// opening handshake, ping/pong, the close handshake in both directions, and what a
// broken client gets. The chat frames on top are other files' business.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { createHash } from 'node:crypto';
import { startServer } from './lib/server.mjs';
import { createSession } from './lib/api.mjs';
import { assertReply, sleep } from './lib/checks.mjs';
import { WebSocket } from './lib/ws.mjs';

// Sends a raw upgrade request; resolves with {status, headers, body} or, on a 101,
// with the socket too.
function upgrade(server, headers) {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port: server.port,
      path: '/ws/chat/',
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', ...headers },
    });
    req.on('upgrade', (res, socket) => resolve({ status: res.statusCode, headers: res.headers, socket }));
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function open(server) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.wsBase}/ws/chat/`);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

// A new visitor still gets a whole reply: what one client did hurt nobody else.
async function assertServing(server) {
  const session = await createSession(server, {});
  const client = await server.connect();
  await client.next('connected');
  assertReply(await client.chat('Still there?', session));
  await client.close();
}

const closed = (ws) => new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));

test('the opening handshake answers the key and refuses what it cannot serve', async (t) => {
  const server = await startServer(t);
  const key = 'dGhlIHNhbXBsZSBub25jZQ==';
  const ok = await upgrade(server, { 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': key });
  assert.equal(ok.status, 101);
  const expected = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  assert.equal(ok.headers['sec-websocket-accept'], expected);
  ok.socket.destroy();

  const oldVersion = await upgrade(server, { 'Sec-WebSocket-Version': '8', 'Sec-WebSocket-Key': key });
  assert.equal(oldVersion.status, 426, oldVersion.body);
  assert.equal(oldVersion.headers['sec-websocket-version'], '13');

  for (const bad of [undefined, 'short', 'not base64 at all, 24ch', 'dGhlIHNhbXBsZSBub25jZQ']) {
    const headers = { 'Sec-WebSocket-Version': '13' };
    if (bad !== undefined) headers['Sec-WebSocket-Key'] = bad;
    const res = await upgrade(server, headers);
    assert.equal(res.status, 400, `key ${JSON.stringify(bad)}: ${res.body}`);
    assert.match(res.body, /Sec-WebSocket-Key/);
  }
  await assertServing(server);
});

test('a ping gets a pong with its payload', async (t) => {
  const server = await startServer(t);
  const ws = await open(server);
  const pong = new Promise((resolve) => ws.once('pong', (data) => resolve(data.toString())));
  ws.ping('are you there');
  assert.equal(await pong, 'are you there');
  ws.close();
  await closed(ws);
});

test('a client close is answered with the same code', async (t) => {
  const server = await startServer(t);
  const ws = await open(server);
  const done = closed(ws);
  ws.close(4001, 'done here');
  assert.equal((await done).code, 4001);
  await assertServing(server);
});

test('text that is not UTF-8 closes with 1007; the server carries on', async (t) => {
  const server = await startServer(t);
  const ws = await open(server);
  const done = closed(ws);
  ws.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false });
  assert.equal((await done).code, 1007);
  await assertServing(server);
});

test('a message in fragments is one message', async (t) => {
  const server = await startServer(t);
  const session = await createSession(server, {});
  const client = await server.connect();
  await client.next('connected');
  const text = JSON.stringify({
    type: 'chat_message',
    message: 'Hello in three pieces',
    session_id: session.session_id,
    visitor_id: session.visitor_id,
  });
  const thirds = [text.slice(0, 10), text.slice(10, 30), text.slice(30)];
  client.ws.send(thirds[0], { fin: false });
  client.ws.send(thirds[1], { fin: false });
  client.ws.send(thirds[2], { fin: true });
  assertReply(await client.collectReply());
  await client.close();
});

test('a client that stops reading gets every frame of a long reply once it reads again', async (t) => {
  // 40,000 chunk frames are megabytes, more than both socket buffers hold: the
  // server's gathered writes meet a full socket and finish asynchronously, some
  // of them in the middle of a frame.
  const server = await startServer(t, {
    env: { PARLEY_BUILTIN_WORDS: '40000', PARLEY_STREAM_DELAY_MS: '0' },
  });
  const session = await createSession(server, {});
  const client = await server.connect();
  await client.next('connected');
  // Stop reading from the kernel for a while, well under the 1 s after which a
  // stalled reader with thousands of frames waiting is dropped.
  client.ws._socket.pause();
  client.sendChat('tell me everything', session);
  await sleep(300);
  client.ws._socket.resume();
  const reply = await client.collectReply({ timeoutMs: 60_000 });
  assertReply(reply, { wordCount: 40000 });
  await client.close();
});

test('a client that pings and does not read gets one pong for the pings that piled up', async (t) => {
  // Each unanswered ping used to queue a pong of its own: one connection that never
  // reads grew the server by gigabytes. Pongs beyond the one waiting replace it.
  const server = await startServer(t);
  const client = await server.connect();
  await client.next('connected');
  let pongs = 0;
  client.ws.on('pong', () => { pongs += 1; });
  client.ws._socket.pause();
  const pings = 300_000; // 38 MB of pongs, far more than both socket buffers hold
  const payload = Buffer.alloc(120, 'p');
  for (let i = 0; i < pings; i++) client.ws.ping(payload);
  client.send({ type: 'ping' }); // a data frame: it leaves after every pong before it
  await sleep(300);
  client.ws._socket.resume();
  await client.next('pong', 30_000);
  assert.ok(pongs >= 1, 'at least one ping is answered');
  assert.ok(pongs < pings, `${pongs} pongs for ${pings} pings`);
  await client.close();
});

test('a frame sent together with the upgrade request is not lost', async (t) => {
  // A client may write its first frame right behind the request, before the 101: the
  // server read it with the request and must hand it on to the WebSocket.
  const { connect: tcpConnect } = await import('node:net');
  const server = await startServer(t);
  const socket = tcpConnect(server.port, '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const payload = Buffer.from('{"type":"ping"}');
  const mask = Buffer.from([1, 2, 3, 4]);
  const frame = Buffer.concat([
    Buffer.from([0x81, 0x80 | payload.length]),
    mask,
    Buffer.from(payload.map((b, i) => b ^ mask[i % 4])),
  ]);
  socket.write(Buffer.concat([
    Buffer.from('GET /ws/chat/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n' +
      'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'),
    frame,
  ]));
  // Server frames are short and unmasked: a two-byte header, then the text.
  let received = Buffer.alloc(0);
  const texts = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no pong; got ${received}`)), 5000);
    socket.on('data', (d) => {
      received = Buffer.concat([received, d]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const out = [];
      for (let at = end + 4; at + 2 <= received.length;) {
        const len = received[at + 1] & 0x7f;
        if (at + 2 + len > received.length) break;
        out.push(received.subarray(at + 2, at + 2 + len).toString());
        at += 2 + len;
      }
      if (out.some((x) => JSON.parse(x).type === 'pong')) {
        clearTimeout(timer);
        resolve(out);
      }
    });
  });
  assert.equal(JSON.parse(texts[0]).type, 'connected');
  assert.equal(JSON.parse(texts[1]).type, 'pong');
  socket.destroy();
});

test('a client that never reads is dropped even though its close frame cannot go out', async (t) => {
  // Its replies pile up, the server decides to close (1008), but the close frame waits
  // behind them forever: the connection must still end, close_timeout after.
  const server = await startServer(t);
  const client = await server.connect();
  await client.next('connected');
  client.ws.on('error', () => {});
  client.ws._socket.pause();
  let closed = false;
  client.ws._socket.once('close', () => { closed = true; });
  const deadline = Date.now() + 20_000;
  while (!closed && Date.now() < deadline) {
    for (let i = 0; i < 2000; i++) client.ws.send('{"type":"ping"}');
    await sleep(50);
  }
  assert.ok(closed, 'still connected after 20 s');
});

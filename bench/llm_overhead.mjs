#!/usr/bin/env node
// What parley adds between a hosted LLM and a visitor: a fake upstream
// (tests/integration/lib/fake_llm.mjs) that answers at once with --tokens
// deltas, a parley with PARLEY_AGENT=openai (or anthropic) pointed at it, and
// --streams visitor WebSockets that each send one message at the same moment,
// --rounds times. Everything but parley runs in this one node process, so the
// fake's and the clients' clocks are the same clock. Per stream it measures:
//
//   added time to first chunk = (first chunk at the client - message sent)
//                               - (fake answered - fake received the request)
//     i.e. storing the user message, loading the history, building the
//     request, curl, SSE parsing and the way back through the conversation
//     actor and the WebSocket;
//   per-chunk time = (last chunk - first chunk) / (tokens - 1) at the client,
//     with the whole stream already written by the fake;
// and parley's CPU time (utime + stime from /proc) per chunk over the run.
//
//   node bench/llm_overhead.mjs --streams 1,100,1000 [--tokens 50] [--rounds 3]
//        [--flavor openai|anthropic] [--bin build-release/parley] [--json]
//
// Not a test and asserts nothing; the lead runs it at scale on a quiet machine.
// Needs `npm ci` in tests/integration (for ws).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeLlm } from '../tests/integration/lib/fake_llm.mjs';
import { WebSocket } from '../tests/integration/lib/ws.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function options(argv) {
  const o = { streams: [1, 100, 1000], tokens: 50, rounds: 3, flavor: 'openai', bin: null, json: false };
  for (let i = 0; i < argv.length; i++) {
    const next = () => argv[++i];
    switch (argv[i]) {
      case '--streams': o.streams = next().split(',').map(Number); break;
      case '--tokens': o.tokens = Number(next()); break;
      case '--rounds': o.rounds = Number(next()); break;
      case '--flavor': o.flavor = next(); break;
      case '--bin': o.bin = resolve(next()); break;
      case '--json': o.json = true; break;
      default:
        console.error(`usage: node bench/llm_overhead.mjs [--streams 1,100,1000] [--tokens N] [--rounds N] [--flavor openai|anthropic] [--bin PATH] [--json]`);
        process.exit(2);
    }
  }
  o.bin ??= ['build-release/parley', 'build/parley'].map((p) => join(repo, p)).find((p) => {
    try { readFileSync(p); return true; } catch { return false; }
  });
  if (!o.bin) throw new Error('no parley binary: build it or pass --bin');
  return o;
}

const freePort = () => new Promise((ok, fail) => {
  const s = createServer();
  s.once('error', fail);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
});

// utime + stime of a process, in milliseconds.
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ = 100
}

async function startParley(bin, fake, flavor, streams) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'parley-llm-bench-'));
  const child = spawn(bin, [], {
    cwd: repo,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH,
      PARLEY_PORT: String(port),
      PARLEY_DATABASE_URL: `sqlite:${join(dir, 'bench.db')}`,
      PARLEY_AGENT: flavor,
      PARLEY_LLM_BASE_URL: fake.url,
      PARLEY_LLM_API_KEY: 'sk-bench',
      PARLEY_LLM_MAX_TOOL_STEPS: '0', // the model's text only, as a plain chat
      PARLEY_LOG_LEVEL: 'warn',
    },
  });
  let log = '';
  child.stderr.on('data', (d) => { log = (log + d).slice(-4000); });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).status === 200) break;
    } catch { /* not yet */ }
    if (i > 200 || child.exitCode !== null) throw new Error(`parley did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, port, base, dir, streams, log: () => log };
}

async function openVisitor(server, i) {
  const res = await fetch(`${server.base}/api/chats/sessions/`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  const session = await res.json();
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws/chat/`);
  await new Promise((ok, fail) => { ws.once('open', ok); ws.once('error', fail); });
  const v = { i, ws, session, frames: [] };
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString('utf8'));
    if (frame.type === 'chunk' || frame.type === 'complete' || frame.type === 'error')
      v.frames.push({ t: performance.now(), frame });
    if (v.done && (frame.type === 'complete' || frame.type === 'error')) v.done(frame);
  });
  return v;
}

// One round: every visitor sends at once; resolves with each visitor's timing.
async function round(visitors, fake, r) {
  const ended = visitors.map((v) => new Promise((ok) => { v.done = ok; }));
  const sent = new Map();
  for (const v of visitors) {
    v.frames = [];
    const text = `bench ${r} ${v.i}: tell me something`;
    sent.set(text, { v, at: performance.now() });
    v.ws.send(JSON.stringify({ type: 'chat_message', message: text, session_id: v.session.session_id, visitor_id: v.session.visitor_id }));
  }
  const ends = await Promise.all(ended);
  const failed = ends.filter((f) => f.type !== 'complete').length;
  const out = [];
  for (const req of fake.requests) {
    const last = req.body.messages.at(-1);
    const s = sent.get(typeof last.content === 'string' ? last.content : '');
    if (!s) continue;
    const chunks = s.v.frames.filter((f) => f.frame.type === 'chunk');
    if (chunks.length < 2) continue;
    out.push({
      addedFirstMs: chunks[0].t - s.at - (req.answeredMs - req.receivedMs),
      perChunkMs: (chunks.at(-1).t - chunks[0].t) / (chunks.length - 1),
      chunks: chunks.length,
    });
  }
  fake.requests = [];
  return { out, failed };
}

const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function scenario(o, streams) {
  const fake = await new FakeLlm().start();
  fake.defaultPlan = { tokens: Array.from({ length: o.tokens }, (_, k) => ` w${k}`) };
  const server = await startParley(o.bin, fake, o.flavor, streams);
  try {
    const visitors = [];
    for (let i = 0; i < streams; i += 50)
      visitors.push(...(await Promise.all(Array.from({ length: Math.min(50, streams - i) }, (_, k) => openVisitor(server, i + k)))));
    await round(visitors, fake, 'warmup');
    const cpu0 = cpuMs(server.child.pid);
    const all = [];
    let failed = 0;
    for (let r = 0; r < o.rounds; r++) {
      const res = await round(visitors, fake, r);
      all.push(...res.out);
      failed += res.failed;
    }
    const cpu = cpuMs(server.child.pid) - cpu0;
    const chunks = all.reduce((n, x) => n + x.chunks, 0);
    for (const v of visitors) v.ws.close();
    const first = all.map((x) => x.addedFirstMs);
    const per = all.map((x) => x.perChunkMs);
    return {
      scenario: 'llm_overhead', flavor: o.flavor, streams, tokens: o.tokens, rounds: o.rounds,
      replies: all.length, failed,
      added_ttfc_ms: { p50: pct(first, 50), p95: pct(first, 95), p99: pct(first, 99) },
      per_chunk_ms: { p50: pct(per, 50), p95: pct(per, 95), p99: pct(per, 99) },
      parley_cpu_us_per_chunk: chunks ? (cpu * 1000) / chunks : NaN,
    };
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
    rmSync(server.dir, { recursive: true, force: true });
    await fake.close();
  }
}

const o = options(process.argv.slice(2));
const f = (x) => x.toFixed(2);
for (const streams of o.streams) {
  const r = await scenario(o, streams);
  console.log(`llm_overhead ${r.flavor} streams=${streams}: added TTFC p50 ${f(r.added_ttfc_ms.p50)} ms, p99 ${f(r.added_ttfc_ms.p99)} ms; ` +
              `per chunk p50 ${f(r.per_chunk_ms.p50)} ms; parley CPU ${f(r.parley_cpu_us_per_chunk)} us/chunk; ` +
              `${r.replies} replies, ${r.failed} failed`);
  if (o.json) console.log(JSON.stringify(r));
}

// Starts the real parley binary for one test: free loopback port, fresh temp dir with
// its own SQLite database (or PARLEY_TEST_DATABASE_URL's PostgreSQL), environment cleaned of the developer's PARLEY_* settings.
import { spawn } from 'node:child_process';
import { after } from 'node:test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from './client.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../../..');

// Generous bounds that only exist to stop a hung test; nothing asserts on them.
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const LOG_TAIL_CHARS = 16_000;

// Settings every test server gets unless the test overrides them: the offline agent
// and a short pause between chunks so replies stream (several frames) but quickly.
const BASE_ENV = {
  PARLEY_AGENT: 'builtin',
  PARLEY_STREAM_DELAY_MS: '5',
};

export function parleyBinary() {
  const bin = process.env.PARLEY_BIN
    ? resolve(process.env.PARLEY_BIN)
    : resolve(repoRoot, 'build/parley');
  if (!existsSync(bin)) {
    throw new Error(
      `parley binary not found at ${bin}: build it first ` +
        '(cmake -S . -B build && cmake --build build) or set PARLEY_BIN.',
    );
  }
  return bin;
}

// Asks the kernel for a free port by binding port 0, then releases it for parley.
// There is a small window in which another process could take it; on a test machine
// that is rare enough, and start-up failure is then reported with parley's stderr.
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Every server started by this process, so that a root-level hook can kill whatever a
// failing test left behind (a live child would otherwise keep node's event loop, and
// with it the whole test file, running until ctest's timeout).
const live = new Set();
after(async () => {
  await Promise.allSettled([...live].map((s) => s.dispose()));
});

export class ParleyServer {
  constructor({ env = {}, args = [] } = {}) {
    this.bin = parleyBinary();
    this.extraEnv = { ...env };
    this.args = [...args];
    this.dir = mkdtempSync(join(tmpdir(), 'parley-it-'));
    this.dbPath = join(this.dir, 'parley.db');
    this.port = 0;
    this.child = null;
    this.log = '';
    this.exit = null; // {code, signal} of the last run once it ended
    this.stopping = false;
    this.crashes = []; // exits that nobody asked for
  }

  get baseUrl() {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsBase() {
    return `ws://127.0.0.1:${this.port}`;
  }

  // The tail of parley's stderr and stdout, to put in failure messages.
  logTail() {
    return this.log.slice(-LOG_TAIL_CHARS);
  }

  env() {
    const env = {};
    // Keep the developer's own PARLEY_* settings out: tests must be hermetic.
    for (const [k, v] of Object.entries(process.env)) {
      if (!k.startsWith('PARLEY_')) env[k] = v;
    }
    return {
      ...env,
      ...BASE_ENV,
      PARLEY_HOST: '127.0.0.1',
      PARLEY_PORT: String(this.port),
      // ctest's *.postgresql runs point every server at a throwaway PostgreSQL.
      PARLEY_DATABASE_URL: process.env.PARLEY_TEST_DATABASE_URL || `sqlite:${this.dbPath}`,
      ...this.extraEnv,
    };
  }

  async start() {
    if (this.child) throw new Error('server already running');
    if (!this.port) this.port = await freePort();
    this.exit = null;
    this.stopping = false;
    live.add(this);

    const child = spawn(this.bin, this.args, {
      cwd: repoRoot, // so a default relative to the checkout (knowledge folder) resolves
      env: this.env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const append = (chunk) => {
      this.log += chunk.toString('utf8');
      if (this.log.length > 4 * LOG_TAIL_CHARS) this.log = this.log.slice(-LOG_TAIL_CHARS);
      if (process.env.PARLEY_TEST_VERBOSE) process.stderr.write(chunk);
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    this.exited = new Promise((resolveExit) => {
      let ended = false;
      const onEnd = (code, signal) => {
        if (ended) return;
        ended = true;
        this.exit = { code, signal };
        this.child = null;
        if (!this.stopping) {
          this.crashes.push(this.exit);
          process.stderr.write(
            `\n[parley exited unexpectedly: code=${code} signal=${signal}]\n${this.logTail()}\n`,
          );
        }
        resolveExit(this.exit);
      };
      child.once('close', onEnd);
      child.once('error', (err) => {
        this.log += `\n[spawn error] ${err.message}\n`;
        // A process that never started emits no reliable 'close'.
        if (child.pid === undefined) onEnd(null, 'spawn-error');
      });
    });

    await this.waitReady();
    return this;
  }

  // Polls /healthz until it answers 200; fails early if the process dies.
  async waitReady() {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let lastError = 'no answer yet';
    while (Date.now() < deadline) {
      if (this.exit) {
        throw new Error(
          `parley exited during start-up (code=${this.exit.code} signal=${this.exit.signal}):\n${this.logTail()}`,
        );
      }
      try {
        const res = await fetch(`${this.baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
        lastError = `HTTP ${res.status}`;
      } catch (err) {
        lastError = err.cause?.code ?? err.message;
      }
      await sleep(50);
    }
    throw new Error(
      `parley did not answer GET /healthz with 200 within ${READY_TIMEOUT_MS} ms ` +
        `(last: ${lastError}):\n${this.logTail()}`,
    );
  }

  // Sends `signal` and resolves with the exit code (or the signal name if the process
  // died of a signal). If it does not exit within the bound it is killed and this
  // rejects, because a server that ignores SIGTERM is a bug worth a failing test.
  async stop(signal = 'SIGTERM', timeoutMs = STOP_TIMEOUT_MS) {
    if (!this.child) return this.exitCode();
    this.stopping = true;
    const exited = this.exited;
    this.child.kill(signal);
    let timer;
    const timedOut = await Promise.race([
      exited.then(() => false),
      new Promise((r) => {
        timer = setTimeout(() => r(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.child?.kill('SIGKILL');
      await exited;
      throw new Error(`parley did not exit within ${timeoutMs} ms of ${signal}:\n${this.logTail()}`);
    }
    return this.exitCode();
  }

  exitCode() {
    if (!this.exit) return undefined;
    return this.exit.code ?? this.exit.signal;
  }

  // Starts the binary again on the same port and database (stopping it first with
  // SIGTERM if it still runs). `env` adds to or overrides the settings of the first run.
  async restart({ env = {} } = {}) {
    if (this.child) await this.stop('SIGTERM');
    Object.assign(this.extraEnv, env);
    this.log += '\n----- restart -----\n';
    return this.start();
  }

  // Opens a WebSocket to `path` (default the visitor chat) on this server.
  connect(path = '/ws/chat/', options = {}) {
    return connect(`${this.wsBase}${path}`, { ...options, server: this });
  }

  // Final clean-up: kill the child whatever state it is in, delete the temp dir.
  async dispose() {
    if (!live.has(this)) return;
    live.delete(this);
    if (this.child) {
      this.stopping = true;
      const exited = this.exited;
      this.child.kill('SIGKILL');
      await exited;
    }
    if (!process.env.PARLEY_KEEP_TMP) rmSync(this.dir, { recursive: true, force: true });
  }
}

// Starts a server for test `t` and makes sure it is gone when `t` ends, pass or fail.
// The after-hook also fails the test if parley died without being asked to (a crash
// the test itself may not have noticed, e.g. after its last assertion).
export async function startServer(t, options = {}) {
  const server = new ParleyServer(options);
  t.after(async () => {
    const crashes = server.crashes.slice();
    await server.dispose();
    if (crashes.length) {
      throw new Error(
        `parley exited unexpectedly during the test: ${JSON.stringify(crashes)}\n${server.logTail()}`,
      );
    }
  });
  await server.start();
  return server;
}

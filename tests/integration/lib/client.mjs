// A small WebSocket client for the visitor chat protocol. Frames are queued the moment
// they arrive, so nothing is lost between two `next()` calls; every frame is also kept
// in `history` so failure messages can show what the server actually sent.
import { after } from 'node:test';
import { WebSocket } from './ws.mjs';

const DEFAULT_TIMEOUT_MS = 10_000; // only stops a hung test; never a speed assertion

// Every open client, so a root-level hook (registered at import, hence on the file's
// root test) can close what a failing test left open.
const open = new Set();
after(() => {
  for (const c of open) c.terminate();
});

// Resolves once the upgrade succeeded. A refused upgrade rejects with an error that
// carries `statusCode` and `body` (e.g. the 404 for an unknown path).
export function connect(url, { server = null, headers = {}, timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
  return new Promise((resolveConn, reject) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: timeoutMs });
    // Listeners go on before the handshake completes: a frame sent right after the
    // upgrade (`connected`) must not slip past us.
    const client = new ChatClient(ws, server, url);
    ws.once('open', () => resolveConn(client));
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        const err = new Error(`WebSocket upgrade to ${url} refused with HTTP ${res.statusCode}: ${body}`);
        err.statusCode = res.statusCode;
        err.body = body;
        reject(err);
        req.destroy();
      });
    });
    ws.once('error', (err) => reject(new Error(`WebSocket ${url}: ${err.message}`)));
  });
}

export class ChatClient {
  constructor(ws, server, url) {
    this.ws = ws;
    this.server = server;
    this.url = url;
    this.queue = [];
    this.history = [];
    this.waiter = null;
    this.closeInfo = null;
    this.errors = [];
    open.add(this);

    ws.on('message', (data, isBinary) => this.#receive(data, isBinary));
    // Without an 'error' listener ws would throw from an event emitter.
    ws.on('error', (err) => this.errors.push(err));
    this.closed = new Promise((resolveClose) => {
      ws.once('close', (code, reason) => {
        open.delete(this);
        this.closeInfo = { code, reason: reason.toString('utf8') };
        resolveClose(this.closeInfo);
        if (this.waiter) {
          const { reject, what } = this.waiter;
          this.#clearWaiter();
          reject(this.#failure(`connection closed with code ${code} while waiting for ${what}`));
        }
      });
    });
  }

  #receive(data, isBinary) {
    let frame;
    if (isBinary) {
      frame = { __binary: data.toString('hex') };
    } else {
      const text = data.toString('utf8');
      try {
        frame = JSON.parse(text);
      } catch {
        // The protocol only has JSON frames; keep the text so the test fails visibly.
        frame = { __unparsable: text };
      }
    }
    this.history.push(frame);
    if (this.waiter) {
      const { predicate, resolve } = this.waiter;
      if (predicate(frame)) {
        this.#clearWaiter();
        resolve(frame);
      }
      // A frame the waiter skips is dropped from the queue (it stays in history).
      return;
    }
    this.queue.push(frame);
  }

  #clearWaiter() {
    clearTimeout(this.waiter.timer);
    this.waiter = null;
  }

  #failure(message) {
    const recent = this.history.slice(-8).map((f) => JSON.stringify(f).slice(0, 400));
    let text = `${message}\n  url: ${this.url}\n  last frames received:\n    ${recent.join('\n    ') || '(none)'}`;
    if (this.server) text += `\n  parley output (tail):\n${this.server.logTail()}`;
    return new Error(text);
  }

  // Returns the next frame that satisfies `predicate` (a function, or a frame type as a
  // string; default: any frame). Frames before it that do not match are skipped.
  next(predicate = () => true, timeoutMs = DEFAULT_TIMEOUT_MS) {
    const test = typeof predicate === 'string' ? (f) => f.type === predicate : predicate;
    const what = typeof predicate === 'string' ? `a "${predicate}" frame` : 'a frame';
    if (this.waiter) return Promise.reject(new Error('next() called while another next() is pending'));
    while (this.queue.length) {
      const frame = this.queue.shift();
      if (test(frame)) return Promise.resolve(frame);
    }
    if (this.closeInfo) {
      return Promise.reject(this.#failure(`connection already closed (code ${this.closeInfo.code}); wanted ${what}`));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(this.#failure(`no ${what.replace(/^an? /, '')} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = { predicate: test, resolve, reject, timer, what };
    });
  }

  // Objects go as JSON text, strings as they are, Buffers as binary frames.
  send(payload) {
    if (Buffer.isBuffer(payload)) this.ws.send(payload, { binary: true });
    else this.ws.send(typeof payload === 'string' ? payload : JSON.stringify(payload));
  }

  sendChat(message, session) {
    this.send({
      type: 'chat_message',
      message,
      session_id: session.session_id,
      visitor_id: session.visitor_id,
    });
  }

  // Reads `chunk` frames until the `complete` frame. Returns {chunks (the chunk
  // frames), complete, text (chunks joined), errors}. An `error` frame or any other
  // frame type fails fast, unless `allowErrors` lets error frames interleave (a refused
  // second message while this reply streams).
  async collectReply({ allowErrors = false, timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
    const chunks = [];
    const errors = [];
    for (;;) {
      const frame = await this.next(() => true, timeoutMs);
      if (frame.type === 'chunk') {
        chunks.push(frame);
      } else if (frame.type === 'complete') {
        return { chunks, complete: frame, text: chunks.map((c) => c.chunk).join(''), errors };
      } else if (frame.type === 'error' && allowErrors) {
        errors.push(frame);
      } else {
        throw this.#failure(`expected chunk/complete frames of a reply, got ${JSON.stringify(frame)}`);
      }
    }
  }

  // Sends a chat message and returns its reply (see collectReply).
  async chat(message, session, options) {
    this.sendChat(message, session);
    return this.collectReply(options);
  }

  close(code = 1000) {
    this.ws.close(code);
    return this.closed;
  }

  terminate() {
    this.ws.terminate();
  }
}

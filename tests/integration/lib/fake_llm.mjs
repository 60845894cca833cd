// A fake LLM server on loopback (node's http module only) that speaks the OpenAI chat
// completions stream and the Anthropic Messages stream byte for byte, and misbehaves on
// request: split the bytes anywhere, pause, drop the connection, corrupt the stream, go
// silent, send an error event, or answer 401 / 429 (Retry-After) / 5xx.
//
//   const fake = await startFakeLlm(t);
//   fake.plan({ split: 'bytes' }, { status: 500 });   // the next two requests
//   fake.defaultPlan = { tokens: ['Hi', ' there'] };    // every later one
//   fake.requests  // [{flavor, path, headers, body, at, closedEarly, receivedMs, answeredMs}]
//                  // (receivedMs / answeredMs: performance.now() when the request body
//                  // was read and when the stream's first bytes went out, for benchmarks)
//
// The flavor follows the path: .../chat/completions is OpenAI, .../messages Anthropic.
import http from 'node:http';
import { randomBytes } from 'node:crypto';

// Tokens with multi-byte UTF-8 (2, 3 and 4 bytes), so that byte splits land inside
// characters.
export const DEFAULT_TOKENS = ['Hello', ' there', '! Caf\u00e9', ' \u2615', ' and', ' \u{1F44B}', ' \u2014 na\u00efve', ' reply.'];

export const joined = (tokens = DEFAULT_TOKENS) => tokens.join('');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One plan describes one response. Fields (all optional):
//   tokens        text pieces streamed as deltas (default DEFAULT_TOKENS)
//   status        HTTP status; not 2xx sends the provider's error document
//   headers       extra response headers, e.g. {'retry-after': '1'}
//   errorMessage  the error document's message (default names the key it was given)
//   split         'event' (one write per event, default), 'bytes' (one write per
//                 byte), a number n (writes of n bytes across events), 'random'
//   delayMs       pause between writes; firstByteDelayMs before the headers
//   lineEnding    '\n' (default), '\r\n' or '\r'
//   chatter       comments, pings and role-only chunks between the tokens
//   dropAfter     destroy the socket after this many tokens
//   dropAtByte    destroy the socket after this many bytes of the stream
//   corruptAfter  after this many tokens send a broken JSON event, then end
//   hangAfter     after this many tokens send nothing more until the client leaves
//   errorAfter    after this many tokens send the provider's in-stream error event
//   noEnd         leave out the terminal events ([DONE] / message_stop ...)
//   hold          a promise awaited before answering at all
//   contentType   override text/event-stream
//   toolCalls     [{id, name, arguments}] streamed after the tokens as the provider's
//                 tool-call deltas (arguments cut into three pieces; OpenAI's
//                 tool_calls by index, Anthropic's tool_use blocks with
//                 input_json_delta), ending with finish_reason tool_calls / tool_use
export class FakeLlm {
  constructor() {
    this.requests = [];
    this.plans = [];
    this.defaultPlan = {};
    this.open = 0; // requests being answered right now
    this.maxOpen = 0;
    this.server = http.createServer((req, res) => this.#handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    this.sockets = new Set();
    this.server.on('connection', (s) => {
      s.setNoDelay(true);
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async start() {
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
    this.port = this.server.address().port;
    return this;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  // The next requests get these plans, in order; then defaultPlan.
  plan(...plans) {
    this.plans.push(...plans);
    return this;
  }

  reset() {
    this.requests = [];
    this.plans = [];
    this.defaultPlan = {};
    this.maxOpen = 0;
  }

  async close() {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  async #handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const text = Buffer.concat(chunks).toString('utf8');
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = { unparsable: text };
    }
    const flavor = /\/messages$/.test(req.url) ? 'anthropic' : /\/chat\/completions$/.test(req.url) ? 'openai' : null;
    const record = { flavor, path: req.url, method: req.method, headers: req.headers, body, at: Date.now(), closedEarly: false, receivedMs: performance.now() };
    this.requests.push(record);
    const plan = this.plans.length ? this.plans.shift() : this.defaultPlan;
    this.open++;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    let finished = false;
    res.on('finish', () => (finished = true));
    res.on('close', () => {
      this.open--;
      if (!finished) record.closedEarly = true;
    });
    if (!flavor) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${req.url}`, type: 'not_found' } }));
      return;
    }
    if (plan.hold) await plan.hold;
    if (plan.firstByteDelayMs) await sleep(plan.firstByteDelayMs);
    if (res.destroyed) return;
    const status = plan.status ?? 200;
    if (status < 200 || status >= 300) {
      res.writeHead(status, { 'content-type': 'application/json', ...(plan.headers ?? {}) });
      res.end(JSON.stringify(errorDocument(flavor, status, plan.errorMessage ?? keyEcho(req.headers))));
      return;
    }
    res.writeHead(200, {
      'content-type': plan.contentType ?? 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      ...(plan.headers ?? {}),
    });
    res.flushHeaders();
    const model = body.model ?? 'fake-model';
    const built = flavor === 'openai' ? openaiStream(plan, model) : anthropicStream(plan, model);
    record.answeredMs = performance.now();
    await this.#play(res, plan, flavor, built);
  }

  async #play(res, plan, flavor, { bytes, tokenOffsets, endOffset }) {
    const le = plan.lineEnding ?? '\n';
    const at = (k) => (k < tokenOffsets.length ? tokenOffsets[k] : endOffset);
    let cut = bytes.length;
    let action = 'end';
    for (const [field, name] of [['dropAfter', 'drop'], ['corruptAfter', 'corrupt'], ['hangAfter', 'hang'], ['errorAfter', 'error']]) {
      if (plan[field] !== undefined) {
        cut = at(plan[field]);
        action = name;
      }
    }
    if (plan.dropAtByte !== undefined) {
      cut = plan.dropAtByte;
      action = 'drop';
    }
    if (plan.noEnd && action === 'end') cut = endOffset;
    await writeSplit(res, bytes.subarray(0, cut), plan);
    if (res.destroyed) return;
    switch (action) {
      case 'drop':
        res.socket?.destroy();
        return;
      case 'hang':
        return; // the client gives up (or is stopped); 'close' does the accounting
      case 'corrupt':
        res.end(flavor === 'openai'
          ? `data: {"id":"chatcmpl-x","choices":[{"index":0,"delta":{"content":"oops"${le}${le}`
          : `event: content_block_delta${le}data: {"type":"content_block_delta","index":0,"delta":{"type":"text_del${le}${le}`);
        return;
      case 'error':
        res.end(flavor === 'openai'
          ? `data: ${JSON.stringify({ error: { message: 'The server had an error while processing your request.', type: 'server_error' } })}${le}${le}`
          : `event: error${le}data: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}${le}${le}`);
        return;
      default:
        res.end();
    }
  }
}

// Starts a fake for test `t` and closes it when `t` ends.
export async function startFakeLlm(t) {
  const fake = await new FakeLlm().start();
  t?.after(() => fake.close());
  return fake;
}

// What the real APIs say about a bad key quotes (part of) the key; the fake quotes all
// of it, so a test can prove parley never shows or logs it.
function keyEcho(headers) {
  const key = headers['x-api-key'] ?? (headers.authorization ?? '').replace(/^Bearer /, '');
  return `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`;
}

function errorDocument(flavor, status, message) {
  if (flavor === 'anthropic') {
    const type = { 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error', 429: 'rate_limit_error', 529: 'overloaded_error' }[status]
      ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
    return { type: 'error', error: { type, message } };
  }
  const type = status === 401 ? 'invalid_request_error' : status === 429 ? 'requests' : status >= 500 ? 'server_error' : 'invalid_request_error';
  const code = status === 401 ? 'invalid_api_key' : status === 429 ? 'rate_limit_exceeded' : null;
  return { error: { message, type, param: null, code } };
}

// Builds the whole stream; tokenOffsets[k] is where the k-th token's event starts,
// endOffset where the terminal events start.
function assemble(events, le, chatter) {
  const parts = [];
  const tokenOffsets = [];
  let endOffset = 0;
  let size = 0;
  const push = (s) => {
    const b = Buffer.from(s, 'utf8');
    parts.push(b);
    size += b.length;
  };
  for (const ev of events) {
    if (ev.kind === 'token') tokenOffsets.push(size);
    if (ev.kind === 'end' && endOffset === 0) endOffset = size;
    if (ev.kind === 'chatter' && !chatter) continue;
    let text = '';
    if (ev.comment) text += `:${ev.comment}${le}`;
    if (ev.event) text += `event: ${ev.event}${le}`;
    if (ev.data !== undefined) text += `data: ${ev.data}${le}`;
    push(text + le);
  }
  if (endOffset === 0) endOffset = size;
  return { bytes: Buffer.concat(parts), tokenOffsets, endOffset };
}

function openaiStream(plan, model) {
  const tokens = plan.tokens ?? DEFAULT_TOKENS;
  const id = `chatcmpl-${randomBytes(12).toString('base64url')}`;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta, finish = null) => JSON.stringify({
    id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake0001',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
  const events = [{ kind: 'head', data: chunk({ role: 'assistant', content: '', refusal: null }) }];
  for (const t of tokens) {
    events.push({ kind: 'chatter', comment: ' keep-alive' });
    events.push({ kind: 'token', data: chunk({ content: t }) });
  }
  const calls = plan.toolCalls ?? [];
  calls.forEach((c, index) => {
    const [first, ...rest] = pieces(c.arguments);
    events.push({ kind: 'tool', data: chunk({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name, arguments: first } }] }) });
    for (const p of rest) events.push({ kind: 'tool', data: chunk({ tool_calls: [{ index, function: { arguments: p } }] }) });
  });
  events.push({ kind: 'end', data: chunk({}, calls.length ? 'tool_calls' : 'stop') });
  events.push({
    kind: 'end',
    data: JSON.stringify({
      id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake0001', choices: [],
      usage: { prompt_tokens: 42, completion_tokens: tokens.length, total_tokens: 42 + tokens.length },
    }),
  });
  events.push({ kind: 'end', data: '[DONE]' });
  return assemble(events, plan.lineEnding ?? '\n', plan.chatter);
}

function anthropicStream(plan, model) {
  const tokens = plan.tokens ?? DEFAULT_TOKENS;
  const id = `msg_${randomBytes(16).toString('hex')}`;
  const ev = (kind, type, payload) => ({ kind, event: type, data: JSON.stringify({ type, ...payload }) });
  const events = [
    ev('head', 'message_start', {
      message: {
        id, type: 'message', role: 'assistant', content: [], model, stop_reason: null, stop_sequence: null,
        usage: { input_tokens: 42, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
      },
    }),
    ev('head', 'content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    { kind: 'chatter', event: 'ping', data: '{"type": "ping"}' },
  ];
  for (const t of tokens) {
    events.push(ev('token', 'content_block_delta', { index: 0, delta: { type: 'text_delta', text: t } }));
    events.push({ kind: 'chatter', comment: ' keep-alive' });
  }
  events.push(ev('tool', 'content_block_stop', { index: 0 }));
  const calls = plan.toolCalls ?? [];
  calls.forEach((c, i) => {
    const index = i + 1;
    events.push(ev('tool', 'content_block_start', { index, content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} } }));
    for (const p of pieces(c.arguments)) events.push(ev('tool', 'content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: p } }));
    events.push(ev('tool', 'content_block_stop', { index }));
  });
  events.push(ev('end', 'message_delta', { delta: { stop_reason: calls.length ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: { output_tokens: tokens.length } }));
  events.push(ev('end', 'message_stop', {}));
  return assemble(events, plan.lineEnding ?? '\n', plan.chatter);
}

// A tool call's arguments in three pieces, as models stream them: the first may be
// empty, and the cuts fall inside keys and values.
function pieces(text) {
  const a = Math.floor(text.length / 3);
  const b = Math.floor((2 * text.length) / 3);
  return [text.slice(0, a), text.slice(a, b), text.slice(b)];
}

async function writeSplit(res, bytes, plan) {
  const split = plan.split ?? 'event';
  const delay = plan.delayMs ?? 0;
  const pieces = [];
  if (split === 'bytes') {
    for (let i = 0; i < bytes.length; i++) pieces.push(bytes.subarray(i, i + 1));
  } else if (typeof split === 'number') {
    for (let i = 0; i < bytes.length; i += split) pieces.push(bytes.subarray(i, i + split));
  } else if (split === 'random') {
    for (let i = 0; i < bytes.length;) {
      const n = 1 + Math.floor(Math.random() * 24);
      pieces.push(bytes.subarray(i, i + n));
      i += n;
    }
  } else {
    // One write per event: split at each blank line, as a real server flushes.
    const text = bytes.toString('latin1');
    const le = plan.lineEnding ?? '\n';
    const sep = le + le;
    let from = 0;
    for (let i = text.indexOf(sep); i !== -1; i = text.indexOf(sep, from)) {
      pieces.push(bytes.subarray(from, i + sep.length));
      from = i + sep.length;
    }
    if (from < bytes.length) pieces.push(bytes.subarray(from));
  }
  for (const [i, p] of pieces.entries()) {
    if (res.destroyed) return;
    if (i === pieces.length - 1) {
      // Wait until the bytes reach the socket: node corks writes until the next
      // tick, and a drop right after would silently discard them.
      await new Promise((r) => res.write(p, r));
      return;
    }
    res.write(p);
    if (delay) await sleep(delay);
    else if (split === 'bytes') await new Promise((r) => setImmediate(r));
  }
}

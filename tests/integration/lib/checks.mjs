// Shared assertions on the shapes the protocol promises.
import assert from 'node:assert/strict';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

export function assertUuid(value, what) {
  assert.equal(typeof value, 'string', `${what} should be a string, got ${JSON.stringify(value)}`);
  assert.match(value, UUID, `${what} should be a UUID`);
}

export function assertTimestamp(value, what) {
  assert.equal(typeof value, 'string', `${what} should be a string, got ${JSON.stringify(value)}`);
  assert.match(value, ISO_8601, `${what} should be an ISO-8601 date-time`);
  assert.ok(!Number.isNaN(Date.parse(value)), `${what} should parse as a date: ${value}`);
}

// The common schema: `done` and `complete` always present as booleans; fields that are
// null or empty arrays are left out.
export function assertFrameSchema(frame) {
  const shown = JSON.stringify(frame);
  assert.equal(typeof frame.type, 'string', `frame without type: ${shown}`);
  assert.equal(typeof frame.done, 'boolean', `"done" must always be present: ${shown}`);
  assert.equal(typeof frame.complete, 'boolean', `"complete" must always be present: ${shown}`);
  for (const [key, value] of Object.entries(frame)) {
    assert.notEqual(value, null, `null field "${key}" should be omitted: ${shown}`);
    if (Array.isArray(value)) {
      assert.ok(value.length > 0, `empty array "${key}" should be omitted: ${shown}`);
    }
  }
}

// An `error` frame with exactly this text (string) or matching text (RegExp).
export function assertErrorFrame(frame, expected) {
  const shown = JSON.stringify(frame);
  assert.equal(frame.type, 'error', `expected an error frame, got ${shown}`);
  assertFrameSchema(frame);
  if (expected instanceof RegExp) assert.match(frame.error, expected, shown);
  else if (expected !== undefined) assert.equal(frame.error, expected, shown);
  else assert.ok(typeof frame.error === 'string' && frame.error.length > 0, shown);
  assert.equal(typeof frame.metadata, 'object', `error frame without metadata: ${shown}`);
  assert.ok(
    typeof frame.metadata.error_type === 'string' && frame.metadata.error_type.length > 0,
    `error frame without metadata.error_type: ${shown}`,
  );
}

export const words = (text) => text.trim().split(/\s+/).filter(Boolean);

// Everything the protocol promises about one reply (see client.collectReply).
export function assertReply(reply, { wordCount } = {}) {
  const { chunks, complete, text } = reply;
  assert.ok(chunks.length >= 1, 'a reply has at least one chunk frame');
  const messageId = chunks[0].message_id;
  assertUuid(messageId, 'chunk message_id');
  for (const chunk of chunks) {
    assertFrameSchema(chunk);
    const shown = JSON.stringify(chunk);
    assert.equal(chunk.type, 'chunk');
    assert.equal(typeof chunk.chunk, 'string', shown);
    assert.equal(chunk.done, false, shown);
    assert.equal(chunk.message_id, messageId, `all chunks of a reply share message_id: ${shown}`);
    assert.equal(chunk.suggestions, undefined, `a chunk frame carries no suggestions: ${shown}`);
    assert.equal(chunk.error, undefined, `a chunk frame carries no error: ${shown}`);
  }

  assertFrameSchema(complete);
  const shown = JSON.stringify(complete);
  assert.equal(complete.type, 'complete');
  assert.equal(complete.done, true, shown);
  assert.equal(complete.complete, false, shown);
  assert.equal(complete.message_id, messageId, `complete.message_id equals the chunks': ${shown}`);
  assertUuid(complete.response_id, 'complete.response_id');
  assert.notEqual(complete.response_id, messageId, 'response_id names the assistant message, not the user one');
  assert.equal(complete.message, text, 'complete.message equals the chunks joined in order');
  assert.equal(typeof complete.needs_info, 'boolean', shown);
  assert.ok(Array.isArray(complete.suggestions) && complete.suggestions.length > 0, `suggestions: ${shown}`);
  for (const s of complete.suggestions) {
    assert.ok(typeof s === 'string' && s.length > 0, `each suggestion is a non-empty string: ${shown}`);
  }
  assert.equal(typeof complete.conversation_data, 'object', `conversation_data: ${shown}`);

  if (wordCount !== undefined) {
    assert.equal(words(text).length, wordCount, `reply should be exactly ${wordCount} words: ${JSON.stringify(text)}`);
  } else {
    assert.ok(words(text).length >= 3, `the builtin agent replies with several words: ${JSON.stringify(text)}`);
  }
}

// After an error the same socket must still serve a full reply.
export async function assertStillUsable(client, session) {
  const reply = await client.chat('Are you still with me?', session);
  assertReply(reply);
  return reply;
}

// The inactivity notices (idle.test, restart.test).
export function assertIdleWarning(frame, session, timeoutSeconds) {
  const shown = JSON.stringify(frame);
  assert.equal(frame.type, 'idle_warning', `expected idle_warning, got ${shown}`);
  assertFrameSchema(frame);
  assert.equal(frame.session_id, session.session_id, shown);
  assert.match(frame.message, /still there/i, shown);
  assertUuid(frame.response_id, 'idle_warning response_id');
  assert.equal(frame.complete, false, shown);
  assert.equal(frame.metadata?.type, 'idle_warning', shown);
  assert.equal(frame.metadata?.timeout_seconds, timeoutSeconds, shown);
}

export function assertSessionEnd(frame, session, timeoutSeconds) {
  const shown = JSON.stringify(frame);
  assert.equal(frame.type, 'session_end', `expected session_end, got ${shown}`);
  assertFrameSchema(frame);
  assert.equal(frame.session_id, session.session_id, shown);
  assert.ok(typeof frame.message === 'string' && frame.message.length > 0, shown);
  assertUuid(frame.response_id, 'session_end response_id');
  assert.equal(frame.complete, true, shown);
  assert.equal(frame.metadata?.type, 'session_end', shown);
  assert.equal(frame.metadata?.reason, 'idle_timeout', shown);
  assert.equal(frame.metadata?.timeout_seconds, timeoutSeconds, shown);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

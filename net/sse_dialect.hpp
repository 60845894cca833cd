#pragma once

// The chat-room stream of seed 001 as Server-Sent Events, byte for byte as
// CONTRACT.md fixes it. Engine events in, SSE text out; no I/O.

#include <string>

#include "actors/event.hpp"

namespace parley::net {

// The opening line, before any event (no `event:` line, as the document's
// controller writes it).
const std::string& sse_start();

// A comment line that keeps proxies and clients from timing out.
const std::string& sse_heartbeat();

// chunk -> `event: message` {"type":"content",...}; complete -> `event:
// sources` (when the reply cites any) then `event: end`; error -> `event:
// error` {"error":"Failed to process message"}. Every event carries `id:
// <assistant message id>:<sequence>`. Other events have no SSE form: null.
frame_ptr encode_sse(const event& ev);

// Whether a frame ends the stream (end or error).
bool sse_final(const std::string& frame);

} // namespace parley::net

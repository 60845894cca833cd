#pragma once

// Seed 000's notification socket: `{"event": ..., "payload": ...}` frames.
// Engine events in, JSON text out; no I/O.

#include "actors/event.hpp"

namespace parley::net {

// message -> {"event":"message.created","payload":{"message":{...}}} (see
// conversation_json.hpp); error -> {"event":"error","payload":{"error":
// text,"type":...}}. Nothing else: the document's frontend takes any
// payload that carries its conversation id for a message, so no other frame
// may carry one.
frame_ptr encode_notification(const event& ev);

// The same, and while a reply streams (clients that opt in with ?stream=1)
// chunk -> {"event":"message.delta","payload":{"conversation_id","message_id",
// "seq","delta"}}, message_id being the id the whole message will have.
frame_ptr encode_notification_stream(const event& ev);

} // namespace parley::net

#pragma once

#include <caf/delegated.hpp>

namespace parley {

// What a handler on the per-chunk path returns: its messages are sent, never
// requested, so there is nobody to answer. After a handler that returns
// void, CAF 0.17 still makes a response promise for the message only to
// drop it (about 250 instructions, a twentieth of a chunk's); a delegated
// result tells it that no answer comes from here. Never for a message that
// may be a request: its requester would wait forever.
using one_way = caf::delegated<void>;

} // namespace parley

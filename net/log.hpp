#pragma once

// Reporting of socket errors. Disconnects, timeouts and cancellations are
// normal life for a server and stay silent; anything else goes to the debug
// log (config/log.hpp), so a flood of bad clients cannot flood the log.

#include <boost/beast/core/error.hpp>

namespace parley::net {

// Reports a failed operation `what`; returns nothing so that handlers can
// write `if (ec) return fail(ec, "read");`.
void fail(boost::beast::error_code ec, const char* what);

} // namespace parley::net

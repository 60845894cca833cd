#pragma once

// Private to net/: the Beast and Asio names the transport files share, as
// CppCon2018's net.hpp and beast.hpp. Never include this from a header that
// code outside net/ includes: Beast is heavy to compile.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>

// Declared here so that the aliases need no HTTP or WebSocket headers.
namespace boost::beast::http {}
namespace boost::beast::websocket {}

namespace parley::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

// One io_context per io thread, and each connection lives on one of them:
// its handlers never run concurrently, with no strand to allocate and lock.
// The concrete executor type matters too: any_io_executor wrapping a strand
// allocates for each copy, and an idle WebSocket holds a dozen copies.
using executor_type = asio::io_context::executor_type;
using socket_type = tcp::socket::rebind_executor<executor_type>::other;

} // namespace parley::net

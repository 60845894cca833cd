#include "net/log.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/websocket/error.hpp>

#include "config/log.hpp"

namespace parley::net {

namespace {

// The errors every connection ends with sooner or later.
bool is_normal(boost::beast::error_code ec) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  return ec == asio::error::operation_aborted || ec == asio::error::eof
         || ec == asio::error::connection_reset
         || ec == asio::error::broken_pipe || ec == asio::error::not_connected
         || ec == beast::error::timeout
         || ec == beast::http::error::end_of_stream
         || ec == beast::websocket::error::closed;
}

} // namespace

void fail(boost::beast::error_code ec, const char* what) {
  if (is_normal(ec) || !log_enabled(log_level::debug))
    return;
  log_debug("net: ", what, ": ", ec.message());
}

} // namespace parley::net

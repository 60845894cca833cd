#include "net/write_now.hpp"

namespace parley::net {

bool write_now(socket_type& socket, std::vector<asio::const_buffer>& buffers,
               boost::system::error_code& ec) {
  auto n = socket.write_some(buffers, ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again)
    ec.clear();
  if (ec)
    return false;
  auto first = buffers.begin();
  for (; first != buffers.end() && n >= first->size(); ++first)
    n -= first->size();
  buffers.erase(buffers.begin(), first);
  if (buffers.empty())
    return true;
  buffers.front() += n;
  return false;
}

} // namespace parley::net

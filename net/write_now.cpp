#include "net/write_now.hpp"

#include <algorithm>
#include <array>
#include <cerrno>

#include <sys/socket.h>
#include <sys/uio.h>

namespace parley::net {

bool write_now(socket_type& socket, std::vector<asio::const_buffer>& buffers,
               boost::system::error_code& ec) {
  // The descriptor, not asio's socket object: a worker thread writes here
  // while the socket's io thread may be reading (net/ws_session.hpp).
  std::array<iovec, 64> iov;
  auto count = std::min(buffers.size(), iov.size());
  for (std::size_t i = 0; i < count; ++i)
    iov[i] = {const_cast<void*>(buffers[i].data()), buffers[i].size()};
  msghdr msg{};
  msg.msg_iov = iov.data();
  msg.msg_iovlen = count;
  ssize_t sent = 0;
  do
    sent = ::sendmsg(socket.native_handle(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      ec.assign(errno, boost::system::system_category());
    return false;
  }
  auto n = static_cast<std::size_t>(sent);
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

#pragma once

// Private to net/ (includes net/asio.hpp).

#include <vector>

#include <boost/asio/buffer.hpp>

#include "net/asio.hpp"

namespace parley::net {

// Gives `buffers` to a socket in one non-blocking system call and drops
// from them what it took; any thread may call it while another reads. True when
// all went: the caller is done without an asynchronous write, whose operation
// and completion handler cost more than the write itself for a chunk frame.
// False with `ec` clear when the socket buffer is full (or a call takes at most
// 64 buffers): the caller writes the rest asynchronously.
bool write_now(socket_type& socket, std::vector<asio::const_buffer>& buffers,
               boost::system::error_code& ec);

} // namespace parley::net

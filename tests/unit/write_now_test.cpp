#define CAF_SUITE write_now
#include <caf/test/unit_test.hpp>

#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>

#include "net/write_now.hpp"

using namespace parley::net;

namespace {

// A connected loopback pair: `out` non-blocking with small socket buffers,
// so that a few hundred kilobytes fill them.
struct fixture {
  asio::io_context ioc;
  socket_type out{ioc};
  tcp::socket in{ioc};

  fixture() {
    tcp::acceptor acceptor{ioc, {asio::ip::make_address("127.0.0.1"), 0}};
    out.open(tcp::v4());
    out.set_option(asio::socket_base::send_buffer_size{16384});
    out.connect(acceptor.local_endpoint());
    acceptor.accept(in);
    in.set_option(asio::socket_base::receive_buffer_size{65536});
    out.non_blocking(true);
  }

  // Reads exactly n bytes from the other end.
  std::string receive(std::size_t n) {
    std::string got(n, '\0');
    asio::read(in, asio::buffer(got));
    return got;
  }
};

// Pieces of distinct bytes, so that a skipped or repeated byte shows.
std::vector<std::string> pieces(int count, std::size_t size) {
  std::vector<std::string> xs;
  for (int i = 0; i < count; ++i) {
    std::string x(size, '\0');
    for (std::size_t j = 0; j < size; ++j)
      x[j]
          = static_cast<char>('a' + (static_cast<std::size_t>(i) * 7 + j) % 26);
    xs.push_back(std::move(x));
  }
  return xs;
}

std::vector<asio::const_buffer> buffers_of(const std::vector<std::string>& xs) {
  std::vector<asio::const_buffer> out;
  out.reserve(xs.size());
  for (auto& x : xs)
    out.emplace_back(asio::buffer(x));
  return out;
}

std::string joined(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += x;
  return out;
}

std::string joined(const std::vector<asio::const_buffer>& xs) {
  std::string out;
  for (auto& x : xs)
    out.append(static_cast<const char*>(x.data()), x.size());
  return out;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(write_now_tests, fixture)

CAF_TEST(what the socket takes at once is written and the buffers emptied) {
  auto xs = pieces(3, 100);
  auto bufs = buffers_of(xs);
  boost::system::error_code ec;
  CAF_CHECK(write_now(out, bufs, ec));
  CAF_CHECK(!ec);
  CAF_CHECK(bufs.empty());
  CAF_CHECK_EQUAL(receive(300), joined(xs));
}

CAF_TEST(a full socket keeps exactly the unwritten rest) {
  // 64 buffers of 16 KB: far more than the small socket buffers hold.
  auto xs = pieces(64, 16384);
  auto bufs = buffers_of(xs);
  boost::system::error_code ec;
  CAF_REQUIRE(!write_now(out, bufs, ec));
  CAF_CHECK(!ec); // a full socket is no error
  CAF_REQUIRE(!bufs.empty());
  auto all = joined(xs);
  auto rest = joined(bufs);
  CAF_REQUIRE(rest.size() < all.size());
  auto sent = all.size() - rest.size();
  // The rest starts where the written part ended, in the middle of a
  // buffer or not.
  CAF_CHECK_EQUAL(rest, all.substr(sent));
  CAF_CHECK_EQUAL(receive(sent), all.substr(0, sent));
  // Once read, the socket takes more; what it takes is the rest's start.
  auto before = rest.size();
  while (!bufs.empty()) {
    auto n = joined(bufs).size();
    write_now(out, bufs, ec);
    CAF_REQUIRE(!ec);
    auto wrote = n - joined(bufs).size();
    CAF_CHECK_EQUAL(receive(wrote), rest.substr(before - n, wrote));
  }
}

CAF_TEST(a closed peer is an error) {
  in.close();
  auto xs = pieces(64, 16384);
  boost::system::error_code ec;
  // The first write may still go into the buffer; the reset shows after.
  for (int i = 0; i < 50 && !ec; ++i) {
    auto bufs = buffers_of(xs);
    write_now(out, bufs, ec);
  }
  CAF_CHECK(ec);
}

CAF_TEST_FIXTURE_SCOPE_END()

#define CAF_SUITE uuid
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "actors/uuid.hpp"

using namespace parley;

namespace {

bool well_formed(const std::string& x, char version) {
  if (x.size() != 36 || x[8] != '-' || x[13] != '-' || x[18] != '-'
      || x[23] != '-')
    return false;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (x[i] != '-'
        && std::string{"0123456789abcdef"}.find(x[i]) == std::string::npos)
      return false;
  // The version nibble, and the variant: 10xx.
  return x[14] == version
         && std::string{"89ab"}.find(x[19]) != std::string::npos;
}

} // namespace

CAF_TEST(random ids are version 4 and differ) {
  auto a = make_uuid();
  auto b = make_uuid();
  CAF_CHECK(well_formed(a, '4'));
  CAF_CHECK(well_formed(b, '4'));
  CAF_CHECK_NOT_EQUAL(a, b);
}

CAF_TEST(message ids are version 7 and sort by creation time) {
  std::set<std::string> seen;
  std::string last;
  for (int round = 0; round < 3; ++round) {
    // Within one millisecond the order is random; across them it holds.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    auto x = make_ordered_uuid();
    CAF_CHECK(well_formed(x, '7'));
    CAF_CHECK_LESS(last, x);
    last = x;
    seen.insert(x);
  }
  for (int i = 0; i < 1000; ++i)
    seen.insert(make_ordered_uuid());
  CAF_CHECK_EQUAL(seen.size(), 1003u);
}

CAF_TEST(message ids start with the time in milliseconds) {
  auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  auto x = make_ordered_uuid();
  auto hex = x.substr(0, 8) + x.substr(9, 4);
  auto ms = static_cast<long long>(std::stoull(hex, nullptr, 16));
  CAF_CHECK_GREATER_OR_EQUAL(ms, before);
  CAF_CHECK_LESS(ms - before, 1000);
}

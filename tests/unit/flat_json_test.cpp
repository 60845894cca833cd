// The quick reader of flat JSON objects (net/flat_json.hpp): whatever it
// accepts, nlohmann reads the same way; what it leaves to nlohmann includes
// everything it cannot read exactly.
#define CAF_SUITE flat_json
#include <caf/test/unit_test.hpp>

#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/flat_json.hpp"

using parley::net::scan_flat_object;

namespace {

using members = std::map<std::string, std::string>; // the last value counts

// The quick reader's members, or nothing when it declines.
bool scan(std::string_view text, members& out) {
  out.clear();
  return scan_flat_object(text, [&out](std::string_view k, std::string_view v) {
    out[std::string{k}] = std::string{v};
  });
}

// nlohmann's reading, when the text is an object of strings only.
bool oracle(std::string_view text, members& out) {
  out.clear();
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return false;
  for (auto& [k, v] : doc.items()) {
    if (!v.is_string())
      return false;
    out[k] = v.get<std::string>();
  }
  return true;
}

const char* const seeds[] = {
    R"({"type":"chat_message","message":"hello there","session_id":)"
    R"("550e8400-e29b-41d4-a716-446655440000","visitor_id":"v-1"})",
    R"({"type":"ping"})",
    " { \"a\" : \"b\" ,\n\t\"c\":\"d\" } \r\n",
    R"({"type":"chat_message","message":"caf\u00e9 \"q\"","x":[1,{"y":null}]})",
    "{\"message\":\"h\xc3\xa9llo \xf0\x9f\x98\x80\",\"type\":\"chat_message\"}",
    R"({"a":"1","a":"2","n":-1.5e3,"t":true,"f":false})",
    "{}",
};

} // namespace

CAF_TEST(a flat object of plain strings is read as nlohmann reads it) {
  members got;
  members want;
  CAF_REQUIRE(scan(seeds[0], got));
  CAF_REQUIRE(oracle(seeds[0], want));
  CAF_CHECK(got == want);
  CAF_CHECK_EQUAL(got["message"], "hello there");
  CAF_REQUIRE(scan(seeds[2], got));
  CAF_CHECK(got == (members{{"a", "b"}, {"c", "d"}}));
  CAF_REQUIRE(scan(seeds[4], got)); // well-formed UTF-8 is plain text
  CAF_CHECK_EQUAL(got["message"], "h\xc3\xa9llo \xf0\x9f\x98\x80");
  CAF_REQUIRE(scan(R"({"k":"1","k":"2"})", got)); // a repeated key: the last
  CAF_CHECK_EQUAL(got["k"], "2");
  CAF_CHECK(scan("{}", got) && got.empty());
}

CAF_TEST(what it cannot read exactly is left to the full parser) {
  members got;
  for (const char* text : {
           R"({"m":"a\"b"})",           // an escape
           R"({"m":"\u00e9"})",         // a \u escape
           R"({"m":1})",                // not a string
           R"({"m":{"n":"o"}})",        // nested
           R"({"m":"a",})",             // a trailing comma
           R"({"m":"a"} x)",            // trailing text
           R"({"m":"a")",               // unclosed
           R"(["m","a"])",              // not an object
           "{\"m\":\"a\tb\"}",          // a raw control character
           "{\"m\":\"\xc3\"}",          // truncated UTF-8
           "{\"m\":\"\xed\xa0\x80\"}",  // an encoded surrogate
           "{\"m\":\"\xc0\xaf\"}",      // an overlong form
           "\xef\xbb\xbf{\"m\":\"a\"}", // a byte order mark
           "",
       })
    CAF_CHECK(!scan(text, got));
}

CAF_TEST(mutated frames never read differently from nlohmann) {
  // Every accepted text must be what nlohmann reads as the same members;
  // 200,000 mutations of the seeds (bytes replaced, inserted, removed,
  // from JSON's punctuation, letters and UTF-8 fragments).
  const std::string alphabet = "{}[]:,\" \t\n\\u0aZ-.e+"
                               "\x80\xbf\xc2\xc3\xe0\xed\xf0\xf4\xf5\xff";
  std::mt19937 rng{20261203};
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>{0, n - 1}(rng);
  };
  int accepted = 0;
  int mismatches = 0;
  for (int round = 0; round < 200000; ++round) {
    std::string text = seeds[pick(std::size(seeds))];
    for (auto edits = 1 + pick(4); edits > 0; --edits) {
      auto at = text.empty() ? 0 : pick(text.size() + 1);
      auto c = alphabet[pick(alphabet.size())];
      switch (pick(3)) {
      case 0:
        if (at < text.size())
          text[at] = c;
        break;
      case 1:
        text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
        break;
      default:
        if (at < text.size())
          text.erase(at, 1);
      }
    }
    members got;
    members want;
    if (!scan(text, got))
      continue;
    ++accepted;
    if (!oracle(text, want) || got != want) {
      ++mismatches;
      CAF_MESSAGE("read differently: " << nlohmann::json(text).dump(
                      -1, ' ', true, nlohmann::json::error_handler_t::replace));
    }
  }
  CAF_CHECK_EQUAL(mismatches, 0);
  CAF_CHECK_GREATER(accepted, 1000); // the quick path was exercised
}

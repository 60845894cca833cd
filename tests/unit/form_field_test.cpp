#define CAF_SUITE form_field
#include <caf/test/unit_test.hpp>

#include <random>
#include <string>

#include "net/form_field.hpp"
#include "net/sse_dialect.hpp"

using parley::net::form_field;

CAF_TEST(multipart fields are found by name and files are skipped) {
  std::string body = "--XyZ\r\n"
                     "Content-Disposition: form-data; name=\"file\"; "
                     "filename=\"message\"\r\n\r\nnot this\r\n"
                     "--XyZ\r\n"
                     "Content-Disposition: form-data; name=\"message\"\r\n"
                     "Content-Type: text/plain\r\n\r\n"
                     "Hello\r\nsecond line\r\n"
                     "--XyZ--\r\n";
  CAF_CHECK_EQUAL(
      form_field("multipart/form-data; boundary=XyZ", body, "message"),
      std::string{"Hello\r\nsecond line"});
  CAF_CHECK_EQUAL(
      form_field("multipart/form-data; boundary=\"XyZ\"", body, "message"),
      std::string{"Hello\r\nsecond line"});
  CAF_CHECK(!form_field("multipart/form-data; boundary=XyZ", body, "other"));
  CAF_CHECK(!form_field("multipart/form-data", body, "message"));
}

CAF_TEST(urlencoded and json bodies) {
  CAF_CHECK_EQUAL(form_field("application/x-www-form-urlencoded",
                             "a=1&message=Hi+there%21", "message"),
                  std::string{"Hi there!"});
  CAF_CHECK_EQUAL(form_field("application/json; charset=utf-8",
                             R"({"message":"caf\u00e9"})", "message"),
                  std::string{"caf\xc3\xa9"});
  CAF_CHECK(!form_field("application/json", R"({"message":42})", "message"));
  CAF_CHECK(!form_field("application/json", "[1]", "message"));
  CAF_CHECK(!form_field("text/plain", "message=x", "message"));
}

CAF_TEST(hostile bodies never crash) {
  std::mt19937 gen{7};
  std::uniform_int_distribution<int> byte{0, 255};
  const std::string seeds[] = {"--b\r\nContent-Disposition: form-data; "
                               "name=\"message\"\r\n\r\nx\r\n--b--",
                               "message=%zz%4", R"({"message":"x"})"};
  const char* types[]
      = {"multipart/form-data; boundary=b", "application/x-www-form-urlencoded",
         "application/json"};
  for (int round = 0; round < 3000; ++round) {
    auto body = seeds[round % 3];
    for (int i = 0; i < 4; ++i)
      body[static_cast<std::size_t>(byte(gen)) % body.size()]
          = static_cast<char>(byte(gen));
    auto x = form_field(types[round % 3], body, "message");
    CAF_CHECK(!x || x->size() <= body.size());
  }
}

CAF_TEST(sse frames as the contract fixes them) {
  parley::event ev;
  ev.kind = parley::event_kind::chunk;
  ev.response_id = "r";
  ev.seq = 3;
  ev.text = "a \"quote\"\nline";
  auto chunk = parley::net::encode_sse(ev);
  CAF_CHECK_EQUAL(*chunk, "id: r:3\nevent: message\ndata: "
                          "{\"type\":\"content\",\"content\":"
                          "\"a \\\"quote\\\"\\nline\"}\n\n");
  CAF_CHECK(!parley::net::sse_final(*chunk));
  ev.kind = parley::event_kind::complete;
  ev.sources.push_back({"k1", "Title", "Snippet"});
  auto done = parley::net::encode_sse(ev);
  CAF_CHECK_EQUAL(*done, "id: r:4\nevent: sources\ndata: {\"type\":\"sources\","
                         "\"sources\":[{\"id\":\"k1\",\"title\":\"Title\","
                         "\"content\":\"Snippet\"}]}\n\n"
                         "id: r:5\nevent: end\ndata: {\"type\":\"end\"}\n\n");
  CAF_CHECK(parley::net::sse_final(*done));
  ev.kind = parley::event_kind::idle_warning;
  CAF_CHECK(parley::net::encode_sse(ev) == nullptr);
}

#include "auth/fetch.hpp"

#include <fstream>
#include <memory>
#include <mutex>
#include <string_view>

#include <curl/curl.h>

namespace parley::auth {

namespace {

bool starts_with(std::string_view x, std::string_view prefix) {
  return x.substr(0, prefix.size()) == prefix;
}

fetch_result failure(const std::string& url, const std::string& why) {
  return {{}, "cannot fetch " + redact_url(url) + ": " + why};
}

fetch_result read_file(const std::string& url, const fetch_limits& limits) {
  std::string_view rest{url};
  rest.remove_prefix(std::string_view{"file://"}.size());
  if (starts_with(rest, "localhost/"))
    rest.remove_prefix(std::string_view{"localhost"}.size());
  if (!starts_with(rest, "/"))
    return failure(url, "a file URL needs an absolute path (file:///path)");
  std::ifstream in{std::string{rest}, std::ios::binary};
  if (!in)
    return failure(url, "cannot open the file");
  std::string body;
  char buf[4096];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    body.append(buf, static_cast<std::size_t>(in.gcount()));
    if (body.size() > limits.max_bytes)
      return failure(url, "larger than " + std::to_string(limits.max_bytes)
                              + " bytes");
  }
  if (in.bad())
    return failure(url, "read error");
  return {std::move(body), {}};
}

struct curl_free {
  void operator()(CURL* x) const {
    curl_easy_cleanup(x);
  }
};

struct sink {
  std::string body;
  std::size_t max_bytes;
  bool too_large = false;
};

extern "C" std::size_t on_data(char* data, std::size_t size, std::size_t count,
                               void* user) {
  auto& out = *static_cast<sink*>(user);
  auto n = size * count;
  if (out.body.size() + n > out.max_bytes) {
    out.too_large = true;
    return 0; // makes curl abort with CURLE_WRITE_ERROR
  }
  out.body.append(data, n);
  return n;
}

fetch_result read_http(const std::string& url, const fetch_limits& limits) {
  // curl_global_init is not thread-safe; several authenticators may start
  // at once in tests.
  static std::once_flag global_init;
  std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, curl_free> curl{curl_easy_init()};
  if (!curl)
    return failure(url, "curl_easy_init failed");
  sink out{{}, limits.max_bytes};
  char error[CURL_ERROR_SIZE] = {};
  auto h = curl.get();
  auto ms = static_cast<long>(limits.timeout.count());
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 3L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ms);
  // Signals and multithreading do not mix (timeouts would use SIGALRM).
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "parley-jwks/1");
  auto rc = curl_easy_perform(h);
  if (out.too_large)
    return failure(url, "larger than " + std::to_string(limits.max_bytes)
                            + " bytes");
  if (rc != CURLE_OK)
    return failure(url, error[0] != '\0' ? error : curl_easy_strerror(rc));
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200)
    return failure(url, "HTTP status " + std::to_string(status));
  return {std::move(out.body), {}};
}

} // namespace

std::string redact_url(const std::string& url) {
  auto begin = url.find("://");
  if (begin == std::string::npos)
    return url;
  begin += 3;
  auto end = url.find_first_of("/?#", begin);
  auto at = url.rfind('@', end == std::string::npos ? url.size() - 1 : end);
  if (at == std::string::npos || at < begin)
    return url;
  return url.substr(0, begin) + "***@" + url.substr(at + 1);
}

fetch_result fetch_document(const std::string& url,
                            const fetch_limits& limits) {
  if (starts_with(url, "file://"))
    return read_file(url, limits);
  if (starts_with(url, "http://") || starts_with(url, "https://"))
    return read_http(url, limits);
  return failure(url, "only file://, http:// and https:// are supported");
}

} // namespace parley::auth

#include "bench/client.hpp"

#include <cmath>
#include <limits>

#include <boost/asio/ip/address_v4.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/error.hpp>
#include <nlohmann/json.hpp>

namespace parley::bench {

namespace {

constexpr auto io_timeout = std::chrono::seconds(10);

tcp::endpoint loopback(unsigned short port) {
  // Every connection goes to 127.0.0.1: the benchmark never leaves the box.
  return {asio::ip::address_v4::loopback(), port};
}

} // namespace

// -- worker -------------------------------------------------------------------

worker::worker(int index, int connect_limit, int rest_clients,
               const client_config& cfg)
    : index(index), cfg(cfg), guard(asio::make_work_guard(ioc)),
      connect_limit(connect_limit) {
  for (int i = 0; i < rest_clients; ++i)
    rest.push_back(std::make_unique<rest_client>(*this));
}

worker::~worker() {
  // Connections first: their sockets belong to ioc.
  waiting.clear();
  clients.clear();
  rest.clear();
}

void worker::admit(std::function<void()> fn) {
  if (connecting < connect_limit) {
    ++connecting;
    fn();
  } else {
    waiting.push_back(std::move(fn));
  }
}

void worker::release_slot() {
  --connecting;
  while (connecting < connect_limit && !waiting.empty()) {
    auto fn = std::move(waiting.front());
    waiting.pop_front();
    ++connecting;
    fn();
  }
}

rest_client& worker::pick_rest() {
  auto& r = *rest[next_rest];
  next_rest = (next_rest + 1) % rest.size();
  return r;
}

void worker::close_rest() {
  for (auto& r : rest)
    r->close();
}

// -- rest_client --------------------------------------------------------------

rest_client::rest_client(worker& w) : w_(w), stream_(w.ioc.get_executor()) {
  req_.method(http::verb::post);
  req_.target("/api/chats/sessions/");
  req_.version(11);
  req_.set(http::field::host, "127.0.0.1:" + std::to_string(w.cfg.port));
  req_.set(http::field::content_type, "application/json");
  req_.set(http::field::user_agent, "parley_loadgen");
  req_.keep_alive(true);
  req_.body() = "{}";
  req_.prepare_payload();
}

void rest_client::create_session(callback cb) {
  queue_.push_back(std::move(cb));
  if (!busy_)
    next();
}

void rest_client::close() {
  if (busy_ || !open_)
    return;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.close();
  open_ = false;
}

void rest_client::next() {
  if (queue_.empty()) {
    busy_ = false;
    return;
  }
  busy_ = true;
  if (open_)
    send();
  else
    connect();
}

void rest_client::connect() {
  stream_.expires_after(io_timeout);
  stream_.async_connect(loopback(w_.cfg.port), [this](beast::error_code ec) {
    if (ec)
      return retry_or_fail(ec, "session connect");
    beast::error_code ignored;
    stream_.socket().set_option(tcp::no_delay(true), ignored);
    open_ = true;
    used_ = 0;
    send();
  });
}

void rest_client::send() {
  stream_.expires_after(io_timeout);
  http::async_write(stream_, req_, [this](beast::error_code ec, std::size_t) {
    if (ec)
      return retry_or_fail(ec, "session write");
    res_ = {};
    http::async_read(
        stream_, buffer_, res_,
        [this](beast::error_code ec, std::size_t) { on_read(ec); });
  });
}

void rest_client::on_read(beast::error_code ec) {
  if (ec)
    return retry_or_fail(ec, "session read");
  stream_.expires_never();
  ++used_;
  retried_ = false;
  if (!res_.keep_alive()) {
    stream_.close();
    open_ = false;
  }
  auto status = res_.result_int();
  if (status != 200 && status != 201) {
    w_.error("session: HTTP " + std::to_string(status));
    return deliver(false, {}, {});
  }
  auto body = nlohmann::json::parse(res_.body(), nullptr, false);
  if (!body.is_object() || !body.contains("session_id")
      || !body["session_id"].is_string() || !body.contains("visitor_id")
      || !body["visitor_id"].is_string()) {
    w_.error("session: response without session_id/visitor_id");
    return deliver(false, {}, {});
  }
  deliver(true, body["session_id"].get<std::string>(),
          body["visitor_id"].get<std::string>());
}

void rest_client::retry_or_fail(beast::error_code ec, const char* what) {
  stream_.close();
  open_ = false;
  // A keep-alive connection the server has timed out fails on first use;
  // that is no error, a fresh connection is.
  if (used_ > 0 && !retried_) {
    retried_ = true;
    return connect();
  }
  retried_ = false;
  w_.error(std::string(what) + ": " + ec.message());
  deliver(false, {}, {});
}

void rest_client::deliver(bool ok, std::string sid, std::string vid) {
  auto cb = std::move(queue_.front());
  queue_.pop_front();
  cb(ok, std::move(sid), std::move(vid));
  next();
}

// -- ws_client ----------------------------------------------------------------

ws_client::ws_client(worker& w, scenario_hooks& sc, int id)
    : w(w), sc(sc), id(id), ws_(w.ioc.get_executor()),
      timer_(w.ioc.get_executor()) {
  // nop
}

void ws_client::take_slot() {
  has_slot_ = true;
}

void ws_client::give_slot() {
  if (has_slot_) {
    has_slot_ = false;
    w.release_slot();
  }
}

void ws_client::start() {
  started_at = steady::now();
  w.admit([self = shared_from_this()] {
    self->take_slot();
    if (self->ended)
      return self->give_slot();
    if (!self->session_id.empty())
      return self->do_connect();
    self->w.pick_rest().create_session(
        [self](bool ok, std::string sid, std::string vid) {
          self->on_session(ok, std::move(sid), std::move(vid));
        });
  });
}

void ws_client::on_session(bool ok, std::string sid, std::string vid) {
  if (ended)
    return;
  if (!ok)
    return end(false); // the rest client has recorded why
  session_id = std::move(sid);
  visitor_id = std::move(vid);
  do_connect();
}

void ws_client::do_connect() {
  auto& stream = beast::get_lowest_layer(ws_);
  stream.expires_after(io_timeout);
  stream.async_connect(loopback(w.cfg.port),
                       [self = shared_from_this()](beast::error_code ec) {
                         self->on_connect(ec);
                       });
}

void ws_client::on_connect(beast::error_code ec) {
  if (ended)
    return;
  if (ec)
    return fail("connect: " + ec.message());
  auto& stream = beast::get_lowest_layer(ws_);
  beast::error_code ignored;
  stream.socket().set_option(tcp::no_delay(true), ignored);
  // The websocket stream keeps its own time from here on; idle sockets are
  // the point of several scenarios, so no idle timeout and no pings.
  stream.expires_never();
  websocket::stream_base::timeout t{};
  t.handshake_timeout = io_timeout;
  t.idle_timeout = websocket::stream_base::none();
  t.keep_alive_pings = false;
  ws_.set_option(t);
  ws_.read_message_max(1 << 20);
  ws_.auto_fragment(false);
  ws_.text(true);
  std::string target = "/ws/chat/";
  if (join)
    target += "?session_id=" + session_id + "&visitor_id=" + visitor_id;
  ws_.async_handshake("127.0.0.1:" + std::to_string(w.cfg.port), target,
                      [self = shared_from_this()](beast::error_code ec) {
                        self->on_handshake(ec);
                      });
}

void ws_client::on_handshake(beast::error_code ec) {
  if (ended)
    return;
  if (ec)
    return fail("handshake: " + ec.message());
  do_read();
}

void ws_client::do_read() {
  ws_.async_read(
      buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        self->on_read(ec);
      });
}

void ws_client::on_read(beast::error_code ec) {
  if (ended)
    return;
  if (ec) {
    if (closing_)
      return end(true);
    if (ec == websocket::error::closed)
      return fail("closed by server: code " + std::to_string(ws_.reason().code)
                  + " " + std::string(ws_.reason().reason.c_str()));
    return fail("read: " + ec.message());
  }
  auto now = steady::now();
  auto data = buffer_.data();
  on_frame({static_cast<const char*>(data.data()), data.size()}, now);
  buffer_.consume(buffer_.size());
  if (!ended)
    do_read();
}

void ws_client::on_frame(std::string_view text, time_point now) {
  ++w.frames;
  auto kind = classify(text);
  if (w.cfg.verify)
    verify(kind, text);
  if (!ready) {
    if (kind != frame_kind::connected)
      return fail(std::string("first frame was ") + to_string(kind)
                  + ", not connected");
    ready = true;
    give_slot();
    return sc.on_ready(*this);
  }
  switch (kind) {
  case frame_kind::chunk:
    if (chunk_index == 0) {
      first_chunk_at = now;
      prev_chunk_at = now;
      if (awaiting)
        w.ttfc_ms.push_back(ms_between(sent_at, now));
    }
    ++w.chunks;
    sc.on_chunk(*this, chunk_index, now);
    prev_chunk_at = now;
    ++chunk_index;
    return;
  case frame_kind::complete:
    ++w.replies;
    if (w.cfg.words > 0 && chunk_index != w.cfg.words)
      w.error("reply of " + std::to_string(chunk_index) + " chunks, expected "
              + std::to_string(w.cfg.words));
    awaiting = false;
    chunk_index = 0;
    ++replies_done;
    return sc.on_complete(*this, now);
  case frame_kind::error:
    w.error("error frame: " + error_text(text));
    // A reply that was asked for will not come: this connection is lost
    // to the scenario.
    if (awaiting)
      return end(false);
    return;
  default:
    return sc.on_frame(*this, kind, now);
  }
}

void ws_client::verify(frame_kind kind, std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return w.error("verify: frame is not a JSON object");
  auto type = j.value("type", std::string());
  if (kind != frame_kind::other && type != to_string(kind))
    return w.error("verify: type misread");
  auto message_id = j.value("message_id", std::string());
  if (kind == frame_kind::chunk) {
    if (!j.contains("chunk") || !j["chunk"].is_string())
      return w.error("verify: chunk frame without a chunk string");
    if (chunk_index == 0)
      message_id_ = message_id;
    else if (message_id != message_id_)
      w.error("verify: message_id changed within a reply");
    text_ += j["chunk"].get<std::string>();
  } else if (kind == frame_kind::complete) {
    // The peer's complete frames carry no text; parley's must equal the
    // chunks joined in order (CONTRACT.md).
    if (j.contains("message")
        && (!j["message"].is_string() || j["message"] != text_))
      w.error("verify: complete.message differs from the joined chunks");
    if (!message_id.empty() && !message_id_.empty()
        && message_id != message_id_)
      w.error("verify: complete.message_id differs from the chunks'");
    if (w.cfg.strict && (!j.contains("done") || !j.contains("complete")))
      w.error("verify: complete frame without done/complete");
    text_.clear();
    message_id_.clear();
  }
}

void ws_client::send_chat() {
  if (ended || closing_)
    return;
  std::string msg;
  msg.reserve(96 + w.cfg.message_json.size());
  msg += R"({"type":"chat_message","message":)";
  msg += w.cfg.message_json;
  msg += R"(,"session_id":")";
  msg += session_id;
  msg += R"(","visitor_id":")";
  msg += visitor_id;
  msg += R"("})";
  out_.push_back(std::move(msg));
  sent_at = steady::now();
  awaiting = true;
  chunk_index = 0;
  do_write();
}

void ws_client::send_chat_at(time_point when) {
  if (when <= steady::now())
    return send_chat();
  timer_.expires_at(when);
  timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec)
      self->send_chat();
  });
}

void ws_client::do_write() {
  if (writing_ || out_.empty())
    return;
  writing_ = true;
  ws_.async_write(
      asio::buffer(out_.front()),
      [self = shared_from_this()](beast::error_code ec, std::size_t) {
        self->writing_ = false;
        self->out_.pop_front();
        if (self->ended)
          return;
        if (ec)
          return self->fail("write: " + ec.message());
        if (self->close_after_write_ && self->out_.empty())
          return self->do_close();
        self->do_write();
      });
}

void ws_client::close() {
  if (ended || closing_)
    return;
  closing_ = true;
  timer_.cancel();
  if (!ready)
    return end(true);
  if (writing_ || !out_.empty()) {
    close_after_write_ = true;
    return;
  }
  do_close();
}

void ws_client::do_close() {
  ws_.async_close(websocket::close_code::normal,
                  [self = shared_from_this()](beast::error_code ec) {
                    // The pending read ends with the server's close frame
                    // and calls end(true); only a failure matters here.
                    if (ec && !self->ended && ec != websocket::error::closed)
                      self->fail("close: " + ec.message());
                  });
}

void ws_client::fail(const std::string& what) {
  if (ended)
    return;
  w.error(what);
  end(false);
}

void ws_client::end(bool clean) {
  if (ended)
    return;
  ended = true;
  awaiting = false;
  give_slot();
  timer_.cancel();
  if (!clean) {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
  }
  sc.on_end(*this, clean);
}

} // namespace parley::bench

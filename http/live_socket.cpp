#include "http/live_socket.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "http/thread_class.hpp"

namespace voxlog {

std::string websocket_frame(std::uint8_t opcode, std::string_view payload) {
  std::string frame;
  frame.reserve(payload.size() + 10);
  frame.push_back(static_cast<char>(0x80 | opcode));  // FIN: voxlog never fragments
  std::uint64_t n = payload.size();
  if (n < 126) {
    frame.push_back(static_cast<char>(n));
  } else if (n <= 0xFFFF) {
    frame.push_back(static_cast<char>(126));
    frame.push_back(static_cast<char>(n >> 8));
    frame.push_back(static_cast<char>(n & 0xFF));
  } else {
    frame.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8) frame.push_back(static_cast<char>((n >> shift) & 0xFF));
  }
  frame.append(payload);
  return frame;
}

// ---- LiveLoops ----

LiveLoops::LiveLoops(std::size_t threads) {
  for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i) {
    loops_.push_back(std::make_unique<Loop>());
    guards_.push_back(asio::make_work_guard(loops_.back()->context));
  }
  for (auto& loop : loops_) {
    threads_.emplace_back([c = &loop->context] {
      pthread_setname_np(pthread_self(), "voxlog.live");
      // Webhooks first: when the cores are contended, the threads that answer Twilio (the HTTP io thread,
      // the actors, the log) win over the fan-out, which only delays what dashboards see a little.
      become_fan_out_thread();
      c->run();
    });
  }
}

LiveLoops::~LiveLoops() {
  stop(std::chrono::milliseconds(0));
}

LiveLoops::Loop& LiveLoops::next() {
  return *loops_[next_.fetch_add(1, std::memory_order_relaxed) % loops_.size()];
}

void LiveLoops::schedule_write(Loop& loop, std::shared_ptr<LiveSocket> socket) {
  bool first;
  {
    std::lock_guard<std::mutex> lock(loop.mutex);
    first = loop.dirty.empty();
    loop.dirty.push_back(std::move(socket));
  }
  if (!first) return;  // the loop is woken already, and takes this one too
  asio::post(loop.context, [&loop] {
    std::vector<std::shared_ptr<LiveSocket>> due;
    {
      std::lock_guard<std::mutex> lock(loop.mutex);
      due.swap(loop.dirty);
    }
    for (auto& socket : due) socket->write_more();
  });
}

std::size_t LiveLoops::open() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sockets_.size();
}

void LiveLoops::track(const std::shared_ptr<LiveSocket>& socket) {
  std::lock_guard<std::mutex> lock(mutex_);
  sockets_.emplace(socket.get(), socket);
}

void LiveLoops::untrack(const LiveSocket* socket) {
  std::lock_guard<std::mutex> lock(mutex_);
  sockets_.erase(socket);
}

void LiveLoops::stop(std::chrono::milliseconds flush) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  auto snapshot = [this] {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::shared_ptr<LiveSocket>> out;
    for (auto& [raw, weak] : sockets_)
      if (auto socket = weak.lock()) out.push_back(std::move(socket));
    return out;
  };
  auto deadline = std::chrono::steady_clock::now() + flush;
  while (std::chrono::steady_clock::now() < deadline) {
    auto open = snapshot();
    if (std::all_of(open.begin(), open.end(), [](const auto& s) { return s->written(); })) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& socket : snapshot()) socket->kill();
  // The kills were posted first: each loop runs them, then stops (what they abort is destroyed unrun).
  for (auto& loop : loops_) asio::post(loop->context, [c = &loop->context] { c->stop(); });
  guards_.clear();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

// ---- LiveSocket ----

LiveSocket::LiveSocket(LiveLoops& loops, LiveLoops::Loop& loop, Limits limits,
                       std::shared_ptr<void> keepalive)
    : loops_(loops),
      loop_(loop),
      context_(loop.context),
      socket_(loop.context),
      close_timer_(loop.context),
      limits_(limits),
      keepalive_(std::move(keepalive)) {}

LiveSocket::~LiveSocket() = default;

std::shared_ptr<LiveSocket> LiveSocket::adopt(LiveLoops& loops, asio::ip::tcp protocol, int fd, Limits limits,
                                              std::shared_ptr<void> keepalive) {
  auto socket = std::make_shared<LiveSocket>(loops, loops.next(), limits, std::move(keepalive));
  asio::error_code ec;
  socket->socket_.assign(protocol, fd, ec);
  if (ec) {
    ::close(fd);
    return nullptr;
  }
  socket->socket_.non_blocking(true, ec);
  if (ec) return nullptr;    // the socket owns the descriptor now, and closes it
  asio::error_code ignored;  // the kernel's default buffer is no reason to refuse a subscriber
  socket->socket_.set_option(asio::socket_base::send_buffer_size(kSendBuffer), ignored);
  loops.track(socket);
  return socket;
}

void LiveSocket::start(std::string handshake, OnText on_text, OnClosed on_closed) {
  on_text_ = std::move(on_text);
  on_closed_ = std::move(on_closed);
  std::lock_guard<std::mutex> lock(mutex_);
  // Frames queued before start() (a Socket.IO open packet) follow the 101.
  queue_.emplace_front(std::make_shared<const std::string>(std::move(handshake)), false);
  started_ = true;
  kick_locked();
  asio::post(context_, [self = shared_from_this()] { self->wait_readable(); });
}

bool LiveSocket::send(Frame frame) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closing_ || finished_) return true;  // going away: dropped, and not for being slow
  std::size_t bytes = queued_bytes_.load(std::memory_order_relaxed);
  // A frame larger than the whole limit still goes to a client that has read everything.
  if (bytes > 0 && (bytes + frame->size() > limits_.max_bytes || queued_frames_ >= limits_.max_frames))
    return false;
  enqueue_locked(std::move(frame), true);
  kick_locked();
  return true;
}

bool LiveSocket::send_text(std::string_view text) {
  return send(std::make_shared<const std::string>(websocket_frame(kWsText, text)));
}

void LiveSocket::send_ping() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closing_ || finished_) return;
  enqueue_locked(std::make_shared<const std::string>(websocket_frame(kWsPing, {})), false);
  kick_locked();
}

void LiveSocket::close(std::uint16_t code, std::string_view reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  begin_close_locked(code, reason);
}

void LiveSocket::kill() {
  asio::post(context_, [self = shared_from_this()] { self->finish(); });
}

bool LiveSocket::written() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return finished_ || !write_scheduled_;
}

bool LiveSocket::take_heard() {
  return heard_.exchange(false);
}

void LiveSocket::enqueue_locked(Frame frame, bool counted) {
  if (counted) {
    queued_bytes_.fetch_add(frame->size(), std::memory_order_relaxed);
    ++queued_frames_;
  }
  queue_.emplace_back(std::move(frame), counted);
}

void LiveSocket::kick_locked() {
  if (write_scheduled_ || finished_ || !started_) return;
  write_scheduled_ = true;
  LiveLoops::schedule_write(loop_, shared_from_this());
}

// Everything queued goes in one gathered write; the next batch waits for it to complete.
void LiveSocket::write_more() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_) return;
    if (queue_.empty()) {
      write_scheduled_ = false;
      return;
    }
    writing_.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
    queue_.clear();
  }
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(writing_.size());
  for (auto& [frame, counted] : writing_) buffers.push_back(asio::buffer(*frame));
  asio::async_write(socket_, buffers, [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
    if (ec) return self->finish();
    bool close_written = false;
    {
      std::lock_guard<std::mutex> lock(self->mutex_);
      for (auto& [frame, counted] : self->writing_) {
        if (counted) {
          self->queued_bytes_.fetch_sub(frame->size(), std::memory_order_relaxed);
          --self->queued_frames_;
        }
        if (frame == self->close_frame_) close_written = true;
      }
      self->writing_.clear();
      if (close_written) self->close_written_ = true;
    }
    if (close_written) {
      if (self->read_closed_) return self->finish();
      asio::error_code ignored;
      self->socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);  // the client answers, then EOF
    }
    self->write_more();
  });
}

void LiveSocket::begin_close_locked(std::uint16_t code, std::string_view reason) {
  if (closing_ || finished_) return;
  closing_ = true;
  // What the client has not been handed yet is dropped: the close is the next thing it reads.
  for (auto& [frame, counted] : queue_) {
    if (!counted) continue;
    queued_bytes_.fetch_sub(frame->size(), std::memory_order_relaxed);
    --queued_frames_;
  }
  queue_.clear();
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason.substr(0, 123));  // a control frame's payload is at most 125 bytes
  close_frame_ = std::make_shared<const std::string>(websocket_frame(kWsClose, payload));
  queue_.emplace_back(close_frame_, false);
  kick_locked();
  asio::post(context_, [self = shared_from_this()] {
    self->close_timer_.expires_after(kCloseGrace);
    self->close_timer_.async_wait([self](const asio::error_code& ec) {
      if (!ec) self->finish();
    });
  });
}

void LiveSocket::wait_readable() {
  socket_.async_wait(asio::ip::tcp::socket::wait_read,
                     [self = shared_from_this()](const asio::error_code& ec) {
                       if (ec) return self->finish();
                       self->on_readable();
                     });
}

void LiveSocket::on_readable() {
  // One buffer per loop thread: an idle subscriber holds no read buffer of its own.
  thread_local std::vector<char> chunk(64 << 10);
  for (;;) {
    asio::error_code ec;
    std::size_t n = socket_.read_some(asio::buffer(chunk), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) {  // EOF or an error: the client is gone (or has answered our close)
      read_closed_ = true;
      return finish();
    }
    heard_.store(true, std::memory_order_relaxed);
    input_.append(chunk.data(), n);
    if (!parse_input()) return;
  }
  if (input_.empty()) std::string().swap(input_);
  wait_readable();
}

// Client frames: masked, control frames whole and at most 125 bytes (RFC 6455 5.2, 5.5).
bool LiveSocket::parse_input() {
  std::size_t at = 0;
  auto fail = [this](std::uint16_t code, const char* why) {
    std::lock_guard<std::mutex> lock(mutex_);
    begin_close_locked(code, why);
    input_.clear();
    read_closed_ = true;  // nothing more is read: the close timer or the peer's EOF ends it
    return false;
  };
  while (input_.size() - at >= 2) {
    const auto* p = reinterpret_cast<const unsigned char*>(input_.data() + at);
    std::size_t avail = input_.size() - at;
    bool fin = p[0] & 0x80;
    std::uint8_t opcode = p[0] & 0x0F;
    bool masked = p[1] & 0x80;
    std::uint64_t len = p[1] & 0x7F;
    std::size_t header = 2;
    if (len == 126) {
      if (avail < 4) break;
      len = (std::uint64_t{p[2]} << 8) | p[3];
      header = 4;
    } else if (len == 127) {
      if (avail < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
      header = 10;
    }
    if (!masked) return fail(1002, "client frames must be masked");
    if (len > limits_.max_message) return fail(1009, "message too big");
    if (avail < header + 4 + len) break;
    const unsigned char* mask = p + header;
    std::string payload(reinterpret_cast<const char*>(p + header + 4), static_cast<std::size_t>(len));
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(payload[i] ^ mask[i % 4]);
    at += header + 4 + static_cast<std::size_t>(len);

    if (opcode >= 0x8) {
      if (!fin || len > 125) return fail(1002, "bad control frame");
      if (opcode == kWsClose) {
        std::lock_guard<std::mutex> lock(mutex_);
        read_closed_ = true;
        if (close_written_) {
          input_.clear();
          asio::post(context_, [self = shared_from_this()] { self->finish(); });
          return false;
        }
        std::uint16_t code = payload.size() >= 2
                                 ? static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                                              static_cast<unsigned char>(payload[1]))
                                 : 1000;
        begin_close_locked(code, {});  // echo the client's code; finish() once written
        input_.clear();
        return false;
      }
      if (opcode == kWsPing) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!closing_) {
          enqueue_locked(std::make_shared<const std::string>(websocket_frame(kWsPong, payload)), false);
          kick_locked();
        }
      }
      continue;  // a pong: heard_ is set already
    }
    if (opcode == 0x0 || opcode == kWsText || opcode == 0x2) {
      if (message_.size() + payload.size() > limits_.max_message) return fail(1009, "message too big");
      message_ += payload;
      if (fin) {
        std::string text;
        text.swap(message_);
        if (on_text_) on_text_(*this, text);
      }
      continue;
    }
    return fail(1002, "unknown opcode");
  }
  input_.erase(0, at);
  return true;
}

void LiveSocket::finish() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_) return;
    finished_ = true;
    closing_ = true;
    queue_.clear();
    queued_frames_ = 0;
    queued_bytes_.store(0, std::memory_order_relaxed);
  }
  asio::error_code ignored;
  close_timer_.cancel();
  socket_.close(ignored);
  keepalive_.reset();
  loops_.untrack(this);
  OnClosed closed = std::move(on_closed_);
  on_closed_ = nullptr;
  on_text_ = nullptr;
  std::string().swap(input_);
  std::string().swap(message_);
  if (closed) closed(*this);
}

}  // namespace voxlog

// LiveSocket: the server side of one WebSocket connection of a live subscriber (/ws, Socket.IO over
// WebSocket), on io threads of its own (LiveLoops), apart from the thread that accepts and answers webhooks.
//
// Contract: the HTTP edge hands over an upgraded connection (websocket.hpp take_websocket()); from then on
// the socket belongs to one loop thread. Anyone may queue a frame: send() takes a shared, already encoded
// frame (subscriber.hpp Encoded: one buffer written to every client of a protocol), so a message costs one
// encoding however many clients get it. Unsent frames are bounded by bytes and by count (Limits): past
// either, send() refuses and the caller closes the client as slow. close() drops what was not yet
// written, so the close frame (code and reason) is the next thing the client reads, and the socket is
// released once the close is written and answered, or after kCloseGrace. The loop answers pings, collects
// fragmented text messages (up to Limits::max_message bytes) and hands them to `on_text`; `on_closed`
// runs once, when the connection is gone for whatever reason.
//
// Thread-safety: send(), send_text(), close(), kill(), take_heard() and queued_bytes() from any thread;
// the callbacks run on the socket's loop thread. LiveLoops: construct and stop() from main.
#pragma once

#include <asio.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace voxlog {

// An RFC 6455 server frame (never masked): header and payload, ready to write.
std::string websocket_frame(std::uint8_t opcode, std::string_view payload);
inline constexpr std::uint8_t kWsText = 0x1, kWsClose = 0x8, kWsPing = 0x9, kWsPong = 0xA;

class LiveSocket;

// The io threads of the live connections: each runs one io_context; a socket is confined to one.
class LiveLoops {
 public:
  explicit LiveLoops(std::size_t threads);
  ~LiveLoops();
  LiveLoops(const LiveLoops&) = delete;
  LiveLoops& operator=(const LiveLoops&) = delete;

  // One io thread, and the sockets with something new to write: however many frames are queued across its
  // sockets at once, the loop is woken once for them all.
  struct Loop {
    asio::io_context context{1};
    std::mutex mutex;
    std::vector<std::shared_ptr<LiveSocket>> dirty;
  };

  Loop& next();              // round robin
  std::size_t open() const;  // sockets not yet released
  // Gives the sockets up to `flush` to write what they have queued (close frames, at shutdown), then
  // closes every one and joins the threads. Idempotent.
  void stop(std::chrono::milliseconds flush);

 private:
  friend class LiveSocket;
  void track(const std::shared_ptr<LiveSocket>& socket);
  void untrack(const LiveSocket* socket);
  static void schedule_write(Loop& loop, std::shared_ptr<LiveSocket> socket);

  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> next_{0};
  mutable std::mutex mutex_;
  std::unordered_map<const LiveSocket*, std::weak_ptr<LiveSocket>> sockets_;
  bool stopped_ = false;
};

class LiveSocket : public std::enable_shared_from_this<LiveSocket> {
 public:
  struct Limits {
    std::size_t max_bytes = 1 << 20;    // unsent bytes (a frame's whole size, even when shared)
    std::size_t max_frames = 1024;      // unsent frames
    std::size_t max_message = 1 << 20;  // a message from the client (larger: closed with 1009)
  };
  using Frame = std::shared_ptr<const std::string>;
  using OnText = std::function<void(LiveSocket&, std::string_view)>;
  using OnClosed = std::function<void(LiveSocket&)>;

  // How long a closing socket waits for its close frame to be written and answered: a client that has
  // stopped reading still finds the close code and reason when it reads again within this time.
  static constexpr std::chrono::seconds kCloseGrace{90};
  // The kernel's send buffer of a live socket: what a stalled client can pin in the kernel (the default
  // grows to megabytes), so that the queue limit, not the kernel, decides when it is slow.
  static constexpr int kSendBuffer = 64 << 10;

  // Adopts a connected socket (its native handle) on one of `loops`; `keepalive` is released with it
  // (the HTTP server's connection slot); null (the descriptor closed) if it cannot be used. start() writes
  // `handshake` (the 101 answer) and starts reading.
  static std::shared_ptr<LiveSocket> adopt(LiveLoops& loops, asio::ip::tcp protocol, int fd, Limits limits,
                                           std::shared_ptr<void> keepalive);
  // Frames may be queued before start(); they are written after the handshake.
  void start(std::string handshake, OnText on_text, OnClosed on_closed);

  bool send(Frame frame);  // false (nothing queued) past the limits; dropped when closing
  bool send_text(std::string_view text);
  void send_ping();  // not counted against the limits
  void close(std::uint16_t code, std::string_view reason);
  void kill();        // at once, unsent bytes lost
  bool take_heard();  // a frame came from the client since the previous call
  std::size_t queued_bytes() const { return queued_bytes_.load(std::memory_order_relaxed); }
  bool written() const;  // nothing queued or being written

  LiveSocket(LiveLoops& loops, LiveLoops::Loop& loop, Limits limits, std::shared_ptr<void> keepalive);
  ~LiveSocket();

 private:
  void enqueue_locked(Frame frame, bool counted);
  void kick_locked();
  void write_more();  // loop thread
  void wait_readable();
  void on_readable();
  bool parse_input();  // false: the connection is done
  void begin_close_locked(std::uint16_t code, std::string_view reason);
  void finish();  // loop thread: release everything, run on_closed once

  friend class LiveLoops;
  LiveLoops& loops_;
  LiveLoops::Loop& loop_;
  asio::io_context& context_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer close_timer_;
  const Limits limits_;
  std::shared_ptr<void> keepalive_;
  OnText on_text_;
  OnClosed on_closed_;

  mutable std::mutex mutex_;
  std::deque<std::pair<Frame, bool>> queue_;  // frames not yet handed to the kernel, counted or not
  std::size_t queued_frames_ = 0;
  bool started_ = false;          // the 101 is queued: writing may begin
  bool write_scheduled_ = false;  // a write_more() is posted or a write is under way
  bool closing_ = false;          // close() or a close from the client: nothing more is queued
  bool close_written_ = false;
  Frame close_frame_;  // ours, once closing: its write completes the close
  bool finished_ = false;
  std::atomic<std::size_t> queued_bytes_{0};
  std::atomic<bool> heard_{true};

  // Loop thread only.
  std::vector<std::pair<Frame, bool>> writing_;
  std::string input_;    // bytes of an incomplete frame
  std::string message_;  // a fragmented text message so far
  bool read_closed_ = false;
};

}  // namespace voxlog

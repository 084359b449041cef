// ws_latency: webhook-to-WebSocket latency with many subscribers, against voxlogd or bare_server.
//
//   TWILIO_AUTH_TOKEN=... ws_latency --port P [--subscribers 100] [--rate 100] [--seconds 20]
//       [--warmup 100] [--ws-path /ws] [--post-path /api/calls/webhooks/status] [--url SIGNED_BASE]
//       [--protocol ws|socketio] [--stalled 0] [--server-pid PID]
//
// `--protocol socketio` makes every subscriber a Socket.IO client over Engine.IO's WebSocket transport
// (ws_wire.hpp open_socketio; Engine.IO pings answered), which receives the Node app's events instead.
// `--subscribers 0` measures the webhook answer alone (the baseline of the answer's latency).
// `--stalled N` adds N subscribers that never read (a small receive buffer) until the end; they are then
// read to their end, and the line says how many the server closed with 4000 (stalled_4000) and how many
// it did not close at all (stalled_open). `--server-pid` samples the server's RSS: before the subscribers
// connect, once they are idle (rss_per_subscriber_b: the growth per subscriber), and the most seen during
// the run.
//
// Connects the subscribers to ws-path, then POSTs signed Twilio status callbacks (webhook_form.hpp) at
// a fixed rate, each for a new call whose CallSid carries this run's tag and the webhook's index. For
// every webhook it takes the time just before the POST is written and the time each subscriber has read
// a whole frame containing that CallSid (the first such frame: voxlogd sends WebhookReceived, then
// CallStatusChanged; bare_server echoes the body). It reports, over the webhooks after the warm-up, the
// p50/p99/max of the latency to the LAST subscriber, the p50/p99 of all deliveries pooled, the POST's
// own p50/p99, and deliveries still missing 5 s after the last POST. Sends follow the schedule (open
// loop) over a few keep-alive connections, so a slow answer does not delay the next webhook; they run on a
// thread of their own (webhook_poster.hpp), which times each answer by the kernel's receive timestamp
// (http_*: the server's latency, as Twilio would see it; http_seen_*: when the poster thread read it).
// Subscribers answer the server's pings. The subscribers: one thread, epoll. The process's CPU time is
// printed (client_cpu_*), since it shares the machine's 2 vCPUs.
// The signing token comes from the environment, never from the command line. Prints one line,
// "WSLAT key=value ...", for server_bench.sh.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "tools/bench/webhook_form.hpp"
#include "tools/bench/webhook_poster.hpp"
#include "tools/bench/ws_wire.hpp"

namespace {

using voxlog::bench::Frame;
using voxlog::bench::monotonic_ns;

constexpr int kPostConnections = 8;
constexpr std::int64_t kDrainNs = 5'000'000'000;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Options {
  int port = 0;
  int subscribers = 100;
  double rate = 100;
  double seconds = 20;
  int warmup = 100;
  std::string ws_path = "/ws";
  std::string post_path = "/api/calls/webhooks/status";
  std::string url;  // the base URL the server verifies signatures against (its PUBLIC_URL)
  bool socketio = false;
  int stalled = 0;
  int server_pid = 0;
};

// The resident set of process `pid` in KiB (0 when unknown).
long rss_kb(int pid) {
  if (pid <= 0) return 0;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

bool parse_options(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i], value = argv[i + 1];
    if (key == "--port")
      o.port = std::atoi(value.c_str());
    else if (key == "--subscribers")
      o.subscribers = std::atoi(value.c_str());
    else if (key == "--rate")
      o.rate = std::atof(value.c_str());
    else if (key == "--seconds")
      o.seconds = std::atof(value.c_str());
    else if (key == "--warmup")
      o.warmup = std::atoi(value.c_str());
    else if (key == "--ws-path")
      o.ws_path = value;
    else if (key == "--post-path")
      o.post_path = value;
    else if (key == "--url")
      o.url = value;
    else if (key == "--protocol" && (value == "ws" || value == "socketio"))
      o.socketio = value == "socketio";
    else if (key == "--stalled")
      o.stalled = std::atoi(value.c_str());
    else if (key == "--server-pid")
      o.server_pid = std::atoi(value.c_str());
    else
      return false;
  }
  if (argc % 2 == 0) return false;
  if (o.url.empty()) o.url = "http://127.0.0.1:" + std::to_string(o.port);
  return o.port > 0 && o.subscribers >= 0 && o.stalled >= 0 && o.rate > 0 && o.seconds > 0 && o.warmup >= 0;
}

struct Connection {
  int fd = -1;
  std::string buffer;
};

struct Run {
  Options options;
  std::string marker;  // "CA" + run tag: every CallSid of this run starts with it
  int webhooks = 0;
  std::unique_ptr<voxlog::bench::WebhookPoster> poster;  // Twilio: sends the requests, times the answers
  std::vector<std::int64_t> delivery_ns;  // [webhook * subscribers + subscriber], -1 until received
  std::vector<int> waiting;               // subscribers not reached yet, per webhook
  std::vector<std::int64_t> last_ns;      // latency to the last subscriber, per webhook
  std::vector<Connection> subscribers, stalled;
  long stray_frames = 0, disconnected = 0;
  int epoll_fd = -1;
  std::string failure;
};

void prepare_requests(Run& run, const std::string& token, const std::string& tag) {
  const Options& o = run.options;
  run.webhooks = o.warmup + static_cast<int>(std::lround(o.rate * o.seconds));
  std::vector<std::string> requests;
  for (int i = 0; i < run.webhooks; ++i) {
    auto params = voxlog::bench::status_callback(voxlog::bench::bench_call_sid(tag, i), i % 4, i);
    auto form = voxlog::bench::signed_status_callback(token, o.url + o.post_path, params);
    requests.push_back("POST " + o.post_path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(o.port) +
                       "\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"
                       "X-Twilio-Signature: " +
                       form.signature + "\r\nContent-Length: " + std::to_string(form.body.size()) +
                       "\r\n\r\n" + form.body);
  }
  run.poster = std::make_unique<voxlog::bench::WebhookPoster>(
      o.port, std::move(requests), static_cast<std::int64_t>(1e9 / o.rate), kPostConnections);
  std::size_t n = static_cast<std::size_t>(run.webhooks);
  run.delivery_ns.assign(n * static_cast<std::size_t>(o.subscribers), -1);
  run.waiting.assign(n, o.subscribers);
  run.last_ns.assign(n, -1);
}

// The webhook index carried by the first CallSid of this run in `payload`, or -1.
long webhook_in(const Run& run, std::string_view payload) {
  std::size_t at = payload.find(run.marker);
  if (at == std::string_view::npos || at + run.marker.size() + 16 > payload.size()) return -1;
  std::string digits(payload.substr(at + run.marker.size(), 16));
  char* end = nullptr;
  long index = std::strtol(digits.c_str(), &end, 16);
  return *end == '\0' && index < run.webhooks ? index : -1;
}

// Reads what is there; false when the peer closed or failed.
bool read_available(Connection& c) {
  char chunk[65536];
  for (;;) {
    ssize_t n = ::read(c.fd, chunk, sizeof chunk);
    if (n > 0) {
      c.buffer.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

// A subscriber the server closed (or lost): counted, its later deliveries missing; the run goes on.
void disconnect(Run& run, Connection& c, const std::string& why) {
  if (run.disconnected++ == 0) std::fprintf(stderr, "ws_latency: %s\n", why.c_str());
  epoll_ctl(run.epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);
  ::close(c.fd);
  c.fd = -1;
  c.buffer.clear();
}

void on_subscriber_readable(Run& run, int s) {
  Connection& c = run.subscribers[static_cast<std::size_t>(s)];
  if (c.fd < 0) return;
  bool open = read_available(c);
  const std::int64_t t = monotonic_ns();
  std::size_t consumed = 0;
  Frame frame;
  for (long used;
       (used = voxlog::bench::next_frame(std::string_view(c.buffer).substr(consumed), frame)) != 0;) {
    if (used < 0) {
      run.failure = "subscriber " + std::to_string(s) + " received a malformed frame";
      return;
    }
    consumed += static_cast<std::size_t>(used);
    if (frame.opcode == 8) {
      disconnect(run, c,
                 "the server closed subscriber " + std::to_string(s) + ": " +
                     std::string(frame.payload.substr(std::min<std::size_t>(2, frame.payload.size()))));
      return;
    }
    if (frame.opcode == 9) {  // a heartbeat: answer it, or the server closes us as a dead client
      std::string pong = voxlog::bench::client_frame(10, frame.payload);
      if (::write(c.fd, pong.data(), pong.size()) != static_cast<ssize_t>(pong.size()))
        run.failure = "cannot answer a ping on subscriber " + std::to_string(s);
      continue;
    }
    if (frame.opcode != 1) continue;
    if (run.options.socketio && frame.payload == "2") {  // an Engine.IO ping
      std::string pong = voxlog::bench::client_frame(1, "3");
      if (::write(c.fd, pong.data(), pong.size()) != static_cast<ssize_t>(pong.size()))
        run.failure = "cannot answer a ping on subscriber " + std::to_string(s);
      continue;
    }
    long w = webhook_in(run, frame.payload);
    const std::int64_t sent = w < 0 ? -1 : run.poster->sent_ns(static_cast<std::size_t>(w));
    if (sent < 0) {
      ++run.stray_frames;
      continue;
    }
    std::int64_t& slot = run.delivery_ns[static_cast<std::size_t>(w) * run.subscribers.size() + s];
    if (slot >= 0) continue;  // the same call's next event
    slot = t - sent;
    if (--run.waiting[static_cast<std::size_t>(w)] == 0) run.last_ns[static_cast<std::size_t>(w)] = slot;
  }
  c.buffer.erase(0, consumed);
  if (!open) disconnect(run, c, "subscriber " + std::to_string(s) + " was disconnected");
}

std::string connect_all(Run& run, int epoll_fd) {
  auto watch = [&](int fd, std::uint64_t tag) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  };
  const char* api_token = std::getenv("VOXLOG_TOKEN");  // a viewer's token, when the server wants one
  for (int s = 0; s < run.options.subscribers + run.options.stalled; ++s) {
    bool stalled = s >= run.options.subscribers;
    Connection c;
    c.fd = voxlog::bench::connect_loopback(run.options.port, stalled ? 4096 : 0);
    if (c.fd < 0) return std::string("cannot connect a subscriber: ") + std::strerror(errno);
    std::string error =
        run.options.socketio
            ? voxlog::bench::open_socketio(c.fd, run.options.port, api_token ? api_token : "", c.buffer)
            : voxlog::bench::open_websocket(c.fd, run.options.port, run.options.ws_path, c.buffer);
    if (!error.empty()) return "subscriber " + std::to_string(s) + ": " + error;
    (stalled ? run.stalled : run.subscribers).push_back(std::move(c));
  }
  for (std::size_t s = 0; s < run.subscribers.size(); ++s) watch(run.subscribers[s].fd, s);
  for (Connection& c : run.subscribers) fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
  return "";
}

// Reads a stalled subscriber to its end: true when the last thing the server sent was a close with 4000.
// `open`: the server had not closed it at all (nothing more came within a second).
bool closed_with_4000(Connection& c, bool& open) {
  timeval wait{1, 0};
  setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) & ~O_NONBLOCK);
  char chunk[65536];
  open = false;
  for (;;) {
    Frame frame;
    long used;
    while ((used = voxlog::bench::next_frame(c.buffer, frame)) > 0) {
      if (frame.opcode == 8)
        return frame.payload.size() >= 2 && ((static_cast<unsigned char>(frame.payload[0]) << 8) |
                                             static_cast<unsigned char>(frame.payload[1])) == 4000;
      c.buffer.erase(0, static_cast<std::size_t>(used));
    }
    if (used < 0) return false;
    ssize_t n = ::recv(c.fd, chunk, sizeof chunk, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) open = true;
    if (n <= 0) return false;
    c.buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

double percentile_ms(std::vector<std::int64_t> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  std::size_t rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return static_cast<double>(v[std::max<std::size_t>(rank, 1) - 1]) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a pong to a subscriber the server has just closed must not kill the run
  Run run;
  if (!parse_options(argc, argv, run.options)) {
    std::fprintf(stderr,
                 "usage: TWILIO_AUTH_TOKEN=... ws_latency --port P [--subscribers N] [--rate PER_S] "
                 "[--seconds S] [--warmup N] [--ws-path P] [--post-path P] [--url BASE] "
                 "[--protocol ws|socketio] [--stalled N] [--server-pid PID]\n");
    return 2;
  }
  const char* token = std::getenv("TWILIO_AUTH_TOKEN");
  const std::string tag = voxlog::bench::random_run_tag();
  run.marker = "CA" + tag;
  prepare_requests(run, token ? token : "", tag);

  // Thousands of subscribers need as many descriptors: take the hard limit.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  const long rss_before = rss_kb(run.options.server_pid);
  const std::int64_t connect_start = monotonic_ns();
  run.epoll_fd = epoll_create1(0);
  if (std::string error = connect_all(run, run.epoll_fd); !error.empty()) {
    std::fprintf(stderr, "ws_latency: %s\n", error.c_str());
    return 1;
  }
  const double connect_s = static_cast<double>(monotonic_ns() - connect_start) / 1e9;
  // Bytes that arrived with a handshake answer are parsed like any later read.
  for (std::size_t s = 0; s < run.subscribers.size(); ++s) on_subscriber_readable(run, static_cast<int>(s));
  for (Connection& c : run.stalled) {
    int tiny = 4096;
    setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &tiny, sizeof tiny);
  }
  usleep(300'000);                                       // the server registers the last joins
  const long rss_idle = rss_kb(run.options.server_pid);  // (idle so far: nothing has been published)
  long rss_max = rss_idle;
  std::int64_t next_rss_sample = 0;

  const std::int64_t start = monotonic_ns() + 200'000'000;  // let the server register the last subscriber
  double cpu_at_start = cpu_seconds();
  if (std::string error = run.poster->start(start); !error.empty()) {
    std::fprintf(stderr, "ws_latency: %s\n", error.c_str());
    return 1;
  }
  std::int64_t deadline = 0;
  std::vector<epoll_event> events(512);
  while (run.failure.empty()) {
    std::int64_t t = monotonic_ns();
    if (run.options.server_pid > 0 && t >= next_rss_sample) {
      rss_max = std::max(rss_max, rss_kb(run.options.server_pid));
      next_rss_sample = t + 200'000'000;
    }
    if (run.poster->done()) {  // every webhook answered (or given up on): wait for the deliveries
      if (deadline == 0) deadline = t + kDrainNs;
      if (std::all_of(run.waiting.begin(), run.waiting.end(), [](int w) { return w == 0; }) || t > deadline)
        break;
    }
    int n = epoll_wait(run.epoll_fd, events.data(), static_cast<int>(events.size()), 20);
    for (int i = 0; i < n; ++i)
      on_subscriber_readable(run, static_cast<int>(events[static_cast<std::size_t>(i)].data.u64));
  }
  const auto& posted = run.poster->join();
  if (run.failure.empty()) run.failure = posted.failure;
  const double client_cpu = cpu_seconds() - cpu_at_start;
  const double wall = static_cast<double>(monotonic_ns() - start) / 1e9;
  if (!run.failure.empty()) {
    std::fprintf(stderr, "ws_latency: %s\n", run.failure.c_str());
    return 1;
  }

  long stalled_4000 = 0, stalled_open = 0;
  for (Connection& c : run.stalled) {
    bool open = false;
    if (closed_with_4000(c, open)) ++stalled_4000;
    if (open) ++stalled_open;
  }

  std::vector<std::int64_t> last, pooled, http, http_seen;
  long missing = 0;
  const std::size_t n_subs = run.subscribers.size();
  for (std::size_t w = static_cast<std::size_t>(run.options.warmup);
       w < static_cast<std::size_t>(run.webhooks); ++w) {
    if (run.last_ns[w] >= 0) last.push_back(run.last_ns[w]);
    if (posted.answer_ns[w] >= 0) http.push_back(posted.answer_ns[w]);
    if (posted.seen_ns[w] >= 0) http_seen.push_back(posted.seen_ns[w]);
    for (std::size_t s = 0; s < n_subs; ++s) {
      std::int64_t d = run.delivery_ns[w * n_subs + s];
      if (d >= 0)
        pooled.push_back(d);
      else
        ++missing;
    }
  }
  std::printf(
      "WSLAT webhooks=%zu subscribers=%zu rate=%g warmup=%d last_p50_ms=%.3f last_p99_ms=%.3f "
      "last_max_ms=%.3f pooled_p50_ms=%.3f pooled_p99_ms=%.3f http_p50_ms=%.3f http_p99_ms=%.3f "
      "http_seen_p50_ms=%.3f http_seen_p99_ms=%.3f "
      "missing=%ld non2xx=%ld late_sends=%ld stray_frames=%ld post_reconnects=%ld client_cpu_s=%.2f "
      "client_cpu_pct=%.1f "
      "client_us_per_delivery=%.2f protocol=%s connect_s=%.2f stalled=%d stalled_4000=%ld stalled_open=%ld "
      "rss_before_kb=%ld rss_idle_kb=%ld rss_per_subscriber_b=%.0f rss_max_kb=%ld disconnected=%ld\n",
      last.size(), n_subs, run.options.rate, run.options.warmup, percentile_ms(last, 50),
      percentile_ms(last, 99), percentile_ms(last, 100), percentile_ms(pooled, 50), percentile_ms(pooled, 99),
      percentile_ms(http, 50), percentile_ms(http, 99), percentile_ms(http_seen, 50),
      percentile_ms(http_seen, 99), missing, posted.non2xx, posted.late_sends, run.stray_frames,
      posted.reconnects, client_cpu, 100.0 * client_cpu / wall,
      1e6 * client_cpu /
          static_cast<double>(std::max<std::size_t>(1, pooled.size() + run.options.warmup * n_subs)),
      run.options.socketio ? "socketio" : "ws", connect_s, run.options.stalled, stalled_4000, stalled_open,
      rss_before, rss_idle,
      1024.0 * static_cast<double>(rss_idle - rss_before) /
          std::max(1, run.options.subscribers + run.options.stalled),
      rss_max, run.disconnected);
  return missing == 0 && run.disconnected == 0 && posted.non2xx == 0 && stalled_4000 == run.options.stalled
             ? 0
             : 1;
}

// reply_cost: what answering a webhook costs, three ways, in the shape voxlogd answers it (issue 15 asked
// for CAF request/response in place of the completion the call actor hands to the store).
//
// The parts are stand-ins with voxlogd's shape and CAF configuration, doing no work of their own: a client
// thread (the HTTP io thread) keeps WINDOW webhooks outstanding; a typed "call actor" takes each one and
// hands it to a "store" thread (the log's publisher), which, per batch it finds queued, answers each webhook
// and tells the call actor (`appended`), as the store does after a commit. The three ways to answer:
//  - completion: the webhook carries a std::function; the store thread calls it (voxlogd today);
//  - gateway:    the client sends the webhook to one long-lived actor, which requests the call actor; the
//  call
//                actor keeps a response promise and delivers it when it hears `appended`;
//  - ask:        as gateway, but from a short-lived actor spawned per webhook (actors/ask.hpp).
// Prints, per way, the process's CPU time per webhook and the wall time per webhook, the median of ROUNDS
// runs taken in turn (so each way sees the same machine), and each way's CPU against completion's.
// Usage: reply_cost [webhooks per run, default 200000] [rounds, default 5] [window, default 64]
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <caf/all.hpp>

namespace {

using Reply = std::function<void()>;
using webhook_atom = caf::atom_constant<caf::atom("webhook")>;
using ask_atom = caf::atom_constant<caf::atom("ask")>;
using appended_atom = caf::atom_constant<caf::atom("appended")>;

}  // namespace

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(Reply)

namespace {

using call_actor = caf::typed_actor<caf::reacts_to<webhook_atom, std::uint64_t, Reply>,
                                    caf::replies_to<ask_atom, std::uint64_t>::with<std::uint64_t>,
                                    caf::reacts_to<appended_atom, std::uint64_t>>;
using gateway_actor = caf::typed_actor<caf::reacts_to<webhook_atom, std::uint64_t>>;

// The log's publisher: answers what the call actor handed it, batch by batch, then tells the call actor.
class Publisher {
 public:
  void start(call_actor actor) {
    actor_ = std::move(actor);
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
    actor_ = nullptr;
  }
  void hand(std::uint64_t n, Reply reply) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.emplace_back(n, std::move(reply));
    }
    cv_.notify_one();
  }

 private:
  void run() {
    std::deque<std::pair<std::uint64_t, Reply>> batch;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        batch.swap(queue_);
      }
      for (auto& [n, reply] : batch) {
        if (reply) reply();
        caf::anon_send(actor_, appended_atom::value, n);
      }
      batch.clear();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::uint64_t, Reply>> queue_;
  bool stopping_ = false;
  std::thread thread_;
  call_actor actor_;
};

struct CallState {
  std::unordered_map<std::uint64_t, caf::typed_response_promise<std::uint64_t>> waiting;
  static inline const char* name = "reply_cost.call";
};

call_actor::behavior_type call(call_actor::stateful_pointer<CallState> self, Publisher* publisher) {
  return {
      [=](webhook_atom, std::uint64_t n, Reply& reply) { publisher->hand(n, std::move(reply)); },
      [=](ask_atom, std::uint64_t n) -> caf::result<std::uint64_t> {
        auto promise = self->make_response_promise<std::uint64_t>();
        self->state.waiting.emplace(n, promise);
        publisher->hand(n, nullptr);
        return promise;
      },
      [=](appended_atom, std::uint64_t n) {
        auto it = self->state.waiting.find(n);
        if (it == self->state.waiting.end()) return;  // answered by its completion
        it->second.deliver(n);
        self->state.waiting.erase(it);
      },
  };
}

// The client's window: at most `window` webhooks unanswered.
class Window {
 public:
  explicit Window(std::size_t window) : free_(window) {}
  void take() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return free_ > 0; });
    --free_;
  }
  void give() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++free_;
    }
    cv_.notify_one();
  }
  void drain(std::size_t window) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return free_ == window; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t free_;
};

// One long-lived requester: takes a webhook and requests the call actor, the answer frees a window slot.
gateway_actor::behavior_type gateway_behavior(gateway_actor::pointer self, Window* window, call_actor actor) {
  return {[=](webhook_atom, std::uint64_t n) {
    self->request(actor, caf::infinite, ask_atom::value, n)
        .then([window](std::uint64_t) { window->give(); }, [](caf::error&) { std::abort(); });
  }};
}

enum class Way { completion, gateway, ask };
const char* name_of(Way w) {
  return w == Way::completion ? "completion" : w == Way::gateway ? "gateway" : "ask";
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

struct Figures {
  double cpu_us = 0, wall_us = 0;
};

Figures run(caf::actor_system& system, Way way, std::uint64_t webhooks, std::size_t window_size) {
  Publisher publisher;
  call_actor actor = system.spawn(call, &publisher);
  publisher.start(actor);
  Window window(window_size);
  gateway_actor gateway = system.spawn(gateway_behavior, &window, actor);
  double cpu0 = cpu_seconds();
  auto wall0 = std::chrono::steady_clock::now();
  for (std::uint64_t n = 0; n < webhooks; ++n) {
    window.take();
    switch (way) {
      case Way::completion:
        caf::anon_send(actor, webhook_atom::value, n, Reply([&window] { window.give(); }));
        break;
      case Way::gateway: caf::anon_send(gateway, webhook_atom::value, n); break;
      case Way::ask:
        system.spawn(
            [&window](caf::event_based_actor* self, call_actor to, std::uint64_t m) {
              self->request(to, caf::infinite, ask_atom::value, m)
                  .then([&window](std::uint64_t) { window.give(); }, [](caf::error&) { std::abort(); });
            },
            actor, n);
        break;
    }
  }
  window.drain(window_size);
  Figures f;
  f.wall_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - wall0).count() /
              static_cast<double>(webhooks);
  f.cpu_us = (cpu_seconds() - cpu0) * 1e6 / static_cast<double>(webhooks);
  caf::anon_send_exit(gateway, caf::exit_reason::user_shutdown);
  publisher.stop();
  caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  return f;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t webhooks = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  std::size_t window = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 64;
  if (webhooks == 0 || rounds <= 0 || window == 0) {
    std::fprintf(stderr, "usage: reply_cost [webhooks per run] [rounds] [window]\n");
    return 2;
  }
  caf::actor_system_config config;  // as voxlogd configures it (tools/voxlogd/main.cpp)
  config.set("logger.console", caf::atom("none"));
  config.set("scheduler.max-threads",
             static_cast<std::int64_t>(std::max(2u, std::thread::hardware_concurrency())));
  config.set("work-stealing.moderate-poll-attempts", std::int64_t{0});
  caf::actor_system system{config};
  const Way ways[] = {Way::completion, Way::gateway, Way::ask};
  std::vector<double> cpu[3], wall[3];
  for (int r = 0; r < rounds; ++r)
    for (int w = 0; w < 3; ++w) {
      Figures f = run(system, ways[w], webhooks, window);
      cpu[w].push_back(f.cpu_us);
      wall[w].push_back(f.wall_us);
    }
  std::printf("reply_cost: %llu webhooks per run, window %zu, median of %d rounds taken in turn\n",
              static_cast<unsigned long long>(webhooks), window, rounds);
  double base = median(cpu[0]);
  for (int w = 0; w < 3; ++w)
    std::printf("%-10s  cpu %6.2f us/webhook  wall %6.2f us/webhook  cpu x%.2f of completion\n",
                name_of(ways[w]), median(cpu[w]), median(wall[w]), median(cpu[w]) / base);
  return 0;
}

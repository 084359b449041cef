// copy_log and compare_logs (log_copy.hpp): a whole log replayed, append by append, into another store.
#include "eventstore/log_copy.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

#include "eventstore/data_json.hpp"

namespace voxlog {

namespace {

// One original append, as the copy plans it: the request and the numbers the target must answer with.
struct PlannedAppend {
  AppendRequest request;
  std::uint64_t first_seq = 0, last_seq = 0, last_version = 0;
};

// Does `e` continue the append `p` began? One append's events are consecutive seqs of one stream with one
// ts, source and key. Two keyless appends that look alike may be merged: their events come out the same.
bool continues(const PlannedAppend& p, const Event& e) {
  const AppendRequest& r = p.request;
  return e.seq == p.last_seq + 1 && e.stream == r.stream && e.version == p.last_version + 1 && e.ts == r.ts &&
         e.source == r.source && e.dedupe == r.dedupe;
}

Status plan(std::vector<Event>& page, std::uint64_t after, std::vector<PlannedAppend>* out) {
  for (Event& e : page) {
    if (e.seq != ++after) {
      return data_loss("the source skips from seq " + std::to_string(after - 1) + " to " +
                       std::to_string(e.seq));
    }
    // ts 0 would make the target stamp the time of the copy.
    if (e.ts == 0)
      return failed_precondition("event seq " + std::to_string(e.seq) + " has ts 0: cannot copy");
    if (e.version == 0) return data_loss("event seq " + std::to_string(e.seq) + " has version 0");
    if (out->empty() || !continues(out->back(), e)) {
      PlannedAppend p;
      p.request.stream = e.stream;
      p.request.expected_version = e.version - 1;
      p.request.dedupe = e.dedupe;
      p.request.source = e.source;
      p.request.ts = e.ts;
      p.first_seq = e.seq;
      out->push_back(std::move(p));
    }
    PlannedAppend& p = out->back();
    p.last_seq = e.seq;
    p.last_version = e.version;
    p.request.events.emplace_back(std::move(e.type), std::move(e.data), e.v);
  }
  return Status::ok();
}

// Appends every planned request, pipelined, and waits for all the answers (they always come).
std::vector<Result<AppendResult>> append_all(EventStore& to, std::vector<PlannedAppend>& appends) {
  struct Answers {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::optional<Result<AppendResult>>> slots;
    std::size_t pending = 0;
  };
  auto answers = std::make_shared<Answers>();
  answers->slots.resize(appends.size());
  answers->pending = appends.size();
  for (std::size_t i = 0; i < appends.size(); ++i) {
    to.append(std::move(appends[i].request), [answers, i](const Result<AppendResult>& r) {
      std::lock_guard<std::mutex> lock(answers->mu);
      answers->slots[i] = r;
      if (--answers->pending == 0) answers->cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(answers->mu);
  answers->cv.wait(lock, [&] { return answers->pending == 0; });
  std::vector<Result<AppendResult>> out;
  out.reserve(appends.size());
  for (auto& slot : answers->slots) out.push_back(std::move(*slot));
  return out;
}

Status check_answer(const PlannedAppend& p, const Result<AppendResult>& r, const std::string& target) {
  const std::string what = "seqs " + std::to_string(p.first_seq) + ".." + std::to_string(p.last_seq) +
                           " (stream " + p.request.stream + ")";
  if (!r)
    return Status(r.status().code(), "appending " + what + " to " + target + ": " + r.status().message());
  if (r->duplicate) return data_loss(target + " answered " + what + " as a duplicate of an earlier append");
  if (r->first_seq != p.first_seq || r->last_seq != p.last_seq || r->stream_version != p.last_version) {
    return data_loss(target + " wrote " + what + " as seqs " + std::to_string(r->first_seq) + ".." +
                     std::to_string(r->last_seq) + ", version " + std::to_string(r->stream_version) +
                     ": is something else writing to it?");
  }
  return Status::ok();
}

}  // namespace

Result<std::uint64_t> copy_log(const EventStore& from, EventStore& to, std::uint64_t through,
                               const CopyOptions& options) {
  auto stats = to.stats();
  if (!stats) return stats.status();
  if (stats->events != 0) {
    return failed_precondition("the target " + to.describe() + " is not empty (" +
                               std::to_string(stats->events) + " events): nothing was copied");
  }
  const std::size_t chunk = std::max<std::size_t>(options.chunk, 1);
  std::size_t limit = chunk;
  for (std::uint64_t after = 0; after < through;) {
    const auto wanted = static_cast<std::size_t>(std::min<std::uint64_t>(limit, through - after));
    auto page = from.read_all(after, wanted);
    if (!page) return page.status();
    if (page->empty()) {
      return data_loss("the source " + from.describe() + " ends at seq " + std::to_string(after) +
                       ", before seq " + std::to_string(through));
    }
    const bool more = page->back().seq < through;
    std::vector<PlannedAppend> appends;
    if (Status st = plan(*page, after, &appends); !st) return st;
    // A keyed append cut by the page's end would be copied as two appends with one key: the second would
    // be a duplicate. Leave it to the next page, which starts where it starts.
    if (more && !appends.back().request.dedupe.empty()) {
      if (appends.size() == 1) {  // one append longer than the page: read a longer page
        if (page->size() < wanted)
          return internal_error("the source returned a short page after seq " + std::to_string(after));
        limit *= 2;
        continue;
      }
      appends.pop_back();
    }
    limit = chunk;
    auto answers = append_all(to, appends);
    for (std::size_t i = 0; i < appends.size(); ++i) {
      if (Status st = check_answer(appends[i], answers[i], to.describe()); !st) return st;
    }
    after = appends.back().last_seq;
    if (options.progress) options.progress(after, through);
  }
  return through;
}

Result<LogSummary> compare_logs(const EventStore& a, const EventStore& b, std::size_t page) {
  page = std::max<std::size_t>(page, 1);
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) return internal_error("SHA-256 init");
  LogSummary summary;
  auto differ = [&](std::uint64_t seq, const char* field, const std::string& x, const std::string& y) {
    auto cut = [](const std::string& s) { return s.size() > 120 ? s.substr(0, 120) + "..." : s; };
    return data_loss("event seq " + std::to_string(seq) + " differs in " + field + ": '" + cut(x) + "' in " +
                     a.describe() + ", '" + cut(y) + "' in " + b.describe());
  };
  for (std::uint64_t after = 0;;) {
    auto left = a.read_all(after, page);
    if (!left) return left.status();
    auto right = b.read_all(after, page);
    if (!right) return right.status();
    for (std::size_t i = 0; i < std::min(left->size(), right->size()); ++i) {
      const Event &x = (*left)[i], &y = (*right)[i];
      if (x.seq != y.seq) return differ(after + 1, "seq", std::to_string(x.seq), std::to_string(y.seq));
      if (x.stream != y.stream) return differ(x.seq, "stream", x.stream, y.stream);
      if (x.version != y.version)
        return differ(x.seq, "version", std::to_string(x.version), std::to_string(y.version));
      if (x.type != y.type) return differ(x.seq, "type", x.type, y.type);
      if (x.v != y.v) return differ(x.seq, "v", std::to_string(x.v), std::to_string(y.v));
      if (x.ts != y.ts) return differ(x.seq, "ts", std::to_string(x.ts), std::to_string(y.ts));
      if (x.source != y.source) return differ(x.seq, "source", x.source, y.source);
      if (x.dedupe != y.dedupe) return differ(x.seq, "dedupe", x.dedupe, y.dedupe);
      std::string xd = codec::dump_data_json(x.data), yd = codec::dump_data_json(y.data);
      if (xd != yd) return differ(x.seq, "data", xd, yd);
      // The line `voxlog events` prints for it.
      std::string line = to_json(x).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      EVP_DigestUpdate(md.get(), line.data(), line.size());
      summary.events++;
      summary.last_seq = x.seq;
      after = x.seq;
    }
    if (left->size() != right->size()) {
      const EventStore& longer = left->size() > right->size() ? a : b;
      return data_loss(longer.describe() + " has events after seq " + std::to_string(after) +
                       " and the other log has none");
    }
    if (left->size() < page) break;
  }
  auto sa = a.stats();
  if (!sa) return sa.status();
  auto sb = b.stats();
  if (!sb) return sb.status();
  auto count = [&](const char* what, std::uint64_t x, std::uint64_t y) {
    return data_loss(std::string(what) + ": " + std::to_string(x) + " in " + a.describe() + ", " +
                     std::to_string(y) + " in " + b.describe());
  };
  if (sa->events != sb->events || sa->events != summary.events)
    return count("events", sa->events, sb->events);
  if (sa->streams != sb->streams) return count("streams", sa->streams, sb->streams);
  if (sa->dedupe_keys != sb->dedupe_keys) return count("dedupe keys", sa->dedupe_keys, sb->dedupe_keys);
  summary.streams = sa->streams;
  summary.dedupe_keys = sa->dedupe_keys;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(md.get(), digest, &size) != 1) return internal_error("SHA-256 final");
  static const char* hex = "0123456789abcdef";
  for (unsigned int i = 0; i < size; ++i) {
    summary.sha256 += hex[digest[i] >> 4];
    summary.sha256 += hex[digest[i] & 15];
  }
  return summary;
}

}  // namespace voxlog

// Checking and serialising an append on the caller's thread, for both backends (append_queue.hpp).
#include "eventstore/append_queue.hpp"

#include "eventstore/codec.hpp"
#include "eventstore/data_json.hpp"

namespace voxlog {

Status validate_request(const AppendRequest& r) {
  if (r.events.empty()) return invalid_argument("append to '" + r.stream + "' has no events");
  if (r.stream.empty()) return invalid_argument("stream is empty");
  if (auto why = codec::check_name("stream", r.stream, codec::kMaxStreamBytes); !why.empty()) {
    return invalid_argument(why);
  }
  if (auto why = codec::check_name("dedupe key", r.dedupe, codec::kMaxDedupeBytes); !why.empty()) {
    return invalid_argument(why);
  }
  if (r.source.empty()) return invalid_argument("source is empty");
  if (auto why = codec::check_name("source", r.source, codec::kMaxSourceBytes); !why.empty()) {
    return invalid_argument(why);
  }
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    const NewEvent& e = r.events[i];
    std::string where = "event " + std::to_string(i) + " of '" + r.stream + "': ";
    if (e.type.empty()) return invalid_argument(where + "type is empty");
    if (auto why = codec::check_name("type", e.type, codec::kMaxTypeBytes); !why.empty()) {
      return invalid_argument(where + why);
    }
    if (!e.data.is_object()) return invalid_argument(where + "data is not a JSON object");
  }
  return Status::ok();
}

Status version_conflict(const AppendRequest& r, std::uint64_t version) {
  return conflict("expected version " + std::to_string(r.expected_version.value_or(0)) + " of " + r.stream +
                  ", stream is at " + std::to_string(version));
}

PendingAppend prepare_append(AppendRequest request, EventStore::AppendCallback done) {
  PendingAppend pending;
  if (request.ts == 0) request.ts = now_ms();
  pending.precheck = validate_request(request);
  if (pending.precheck) {
    pending.data_json.reserve(request.events.size());
    try {
      for (NewEvent& e : request.events)
        pending.data_json.push_back(e.data_json.empty() ? codec::dump_data_json(e.data)
                                                        : std::move(e.data_json));
    } catch (const nlohmann::json::exception& e) {  // dump() refuses strings that are not UTF-8
      pending.precheck = invalid_argument("data of '" + request.stream + "': " + e.what());
    }
  }
  pending.request = std::move(request);
  pending.done = std::move(done);
  return pending;
}

}  // namespace voxlog

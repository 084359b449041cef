#include "projections/calls_view.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <sstream>
#include <unordered_map>
#include <utility>

#include <lmdb++.h>

#include "eventstore/lock_file.hpp"
#include "projections/campaigns_table.hpp"
#include "projections/event_types.hpp"

namespace voxlog {
namespace {

constexpr const char* kFormat = "voxlog-calls-view 1";
constexpr std::size_t kMapSize = std::size_t{8} << 30;  // virtual; rows are small

std::string be64(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) s[i] = static_cast<char>(v & 0xff);
  return s;
}

std::uint64_t from_be64(const lmdb::val& v) {
  std::uint64_t x = 0;
  auto* p = v.data<const unsigned char>();
  for (std::size_t i = 0; i < 8 && i < v.size(); ++i) x = (x << 8) | p[i];
  return x;
}

lmdb::val as_val(const std::string& s) {
  return lmdb::val{s.data(), s.size()};
}
std::string as_string(const lmdb::val& v) {
  return std::string(v.data(), v.size());
}

bool is_call_stream(const std::string& stream) {
  return stream.rfind(stream_prefix::call, 0) == 0;
}

}  // namespace

struct CallsView::Impl {
  std::string dir;
  lmdb::env env = lmdb::env::create();
  lmdb::dbi calls{0}, by_stream{0}, by_sid{0}, meta{0};
  CampaignsTable campaigns;

  std::optional<std::uint64_t> get_u64(MDB_txn* txn, lmdb::dbi& dbi, const std::string& key) const {
    lmdb::val k = as_val(key), v;
    if (!lmdb::dbi_get(txn, dbi.handle(), k, v)) return std::nullopt;
    return from_be64(v);
  }

  std::optional<CallRow> get_row(MDB_txn* txn, std::uint64_t id) const {
    std::string key = be64(id);
    lmdb::val k = as_val(key), v;
    if (!lmdb::dbi_get(txn, calls.handle(), k, v)) return std::nullopt;
    return call_row_from_json(nlohmann::json::parse(v.data(), v.data() + v.size()));
  }

  void put(MDB_txn* txn, lmdb::dbi& dbi, const std::string& key, const std::string& value) {
    lmdb::val k = as_val(key), v = as_val(value);
    lmdb::dbi_put(txn, dbi.handle(), k, v, 0);
  }

  // The write transaction apply() fills and commit() ends; raw, because lmdb++'s txn would abort it a
  // second time after a failed commit (LMDB frees it either way). Projection thread only, like the rest.
  MDB_txn* open = nullptr;
  std::uint64_t applied = 0;  // the checkpoint inside `open`
  std::uint64_t next_id = 1;  // likewise

  void abort_open() {
    if (open) mdb_txn_abort(open);
    open = nullptr;
    campaigns.drop_staged();
    cached_rows.clear();  // they held the aborted transaction's rows
    cached_ids.clear();
  }

  // What the projection wrote last (it is the view's only writer, so this is what the open transaction, or
  // else LMDB, holds): apply() takes rows and ids from here instead of reading and parsing them again.
  // Rows round-trip through their JSON exactly (call_row_from_json), so a cached row equals a read one.
  // Emptied when it outgrows kCachedRows and when a transaction is aborted.
  static constexpr std::size_t kCachedRows = 16384;
  std::unordered_map<std::uint64_t, CallRow> cached_rows;     // projection thread only
  std::unordered_map<std::string, std::uint64_t> cached_ids;  // stream -> id; projection thread only
};

CallsView::CallsView(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CallsView::~CallsView() {
  impl_->abort_open();  // whoever applied and did not commit meant it; the log has the events anyway
}

Result<std::unique_ptr<CallsView>> CallsView::open(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return failed_precondition("cannot create views directory " + dir + ": " + std::strerror(errno));
  if (Status st = reserve_lock_file(dir); !st) return st;
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  try {
    impl->env.set_max_dbs(16);
    impl->env.set_mapsize(kMapSize);
    impl->env.open(dir.c_str(), MDB_NOTLS | MDB_NOMETASYNC, 0644);
    auto txn = lmdb::txn::begin(impl->env);
    impl->meta = lmdb::dbi::open(txn, "meta", MDB_CREATE);
    lmdb::val fk{"format", 6}, fv;
    if (lmdb::dbi_get(txn, impl->meta.handle(), fk, fv)) {
      if (as_string(fv) != kFormat)
        return failed_precondition(dir + " holds '" + as_string(fv) + "', not a " + kFormat);
    } else {
      MDB_stat st = impl->meta.stat(txn);
      if (st.ms_entries != 0) return failed_precondition(dir + " is not a voxlog calls view");
      impl->put(txn, impl->meta, "format", kFormat);
    }
    impl->calls = lmdb::dbi::open(txn, "calls", MDB_CREATE);
    impl->by_stream = lmdb::dbi::open(txn, "by_stream", MDB_CREATE);
    impl->by_sid = lmdb::dbi::open(txn, "by_sid", MDB_CREATE);
    impl->campaigns.open(txn);
    txn.commit();
  } catch (const lmdb::error& e) {
    return failed_precondition("cannot open calls view in " + dir + ": " + e.what());
  }
  return std::unique_ptr<CallsView>(new CallsView(std::move(impl)));
}

std::uint64_t CallsView::checkpoint() const {
  auto txn = lmdb::txn::begin(impl_->env, nullptr, MDB_RDONLY);
  return impl_->get_u64(txn, impl_->meta, "checkpoint").value_or(0);
}

Result<CallsView::Changed> CallsView::apply_batch(const std::vector<Event>& events) {
  std::vector<const Event*> pointers;
  pointers.reserve(events.size());
  for (const Event& e : events) pointers.push_back(&e);
  auto changed = stage(pointers);
  if (!changed) return changed;
  if (Status s = commit(); !s) return s;
  return changed;
}

Result<CallsView::Changed> CallsView::stage(const std::vector<const Event*>& events) {
  Changed changed;
  if (events.empty()) return changed;
  auto& impl = *impl_;
  try {
    if (!impl.open) {
      lmdb::txn_begin(impl.env, nullptr, 0, &impl.open);
      impl.applied = impl.get_u64(impl.open, impl.meta, "checkpoint").value_or(0);
      impl.next_id = impl.get_u64(impl.open, impl.meta, "next_id").value_or(1);
    }
    MDB_txn* txn = impl.open;
    std::map<std::uint64_t, CallRow> dirty;
    std::map<std::uint64_t, std::pair<std::string, std::string>> stored_sids;  // as the transaction had them
    std::map<std::string, std::uint64_t> new_streams;
    for (const Event* event : events) {
      const Event& e = *event;
      if (e.seq <= impl.applied) continue;  // already applied: exactly once
      if (e.seq != impl.applied + 1) {
        impl.abort_open();  // nothing half-applied stays behind
        return internal_error("calls view at seq " + std::to_string(impl.applied) + " was given seq " +
                              std::to_string(e.seq));
      }
      impl.applied = e.seq;
      impl.campaigns.stage(txn, e);
      if (!is_call_stream(e.stream)) continue;
      std::uint64_t id = 0;
      if (auto it = new_streams.find(e.stream); it != new_streams.end()) {
        id = it->second;
      } else if (auto cached = impl.cached_ids.find(e.stream); cached != impl.cached_ids.end()) {
        id = cached->second;
      } else if (auto found = impl.get_u64(txn, impl.by_stream, e.stream)) {
        id = *found;
        impl.cached_ids.emplace(e.stream, id);
      } else {
        id = impl.next_id++;
        new_streams.emplace(e.stream, id);
        impl.put(txn, impl.by_stream, e.stream, be64(id));
      }
      auto row_it = dirty.find(id);
      if (row_it == dirty.end()) {
        auto cached = impl.cached_rows.find(id);
        CallRow row =
            cached != impl.cached_rows.end() ? cached->second : impl.get_row(txn, id).value_or(CallRow{});
        row.id = id;
        stored_sids.emplace(id, std::make_pair(row.execution_sid, row.call_sid));
        row_it = dirty.emplace(id, std::move(row)).first;
      }
      apply(row_it->second, e);
      changed.emplace_back(e.seq, row_it->second);
    }
    for (const auto& [id, row] : dirty) {
      impl.put(txn, impl.calls, be64(id), to_json_text(row));
      const auto& [stored_execution_sid, stored_call_sid] = stored_sids.at(id);
      if (!row.execution_sid.empty() && row.execution_sid != stored_execution_sid)
        impl.put(txn, impl.by_sid, row.execution_sid, be64(id));
      if (!row.call_sid.empty() && row.call_sid != stored_call_sid)
        impl.put(txn, impl.by_sid, row.call_sid, be64(id));
    }
    impl.campaigns.flush(txn);
    impl.put(txn, impl.meta, "checkpoint", be64(impl.applied));
    impl.put(txn, impl.meta, "next_id", be64(impl.next_id));
    if (impl.cached_rows.size() + dirty.size() > Impl::kCachedRows) impl.cached_rows.clear();
    if (impl.cached_ids.size() + new_streams.size() > Impl::kCachedRows) impl.cached_ids.clear();
    for (auto& [id, row] : dirty) impl.cached_rows[id] = std::move(row);
    impl.cached_ids.insert(new_streams.begin(), new_streams.end());
  } catch (const lmdb::error& e) {
    impl.abort_open();
    return internal_error(std::string("calls view write failed: ") + e.what());
  }
  return changed;
}

Status CallsView::commit() {
  if (!impl_->open) return Status::ok();
  MDB_txn* txn = impl_->open;
  impl_->open = nullptr;
  if (int rc = mdb_txn_commit(txn); rc != 0) {  // frees the transaction, committed or not
    impl_->abort_open();                        // clears the caches of the lost rows
    return internal_error(std::string("calls view commit failed: ") + mdb_strerror(rc));
  }
  return Status::ok();
}

bool CallsView::has_staged() const {
  return impl_->open != nullptr;
}

std::uint64_t CallsView::staged_through() const {
  return impl_->open ? impl_->applied : checkpoint();
}

std::optional<CallRow> CallsView::find(const std::string& id_or_sid) const {
  auto txn = lmdb::txn::begin(impl_->env, nullptr, MDB_RDONLY);
  if (auto id = impl_->get_u64(txn, impl_->by_sid, id_or_sid)) return impl_->get_row(txn, *id);
  if (!id_or_sid.empty() && id_or_sid.find_first_not_of("0123456789") == std::string::npos &&
      id_or_sid.size() < 20)
    return impl_->get_row(txn, std::stoull(id_or_sid));
  return std::nullopt;
}

std::optional<CallRow> CallsView::find_by_stream(const std::string& stream) const {
  auto txn = lmdb::txn::begin(impl_->env, nullptr, MDB_RDONLY);
  if (auto id = impl_->get_u64(txn, impl_->by_stream, stream)) return impl_->get_row(txn, *id);
  return std::nullopt;
}

std::optional<std::string> CallsView::stream_of_sid(const std::string& sid) const {
  auto txn = lmdb::txn::begin(impl_->env, nullptr, MDB_RDONLY);
  auto id = impl_->get_u64(txn, impl_->by_sid, sid);
  if (!id) return std::nullopt;
  auto row = impl_->get_row(txn, *id);
  if (!row) return std::nullopt;
  return row->stream;
}

CallPage CallsView::list(const CallFilter& f) const {
  CallPage page;
  auto txn = lmdb::txn::begin(impl_->env, nullptr, MDB_RDONLY);
  auto cursor = lmdb::cursor::open(txn, impl_->calls);
  lmdb::val k, v;
  bool ok;
  if (f.before_id == 0) {
    ok = cursor.get(k, v, MDB_LAST);
  } else {
    std::string start = be64(f.before_id);
    k = as_val(start);
    ok = cursor.get(k, v, MDB_SET_RANGE) ? cursor.get(k, v, MDB_PREV) : cursor.get(k, v, MDB_LAST);
  }
  for (; ok; ok = cursor.get(k, v, MDB_PREV)) {
    CallRow row = call_row_from_json(nlohmann::json::parse(v.data(), v.data() + v.size()));
    if (!f.status.empty() && row.status != f.status) continue;
    if (!f.outcome.empty() && row.outcome != f.outcome) continue;
    if (!f.to.empty() && row.to.find(f.to) == std::string::npos) continue;
    if (f.since_ms && row.created_ms < f.since_ms) continue;
    if (page.rows.size() == f.limit) {
      page.next_cursor = page.rows.back().id;
      break;
    }
    page.rows.push_back(std::move(row));
  }
  return page;
}

std::size_t CallsView::count() const {
  auto txn = lmdb::txn::begin(impl_->env, nullptr, MDB_RDONLY);
  return impl_->calls.size(txn);
}

void CallsView::for_each(const std::function<bool(const CallRow&)>& fn) const {
  auto txn = lmdb::txn::begin(impl_->env, nullptr, MDB_RDONLY);
  auto cursor = lmdb::cursor::open(txn, impl_->calls);
  lmdb::val k, v;
  for (bool ok = cursor.get(k, v, MDB_FIRST); ok; ok = cursor.get(k, v, MDB_NEXT))
    if (!fn(call_row_from_json(nlohmann::json::parse(v.data(), v.data() + v.size())))) break;
}

std::string CallsView::dump() const {
  std::ostringstream out;
  auto txn = lmdb::txn::begin(impl_->env, nullptr, MDB_RDONLY);
  std::vector<MDB_dbi> dbis = {impl_->meta.handle(), impl_->calls.handle(), impl_->by_stream.handle(),
                               impl_->by_sid.handle()};
  for (MDB_dbi dbi : impl_->campaigns.dbis()) dbis.push_back(dbi);
  for (MDB_dbi dbi : dbis) {
    auto cursor = lmdb::cursor::open(txn, dbi);
    lmdb::val k, v;
    for (bool ok = cursor.get(k, v, MDB_FIRST); ok; ok = cursor.get(k, v, MDB_NEXT))
      out << as_string(k).size() << ':' << as_string(k) << '=' << v.size() << ':' << as_string(v) << '\n';
    out << "--\n";
  }
  return out.str();
}

std::optional<CampaignRow> CallsView::find_campaign(const std::string& id) const {
  auto txn = lmdb::txn::begin(impl_->env, nullptr, MDB_RDONLY);
  return impl_->campaigns.find(txn, id);
}

std::vector<CampaignRow> CallsView::list_campaigns() const {
  auto txn = lmdb::txn::begin(impl_->env, nullptr, MDB_RDONLY);
  return impl_->campaigns.list(txn);
}

std::vector<ContactRow> CallsView::campaign_contacts(const std::string& id,
                                                     const ContactFilter& filter) const {
  auto txn = lmdb::txn::begin(impl_->env, nullptr, MDB_RDONLY);
  return impl_->campaigns.contacts(txn, id, filter);
}

void CallsView::for_each_contact(const std::string& id,
                                 const std::function<bool(const ContactRow&)>& fn) const {
  auto txn = lmdb::txn::begin(impl_->env, nullptr, MDB_RDONLY);
  impl_->campaigns.for_each_contact(txn, id, fn);
}

std::optional<DncEntry> CallsView::dnc_find(const std::string& phone) const {
  auto txn = lmdb::txn::begin(impl_->env, nullptr, MDB_RDONLY);
  return impl_->campaigns.dnc_find(txn, phone);
}

std::optional<std::int64_t> CallsView::next_campaign_action(const std::string& id) const {
  auto txn = lmdb::txn::begin(impl_->env, nullptr, MDB_RDONLY);
  return impl_->campaigns.next_action(txn, id);
}

std::optional<ListRow> CallsView::find_list(const std::string& id) const {
  auto txn = lmdb::txn::begin(impl_->env, nullptr, MDB_RDONLY);
  return impl_->campaigns.find_list(txn, id);
}

std::vector<ListRow> CallsView::lists() const {
  auto txn = lmdb::txn::begin(impl_->env, nullptr, MDB_RDONLY);
  return impl_->campaigns.lists(txn);
}

std::vector<DncEntry> CallsView::dnc_list() const {
  auto txn = lmdb::txn::begin(impl_->env, nullptr, MDB_RDONLY);
  return impl_->campaigns.dnc_list(txn);
}

}  // namespace voxlog

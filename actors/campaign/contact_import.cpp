#include "actors/campaign/contact_import.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <unordered_map>

#include "actors/campaign/calling_window.hpp"
#include "actors/campaign/csv.hpp"
#include "actors/twilio/phone.hpp"
#include "eventstore/json_fields.hpp"
#include "eventstore/text.hpp"
#include "projections/event_types.hpp"

namespace voxlog {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxColumns = 64;
constexpr std::size_t kMaxFieldChars = 1000;
constexpr std::size_t kChunk = 1000;  // contacts (or rejected rows) per event
constexpr double kStudioMaxCps = 20;  // Studio's limit for REST-triggered executions

// The number that the whole of `text` spells, else NaN (which every range check refuses).
double number_or_nan(const std::string& text) {
  char* end = nullptr;
  double n = text.empty() ? std::nan("") : std::strtod(text.c_str(), &end);
  return end && *end == '\0' ? n : std::nan("");
}

const std::vector<std::string>& retry_reasons() {
  static const std::vector<std::string> reasons = {"busy",     "no-answer", "failed",
                                                   "canceled", "machine",   "no-outcome"};
  return reasons;
}

Result<int> minutes_of(const std::string& hhmm, const char* what) {
  int h = -1, m = -1;
  char rest = 0;
  if (std::sscanf(hhmm.c_str(), "%2d:%2d%c", &h, &m, &rest) != 2 || h < 0 || h > 24 || m < 0 || m > 59 ||
      (h == 24 && m != 0))
    return invalid_argument(std::string(what) + " must be a time of day like 09:00 (got '" +
                            hhmm.substr(0, 20) + "')");
  return h * 60 + m;
}

Result<int> weekday_of(const std::string& word) {
  static const char* names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  std::string w = lower_ascii(word.substr(0, 3));
  for (int d = 0; d < 7; ++d)
    if (w == names[d]) return d;
  if (word.size() == 1 && word[0] >= '1' && word[0] <= '7') return word[0] - '1';
  return invalid_argument("days: '" + word.substr(0, 20) + "' is not a weekday (mon..sun or 1..7)");
}

// "mon-fri", "mon,wed,fri", "1-5", or a JSON array of names or numbers.
Result<unsigned> days_of(const json& days) {
  std::vector<std::string> parts;
  if (days.is_array()) {
    for (const json& d : days) parts.push_back(d.is_string() ? d.get<std::string>() : d.dump());
  } else if (days.is_string()) {
    std::string s = days.get<std::string>();
    std::size_t start = 0;
    while (start <= s.size()) {
      std::size_t comma = s.find(',', start);
      parts.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  } else {
    return invalid_argument("days must be a list of weekdays such as [\"mon\",\"tue\"] or \"mon-fri\"");
  }
  unsigned mask = 0;
  for (std::string part : parts) {
    part.erase(std::remove_if(part.begin(), part.end(), [](unsigned char c) { return std::isspace(c); }),
               part.end());
    if (part.empty()) continue;
    auto dash = part.find('-');
    auto from = weekday_of(part.substr(0, dash));
    if (!from) return from.status();
    int to = *from;
    if (dash != std::string::npos) {
      auto last = weekday_of(part.substr(dash + 1));
      if (!last) return last.status();
      to = *last;
    }
    for (int d = *from;; d = (d + 1) % 7) {
      mask |= 1u << d;
      if (d == to) break;
    }
  }
  if (!mask) return invalid_argument("days names no weekday");
  return mask;
}

// ISO 8601 with Z or an offset, to epoch ms.
Result<std::int64_t> instant_of(const std::string& iso, const char* what) {
  int y, mo, d, h, mi, s = 0, consumed = 0;
  char sep;
  auto bad = [&] {
    return invalid_argument(std::string(what) +
                            " must be an ISO-8601 time with a zone, like 2026-12-08T09:00:00Z (got '" +
                            iso.substr(0, 40) + "')");
  };
  if (std::sscanf(iso.c_str(), "%4d-%2d-%2d%c%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &consumed) < 6 ||
      (sep != 'T' && sep != ' '))
    return bad();
  std::string rest = iso.substr(static_cast<std::size_t>(consumed));
  if (rest.size() >= 3 && rest[0] == ':') {
    s = std::atoi(rest.substr(1, 2).c_str());
    rest = rest.substr(3);
    while (!rest.empty() && (rest[0] == '.' || std::isdigit(static_cast<unsigned char>(rest[0]))))
      rest = rest.substr(1);
  }
  int offset_min = 0;
  if (rest == "Z" || rest == "z") {
  } else if (rest.size() >= 3 && (rest[0] == '+' || rest[0] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(rest.c_str() + 1, "%2d:%2d", &oh, &om) < 1) return bad();
    offset_min = (rest[0] == '-' ? -1 : 1) * (oh * 60 + om);
  } else {
    return bad();
  }
  static const int days_in[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (y < 2000 || y > 2100 || mo < 1 || mo > 12 || d < 1 || d > days_in[mo - 1] + (mo == 2 && leap) ||
      h > 23 || mi > 59 || s > 59 || std::abs(offset_min) > 14 * 60)
    return bad();
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return (static_cast<std::int64_t>(timegm(&tm)) - offset_min * 60) * 1000;
}

Result<std::int64_t> integer_option(const json& v, const char* what, std::int64_t lo, std::int64_t hi) {
  std::int64_t n = 0;
  if (v.is_number_integer()) {
    n = v.get<std::int64_t>();
  } else if (v.is_string() && !v.get<std::string>().empty() &&
             v.get<std::string>().find_first_not_of("0123456789") == std::string::npos &&
             v.get<std::string>().size() < 12) {
    n = std::stoll(v.get<std::string>());
  } else {
    return invalid_argument(std::string(what) + " must be a whole number");
  }
  if (n < lo || n > hi)
    return invalid_argument(std::string(what) + " must be from " + std::to_string(lo) + " to " +
                            std::to_string(hi));
  return n;
}

// The options of either form, as JSON: {name, retry: {max_attempts, spacing_s, on}, window: {from, to,
// days}, start_at, cps}.
Status read_options(const json& o, const ImportDefaults& defaults, CampaignImport& out) {
  if (!o.is_object()) return invalid_argument("the body must be a JSON object");
  if (auto n = o.find("name"); n != o.end() && !n->is_null()) {
    if (!n->is_string() || n->get<std::string>().size() > 200)
      return invalid_argument("name must be text of at most 200 characters");
    out.name = n->get<std::string>();
  }
  CampaignPolicy& p = out.policy;
  p.cps = defaults.default_cps;
  if (auto r = o.find("retry"); r != o.end() && !r->is_null()) {
    if (!r->is_object()) return invalid_argument("retry must be an object {max_attempts, spacing_s, on}");
    if (auto m = r->find("max_attempts"); m != r->end()) {
      auto v = integer_option(*m, "retry.max_attempts", 1, 10);
      if (!v) return v.status();
      p.max_attempts = static_cast<int>(*v);
    }
    if (auto sp = r->find("spacing_s"); sp != r->end()) {
      auto v = integer_option(*sp, "retry.spacing_s", 1, 30LL * 24 * 3600);
      if (!v) return v.status();
      p.retry_spacing_s = *v;
    }
    if (auto on = r->find("on"); on != r->end()) {
      if (!on->is_array())
        return invalid_argument("retry.on must be a list such as [\"busy\",\"no-answer\"]");
      p.retry_on.clear();
      for (const json& w : *on) {
        std::string word = w.is_string() ? w.get<std::string>() : w.dump();
        std::replace(word.begin(), word.end(), '_', '-');
        if (std::find(retry_reasons().begin(), retry_reasons().end(), word) == retry_reasons().end())
          return invalid_argument("retry.on: '" + word.substr(0, 30) +
                                  "' is not one of busy, no-answer, failed, canceled, machine, no-outcome");
        p.retry_on.push_back(word);
      }
    }
  }
  if (auto w = o.find("window"); w != o.end() && !w->is_null()) {
    if (!w->is_object() || !w->contains("from") || !w->contains("to") || !(*w)["from"].is_string() ||
        !(*w)["to"].is_string())
      return invalid_argument("window must be {\"from\": \"09:00\", \"to\": \"20:00\", \"days\"?}");
    auto from = minutes_of((*w)["from"].get<std::string>(), "window.from");
    if (!from) return from.status();
    auto to = minutes_of((*w)["to"].get<std::string>(), "window.to");
    if (!to) return to.status();
    if (*from == *to) return invalid_argument("window.from and window.to must differ");
    p.window_from_min = *from;
    p.window_to_min = *to;
    if (auto d = w->find("days"); d != w->end() && !d->is_null()) {
      auto mask = days_of(*d);
      if (!mask) return mask.status();
      p.window_days = *mask;
    }
  }
  if (auto s = o.find("start_at"); s != o.end() && !s->is_null()) {
    if (!s->is_string())
      return invalid_argument("start_at must be an ISO-8601 time such as 2026-12-08T09:00:00Z");
    auto at = instant_of(s->get<std::string>(), "start_at");
    if (!at) return at.status();
    p.start_at_ms = *at;
    out.scheduled = *at > defaults.now_ms;
  }
  if (auto c = o.find("cps"); c != o.end() && !c->is_null()) {
    double cps = 0;
    if (c->is_number())
      cps = c->get<double>();
    else if (c->is_string())  // the whole text must be the number: "5abc" is refused, not read as 5
      cps = number_or_nan(c->get<std::string>());
    if (!(cps > 0) || cps > kStudioMaxCps)
      return invalid_argument(
          "cps must be more than 0 and at most 20 (Studio's limit of executions per second)");
    p.cps = cps;
  }
  p.cps = std::min(p.cps, kStudioMaxCps);
  return Status::ok();
}

std::string text_of(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// One row: normalised, deduplicated, its zones resolved; else a RejectedRow.
class RowTaker {
 public:
  RowTaker(const ImportDefaults& d, CampaignImport& out) : defaults_(d), out_(out) {}

  void take(std::size_t row, const std::string& phone, json fields) {
    ++out_.total_rows;
    if (phone.empty()) return reject(row, phone, "no phone number");
    auto e164 = normalize_e164(phone, defaults_.default_region);
    if (!e164) return reject(row, phone, e164.status().message());
    auto [it, fresh] = first_row_.emplace(*e164, row);
    if (!fresh) return reject(row, phone, "duplicate of row " + std::to_string(it->second));
    std::string tz = string_field(fields, "tz");
    ImportedContact c;
    c.phone = *e164;
    c.zones = zones_for(tz, *e164, defaults_.default_region);
    c.fields = std::move(fields);
    out_.contacts.push_back(std::move(c));
  }

 private:
  void reject(std::size_t row, const std::string& phone, std::string reason) {
    out_.rejected.push_back({row, utf8_prefix(phone, 64), std::move(reason)});
  }
  const ImportDefaults& defaults_;
  CampaignImport& out_;
  std::unordered_map<std::string, std::size_t> first_row_;
};

Status check_size(const CampaignImport& out, const ImportDefaults& d) {
  if (out.total_rows == 0) return invalid_argument("the campaign has no contacts");
  if (out.total_rows > d.max_contacts)
    return invalid_argument("a campaign holds at most " + std::to_string(d.max_contacts) +
                            " contacts (MAX_CAMPAIGN_CONTACTS); got " + std::to_string(out.total_rows));
  if (out.contacts.empty()) {
    std::string why = "none of the " + std::to_string(out.total_rows) + " rows holds a number to call";
    for (std::size_t i = 0; i < out.rejected.size() && i < 3; ++i)
      why += (i ? "; row " : ": row ") + std::to_string(out.rejected[i].row) + ": " + out.rejected[i].reason;
    return invalid_argument(why);
  }
  return Status::ok();
}

}  // namespace

Result<CampaignImport> import_json(const json& body, const ImportDefaults& defaults) {
  CampaignImport out;
  if (Status s = read_options(body, defaults, out); !s) return s;
  auto contacts = body.find("contacts");
  if (contacts == body.end() || !contacts->is_array())
    return invalid_argument("contacts must be a list of {\"phone\", \"name\"?, ...}");
  if (contacts->size() > defaults.max_contacts)
    return invalid_argument("a campaign holds at most " + std::to_string(defaults.max_contacts) +
                            " contacts (MAX_CAMPAIGN_CONTACTS); got " + std::to_string(contacts->size()));
  RowTaker taker(defaults, out);
  std::size_t row = 0;
  for (const json& c : *contacts) {
    ++row;
    if (!c.is_object()) {
      ++out.total_rows;
      out.rejected.push_back({row, "", "a contact must be an object with a phone"});
      continue;
    }
    json fields = json::object();
    for (const auto& [key, value] : c.items()) {
      if (key == "phone" || value.is_null() || fields.size() >= kMaxColumns) continue;
      fields[key] = utf8_prefix(text_of(value), kMaxFieldChars);
    }
    taker.take(row, text_of(c.value("phone", json(""))), std::move(fields));
  }
  if (Status s = check_size(out, defaults); !s) return s;
  return out;
}

Result<CampaignImport> import_csv(std::string_view body, const std::map<std::string, std::string>& query,
                                  const ImportDefaults& defaults) {
  // The query's values become event data, which must be UTF-8 like the CSV (a URL may carry %FF).
  for (const auto& [key, value] : query)
    if (!is_valid_utf8(value))
      return invalid_argument("the query parameter " + utf8_prefix(key, 64) + " is not UTF-8 text");
  json options = json::object();
  auto q = [&](const char* key) -> const std::string* {
    auto it = query.find(key);
    return it == query.end() || it->second.empty() ? nullptr : &it->second;
  };
  if (auto v = q("name")) options["name"] = *v;
  json retry = json::object();
  if (auto v = q("max_attempts")) retry["max_attempts"] = *v;
  if (auto v = q("retry_spacing_s")) retry["spacing_s"] = *v;
  if (auto v = q("retry_on")) {
    json on = json::array();
    std::size_t start = 0;
    for (;;) {
      std::size_t comma = v->find(',', start);
      std::string word = v->substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!word.empty()) on.push_back(word);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    retry["on"] = on;
  }
  if (!retry.empty()) options["retry"] = retry;
  if (auto v = q("window")) {
    auto dash = v->find('-');
    if (dash == std::string::npos) return invalid_argument("window must look like 09:00-20:00");
    options["window"] = {{"from", v->substr(0, dash)}, {"to", v->substr(dash + 1)}};
    if (auto d = q("days")) options["window"]["days"] = *d;
  } else if (q("days")) {
    return invalid_argument("days needs a window (window=09:00-20:00)");
  }
  if (auto v = q("start_at")) options["start_at"] = *v;
  if (auto v = q("cps")) options["cps"] = *v;

  CampaignImport out;
  if (Status s = read_options(options, defaults, out); !s) return s;
  RowTaker taker(defaults, out);
  std::vector<std::string> header;
  int phone_column = -1;
  Status limit = Status::ok();
  if (!is_valid_utf8(body))
    return invalid_argument("the CSV is not UTF-8 text: save it as UTF-8 (\"CSV UTF-8\" in a spreadsheet)");
  std::size_t breaks_in_cells = 0;  // line breaks inside quoted cells so far: a spreadsheet row holds them
  Status parsed = for_each_csv_record(body, [&](std::vector<std::string>& fields, std::size_t line) {
    std::size_t row_number = line - breaks_in_cells;
    for (const std::string& f : fields)
      breaks_in_cells += static_cast<std::size_t>(std::count(f.begin(), f.end(), '\n'));
    if (header.empty()) {
      if (fields.size() > kMaxColumns) {
        limit = invalid_argument("the CSV has more than 64 columns");
        return false;
      }
      for (std::string& f : fields) {
        std::string name = lower_ascii(f);
        name.erase(0, name.find_first_not_of(" \t"));
        name.erase(name.find_last_not_of(" \t") + 1);
        if (name == "phone" || name == "phone_number" || name == "phonenumber")
          phone_column = static_cast<int>(header.size());
        header.push_back(name);
      }
      if (phone_column < 0) {
        limit = invalid_argument(
            "the CSV header must name a 'phone' column (got: " + csv_line(header).substr(0, 200) + ")");
        return false;
      }
      return true;
    }
    if (out.total_rows >= defaults.max_contacts) {
      limit = invalid_argument("a campaign holds at most " + std::to_string(defaults.max_contacts) +
                               " contacts (MAX_CAMPAIGN_CONTACTS)");
      return false;
    }
    json row = json::object();
    std::string phone;
    for (std::size_t c = 0; c < fields.size() && c < header.size(); ++c) {
      if (static_cast<int>(c) == phone_column) {
        phone = fields[c];
      } else if (!header[c].empty() && !fields[c].empty()) {
        row[header[c]] = utf8_prefix(fields[c], kMaxFieldChars);
      }
    }
    taker.take(row_number, phone, std::move(row));
    return true;
  });
  if (!parsed) return parsed;
  if (!limit) return limit;
  if (header.empty()) return invalid_argument("the CSV is empty: send a header row with a 'phone' column");
  if (Status s = check_size(out, defaults); !s) return s;
  return out;
}

Result<CampaignImport> import_options(const json& body, const ImportDefaults& defaults) {
  CampaignImport out;
  if (Status s = read_options(body, defaults, out); !s) return s;
  return out;
}

CampaignImport import_numbers(const std::vector<std::string>& numbers, const ImportDefaults& defaults) {
  CampaignImport out;
  out.policy.cps = std::min(defaults.default_cps, kStudioMaxCps);
  out.policy.retry_on.clear();
  RowTaker taker(defaults, out);
  std::size_t row = 0;
  for (const std::string& n : numbers) taker.take(++row, n, json::object());
  return out;
}

json to_json(const RejectedRow& r) {
  return {{"row", r.row}, {"phone", r.phone}, {"reason", r.reason}};
}

std::vector<NewEvent> creation_events(const std::string& id, const CampaignImport& in, const std::string& by,
                                      const std::string& source) {
  std::vector<NewEvent> events;
  json created = {{"campaign_id", id},
                  {"name", in.name},
                  {"source", source},
                  {"by", by},
                  {"policy", to_json(in.policy)},
                  {"scheduled", in.scheduled},
                  {"total_rows", in.total_rows},
                  {"accepted", in.contacts.size()},
                  {"rejected", in.rejected.size()}};
  if (!in.account.empty()) created["account"] = in.account;
  if (!in.region.empty()) created["region"] = in.region;
  events.push_back({event_type::campaign_created, std::move(created)});
  for (std::size_t first = 0; first < in.contacts.size(); first += kChunk) {
    json list = json::array();
    for (std::size_t i = first; i < std::min(in.contacts.size(), first + kChunk); ++i) {
      const ImportedContact& c = in.contacts[i];
      list.push_back({{"phone", c.phone}, {"zones", c.zones}, {"fields", c.fields}});
    }
    events.push_back({event_type::contacts_added, {{"first", first}, {"contacts", std::move(list)}}});
  }
  for (std::size_t first = 0; first < in.rejected.size(); first += kChunk) {
    json rows = json::array();
    for (std::size_t i = first; i < std::min(in.rejected.size(), first + kChunk); ++i)
      rows.push_back(to_json(in.rejected[i]));
    events.push_back({event_type::contacts_rejected, {{"rows", std::move(rows)}}});
  }
  return events;
}

}  // namespace voxlog

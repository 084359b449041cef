// Fuzz target: a campaign's CSV import (actors/campaign/csv.hpp, contact_import.hpp). The input's first
// line is the query (name=..&window=09:00-17:00&days=mon-fri&max_attempts=..., split at & and =, not
// decoded), the rest is the CSV body. Properties: nothing crashes; a record written with csv_line reads
// back as itself (once a formula's leading ' is added); an import that succeeds gives E.164 contacts and
// creation events that the event store can write.
#include <map>
#include <string>

#include "actors/campaign/contact_import.hpp"
#include "actors/campaign/csv.hpp"
#include "eventstore/data_json.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

std::vector<std::vector<std::string>> read_all(std::string_view text) {
  std::vector<std::vector<std::string>> records;
  voxlog::for_each_csv_record(text, [&](std::vector<std::string>& fields, std::size_t) {
    records.push_back(fields);
    return records.size() < 1000;
  });
  return records;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body = as_text(data, size);
  std::string_view query_line = take_until(body, '\n');
  std::map<std::string, std::string> query;
  while (!query_line.empty()) {
    std::string_view value = take_until(query_line, '&');
    std::string_view name = take_until(value, '=');
    query[std::string(name)] = std::string(value);
  }

  for (const auto& fields : read_all(body)) {
    auto once = read_all(voxlog::csv_line(fields));
    FUZZ_CHECK(once.size() == 1 && once[0].size() == fields.size());
    auto twice = read_all(voxlog::csv_line(once[0]));
    FUZZ_CHECK(twice.size() == 1 && twice[0] == once[0]);
  }

  voxlog::ImportDefaults defaults;
  defaults.max_contacts = 500;
  defaults.now_ms = 1700000000000;
  auto import = voxlog::import_csv(body, query, defaults);
  if (!import) return 0;
  FUZZ_CHECK(import->contacts.size() + import->rejected.size() == import->total_rows);
  for (const auto& contact : import->contacts)
    FUZZ_CHECK(contact.phone.size() > 1 && contact.phone[0] == '+' &&
               contact.phone.find_first_not_of("0123456789", 1) == std::string::npos);
  for (const auto& event : voxlog::creation_events("CP1", *import, "fuzz", "api")) {
    FUZZ_CHECK(event.data.is_object());
    (void)voxlog::codec::dump_data_json(event.data);  // throws (a crash here) on data the store refuses
  }
  return 0;
}

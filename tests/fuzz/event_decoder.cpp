// Fuzz target: the event store's value decoder (eventstore/codec.hpp) and its JSON reader and writer
// (data_json.hpp), which read every event of the log. The input is a stored value; when its first
// byte is odd, the checksum is fixed first, so the fuzzer gets past it to the lengths and the data.
// Properties: nothing crashes; a decoded event encodes to the same bytes; parse_data_json equals
// nlohmann::json::parse (also when it reuses a previous document) and dump_data_json equals dump().
#include <zlib.h>

#include <string>

#include "eventstore/codec.hpp"
#include "eventstore/data_json.hpp"
#include "eventstore/json_fields.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using nlohmann::json;
namespace codec = voxlog::codec;

void check_data_json(std::string_view text) {
  // nlohmann compares and dumps recursively: the store never holds deeper data (inputs are limited).
  if (!voxlog::json_depth_within(text)) return;
  json expected = json::parse(text, nullptr, false);
  json fresh;
  bool ok = codec::parse_data_json(text, &fresh);
  FUZZ_CHECK(ok == !expected.is_discarded());
  if (!ok) return;
  FUZZ_CHECK(fresh == expected);
  json reused = json::parse(R"({"a":[1,{"b":"c"}],"d":"e","z":{"y":null}})");
  FUZZ_CHECK(codec::parse_data_json(text, &reused) && reused == expected);

  std::string dumped;
  bool dump_ok = true;
  try {
    dumped = expected.dump();
  } catch (const json::exception&) {
    dump_ok = false;
  }
  try {
    std::string fast = codec::dump_data_json(expected);
    FUZZ_CHECK(dump_ok && fast == dumped);
  } catch (const json::exception&) {
    FUZZ_CHECK(!dump_ok);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string value(as_text(data, size));
  if (!value.empty() && (value[0] & 1) && value.size() >= codec::kValueHeaderBytes) {
    auto crc = static_cast<std::uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(value.data() + 4), static_cast<uInt>(value.size() - 4)));
    for (int i = 0; i < 4; ++i) value[i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  }
  codec::EventRecord peeked, record;
  codec::peek_record(value, 7, &peeked);
  if (codec::decode_record(value, 7, &record)) {
    std::string encoded;
    codec::encode_event(record, &encoded);
    FUZZ_CHECK(encoded.substr(4) == value.substr(4) || value[5] != 0 || value[14] != 0 || value[15] != 0);
    check_data_json(record.data_json);
    voxlog::Event event;
    codec::decode_event(value, 7, &event);
  } else {
    check_data_json(value);
  }
  return 0;
}

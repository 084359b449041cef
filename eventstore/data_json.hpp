// parse_data_json: reads the `data` of a stored event (the compact JSON that nlohmann's dump() wrote)
// about twice as fast as nlohmann::json::parse, because replaying the log is mostly this.
// dump_data_json: writes it, byte for byte what dump() writes, several times faster, because every
// append is mostly this.
//
// Contract: the result always equals nlohmann::json::parse(text). The fast path handles what dump()
// writes for webhook parameters (objects, arrays, strings without escapes, integers, true/false/null);
// on anything else (an escape, a float, deep nesting, odd whitespace) it hands the whole text to
// nlohmann. Returns false when the text is not valid JSON. `*out` may hold a previous document: it is
// replaced, reusing its map nodes and string buffers where the shapes match (a replay decodes event
// after event into one Event). Used by codec::decode_event only.
//
// dump_data_json always equals data.dump(), and throws what dump() throws (a string that is not UTF-8).
// Its fast path covers objects, arrays, printable-ASCII strings without quotes or backslashes, integers,
// true/false/null; anything else goes to dump() whole.
//
// Thread-safety: stateless; call from any thread.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace voxlog::codec {

bool parse_data_json(std::string_view text, nlohmann::json* out);
std::string dump_data_json(const nlohmann::json& data);

}  // namespace voxlog::codec

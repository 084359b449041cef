#include "eventstore/data_json.hpp"

#include "eventstore/text.hpp"

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>

namespace voxlog::codec {
namespace {

using nlohmann::json;

constexpr int kMaxFastDepth = 32;

// A recursive-descent reader over the shapes dump() produces. Every method returns false both on bad
// JSON and on input it leaves to nlohmann; the caller then re-parses the whole text with nlohmann, which
// tells the two apart.
class FastReader {
 public:
  explicit FastReader(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool read_document(json* out) { return read_value(out, 0) && p_ == end_; }

 private:
  bool read_value(json* out, int depth) {
    if (p_ == end_ || depth > kMaxFastDepth) return false;
    switch (*p_) {
      case '{': return read_object(out, depth);
      case '[': return read_array(out, depth);
      case '"': {
        std::string_view s;
        if (!read_string(&s)) return false;
        if (out->is_string()) {
          out->get_ref<std::string&>().assign(s.data(), s.size());  // keeps its buffer
        } else {
          *out = std::string(s);
        }
        return true;
      }
      case 't': return read_literal("true", json(true), out);
      case 'f': return read_literal("false", json(false), out);
      case 'n': return read_literal("null", json(nullptr), out);
      default: return read_integer(out);
    }
  }

  // Overwrites the previous value in place while its keys match the text's, in order: a replay decodes
  // event after event of the same shape into one Event, and reusing the map nodes and string buffers
  // avoids nearly every allocation and free. From the first key that differs, the rest is rebuilt.
  bool read_object(json* out, int depth) {
    ++p_;
    if (!out->is_object()) *out = json::object();
    auto& object = out->get_ref<json::object_t&>();
    auto reuse = object.begin();  // the first old entry not yet overwritten
    auto close = [&] {
      object.erase(reuse, object.end());
      ++p_;
      return true;
    };
    if (p_ != end_ && *p_ == '}') return close();
    for (;;) {
      std::string_view key;
      if (p_ == end_ || *p_ != '"' || !read_string(&key)) return false;
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      if (reuse != object.end() && reuse->first == key) {
        if (!read_value(&reuse->second, depth + 1)) return false;
        ++reuse;
      } else {
        reuse = object.erase(reuse, object.end());
        json value;
        if (!read_value(&value, depth + 1)) return false;
        std::size_t before = object.size();
        object.emplace_hint(object.end(), std::string(key), std::move(value));  // dump() sorts keys
        if (object.size() == before) return false;  // a repeated key: nlohmann's rule decides
      }
      if (p_ == end_) return false;
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == '}') return close();
      return false;
    }
  }

  bool read_array(json* out, int depth) {
    ++p_;
    if (!out->is_array()) *out = json::array();
    auto& array = out->get_ref<json::array_t&>();
    std::size_t used = 0;
    auto close = [&] {
      array.erase(array.begin() + static_cast<std::ptrdiff_t>(used), array.end());
      ++p_;
      return true;
    };
    if (p_ != end_ && *p_ == ']') return close();
    for (;;) {
      if (used == array.size()) array.emplace_back();
      if (!read_value(&array[used++], depth + 1)) return false;
      if (p_ == end_) return false;
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == ']') return close();
      return false;
    }
  }

  // A string without escapes or control characters. Bytes above ASCII are checked as nlohmann checks
  // them: a record whose checksum holds may still carry broken UTF-8 (written by hand), and data that
  // dump() would later refuse must not come out of the log.
  bool read_string(std::string_view* out) {
    const char* start = ++p_;
    bool ascii = true;
    while (p_ != end_ && *p_ != '"') {
      auto c = static_cast<unsigned char>(*p_);
      if (c == '\\' || c < 0x20) return false;
      ascii &= c < 0x80;
      ++p_;
    }
    if (p_ == end_) return false;
    *out = std::string_view(start, static_cast<std::size_t>(p_ - start));
    ++p_;
    return ascii || voxlog::is_valid_utf8(*out);
  }

  bool read_literal(std::string_view word, json value, json* out) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    *out = std::move(value);
    return true;
  }

  // Integers as nlohmann types them: unsigned when there is no sign, signed when negative. Floats,
  // leading zeros and values out of range go to nlohmann.
  bool read_integer(json* out) {
    bool negative = *p_ == '-';
    const char* digits = negative ? p_ + 1 : p_;
    const char* q = digits;
    std::uint64_t value = 0;
    while (q != end_ && *q >= '0' && *q <= '9') {
      unsigned d = static_cast<unsigned>(*q - '0');
      if (value > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return false;
      value = value * 10 + d;
      ++q;
    }
    std::size_t length = static_cast<std::size_t>(q - digits);
    if (length == 0 || (length > 1 && *digits == '0')) return false;
    if (q != end_ && (*q == '.' || *q == 'e' || *q == 'E')) return false;
    if (negative) {
      constexpr std::uint64_t kMostNegative = std::uint64_t{1} << 63;
      if (value > kMostNegative) return false;
      *out = value == kMostNegative ? std::numeric_limits<std::int64_t>::min()
                                    : -static_cast<std::int64_t>(value);
    } else {
      *out = value;
    }
    p_ = q;
    return true;
  }

  const char* p_;
  const char* end_;
};

// Writes what dump() writes for the shapes webhooks carry (objects, arrays, strings of printable ASCII
// without quotes or backslashes, integers, true/false/null); returns false on anything else (a float, a
// string that needs an escape or a UTF-8 check, deep nesting), and the caller then dumps with nlohmann.
class FastWriter {
 public:
  explicit FastWriter(std::string* out) : out_(out) {}

  bool write(const json& value, int depth) {
    if (depth > kMaxFastDepth) return false;
    switch (value.type()) {
      case json::value_t::object: {
        const auto& object = value.get_ref<const json::object_t&>();
        out_->push_back('{');
        bool first = true;
        for (const auto& [key, member] : object) {
          if (!first) out_->push_back(',');
          first = false;
          if (!write_string(key)) return false;
          out_->push_back(':');
          if (!write(member, depth + 1)) return false;
        }
        out_->push_back('}');
        return true;
      }
      case json::value_t::array: {
        out_->push_back('[');
        bool first = true;
        for (const json& element : value.get_ref<const json::array_t&>()) {
          if (!first) out_->push_back(',');
          first = false;
          if (!write(element, depth + 1)) return false;
        }
        out_->push_back(']');
        return true;
      }
      case json::value_t::string: return write_string(value.get_ref<const std::string&>());
      case json::value_t::number_integer: return write_integer(value.get<std::int64_t>());
      case json::value_t::number_unsigned: return write_integer(value.get<std::uint64_t>());
      case json::value_t::boolean: out_->append(value.get<bool>() ? "true" : "false"); return true;
      case json::value_t::null: out_->append("null"); return true;
      default: return false;  // floats (their shortest form is nlohmann's), binary, discarded
    }
  }

 private:
  bool write_string(const std::string& s) {
    for (unsigned char c : s)
      if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
    out_->push_back('"');
    out_->append(s);
    out_->push_back('"');
    return true;
  }

  template <class Integer>
  bool write_integer(Integer value) {
    char buffer[24];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    out_->append(buffer, end);
    return ec == std::errc();
  }

  std::string* out_;
};

}  // namespace

std::string dump_data_json(const nlohmann::json& data) {
  std::string text;
  text.reserve(512);  // a webhook's parameters take 400-900 bytes: one or two allocations, not eight
  if (FastWriter(&text).write(data, 0)) return text;
  return data.dump();
}

bool parse_data_json(std::string_view text, nlohmann::json* out) {
  if (FastReader(text).read_document(out)) return true;
  *out = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  return !out->is_discarded();
}

}  // namespace voxlog::codec

#include "tools/simulator/liquid.hpp"

#include <cctype>
#include <cmath>
#include <ctime>
#include <optional>
#include <vector>

namespace voxlog::sim {
namespace {

using nlohmann::json;

// The marker value of the `now` keyword; `date` turns it into the render time.
const char kNowMarker[] = "\x01now";

class ExpressionParser {
 public:
  explicit ExpressionParser(std::string_view text) : text_(text) {}

  void skip_spaces() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool at_end() {
    skip_spaces();
    return pos_ >= text_.size();
  }
  bool consume(char c) {
    skip_spaces();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  // A quoted string, a number, `now`, or a dotted path looked up in `scope`.
  json value(const json& scope) {
    skip_spaces();
    if (pos_ >= text_.size()) return nullptr;
    char c = text_[pos_];
    if (c == '\'' || c == '"') {
      size_t end = text_.find(c, pos_ + 1);
      if (end == std::string_view::npos) end = text_.size();
      std::string literal(text_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = std::min(end + 1, text_.size());
      return literal;
    }
    std::string word = identifier();
    if (word.empty()) {
      ++pos_;  // not an expression character: skip it rather than loop
      return nullptr;
    }
    if (word == "now") return kNowMarker;
    if (std::isdigit(static_cast<unsigned char>(word[0])) || (word[0] == '-' && word.size() > 1)) {
      char* end = nullptr;
      double number = std::strtod(word.c_str(), &end);
      if (end != nullptr && *end == '\0') return as_number(number);
    }
    return lookup(scope, word);
  }

  std::string identifier() {
    skip_spaces();
    size_t begin = pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '[' ||
          c == ']') {
        ++pos_;
      } else {
        break;
      }
    }
    return std::string(text_.substr(begin, pos_ - begin));
  }

  static json as_number(double number) {
    if (std::floor(number) == number && std::fabs(number) < 9e15) return static_cast<int64_t>(number);
    return number;
  }

  static json lookup(const json& scope, const std::string& path) {
    const json* node = &scope;
    size_t begin = 0;
    while (begin <= path.size()) {
      size_t dot = path.find('.', begin);
      std::string key = path.substr(begin, dot == std::string::npos ? std::string::npos : dot - begin);
      if (node->is_object()) {
        auto it = node->find(key);
        if (it == node->end()) return nullptr;
        node = &*it;
      } else if (node->is_array() && !key.empty() && std::isdigit(static_cast<unsigned char>(key[0]))) {
        size_t index = std::stoul(key);
        if (index >= node->size()) return nullptr;
        node = &(*node)[index];
      } else {
        return nullptr;
      }
      if (dot == std::string::npos) break;
      begin = dot + 1;
    }
    return *node;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

std::string to_text(const json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  return value.dump();
}

std::optional<double> to_number(const json& value) {
  if (value.is_number()) return value.get<double>();
  if (!value.is_string()) return std::nullopt;
  const std::string& s = value.get_ref<const std::string&>();
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double number = std::strtod(s.c_str(), &end);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return number;
}

bool is_blank(const json& value) {
  return value.is_null() || (value.is_string() && value.get_ref<const std::string&>().empty()) ||
         (value.is_boolean() && !value.get<bool>());
}

// The dates `date` formats: years 1 to 9999. A number outside (1e300, nan) is not a date: converting it
// to time_t would be undefined, and it is left as it is like any other text that is not a date.
constexpr double kFirstDate = -62135596800.0, kLastDate = 253402300799.0;

std::string format_date(const json& value, const std::string& format,
                        std::chrono::system_clock::time_point now) {
  std::time_t when;
  if (value.is_string() && value.get_ref<const std::string&>() == kNowMarker) {
    when = std::chrono::system_clock::to_time_t(now);
  } else if (value.is_string() && value.get_ref<const std::string&>() == "now") {
    when = std::chrono::system_clock::to_time_t(now);
  } else if (auto seconds = to_number(value); seconds && *seconds >= kFirstDate && *seconds <= kLastDate) {
    when = static_cast<std::time_t>(*seconds);
  } else {
    return to_text(value);  // Studio leaves a date it cannot parse as it is
  }
  // strftime's %s would read the broken-down time as local time; expand it ourselves.
  std::string expanded;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] == '%' && i + 1 < format.size() && format[i + 1] == 's') {
      expanded += std::to_string(static_cast<long long>(when));
      ++i;
    } else {
      expanded += format[i];
    }
  }
  std::tm utc{};
  gmtime_r(&when, &utc);
  char buffer[256];
  size_t n = std::strftime(buffer, sizeof buffer, expanded.c_str(), &utc);
  return std::string(buffer, n);
}

json apply_filter(const std::string& name, const json& input, const std::vector<json>& args,
                  std::chrono::system_clock::time_point now) {
  auto arg = [&](size_t i) { return i < args.size() ? args[i] : json(nullptr); };
  if (name == "default") return is_blank(input) ? arg(0) : input;
  if (name == "plus" || name == "minus") {
    double a = to_number(input).value_or(0), b = to_number(arg(0)).value_or(0);
    return ExpressionParser::as_number(name == "plus" ? a + b : a - b);
  }
  if (name == "replace") {
    std::string text = to_text(input), from = to_text(arg(0)), to = to_text(arg(1));
    if (from.empty()) return text;
    std::string out;
    size_t pos = 0, hit;
    while ((hit = text.find(from, pos)) != std::string::npos) {
      out.append(text, pos, hit - pos).append(to);
      pos = hit + from.size();
    }
    return out.append(text, pos, std::string::npos);
  }
  // Liquid's string filters read a missing value as "" (so `nil | prepend: "x"` is "x").
  if (name == "prepend") return to_text(arg(0)) + to_text(input);
  if (name == "append") return to_text(input) + to_text(arg(0));
  if (name == "date") return format_date(input, to_text(arg(0)), now);
  if (name == "upcase" || name == "downcase") {
    std::string text = to_text(input);
    for (char& c : text) {
      c = static_cast<char>(name == "upcase" ? std::toupper(static_cast<unsigned char>(c))
                                             : std::tolower(static_cast<unsigned char>(c)));
    }
    return text;
  }
  return input;
}

std::string render_expression(std::string_view expression, const json& scope,
                              std::chrono::system_clock::time_point now) {
  ExpressionParser parser(expression);
  json value = parser.value(scope);
  while (parser.consume('|')) {
    std::string filter = parser.identifier();
    std::vector<json> args;
    if (parser.consume(':')) {
      do {
        args.push_back(parser.value(scope));
      } while (parser.consume(','));
    }
    value = apply_filter(filter, value, args, now);
  }
  if (value.is_string() && value.get_ref<const std::string&>() == kNowMarker) {
    return format_date(value, "%Y-%m-%d %H:%M:%S", now);
  }
  return to_text(value);
}

}  // namespace

std::string render_liquid(std::string_view text, const json& scope,
                          std::chrono::system_clock::time_point now) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    out.append(text.substr(pos, open - pos));
    out += render_expression(text.substr(open + 2, close - open - 2), scope, now);
    pos = close + 2;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace voxlog::sim

// read_env_file() (config.hpp): the `.env` file's KEY=VALUE lines, with optional quotes and `export `.
#include <cctype>
#include <fstream>
#include <map>
#include <string>

#include "http/config/config.hpp"
#include "http/config/config_text.hpp"

namespace voxlog {
namespace {

using config_text::for_each_line;
using config_text::trim;

bool valid_key(const std::string& key) {
  if (key.empty() || std::isdigit(static_cast<unsigned char>(key[0]))) return false;
  for (char ch : key) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) return false;
  }
  return true;
}

// Parses the value part of a .env line: "quoted" (with \n \" \\ escapes), 'literal', or bare text where
// " #" starts a comment. Returns false when a quote is not closed or text follows the closing quote.
bool parse_env_value(const std::string& raw, std::string& out) {
  std::string text = trim(raw);
  out.clear();
  if (text.empty()) return true;
  char quote = text[0];
  if (quote != '"' && quote != '\'') {
    auto comment = text.find(" #");
    if (comment == std::string::npos) comment = text.find("\t#");
    out = trim(text.substr(0, comment));
    return true;
  }
  std::size_t i = 1;
  for (; i < text.size() && text[i] != quote; ++i) {
    if (quote == '"' && text[i] == '\\' && i + 1 < text.size()) {
      char next = text[++i];
      out += next == 'n' ? '\n' : next == 't' ? '\t' : next;
    } else {
      out += text[i];
    }
  }
  if (i >= text.size()) return false;  // no closing quote
  std::string rest = trim(text.substr(i + 1));
  return rest.empty() || rest[0] == '#';
}

}  // namespace

Result<std::map<std::string, std::string>> read_env_file(const std::string& path) {
  std::map<std::string, std::string> values;
  std::ifstream in(path);
  if (!in) return values;
  Status read = for_each_line(in, [&](int number, const std::string& line) {
    std::string text = line.rfind("export ", 0) == 0 ? trim(line.substr(7)) : line;
    auto eq = text.find('=');
    std::string where = path + ":" + std::to_string(number);
    if (eq == std::string::npos) return invalid_argument(where + ": expected KEY=VALUE");
    std::string key = trim(text.substr(0, eq));
    if (!valid_key(key)) return invalid_argument(where + ": the name before '=' is not a variable name");
    std::string value;
    if (!parse_env_value(text.substr(eq + 1), value))
      return invalid_argument(where + ": " + key + " has an unterminated quote or text after the quote");
    values[key] = value;
    return Status::ok();
  });
  if (!read) return read;
  if (in.bad()) return unavailable("cannot read " + path);
  return values;
}

}  // namespace voxlog

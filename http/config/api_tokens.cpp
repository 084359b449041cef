#include "http/config/api_tokens.hpp"

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "http/config/config_text.hpp"

namespace voxlog {
namespace {

using config_text::for_each_line;
using config_text::trim;

bool valid_token_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char ch : name)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.')) return false;
  return true;
}

constexpr std::size_t kMinSecretChars = 16;

// One "name:role:secret" entry. `where` names the variable (and line) in errors; the secret never appears.
Status parse_token_entry(const std::string& where, const std::string& entry, std::vector<AccessToken>& out) {
  auto first = entry.find(':');
  auto second = first == std::string::npos ? std::string::npos : entry.find(':', first + 1);
  if (second == std::string::npos) return invalid_argument(where + ": expected name:role:secret");
  AccessToken t;
  t.name = trim(entry.substr(0, first));
  std::string role = trim(entry.substr(first + 1, second - first - 1));
  t.secret = trim(entry.substr(second + 1));
  if (!valid_token_name(t.name))
    return invalid_argument(where + ": a token name is 1 to 64 letters, digits, '_', '-' or '.'");
  if (role == "viewer") {
    t.role = Role::viewer;
  } else if (role == "operator") {
    t.role = Role::operator_;
  } else if (role == "admin") {
    t.role = Role::admin;
  } else {
    return invalid_argument(where + ": token '" + t.name + "' has role '" + role.substr(0, 20) +
                            "'; the roles are viewer, operator and admin");
  }
  if (t.secret.size() < kMinSecretChars)
    return invalid_argument(where + ": token '" + t.name + "' is shorter than " +
                            std::to_string(kMinSecretChars) + " characters");
  out.push_back(std::move(t));
  return Status::ok();
}

Status read_token_file(const std::string& path, std::vector<AccessToken>& out) {
  std::ifstream in(path);
  if (!in) return invalid_argument("API_TOKENS_FILE='" + path + "' cannot be read");
  return for_each_line(in, [&](int number, const std::string& text) {
    return parse_token_entry("API_TOKENS_FILE line " + std::to_string(number), text, out);
  });
}

}  // namespace

// Every token of the configuration; names and secrets must be distinct (a shared secret would make the
// audit trail's `by` ambiguous).
Result<std::vector<AccessToken>> collect_tokens(
    const std::function<std::string(const std::string&)>& lookup) {
  std::vector<AccessToken> tokens;
  if (auto v = lookup("API_TOKEN"); !v.empty()) {
    if (v.size() < kMinSecretChars)
      return invalid_argument("API_TOKEN is shorter than " + std::to_string(kMinSecretChars) + " characters");
    tokens.push_back({"api", Role::admin, v});
  }
  if (auto v = lookup("API_TOKENS"); !v.empty()) {
    std::stringstream in(v);
    std::string entry;
    int index = 0;
    while (std::getline(in, entry, ',')) {
      ++index;
      if (trim(entry).empty()) continue;
      if (auto st = parse_token_entry("API_TOKENS entry " + std::to_string(index), entry, tokens); !st)
        return st;
    }
  }
  if (auto v = lookup("API_TOKENS_FILE"); !v.empty()) {
    if (auto st = read_token_file(v, tokens); !st) return st;
  }
  if (auto v = lookup("METRICS_TOKEN"); !v.empty()) {
    if (v.size() < kMinSecretChars)
      return invalid_argument("METRICS_TOKEN is shorter than " + std::to_string(kMinSecretChars) +
                              " characters");
    tokens.push_back({"metrics", Role::metrics, v});
  }
  std::set<std::string> names, secrets;
  for (const auto& t : tokens) {
    if (!names.insert(t.name).second) return invalid_argument("two tokens are named '" + t.name + "'");
    if (!secrets.insert(t.secret).second)
      return invalid_argument("token '" + t.name + "' has the same secret as another token");
  }
  return tokens;
}

}  // namespace voxlog

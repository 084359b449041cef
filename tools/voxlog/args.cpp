#include "tools/voxlog/args.hpp"

#include <iostream>

namespace voxlog::cli {

const std::vector<std::string>& Options::all(const std::string& name) const {
  static const std::vector<std::string> kNone;
  auto it = values_.find(name);
  return it == values_.end() ? kNone : it->second;
}

std::string Options::get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second.front();
}

Result<std::uint64_t> Options::get_count(const std::string& name, std::uint64_t fallback) const {
  if (!has(name)) return fallback;
  const std::string text = get(name);
  bool digits_only =
      !text.empty() && text.size() <= 19 && text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits_only)
    return invalid_argument("--" + name + " wants a non-negative integer, got '" + text + "'");
  return static_cast<std::uint64_t>(std::stoull(text));
}

Result<Options> parse_options(const std::vector<std::string>& words, const std::vector<OptionSpec>& specs) {
  Options options;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (word.rfind("--", 0) != 0 || word.size() == 2)
      return invalid_argument("unexpected argument '" + word + "'");
    std::string name = word.substr(2), value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      inline_value = true;
    }
    const OptionSpec* spec = nullptr;
    for (const OptionSpec& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (!spec) return invalid_argument("unknown option '--" + name + "'");
    if (spec->takes_value && !inline_value) {
      if (i + 1 >= words.size()) return invalid_argument("--" + name + " needs a value");
      value = words[++i];
    } else if (!spec->takes_value && inline_value) {
      return invalid_argument("--" + name + " takes no value");
    }
    auto& slot = options.values_[name];
    if (!slot.empty() && !spec->repeatable) return invalid_argument("--" + name + " given twice");
    slot.push_back(value);
  }
  return options;
}

Result<std::unique_ptr<EventStore>> open_log_read_only(const Args& args) {
  StoreOptions options;
  options.read_only = true;
  return EventStore::open_url(args.log_url, args.log_dir(), options);
}

int report_failure(const Args& args, const Status& status, int exit_code) {
  std::cerr << "voxlog " << args.command << ": " << status.to_string() << "\n";
  return exit_code;
}

}  // namespace voxlog::cli

// Text helpers shared by the files of http/config/ (not part of the config API): trimming, and walking the
// lines of a `.env` or token file, so that both files read lines the same way.
//
// Contract: private to http/config/*.cpp. Pure functions; any thread may call them.
#pragma once

#include <functional>
#include <istream>
#include <string>

#include "eventstore/status.hpp"

namespace voxlog::config_text {

// `s` without leading and trailing spaces, tabs, CRs and LFs.
inline std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  auto begin = s.find_first_not_of(ws);
  if (begin == std::string::npos) return "";
  auto end = s.find_last_not_of(ws);
  return s.substr(begin, end - begin + 1);
}

// Calls `take(number, text)` for each line of `in` that is neither blank nor a '#' comment, trimmed;
// stops at the first error.
inline Status for_each_line(std::istream& in, const std::function<Status(int, const std::string&)>& take) {
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string text = trim(line);
    if (text.empty() || text[0] == '#') continue;
    if (Status s = take(number, text); !s) return s;
  }
  return Status::ok();
}

}  // namespace voxlog::config_text

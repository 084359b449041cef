// LOG_URL: which log backend a URL names, and the URL as it may be shown.
//
// Contract: pure functions. A LOG_URL is empty (the LMDB log in DATA_DIR) or a libpq connection URI,
// postgresql://[user[:password]@]host[:port][,host[:port]...][/dbname][?param=value&...] (postgres://
// too). Its password (in the user part or as ?password=) is a secret: redact() is what logs, errors and
// metrics may print, and scheme_of()'s errors name only the scheme.
//
// Thread-safety: stateless.
#pragma once

#include <string>

#include "eventstore/status.hpp"

namespace voxlog::log_url {

enum class Backend { lmdb, postgresql };

// Empty: lmdb. postgresql:// or postgres://: postgresql. Anything else: invalid_argument.
Result<Backend> backend_of(const std::string& url);

// `url` with every password replaced by "***" ("postgresql://app:***@db1,db2/voxlog").
std::string redact(const std::string& url);

}  // namespace voxlog::log_url

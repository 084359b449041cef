// CSV as RFC 4180 writes it: the one reader and writer of the campaign imports and exports.
//
// Contract: for_each_csv_record() calls `record` with each record's fields in order, and the 1-based line
// number where the record starts, until it returns false. Fields are separated by commas; records end at
// CRLF or LF (a final line break is optional); a field in double quotes may hold commas, line breaks and
// "" for a quote. A UTF-8 byte-order mark at the start is skipped. Blank lines are skipped. A quoted field
// that never ends, or text after a closing quote, is invalid_argument naming the line. It reads in place:
// memory is one record's fields, whatever the size of the text. csv_field() quotes a field when it must
// (comma, quote, CR, LF, a leading byte-order mark, or a leading =+-@ that a spreadsheet would run as a
// formula: then prefixed by ').
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "eventstore/status.hpp"

namespace voxlog {

Status for_each_csv_record(
    std::string_view text,
    const std::function<bool(std::vector<std::string>& fields, std::size_t line)>& record);

std::string csv_field(std::string_view value);
std::string csv_line(const std::vector<std::string>& fields);  // with CRLF

}  // namespace voxlog

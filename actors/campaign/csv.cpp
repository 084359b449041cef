#include "actors/campaign/csv.hpp"

namespace voxlog {

Status for_each_csv_record(
    std::string_view text,
    const std::function<bool(std::vector<std::string>& fields, std::size_t line)>& record) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<std::string> fields;
  std::string field;
  std::size_t line = 1, record_line = 1, i = 0;
  bool quoted_field = false;  // the current field was quoted (and closed)
  bool any = false;           // the current record has a character or a separator
  auto end_record = [&]() -> bool {
    fields.push_back(std::move(field));
    field.clear();
    bool blank = !any;
    any = false;
    quoted_field = false;
    bool go_on = blank || record(fields, record_line);
    fields.clear();
    return go_on;
  };
  while (i < text.size()) {
    char c = text[i];
    if (c == '"' && field.empty() && !quoted_field) {
      any = true;
      std::size_t start_line = line;
      ++i;
      for (;;) {
        if (i >= text.size())
          return invalid_argument("CSV line " + std::to_string(start_line) + ": a quoted field never ends");
        char q = text[i++];
        if (q == '"') {
          if (i < text.size() && text[i] == '"') {
            field += '"';
            ++i;
            continue;
          }
          break;
        }
        if (q == '\n') ++line;
        field += q;
      }
      quoted_field = true;
      if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
        return invalid_argument("CSV line " + std::to_string(line) + ": text after a closing quote");
      continue;
    }
    if (c == ',') {
      any = true;
      fields.push_back(std::move(field));
      field.clear();
      quoted_field = false;
      ++i;
    } else if (c == '\r' || c == '\n') {
      i += (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ? 2 : 1;
      if (!end_record()) return Status::ok();
      record_line = ++line;
    } else {
      any = true;
      field += c;
      ++i;
    }
  }
  if (any) end_record();
  return Status::ok();
}

std::string csv_field(std::string_view value) {
  std::string v(value);
  if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@')) {
    // "+44..." is a phone number, not a formula: left alone when the rest is digits and spaces.
    bool number = v[0] == '+' && v.size() > 1 && v.find_first_not_of("0123456789 ", 1) == std::string::npos;
    if (!number) v = "'" + v;
  }
  // A leading byte-order mark is quoted too: at the start of a file a reader (this one, spreadsheets)
  // would drop it as the file's own.
  bool leading_bom = v.compare(0, 3, "\xEF\xBB\xBF") == 0;
  if (!leading_bom && v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_line(const std::vector<std::string>& fields) {
  if (fields.size() == 1 && fields[0].empty()) return "\"\"\r\n";  // not a blank line, which readers skip
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    out += csv_field(fields[i]);
  }
  return out + "\r\n";
}

}  // namespace voxlog

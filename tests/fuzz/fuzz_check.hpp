// What the fuzz targets share: FUZZ_CHECK, an assertion that holds in every build (NDEBUG or not), so a
// broken property is a crash that libFuzzer saves and the replay of the regressions reports; and
// `as_text`, the fuzzer's bytes as a string_view.
//
// Thread-safety: the targets run one input at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(condition)                                                               \
  do {                                                                                      \
    if (!(condition)) {                                                                     \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                         \
    }                                                                                       \
  } while (false)

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The input cut at the first `separator`: the part before it (all of it when there is none) and the rest.
inline std::string_view take_until(std::string_view& text, char separator) {
  std::size_t at = text.find(separator);
  std::string_view head = text.substr(0, at);
  text = at == std::string_view::npos ? std::string_view() : text.substr(at + 1);
  return head;
}

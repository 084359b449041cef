// A small renderer for the Liquid that Studio flows use: `{{ expr | filter: arg, ... }}` output tags.
//
// Contract: `render_liquid` replaces every `{{ ... }}` in `text` with the value of its expression looked up
// in `scope` (a JSON object such as {"flow": {...}, "contact": {...}, "widgets": {...}}) and passed through
// its filters. Expressions are dotted paths (`widgets.call-1.CallSid`), quoted strings, numbers or `now`.
// Filters: default, plus, minus, replace, prepend, append, date (strftime, UTC, plus %s), upcase,
// downcase; an unknown filter leaves the value unchanged. `default` replaces nil, false and "" (as
// Twilio documents it), so `x | default: "~" | prepend: " on " | replace: " on ~", ""` is " on <x>" or
// "" (flow.json builds its sentences so). Like Studio, an unknown variable renders as the empty string
// and values are inserted raw (no JSON escaping). Text outside output tags, `{% %}` tags included, is kept.
// Thread-safety: a pure function; call it from any thread.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace voxlog::sim {

std::string render_liquid(std::string_view text, const nlohmann::json& scope,
                          std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace voxlog::sim

// read_json: JSON text to a Json tree, accepting and refusing exactly what
// nlohmann's Json::parse does, in a third of its time. The counterpart of
// JsonWriter.
#pragma once

#include <cstddef>
#include <string_view>

#include "rpc/dispatcher.h"

namespace srmi::rpc {

/// Parses `text` into `out` as `Json::parse(text, nullptr, false)` would:
/// RFC 8259 JSON with surrounding whitespace and an optional UTF-8 byte order
/// mark; strings checked as UTF-8 and their \u escapes as UTF-16 pairs; an
/// integer is unsigned when positive and fits 64 bits, signed when negative
/// and fits, else a double, and a double must be finite; a key given twice
/// keeps its first place and its last value. Returns false (leaving `out`
/// unspecified) where nlohmann would discard the text, and also for arrays
/// and objects nested deeper than `max_depth` (nlohmann has no such limit:
/// callers refuse those before, with nests_deeper_than()).
///
/// Why not nlohmann's own: its lexer copies every byte into a token buffer
/// one push_back at a time, and parsing was two thirds of the dispatcher's
/// time for a small request. Tests and the fuzzer compare the two.
bool read_json(std::string_view text, Json& out, std::size_t max_depth);

}  // namespace srmi::rpc

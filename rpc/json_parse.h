// parse_json: request text to a Json tree, read by simdjson, with nlohmann's
// parser as the judge of every text simdjson refuses.
#pragma once

#include <cstddef>
#include <string_view>

#include "rpc/dispatcher.h"

namespace srmi::rpc {

/// Parses `text` into `out` with the verdict and the tree of
/// `Json::parse(text, nullptr, false)`: RFC 8259 JSON, strings checked as
/// UTF-8, a positive integer unsigned and a negative one signed while they fit
/// 64 bits, else a double; a key given twice keeps its first place and its
/// last value. Returns false (leaving `out` unspecified) where nlohmann would
/// discard the text, and for arrays and objects nested deeper than
/// `max_depth` (the dispatcher tells that refusal from a parse error with
/// nests_deeper_than()). The one difference from nlohmann: `-0` is read as
/// unsigned 0 (nlohmann: signed 0), the same number in every comparison and
/// every answer. Thread-safe; keeps a small parser per thread.
///
/// Why not nlohmann's parser alone: its lexer copies each byte into a token
/// buffer, and parsing took two thirds of a small request's time (measured
/// in docs/PERFORMANCE.md). simdjson reads the usual request, and what it
/// refuses (an error, a byte order mark, an integer beyond 64 bits, a NUL
/// byte that nlohmann takes for the end) goes to nlohmann's SAX parser, so
/// refusals and those rare cases are nlohmann's own.
bool parse_json(std::string_view text, Json& out, std::size_t max_depth);

}  // namespace srmi::rpc

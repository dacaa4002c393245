// read_json: JSON text to a Json tree, accepting and refusing exactly what
// nlohmann's Json::parse does, in a third of its time. The counterpart of
// JsonWriter.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
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
/// and objects nested deeper than `max_depth` (nlohmann has no such limit;
/// the dispatcher tells that refusal from a parse error with
/// nests_deeper_than()).
///
/// Why not nlohmann's own: its lexer copies every byte into a token buffer
/// one push_back at a time, and parsing was two thirds of the dispatcher's
/// time for a small request. Tests and the fuzzer compare the two.
bool read_json(std::string_view text, Json& out, std::size_t max_depth);

/// The same reader, pulled by the caller: for a large document turned
/// straight into the caller's own structures, without a tree in between
/// (a config of 100 000 identifiers). The grammar and every check are
/// read_json's; each call returns false where read_json would refuse the
/// text, or where a callback returned false.
class JsonPullReader {
  public:
    /// Skips a byte order mark, as read_json does.
    JsonPullReader(std::string_view text, std::size_t max_depth);
    ~JsonPullReader();
    JsonPullReader(const JsonPullReader&) = delete;
    JsonPullReader& operator=(const JsonPullReader&) = delete;

    /// The first character of the next value, after whitespace ('{', '[',
    /// '"', a digit ...), or '\0' at the end of the text.
    char peek();
    /// True when only whitespace (or a NUL and anything after it) is left.
    bool at_end();
    /// The next value, whole, as a tree.
    bool value(Json& out);
    /// The next value, which must be a string.
    bool string(std::string& out);
    /// The next value, which must be an object: `member` is called with each
    /// key in turn and must read that member's value. Keys given twice are
    /// the caller's to notice.
    bool object(const std::function<bool(std::string& key)>& member);
    /// The next value, which must be an array: `element` is called for each
    /// element and must read it.
    bool array(const std::function<bool()>& element);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace srmi::rpc

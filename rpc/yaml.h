// YAML text to JSON and back, through libyaml: the API description is written
// and committed as YAML, and handled as JSON in between.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "rpc/dispatcher.h"

namespace srmi::rpc {

/// A YAML text that cannot be read, or holds what JSON cannot (an alias, a
/// non-scalar key, a key twice); what() names the line.
class YamlError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// The one document of `text` as JSON, members in their written order. Plain
/// scalars are typed by YAML 1.2's core schema (`null`, `~`, `true`, `false`,
/// integers, decimals); quoted ones are strings. Throws YamlError.
Json read_yaml(std::string_view text);

/// `value` as a block-style YAML document that read_yaml (and any YAML 1.1 or
/// 1.2 reader) reads back as the same JSON: strings that would read as another
/// type are quoted, multi-line strings are literal blocks, and a collection of
/// scalars that fits a short line is written in flow style. Deterministic.
std::string write_yaml(const Json& value);

}  // namespace srmi::rpc

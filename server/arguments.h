// Arguments: a command line read by Boost.Program_options the one way every
// srmi command takes it (the server's flags, `srmi call`, `srmi watch`).
#pragma once

#include <boost/program_options/options_description.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace srmi::server {

/// A command line that does not follow its options' description.
class ArgumentError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// One option (`name` without dashes, its value or "") or operand (`name`
/// empty), in the order given: a later flag may override an earlier one.
struct Argument {
    std::string name;
    std::string value;
};

/// Reads `args` (no program name) by `options`: long options only, as
/// `--name VALUE` or `--name=VALUE`, never abbreviated; `-h` and `-V` stand
/// for `--help` and `--version` where those are declared; anything else,
/// and all after `--`, is an operand (so a value such as -3 needs no `--`).
/// Throws ArgumentError: "unknown option '--x'", "option --x needs a value",
/// "option --x takes no value".
std::vector<Argument> read_arguments(const std::vector<std::string>& args,
                                     const boost::program_options::options_description& options);

}  // namespace srmi::server

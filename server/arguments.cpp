// Arguments: Boost.Program_options parses; this fixes the style (long
// options, no guessing), keeps the order, and words the errors as srmi's.
#include "server/arguments.h"

#include <boost/program_options/errors.hpp>
#include <boost/program_options/parsers.hpp>
#include <boost/program_options/positional_options.hpp>
#include <boost/program_options/value_semantic.hpp>

namespace srmi::server {

namespace po = boost::program_options;

namespace {

// The hidden option the operands are collected under.
constexpr const char* kOperand = "operand";

std::string option_name(const po::error_with_option_name& e) {
    std::string name = e.get_option_name();  // "--bogus=1" as typed, for an unknown option
    return name.substr(0, name.find('='));
}

}  // namespace

std::vector<Argument> read_arguments(const std::vector<std::string>& args,
                                     const po::options_description& options) {
    po::options_description all;
    all.add(options);
    all.add_options()(kOperand, po::value<std::vector<std::string>>());
    po::positional_options_description operands;
    operands.add(kOperand, -1);
    const auto short_alias =
        [&options](const std::string& token) -> std::pair<std::string, std::string> {
        const char* name = token == "-h" ? "help" : token == "-V" ? "version" : nullptr;
        if (name != nullptr && options.find_nothrow(name, false) != nullptr) return {name, ""};
        return {};
    };

    // "--name=" gives an empty value, which the parser takes for a missing
    // one: handed over as "--name" "", it is read as that empty value.
    std::vector<std::string> tokens;
    tokens.reserve(args.size());
    for (auto arg = args.begin(); arg != args.end(); ++arg) {
        if (*arg == "--") {
            tokens.insert(tokens.end(), arg, args.end());
            break;
        }
        if (arg->starts_with("--") && arg->size() > 3 && arg->find('=') == arg->size() - 1) {
            tokens.push_back(arg->substr(0, arg->size() - 1));
            tokens.emplace_back();
        } else {
            tokens.push_back(*arg);
        }
    }

    po::parsed_options parsed(&all);
    try {
        namespace style = po::command_line_style;
        parsed = po::command_line_parser(tokens)
                     .options(all)
                     .positional(operands)
                     .style(style::allow_long | style::long_allow_adjacent | style::long_allow_next)
                     .extra_parser(short_alias)
                     .run();
    } catch (const po::unknown_option& e) {
        throw ArgumentError("unknown option '" + option_name(e) + "'");
    } catch (const po::invalid_command_line_syntax& e) {
        if (e.kind() == po::invalid_syntax::missing_parameter) {
            throw ArgumentError("option " + option_name(e) + " needs a value");
        }
        if (e.kind() == po::invalid_syntax::extra_parameter) {
            throw ArgumentError("option " + option_name(e) + " takes no value");
        }
        throw ArgumentError(e.what());
    } catch (const po::error& e) {
        throw ArgumentError(e.what());
    }

    std::vector<Argument> arguments;
    arguments.reserve(parsed.options.size());
    for (auto& option : parsed.options) {
        if (option.string_key == kOperand) {
            // Typed as --operand, not standing as an operand: no such option.
            if (option.position_key < 0) throw ArgumentError("unknown option '--operand'");
            arguments.push_back({"", option.value.at(0)});
        } else {
            arguments.push_back(
                {option.string_key, option.value.empty() ? "" : option.value.front()});
        }
    }
    return arguments;
}

}  // namespace srmi::server

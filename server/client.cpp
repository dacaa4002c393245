// Cli: each network step starts one asynchronous operation and runs the
// io_context until that operation completes. The code reads like a synchronous
// client, yet Beast's stream timeouts (which apply only to asynchronous
// operations) and watch's SIGINT/SIGTERM handling (a signal_set that cancels
// the read in progress) both work.
#include "server/client.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstdint>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/value_semantic.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <nlohmann/json.hpp>

#include "server/arguments.h"
#include "version.h"

namespace srmi::server {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Json = nlohmann::ordered_json;  // keeps the member order the server chose
using Clock = std::chrono::steady_clock;

constexpr int kExitOk = 0;
constexpr int kExitRpcError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnreachable = 3;

constexpr const char* kDefaultMiUrl = "http://127.0.0.1:8888/mi";
constexpr double kDefaultTimeout = 10;        // seconds, for call
constexpr double kMaxTimeout = 24 * 3600;     // seconds
constexpr std::uint64_t kAnswerLimit = 64 * 1024 * 1024;
constexpr std::size_t kEventLimit = 16 * 1024 * 1024;  // one SSE line or event
constexpr std::size_t kErrorBodyShown = 200;           // bytes of a refusal quoted
constexpr std::chrono::seconds kWatchConnectTimeout{10};
// The server writes a keep-alive comment every 15 s; silence this long means
// the connection is dead even if TCP has not noticed.
constexpr std::chrono::seconds kWatchIdleTimeout{60};

/// A bad command line. `with_usage`: the usage text helps (a syntax mistake,
/// not a bad value).
class UsageError : public std::runtime_error {
public:
    explicit UsageError(const std::string& what, bool with_usage = true)
        : std::runtime_error(what), with_usage_(with_usage) {}
    bool with_usage() const { return with_usage_; }

private:
    bool with_usage_;
};

/// The server cannot be reached or gives no usable answer.
class Unreachable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

std::string fold(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// --- URLs ------------------------------------------------------------------------

/// An http:// URL (Boost.URL), with what connecting and the request line need.
struct Url {
    boost::urls::url url;  // no fragment; its path at least "/"

    std::string host() const { return url.host_address(); }  // IPv6 without brackets
    std::string port() const { return url.has_port() ? std::to_string(url.port_number()) : "80"; }
    std::string authority() const {
        return std::string(url.encoded_host_and_port());
    }  // the Host header
    std::string target() const { return std::string(url.encoded_target()); }
    std::string text() const { return std::string(url.buffer()); }
    std::string endpoint() const {
        return (url.host_type() == boost::urls::host_type::ipv6 ? "[" + host() + "]" : host()) +
               ":" + port();
    }
};

Url parse_url(const std::string& text) {
    const auto bad = [&text](const std::string& why) {
        return UsageError("bad URL '" + text + "': " + why, false);
    };
    if (text.find("://") == std::string::npos) throw bad("it must begin with http://");
    auto parsed = boost::urls::parse_uri(text);
    if (!parsed) throw bad("not a URL (" + parsed.error().message() + ")");
    Url url{*parsed};
    if (url.url.scheme_id() == boost::urls::scheme::https) {
        throw UsageError("https URLs are not supported: call and watch speak plain http:// only",
                         false);
    }
    if (url.url.scheme_id() != boost::urls::scheme::http) throw bad("only http:// is supported");
    if (url.url.encoded_host().empty()) {
        const bool ipv6 = std::count(text.begin(), text.end(), ':') > 2;
        throw bad(ipv6 ? "an IPv6 address needs brackets: http://[::1]:8888/mi" : "no host");
    }
    if (url.url.has_userinfo()) throw bad("user names are not supported");
    if (url.url.host_type() == boost::urls::host_type::ipvfuture)
        throw bad("unknown kind of address");
    if (url.url.has_port()) {
        // Digits by the URL grammar, but of any number: port_number() wraps.
        const std::string_view digits = url.url.port();
        unsigned port = 0;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
        if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
            port == 0 || port > 65535) {
            throw bad("port must be a number from 1 to 65535");
        }
    }
    url.url.remove_fragment();
    if (url.url.encoded_path().empty()) url.url.set_encoded_path("/");
    return url;
}

/// The /events URL of the server `url` names: a URL ending in /mi (the
/// default's) or without a path is followed at /events; any other path is
/// taken as the events URL itself (e.g. behind a proxy).
Url events_url(Url url) {
    const std::string path(url.url.encoded_path());
    if (path == "/") {
        url.url.set_encoded_path("/events");
    } else if (path.ends_with("/mi")) {
        url.url.set_encoded_path(path.substr(0, path.size() - 2) + "events");
    } else if (path.ends_with("/mi/")) {
        url.url.set_encoded_path(path.substr(0, path.size() - 3) + "events");
    }
    return url;
}

// --- One connection ---------------------------------------------------------------

/// Runs `ioc` until the operation that `start` begins (handing it the
/// completion handler) has completed, and returns its error. Other pending work,
/// such as a signal_set, stays pending.
template <class Start>
beast::error_code complete(net::io_context& ioc, Start&& start) {
    std::optional<beast::error_code> result;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    if (ioc.stopped()) ioc.restart();
    while (!result && ioc.run_one() != 0) {
    }
    return result.value_or(net::error::operation_aborted);
}

std::string seconds_text(double seconds) {
    std::ostringstream out;
    out << seconds;
    return out.str();
}

/// One HTTP/1.1 connection to the server a URL names, used from one thread.
class Connection {
public:
    /// `timeout_text` ("10 s") completes the message of a timed-out step.
    Connection(net::io_context& ioc, Url url, std::string timeout_text)
        : ioc_(ioc), url_(std::move(url)), timeout_text_(std::move(timeout_text)), stream_(ioc) {}

    /// Connects before `deadline`. Throws Unreachable.
    void connect(Clock::time_point deadline) {
        tcp::resolver resolver(ioc_);
        beast::error_code ec;
        const auto endpoints = resolver.resolve(url_.host(), url_.port(), ec);
        if (ec) throw Unreachable("cannot resolve " + url_.host() + ": " + ec.message());
        stream_.expires_at(deadline);
        ec = complete(ioc_, [&](auto handler) { stream_.async_connect(endpoints, std::move(handler)); });
        if (ec) throw Unreachable("cannot connect to " + url_.endpoint() + ": " + describe(ec));
    }

    /// Sends `request` before `deadline`. Throws Unreachable.
    template <class Body>
    void send(http::request<Body>& request, Clock::time_point deadline) {
        request.set(http::field::host, url_.authority());
        request.set(http::field::user_agent, std::string("srmi/") + srmi::kVersion);
        // From the environment, not a flag: a command line is visible to every user.
        if (const char* token = std::getenv("SRMI_TOKEN"); token != nullptr && *token != '\0') {
            request.set(http::field::authorization, std::string("Bearer ") + token);
        }
        request.prepare_payload();
        stream_.expires_at(deadline);
        const auto ec = complete(ioc_, [&](auto handler) {
            http::async_write(stream_, request, std::move(handler));
        });
        if (ec) throw Unreachable("sending to " + url_.endpoint() + ": " + describe(ec));
    }

    /// Reads the response header into `parser` before `deadline`. Throws Unreachable.
    template <class Parser>
    void read_header(Parser& parser, Clock::time_point deadline) {
        stream_.expires_at(deadline);
        const auto ec = complete(ioc_, [&](auto handler) {
            http::async_read_header(stream_, buffer_, parser, std::move(handler));
        });
        if (ec) throw Unreachable(reading_error(ec));
    }

    /// Reads the whole response into `parser` before `deadline`. Throws Unreachable.
    template <class Parser>
    void read(Parser& parser, Clock::time_point deadline) {
        stream_.expires_at(deadline);
        const auto ec = complete(ioc_, [&](auto handler) {
            http::async_read(stream_, buffer_, parser, std::move(handler));
        });
        if (ec) throw Unreachable(reading_error(ec));
    }

    /// Reads what has arrived of the body into `parser` (a buffer_body one
    /// whose buffer is set), waiting at most `idle`. Returns the error:
    /// none or need_buffer when data came.
    template <class Parser>
    beast::error_code read_some(Parser& parser, std::chrono::seconds idle) {
        stream_.expires_after(idle);
        return complete(ioc_, [&](auto handler) {
            http::async_read_some(stream_, buffer_, parser, std::move(handler));
        });
    }

    /// Aborts the operation in progress (it completes with operation_aborted).
    void cancel() { stream_.cancel(); }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
    }

private:
    std::string describe(beast::error_code ec) const {
        return ec == beast::error::timeout ? "timed out after " + timeout_text_ : ec.message();
    }

    std::string reading_error(beast::error_code ec) const {
        if (ec == http::error::end_of_stream || ec == http::error::partial_message) {
            return url_.endpoint() + " closed the connection without a complete answer";
        }
        if (ec == beast::error::timeout) return "no answer from " + url_.endpoint() + " within " + timeout_text_;
        return "reading from " + url_.endpoint() + ": " + ec.message();
    }

    net::io_context& ioc_;
    Url url_;
    std::string timeout_text_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
};

/// The first line of a refusal's body, cut short, for an error message.
std::string excerpt(std::string_view body) {
    const auto eol = body.find_first_of("\r\n");
    std::string line(body.substr(0, eol));
    if (line.size() > kErrorBodyShown) line = line.substr(0, kErrorBodyShown) + "...";
    return line;
}

std::string http_refusal(const Url& url, unsigned status, std::string_view reason,
                         std::string_view body) {
    std::string message = "HTTP " + std::to_string(status);
    if (!reason.empty()) message += " " + std::string(reason);
    message += " from " + url.text();
    if (const auto text = excerpt(body); !text.empty() && fold(text) != fold(reason)) message += ": " + text;
    if (status == 401) {
        const char* token = std::getenv("SRMI_TOKEN");
        message += token != nullptr && *token != '\0' ? " (SRMI_TOKEN is not a token this server knows)"
                                                        : " (set SRMI_TOKEN to an access token)";
    }
    return message;
}

std::string dump(const Json& value, int indent) {
    return value.dump(indent, ' ', false, Json::error_handler_t::replace);
}

// --- call --------------------------------------------------------------------------

std::string call_usage() {
    return R"TEXT(Usage: srmi call [--url URL] [--timeout SECONDS] [--raw-strings] METHOD [PARAM...]

Calls METHOD on a running srmi (or any OpenSIPS-style JSON-RPC 2.0 endpoint)
and prints its result as indented JSON on stdout.

Parameters: name=value arguments are sent as named parameters (an object),
bare values as positional ones (an array, in the order given); the two cannot
be mixed. A value that is valid JSON (-3, 2.5, true, null, "text", [1,2],
{"a":1}) is sent as that JSON, anything else as a string: status=-3 sends the
number -3, "details=warming up" the string "warming up", '"42"' the string
"42". Without parameters the request has no "params" member.

Options:
  --url URL          the JSON-RPC endpoint (default http://127.0.0.1:8888/mi)
  --timeout SECONDS  give up after this long, connecting included (default 10)
  --raw-strings      send every value as a string, as opensips-mi does
  --                 end of options: what follows is METHOD and parameters
  -h, --help         print this help and exit

Environment: SRMI_TOKEN, when set, is sent as "Authorization: Bearer TOKEN"
(a server with access control answers 401 without it).

Exit status: 0 with the result on stdout; 1 for a JSON-RPC error, printed on
stderr as "CODE: message (data)"; 2 for bad usage; 3 when the server cannot be
reached or gives no JSON-RPC answer.
)TEXT";
}

struct CallOptions {
    bool help = false;
    std::string url = kDefaultMiUrl;
    double timeout = kDefaultTimeout;
    bool raw_strings = false;
    std::string method;
    std::vector<std::string> params;
};

double parse_timeout(const std::string& text) {
    double value = 0;
    std::size_t used = 0;
    try {
        value = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != text.size() || !(value > 0) || value > kMaxTimeout) {
        throw UsageError("--timeout: '" + text + "' is not a number of seconds above 0", false);
    }
    return value;
}

/// `args` read by `described` (Boost.Program_options, as the server's flags).
/// Throws UsageError.
std::vector<Argument> client_arguments(
    int argc, const char* const* argv,
    const boost::program_options::options_description& described) {
    try {
        return read_arguments(std::vector<std::string>(argv, argv + argc), described);
    } catch (const ArgumentError& e) {
        throw UsageError(e.what());
    }
}

CallOptions parse_call(int argc, const char* const* argv) {
    namespace po = boost::program_options;
    po::options_description described;
    described.add_options()("help", "")("raw-strings", "")("url", po::value<std::string>())(
        "timeout", po::value<std::string>());
    CallOptions options;
    for (auto& [name, value] : client_arguments(argc, argv, described)) {
        if (name == "help") {
            options.help = true;
            return options;
        }
        if (name == "raw-strings") {
            options.raw_strings = true;
        } else if (name == "url") {
            options.url = value;
        } else if (name == "timeout") {
            options.timeout = parse_timeout(value);
        } else if (options.method.empty()) {
            if (value.empty()) throw UsageError("METHOD is empty");
            options.method = value;
        } else {
            options.params.push_back(value);
        }
    }
    if (options.method.empty()) throw UsageError("no METHOD given");
    return options;
}

/// "name" of a "name=value" argument: a name of letters, digits, '_', '-' and
/// '.', not starting with a digit or '-', before the first '='.
std::optional<std::string> param_name(const std::string& arg) {
    const auto eq = arg.find('=');
    if (eq == std::string::npos || eq == 0) return std::nullopt;
    if (!is_alpha(arg[0]) && arg[0] != '_') return std::nullopt;
    for (std::size_t i = 0; i < eq; ++i) {
        const char c = arg[i];
        if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '-' && c != '.') return std::nullopt;
    }
    return arg.substr(0, eq);
}

Json param_value(const std::string& text, bool raw_strings) {
    if (raw_strings) return text;
    Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) return text;
    return value;
}

/// The "params" member: an object, an array, or none. Throws UsageError.
std::optional<Json> build_params(const std::vector<std::string>& args, bool raw_strings) {
    if (args.empty()) return std::nullopt;
    Json named = Json::object();
    Json positional = Json::array();
    const std::string* first_named = nullptr;
    const std::string* first_positional = nullptr;
    for (const auto& arg : args) {
        if (const auto name = param_name(arg)) {
            if (named.contains(*name)) throw UsageError("parameter '" + *name + "' is given twice");
            named[*name] = param_value(arg.substr(name->size() + 1), raw_strings);
            if (first_named == nullptr) first_named = &arg;
        } else {
            positional.push_back(param_value(arg, raw_strings));
            if (first_positional == nullptr) first_positional = &arg;
        }
    }
    if (first_named != nullptr && first_positional != nullptr) {
        throw UsageError("named (" + *first_named + ") and positional (" + *first_positional +
                         ") parameters cannot be mixed");
    }
    return first_named != nullptr ? named : positional;
}

/// "CODE: message (data)" of a JSON-RPC error object.
std::string error_text(const Json& error) {
    if (!error.is_object() || !error.contains("code") || !error.contains("message")) return dump(error, -1);
    std::string text = dump(error["code"], -1) + ": ";
    const auto& message = error["message"];
    text += message.is_string() ? message.get<std::string>() : dump(message, -1);
    if (error.contains("data")) {
        const auto& data = error["data"];
        text += " (" + (data.is_string() ? data.get<std::string>() : dump(data, -1)) + ")";
    }
    return text;
}

int call(const CallOptions& options) {
    const Url url = parse_url(options.url);
    Json request = {{"jsonrpc", "2.0"}, {"method", options.method}};
    if (auto params = build_params(options.params, options.raw_strings)) request["params"] = *params;
    request["id"] = 1;

    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(options.timeout));
    net::io_context ioc;
    Connection connection(ioc, url, seconds_text(options.timeout) + " s (--timeout)");
    connection.connect(deadline);
    http::request<http::string_body> req{http::verb::post, url.target(), 11};
    req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, "application/json");
    req.body() = dump(request, -1);
    connection.send(req, deadline);
    http::response_parser<http::string_body> parser;
    parser.body_limit(kAnswerLimit);
    connection.read(parser, deadline);
    connection.close();

    const auto& response = parser.get();
    const Json answer = Json::parse(response.body(), nullptr, /*allow_exceptions=*/false);
    // Some servers pair an error answer with a non-200 status: the error says more.
    if (answer.is_object() && answer.contains("error")) {
        std::cerr << error_text(answer["error"]) << "\n";
        return kExitRpcError;
    }
    if (response.result() != http::status::ok) {
        throw Unreachable(http_refusal(url, response.result_int(), response.reason(), response.body()));
    }
    if (!answer.is_object() || !answer.contains("result")) {
        throw Unreachable(url.text() + " did not answer JSON-RPC: " + excerpt(response.body()));
    }
    std::cout << dump(answer["result"], 4) << "\n" << std::flush;
    return kExitOk;
}

// --- watch -------------------------------------------------------------------------

std::string watch_usage() {
    return R"TEXT(Usage: srmi watch [--url URL] [--pretty] [EVENT...]

Follows a running srmi's event stream (GET /events, Server-Sent Events) and
prints each event, a JSON-RPC notification, as one JSON line on stdout as it
comes. With EVENT names (e.g. E_CORE_SR_STATUS_CHANGED) only those are shown,
else all. Once the stream is open, "srmi: watching URL" goes to stderr.

Options:
  --url URL    the server's /events URL, or its /mi URL (or no path), which is
               followed at /events (default http://127.0.0.1:8888/events)
  --pretty     print each event indented over several lines
  --           end of options: what follows are EVENT names
  -h, --help   print this help and exit

Environment: SRMI_TOKEN, when set, is sent as "Authorization: Bearer TOKEN".

Exit status: 0 when stopped by SIGINT/SIGTERM or when the server ends the
stream; 2 for bad usage; 3 when the server cannot be reached, refuses the
stream (e.g. an unknown event) or goes silent for 60 s.
)TEXT";
}

struct WatchOptions {
    bool help = false;
    std::string url = kDefaultMiUrl;
    bool pretty = false;
    std::vector<std::string> events;
};

WatchOptions parse_watch(int argc, const char* const* argv) {
    namespace po = boost::program_options;
    po::options_description described;
    described.add_options()("help", "")("pretty", "")("url", po::value<std::string>());
    WatchOptions options;
    for (auto& [name, value] : client_arguments(argc, argv, described)) {
        if (name == "help") {
            options.help = true;
            return options;
        }
        if (name == "pretty") {
            options.pretty = true;
        } else if (name == "url") {
            options.url = value;
        } else {
            if (value.empty()) throw UsageError("an EVENT name is empty");
            options.events.push_back(value);
        }
    }
    return options;
}

/// Splits a Server-Sent Events byte stream into events and hands each one's
/// data (its `data:` lines joined by '\n') to `on_event`. Comment lines
/// (`: ...`) and other fields are ignored, as the SSE specification says.
class SseReader {
public:
    explicit SseReader(std::function<void(const std::string&)> on_event)
        : on_event_(std::move(on_event)) {}

    /// Throws Unreachable when one line or event outgrows kEventLimit.
    void feed(std::string_view bytes) {
        for (const char c : bytes) {
            if (c == '\n' && after_cr_) {  // the LF of a CRLF
                after_cr_ = false;
                continue;
            }
            after_cr_ = c == '\r';
            if (c == '\n' || c == '\r') {
                on_line();
                line_.clear();
                continue;
            }
            if (line_.size() >= kEventLimit) throw Unreachable("an event is larger than 16 MiB");
            line_ += c;
        }
    }

private:
    void on_line() {
        if (line_.empty()) {
            if (has_data_) on_event_(data_);
            data_.clear();
            has_data_ = false;
            return;
        }
        if (line_.front() == ':') return;
        const auto colon = line_.find(':');
        if (line_.compare(0, colon, "data") != 0) return;
        std::string_view value;
        if (colon != std::string::npos) value = std::string_view(line_).substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (has_data_) data_ += '\n';
        if (data_.size() + value.size() > kEventLimit) throw Unreachable("an event is larger than 16 MiB");
        data_ += value;
        has_data_ = true;
    }

    std::function<void(const std::string&)> on_event_;
    std::string line_;
    std::string data_;
    bool has_data_ = false;
    bool after_cr_ = false;
};

void print_event(const std::string& data, bool pretty) {
    if (!pretty && data.find('\n') == std::string::npos) {
        std::cout << data;  // as the server wrote it, byte for byte
    } else {
        const Json value = Json::parse(data, nullptr, /*allow_exceptions=*/false);
        std::cout << (value.is_discarded() ? data : dump(value, pretty ? 4 : -1));
    }
    std::cout << "\n" << std::flush;
}

int watch(const WatchOptions& options) {
    Url url = events_url(parse_url(options.url));
    for (const auto& event : options.events)
        url.url.params().append({"event", event});  // %-encoded

    net::io_context ioc;
    Connection connection(ioc, url, std::to_string(kWatchConnectTimeout.count()) + " s");
    bool interrupted = false;
    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](beast::error_code ec, int) {
        if (ec) return;
        interrupted = true;
        connection.cancel();
    });

    try {
        const auto deadline = Clock::now() + kWatchConnectTimeout;
        connection.connect(deadline);
        http::request<http::empty_body> req{http::verb::get, url.target(), 11};
        req.set(http::field::accept, "text/event-stream");
        connection.send(req, deadline);

        http::response_parser<http::buffer_body> parser;
        parser.body_limit(boost::none);  // a stream has no end in sight
        connection.read_header(parser, deadline);

        std::array<char, 8192> chunk{};
        const bool ok = parser.get().result() == http::status::ok;
        std::string refusal;  // the body of a refusal, for the message
        SseReader reader([&options](const std::string& data) { print_event(data, options.pretty); });
        if (ok) std::cerr << "srmi: watching " << url.text() << "\n" << std::flush;

        while (!parser.is_done()) {
            parser.get().body().data = chunk.data();
            parser.get().body().size = chunk.size();
            auto ec = connection.read_some(parser, ok ? kWatchIdleTimeout : kWatchConnectTimeout);
            if (interrupted) return kExitOk;
            if (ec == http::error::need_buffer) ec = {};
            const std::string_view got(chunk.data(), chunk.size() - parser.get().body().size);
            if (ok) {
                reader.feed(got);
                if (!std::cout) return kExitOk;  // nobody reads our output any more
            } else if (refusal.size() < kErrorBodyShown) {
                refusal.append(got);
            }
            if (ec == beast::error::timeout && ok) {
                throw Unreachable(url.endpoint() + " sent nothing for " +
                                  std::to_string(kWatchIdleTimeout.count()) + " s, not even a keep-alive");
            }
            if (ec) {
                if (!ok) break;
                throw Unreachable("the event stream from " + url.endpoint() + " broke: " + ec.message());
            }
        }
        connection.close();
        if (!ok) {
            const auto& response = parser.get();
            throw Unreachable(http_refusal(url, response.result_int(), response.reason(), refusal));
        }
        return kExitOk;
    } catch (const Unreachable&) {
        if (interrupted) return kExitOk;
        throw;
    }
}

template <class Options>
int run(const char* name, int argc, const char* const* argv, Options (*parse)(int, const char* const*),
        std::string (*usage)(), int (*body)(const Options&)) {
    try {
        const Options options = parse(argc, argv);
        if (options.help) {
            std::cout << usage();
            return kExitOk;
        }
        return body(options);
    } catch (const UsageError& e) {
        std::cerr << "srmi " << name << ": " << e.what() << "\n";
        if (e.with_usage()) std::cerr << "\n" << usage();
        return kExitUsage;
    } catch (const Unreachable& e) {
        std::cerr << "srmi: " << e.what() << "\n";
        return kExitUnreachable;
    }
}

}  // namespace

int run_call(int argc, const char* const* argv) {
    return run<CallOptions>("call", argc, argv, parse_call, call_usage, call);
}

int run_watch(int argc, const char* const* argv) {
    return run<WatchOptions>("watch", argc, argv, parse_watch, watch_usage, watch);
}

}  // namespace srmi::server

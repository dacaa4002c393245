// Cli: the client subcommands of the srmi binary, `srmi call` and `srmi watch`,
// which talk to a running server over plain HTTP.
#pragma once

namespace srmi::server {

/// `srmi call [--url URL] [--timeout S] [--raw-strings] METHOD [PARAM...]`:
/// one JSON-RPC 2.0 request; the result is printed indented on stdout.
/// `argv` holds the arguments after the subcommand (argv[0] is the first of
/// them, not the program name). Returns the exit status: 0 result, 1 JSON-RPC
/// error (`CODE: message (data)` on stderr), 2 bad usage, 3 no usable answer.
int run_call(int argc, const char* const* argv);

/// `srmi watch [--url URL] [--pretty] [EVENT...]`: follows GET /events and
/// prints each event as one JSON line on stdout, flushed. `argv` as for
/// run_call. Returns 0 when the server ends the stream or on SIGINT/SIGTERM,
/// 2 for bad usage, 3 when the stream cannot be opened or breaks.
int run_watch(int argc, const char* const* argv);

}  // namespace srmi::server

// srmi: parse the command line, build the server, serve until SIGINT/SIGTERM;
// or, as `srmi call` / `srmi watch`, be a client of a running server; or, as
// `srmi openapi`, print the API description.
#include <malloc.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/system/system_error.hpp>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string_view>

#include "openapi_pages.h"
#include "rpc/openapi.h"
#include "server/client.h"
#include "server/config.h"
#include "server/server.h"
#include "version.h"

int main(int argc, char** argv) {
    using namespace srmi::server;
    const std::string_view command = argc > 1 ? argv[1] : "";
    if (command == "call") return run_call(argc - 2, argv + 2);
    if (command == "watch") return run_watch(argc - 2, argv + 2);
    if (command == "openapi") {  // openapi/srmi.yaml is this output, committed
        std::cout << srmi::rpc::openapi_document(srmi::generated::openapi_pages());
        return 0;
    }
    if (command == "serve") {  // the options follow; "serve" stands in for argv[0]
        --argc;
        ++argv;
    }

    // Answers of megabytes (the listing of 100 000 identifiers) are made again
    // and again: kept in the heap once freed, their memory is reused, where
    // glibc's default maps each afresh and faults it in page by page (a
    // cached listing: 4 ms -> 0.3 ms). Memory above 64 MiB free is returned.
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);

    CommandLine cl;
    try {
        cl = parse_command_line(argc, argv);
    } catch (const ConfigError& e) {
        std::cerr << "srmi: " << e.what() << "\nTry 'srmi --help' for the options.\n";
        return 2;
    }
    if (cl.action == Action::kHelp) {
        std::cout << usage();
        return 0;
    }
    if (cl.action == Action::kVersion) {
        std::cout << srmi::kServerString << "\n";
        return 0;
    }

    // Logs go to stderr, keeping stdout for what was asked (--help, --version).
    spdlog::set_default_logger(spdlog::stderr_color_mt("srmi"));
    spdlog::set_level(spdlog::level::from_str(cl.config.log_level));
    try {
        Server server(std::move(cl.config));
        try {
            server.start(/*handle_signals=*/true);
        } catch (const boost::system::system_error& e) {
            spdlog::error("cannot listen: {}", e.what());
            return 1;
        }
        server.wait();
        spdlog::info("stopped");
        return 0;
    } catch (const ConfigError& e) {  // e.g. a TLS file that cannot be used
        std::cerr << "srmi: " << e.what() << "\n";
        return 2;
    } catch (const std::invalid_argument& e) {
        std::cerr << "srmi: " << e.what() << "\n";
        return 2;
    } catch (const StateError& e) {
        std::cerr << "srmi: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        spdlog::critical("fatal: {}", e.what());
        return 1;
    }
}

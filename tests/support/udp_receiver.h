// UdpReceiver: a datagram subscriber on 127.0.0.1 for the event tests.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

namespace srmi::test {

/// A UDP socket on 127.0.0.1:0 that waits at most two seconds per datagram.
class UdpReceiver {
public:
    UdpReceiver() : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
        REQUIRE(fd_ >= 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        timeval tv{2, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~UdpReceiver() { ::close(fd_); }
    UdpReceiver(const UdpReceiver&) = delete;
    UdpReceiver& operator=(const UdpReceiver&) = delete;

    std::string socket() const { return "udp:127.0.0.1:" + std::to_string(port_); }

    std::optional<std::string> receive() {
        char buffer[65536];
        const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n < 0) return std::nullopt;
        return std::string(buffer, static_cast<std::size_t>(n));
    }

    /// The next datagram that is the event `name`, skipping others, waiting
    /// up to `patience` in all.
    nlohmann::json next(const std::string& name, std::chrono::seconds patience = std::chrono::seconds(10)) {
        const auto deadline = std::chrono::steady_clock::now() + patience;
        while (std::chrono::steady_clock::now() < deadline) {
            auto text = receive();
            if (!text) continue;
            auto message = nlohmann::json::parse(*text);
            if (message["method"] == name) return message;
        }
        FAIL("no " << name << " event arrived");
        return {};
    }

private:
    int fd_;
    std::uint16_t port_ = 0;
};

}  // namespace srmi::test

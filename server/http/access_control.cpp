// AccessControl: tokens are kept and compared as SHA-256 digests, so every
// comparison has the same length and CRYPTO_memcmp can take constant time,
// and a memory dump or a log never shows a token.
#include "server/http/access_control.h"

#include <cctype>
#include <memory>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace srmi::server {

namespace {

constexpr std::string_view kProbePaths[] = {"/livez", "/readyz"};
constexpr std::string_view kHealthPrefix = "/health/";

bool starts_with_scheme(std::string_view value, std::string_view scheme) {
    if (value.size() <= scheme.size() || value[scheme.size()] != ' ') return false;
    for (std::size_t i = 0; i < scheme.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(value[i])) != scheme[i]) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// RFC 4648 base64 by OpenSSL; the padding is optional, as browsers and curl
/// differ on it. Empty for anything that is not base64.
std::string base64_decode(std::string_view in) {
    // Whole 4-character groups, as OpenSSL wants them: the padding restored.
    if (in.size() % 4 == 1 || in.size() > 64 * 1024) return {};
    std::string padded(in);
    padded.append((4 - padded.size() % 4) % 4, '=');
    // EVP_DecodeUpdate, unlike EVP_DecodeBlock, refuses a '=' before the end
    // and leaves the padding out of what it returns.
    const std::unique_ptr<EVP_ENCODE_CTX, decltype(&EVP_ENCODE_CTX_free)> context(
        EVP_ENCODE_CTX_new(), &EVP_ENCODE_CTX_free);
    if (context == nullptr) return {};
    std::string out(padded.size() / 4 * 3, '\0');
    auto* bytes = reinterpret_cast<unsigned char*>(out.data());
    int length = 0;
    int last = 0;
    EVP_DecodeInit(context.get());
    if (EVP_DecodeUpdate(context.get(), bytes, &length,
                         reinterpret_cast<const unsigned char*>(padded.data()),
                         static_cast<int>(padded.size())) < 0 ||
        EVP_DecodeFinal(context.get(), bytes + length, &last) != 1) {
        return {};
    }
    out.resize(static_cast<std::size_t>(length + last));
    return out;
}

/// The token a request presents: `Bearer TOKEN`, or `Basic` with the token
/// as password (any user name), which browsers send after their own prompt.
std::string presented_token(const Request& request) {
    const auto header = request.find(http::field::authorization);
    if (header == request.end()) return {};
    const std::string_view value = trim(header->value());
    if (starts_with_scheme(value, "bearer")) return std::string(trim(value.substr(7)));
    if (starts_with_scheme(value, "basic")) {
        auto decoded = base64_decode(trim(value.substr(6)));
        const auto colon = decoded.find(':');
        return colon == std::string::npos ? std::string{} : decoded.substr(colon + 1);
    }
    return {};
}

}  // namespace

std::array<std::uint8_t, 32> sha256(std::string_view text) {
    // Fetched once: an implicit fetch per call would cost more than the hash.
    static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    std::array<std::uint8_t, 32> digest{};
    unsigned int length = 0;
    if (md == nullptr || EVP_Digest(text.data(), text.size(), digest.data(), &length, md, nullptr) != 1 ||
        length != digest.size()) {
        throw std::runtime_error("SHA-256 is not available from OpenSSL");
    }
    return digest;
}

AccessControl::AccessControl(std::vector<Credential> credentials, bool open_probes)
    : credentials_(std::move(credentials)), open_probes_(open_probes) {}

const rpc::Caller* AccessControl::authenticate(const Request& request, std::string_view client_cn) const {
    const std::string token = presented_token(request);
    const rpc::Caller* found = nullptr;
    if (!token.empty()) {
        const auto digest = sha256(token);
        // No early exit: the time taken does not tell which entry matched.
        for (const auto& credential : credentials_) {
            const bool match = credential.client_cn.empty() &&
                               CRYPTO_memcmp(digest.data(), credential.token_sha256.data(), digest.size()) == 0;
            if (match && found == nullptr) found = &credential.caller;
        }
        return found;  // a wrong token is not rescued by a certificate
    }
    if (client_cn.empty()) return nullptr;
    for (const auto& credential : credentials_) {
        if (!credential.client_cn.empty() && credential.client_cn == client_cn) return &credential.caller;
    }
    return nullptr;
}

bool AccessControl::is_open(std::string_view path) const noexcept {
    if (!open_probes_) return false;
    for (auto probe : kProbePaths) {
        if (path == probe) return true;
    }
    return path.substr(0, kHealthPrefix.size()) == kHealthPrefix;
}

Authorization authorize(const Request& request, const AccessControl* access, std::string_view client_cn) {
    if (access == nullptr || !access->enabled() || access->is_open(path_of(request.target()))) {
        return &rpc::unrestricted_caller();
    }
    if (const auto* caller = access->authenticate(request, client_cn)) return caller;

    auto res = error_response(http::status::unauthorized, request.version(), request.keep_alive());
    const bool presented = request.find(http::field::authorization) != request.end();
    res.insert(http::field::www_authenticate,
               presented ? R"(Bearer realm="srmi", error="invalid_token")" : R"(Bearer realm="srmi")");
    res.insert(http::field::www_authenticate, R"(Basic realm="srmi", charset="UTF-8")");
    return res;
}

}  // namespace srmi::server

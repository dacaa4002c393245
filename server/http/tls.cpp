// TLS: contexts built once at start-up, so that a bad file stops the server
// with its name instead of failing every handshake later.
#include "server/http/tls.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string_view>

#include <boost/asio/ssl/error.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace srmi::server {

namespace ssl = boost::asio::ssl;

namespace {

// Mozilla's "intermediate" TLS 1.2 list without DHE: ECDHE key exchange (forward
// secrecy) and AEAD ciphers only. TLS 1.3's suites are OpenSSL's, all AEAD.
constexpr const char* kCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

[[noreturn]] void fail(std::string_view key, const std::string& path, const std::string& what) {
    throw TlsError(std::string(key) + " '" + path + "': " + what);
}

// Checked first, so that a missing file says so rather than an OpenSSL reason.
void check_readable(std::string_view key, const std::string& path) {
    std::ifstream in(path);
    if (!in) fail(key, path, std::string("cannot be read: ") + std::strerror(errno));
}

void harden(ssl::context& ctx) {
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression |
                    ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    SSL_CTX_set_options(ctx.native_handle(), SSL_OP_NO_RENEGOTIATION);
    // An encrypted key fails to load instead of OpenSSL prompting on the terminal.
    ctx.set_password_callback([](std::size_t, ssl::context::password_purpose) { return std::string(); });
}

}  // namespace

std::shared_ptr<ssl::context> make_server_tls(const std::string& tls_cert, const std::string& tls_key,
                                              const std::string& tls_client_ca) {
    if (tls_cert.empty() || tls_key.empty()) {
        throw TlsError("HTTPS needs both tls_cert and tls_key");
    }
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    harden(*ctx);
    SSL_CTX_set_cipher_list(ctx->native_handle(), kCiphers);

    boost::system::error_code ec;
    check_readable("tls_cert", tls_cert);
    ctx->use_certificate_chain_file(tls_cert, ec);
    if (ec) fail("tls_cert", tls_cert, "not a PEM certificate chain (" + ec.message() + ")");
    check_readable("tls_key", tls_key);
    ctx->use_private_key_file(tls_key, ssl::context::pem, ec);
    // OpenSSL checks the pair as it loads the key.
    const bool mismatch = ec && ec.category() == boost::asio::error::get_ssl_category() &&
                          ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH;
    if (mismatch || (!ec && SSL_CTX_check_private_key(ctx->native_handle()) != 1)) {
        fail("tls_key", tls_key, "does not match the certificate of tls_cert '" + tls_cert + "'");
    }
    if (ec) fail("tls_key", tls_key, "not an unencrypted PEM private key (" + ec.message() + ")");

    if (!tls_client_ca.empty()) {
        const auto& ca = tls_client_ca;
        check_readable("tls_client_ca", ca);
        ctx->load_verify_file(ca, ec);
        STACK_OF(X509_NAME)* names = ec ? nullptr : SSL_load_client_CA_file(ca.c_str());
        if (names == nullptr) {
            const auto why = ec ? " (" + ec.message() + ")" : std::string();
            fail("tls_client_ca", ca, "no PEM CA certificate" + why);
        }
        SSL_CTX_set_client_CA_list(ctx->native_handle(), names);  // tells clients which CAs we accept
        ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
        // Resumed sessions keep their verified client; OpenSSL refuses to
        // resume them without an id context.
        constexpr unsigned char kSessionContext[] = "srmi";
        SSL_CTX_set_session_id_context(ctx->native_handle(), kSessionContext, sizeof kSessionContext - 1);
    }
    return ctx;
}

std::shared_ptr<ssl::context> make_client_tls(const std::string& ca_file) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    harden(*ctx);
    ctx->set_verify_mode(ssl::verify_peer);
    boost::system::error_code ec;
    if (ca_file.empty()) {
        ctx->set_default_verify_paths(ec);
        if (ec) throw TlsError("the system's CA certificates cannot be used: " + ec.message());
        return ctx;
    }
    check_readable("event_tls_ca", ca_file);
    ctx->load_verify_file(ca_file, ec);
    if (ec) fail("event_tls_ca", ca_file, "no PEM CA certificate (" + ec.message() + ")");
    return ctx;
}

std::string peer_common_name(SSL* ssl) {
    if ((SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) == 0 || SSL_get_verify_result(ssl) != X509_V_OK) {
        return {};
    }
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (cert == nullptr) return {};
    std::string cn;
    const X509_NAME* subject = X509_get_subject_name(cert);
    int last = -1;
    for (int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); i >= 0;
         i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) {
        last = i;
    }
    if (last >= 0) {
        unsigned char* utf8 = nullptr;
        const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, last));
        const int length = ASN1_STRING_to_UTF8(&utf8, data);
        if (length >= 0) {
            cn.assign(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
            OPENSSL_free(utf8);
        }
    }
    X509_free(cert);
    // "admin\0.example" must not pass for "admin".
    if (cn.find('\0') != std::string::npos) return {};
    return cn;
}

}  // namespace srmi::server

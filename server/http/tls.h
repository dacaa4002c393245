// TLS: the OpenSSL contexts of the HTTPS listener and of https:// event delivery.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include <boost/asio/ssl/context.hpp>

namespace srmi::server {

/// A certificate, key or CA file that cannot be used; the message names the
/// setting, the file and why.
class TlsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The listener's context: `tls_cert` and `tls_key`, TLS 1.2 at least,
/// forward-secret AEAD ciphers, no compression, no renegotiation; with
/// `tls_client_ca`, clients must present a certificate signed by one of its CAs.
/// Throws TlsError naming the file that cannot be used and why.
std::shared_ptr<boost::asio::ssl::context> make_server_tls(const std::string& tls_cert, const std::string& tls_key,
                                                           const std::string& tls_client_ca);

/// The context of https:// event delivery: TLS 1.2 at least, receivers verified
/// against the CAs of `ca_file`, or the system's store when it is empty.
/// Throws TlsError when `ca_file` cannot be used.
std::shared_ptr<boost::asio::ssl::context> make_client_tls(const std::string& ca_file);

/// The Common Name of the certificate the peer of `ssl` presented and the
/// handshake verified (the last CN of its subject); empty when it presented
/// none, when certificates are not verified, or when the name holds a NUL.
std::string peer_common_name(SSL* ssl);

}  // namespace srmi::server

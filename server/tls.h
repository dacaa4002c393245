// TLS: the OpenSSL contexts of the HTTPS listener and of https:// event delivery.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "server/config.h"

namespace srmi::server {

/// The listener's context: `tls_cert` and `tls_key`, TLS 1.2 at least,
/// forward-secret AEAD ciphers, no compression, no renegotiation; with
/// `tls_client_ca`, clients must present a certificate signed by one of its CAs.
/// Throws ConfigError naming the file that cannot be used and why.
std::shared_ptr<boost::asio::ssl::context> make_server_tls(const Config& config);

/// The context of https:// event delivery: TLS 1.2 at least, receivers verified
/// against the CAs of `ca_file`, or the system's store when it is empty.
/// Throws ConfigError when `ca_file` cannot be used.
std::shared_ptr<boost::asio::ssl::context> make_client_tls(const std::string& ca_file);

/// The Common Name of the certificate the peer of `ssl` presented and the
/// handshake verified (the last CN of its subject); empty when it presented
/// none, when certificates are not verified, or when the name holds a NUL.
std::string peer_common_name(SSL* ssl);

}  // namespace srmi::server

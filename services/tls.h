// TLS credentials of fieldloopd and the fieldloop CLI, read from PEM files
// (docs/operations.md, "Access control and TLS").
#ifndef FIELDLOOP_SERVICES_TLS_H_
#define FIELDLOOP_SERVICES_TLS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

namespace fieldloop::services {

// The server's PEM files (fieldloopd --tls_cert, --tls_key, --tls_client_ca).
struct ServerTlsFiles {
  // Certificate chain of the server, leaf first. Required with `key`.
  std::string cert;
  // Private key of `cert`, unencrypted. Required with `cert`.
  std::string key;
  // CA certificates that client certificates must chain to. Set: mutual TLS, every client
  // must present a certificate signed by one of them (the handshake fails otherwise).
  // Default: empty (clients are not asked for a certificate).
  std::string client_ca;

  // True when TLS is asked for (any file set).
  bool enabled() const { return !cert.empty() || !key.empty() || !client_ca.empty(); }
};

// Server credentials from `files`. InvalidArgument naming the flag when one of cert and key
// is given without the other, or client_ca without them; NotFound naming the flag and path
// for a file that cannot be read; InvalidArgument when a file holds no PEM block of the
// expected kind (CERTIFICATE for cert and client_ca, PRIVATE KEY for key). Whether the key
// matches the certificate is checked by gRPC when the server starts.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerTlsCredentials(
    const ServerTlsFiles& files);

// The client's PEM files (fieldloop --tls_ca, --tls_cert, --tls_key).
struct ClientTlsFiles {
  // CA certificates the server's certificate must chain to. Empty: the system's roots.
  std::string ca;
  // Client certificate and its key, for a server with mutual TLS; both or neither.
  std::string cert;
  std::string key;

  // True when TLS is asked for (any file set).
  bool enabled() const { return !ca.empty() || !cert.empty() || !key.empty(); }
};

// Channel credentials from `files`; errors as ServerTlsCredentials, naming the client's
// flags.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientTlsCredentials(
    const ClientTlsFiles& files);

// The contents of the PEM file at `path` given by `flag` (for messages, e.g.
// "--tls_cert"). NotFound when it cannot be read; InvalidArgument unless it holds a
// "-----BEGIN <...`kind`>-----" line.
absl::StatusOr<std::string> ReadPemFile(const std::string& flag, const std::string& path,
                                        const std::string& kind);

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_TLS_H_

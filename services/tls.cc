#include "services/tls.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace fieldloop::services {

absl::StatusOr<std::string> ReadPemFile(const std::string& flag, const std::string& path,
                                        const std::string& kind) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat(flag, ": cannot read '", path, "': ", std::strerror(errno)));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  std::string pem = contents.str();
  // "-----BEGIN CERTIFICATE-----", "-----BEGIN PRIVATE KEY-----", "-----BEGIN RSA PRIVATE
  // KEY-----", "-----BEGIN EC PRIVATE KEY-----".
  size_t at = 0;
  while ((at = pem.find("-----BEGIN ", at)) != std::string::npos) {
    const size_t end = pem.find("-----", at + 11);
    if (end == std::string::npos) break;
    if (absl::EndsWith(absl::string_view(pem).substr(at + 11, end - at - 11), kind)) return pem;
    at = end;
  }
  return absl::InvalidArgumentError(absl::StrCat(flag, ": '", path, "' holds no PEM ", kind,
                                                 " (-----BEGIN ... ", kind, "-----)"));
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerTlsCredentials(
    const ServerTlsFiles& files) {
  if (files.cert.empty() != files.key.empty()) {
    return absl::InvalidArgumentError(
        files.cert.empty() ? "--tls_key needs --tls_cert (the certificate of that key)"
                           : "--tls_cert needs --tls_key (the certificate's private key)");
  }
  if (files.cert.empty()) {
    return absl::InvalidArgumentError(
        "--tls_client_ca needs --tls_cert and --tls_key: client certificates are only asked "
        "for over TLS");
  }
  auto cert = ReadPemFile("--tls_cert", files.cert, "CERTIFICATE");
  if (!cert.ok()) return cert.status();
  auto key = ReadPemFile("--tls_key", files.key, "PRIVATE KEY");
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
  if (!files.client_ca.empty()) {
    auto ca = ReadPemFile("--tls_client_ca", files.client_ca, "CERTIFICATE");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *std::move(ca);
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientTlsCredentials(
    const ClientTlsFiles& files) {
  if (files.cert.empty() != files.key.empty()) {
    return absl::InvalidArgumentError(files.cert.empty()
                                          ? "--tls_key needs --tls_cert (the client certificate)"
                                          : "--tls_cert needs --tls_key (its private key)");
  }
  grpc::SslCredentialsOptions options;
  if (!files.ca.empty()) {
    auto ca = ReadPemFile("--tls_ca", files.ca, "CERTIFICATE");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *std::move(ca);
  }
  if (!files.cert.empty()) {
    auto cert = ReadPemFile("--tls_cert", files.cert, "CERTIFICATE");
    if (!cert.ok()) return cert.status();
    auto key = ReadPemFile("--tls_key", files.key, "PRIVATE KEY");
    if (!key.ok()) return key.status();
    options.pem_cert_chain = *std::move(cert);
    options.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(options);
}

}  // namespace fieldloop::services

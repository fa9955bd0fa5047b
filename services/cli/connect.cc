#include "services/cli/connect.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "grpcpp/support/client_interceptor.h"
#include "services/tls.h"

namespace fieldloop::cli {
namespace {

// Adds `authorization: Bearer <token>` to the initial metadata of every call. Used instead
// of grpc::AccessTokenCredentials, which gRPC only sends over TLS: a loopback server
// without TLS may still check tokens.
class BearerInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit BearerInterceptor(std::shared_ptr<const std::string> header)
      : header_(std::move(header)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace("authorization", *header_);
    }
    methods->Proceed();
  }

 private:
  const std::shared_ptr<const std::string> header_;
};

class BearerInterceptorFactory : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit BearerInterceptorFactory(std::shared_ptr<const std::string> header)
      : header_(std::move(header)) {}

  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new BearerInterceptor(header_);
  }

 private:
  const std::shared_ptr<const std::string> header_;
};

// The token from --token_file or FIELDLOOP_TOKEN; empty when neither is set. Errors name the
// file, never its contents.
absl::StatusOr<std::string> ReadToken(const std::string& token_file) {
  if (token_file.empty()) {
    const char* env = std::getenv("FIELDLOOP_TOKEN");
    if (env == nullptr) return std::string();
    const absl::string_view token = absl::StripAsciiWhitespace(env);
    if (token.empty()) return absl::InvalidArgumentError("FIELDLOOP_TOKEN is set but empty");
    return std::string(token);
  }
  std::ifstream in(token_file, std::ios::binary);
  std::string line;
  if (!in || !std::getline(in, line)) {
    return absl::NotFoundError(absl::StrCat("--token_file: cannot read '", token_file, "'"));
  }
  const absl::string_view token = absl::StripAsciiWhitespace(line);
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--token_file: '", token_file, "' holds no token on its first line"));
  }
  return std::string(token);
}

}  // namespace

std::shared_ptr<grpc::Channel> Connect(const char* command, const std::string& server,
                                       int timeout_s, std::FILE* err,
                                       const TransportOptions& transport) {
  services::ClientTlsFiles files;
  files.ca = transport.tls_ca;
  files.cert = transport.tls_cert;
  files.key = transport.tls_key;
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (files.enabled()) {
    auto tls = services::ClientTlsCredentials(files);
    if (!tls.ok()) {
      std::fprintf(err, "fieldloop %s: %s\n", command, std::string(tls.status().message()).c_str());
      return nullptr;
    }
    credentials = *std::move(tls);
  }
  absl::StatusOr<std::string> token = ReadToken(transport.token_file);
  if (!token.ok()) {
    std::fprintf(err, "fieldloop %s: %s\n", command, std::string(token.status().message()).c_str());
    return nullptr;
  }
  std::shared_ptr<grpc::Channel> channel;
  if (token->empty()) {
    channel = grpc::CreateChannel(server, credentials);
  } else {
    std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> factories;
    factories.push_back(std::make_unique<BearerInterceptorFactory>(
        std::make_shared<const std::string>(absl::StrCat("Bearer ", *token))));
    channel = grpc::experimental::CreateCustomChannelWithInterceptors(
        server, credentials, grpc::ChannelArguments(), std::move(factories));
  }
  if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                 std::chrono::seconds(timeout_s))) {
    std::fprintf(err, "fieldloop %s: cannot connect to %s (%s)\n", command, server.c_str(),
                 files.enabled() ? "is fieldloopd running with TLS, and does --tls_ca hold the "
                                   "CA of its certificate?"
                                 : "is fieldloopd running?");
    return nullptr;
  }
  return channel;
}

}  // namespace fieldloop::cli

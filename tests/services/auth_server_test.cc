// Access control and TLS through a real FieldloopServer on 127.0.0.1:0 with a real RocksDB:
// tokens from a tokens file decide who may ingest, read and back up which initiative;
// failures are counted in the metrics and never log the token; health stays open; a
// reload of the tokens file (ReloadAuthTokens) puts added, removed and changed tokens in
// force for new calls and open Ingest streams, and a broken file keeps the old ones; TLS
// and mutual TLS refuse clients without the right credentials; a non-loopback address
// needs both TLS and tokens.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/fieldloop/v1/admin.grpc.pb.h"
#include "proto/fieldloop/v1/board.grpc.pb.h"
#include "proto/fieldloop/v1/ingest.grpc.pb.h"
#include "proto/fieldloop/v1/themes.grpc.pb.h"
#include "services/auth.h"
#include "services/server.h"
#include "tests/testing/files.h"
#include "tests/testing/health_check.h"
#include "tests/testing/http_get.h"
#include "tests/testing/ingest_client.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_certs.h"

namespace fieldloop {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAlpha[] = "alpha";
constexpr char kBeta[] = "beta";

// The tokens; the file holds only their hashes.
constexpr char kProducerToken[] = "producer-alpha-Tk9f2a";
constexpr char kReaderToken[] = "reader-alpha-Qx81mz";
constexpr char kAdminToken[] = "admin-all-Zp40vq";
constexpr char kWrongToken[] = "not-a-token-Wr0ng7";

std::string WriteTokensFile(const testing::TempDir& dir) {
  const std::string path = dir.Sub("tokens.txt");
  std::ofstream(path) << "# test tokens\n"
                      << services::TokenHash(kProducerToken) << " crm-export producer alpha\n"
                      << services::TokenHash(kReaderToken) << " board-bot reader alpha\n"
                      << services::TokenHash(kAdminToken) << " ops admin *\n";
  return path;
}

// One client: a channel and the token each of its calls carries ("" for none).
struct Client {
  std::shared_ptr<grpc::Channel> channel;
  std::string token;

  std::unique_ptr<grpc::ClientContext> Context() const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (!token.empty()) context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
    return context;
  }

  // Streams `requests` and returns the acks and the final status.
  testing::StreamResult Stream(const std::vector<v1::IngestRequest>& requests) const {
    auto stub = v1::Ingest::NewStub(channel);
    auto context = Context();
    auto stream = stub->Stream(context.get());
    std::thread writer([&] {
      for (const auto& r : requests) {
        if (!stream->Write(r)) break;
      }
      stream->WritesDone();
    });
    testing::StreamResult result;
    v1::IngestAck ack;
    while (stream->Read(&ack)) result.acks.push_back(ack);
    writer.join();
    result.status = stream->Finish();
    return result;
  }

  grpc::Status GetBoard(const std::string& initiative) const {
    v1::GetBoardRequest request;
    request.set_initiative(initiative);
    v1::GetBoardResponse response;
    return v1::Board::NewStub(channel)->GetBoard(Context().get(), request, &response);
  }

  grpc::Status ListThemes(const std::string& initiative) const {
    v1::ListThemesRequest request;
    request.set_initiative(initiative);
    v1::ListThemesResponse response;
    return v1::Themes::NewStub(channel)->ListThemes(Context().get(), request, &response);
  }

  grpc::Status ListInitiatives(std::vector<std::string>* initiatives) const {
    v1::ListInitiativesResponse response;
    grpc::Status s = v1::Board::NewStub(channel)->ListInitiatives(
        Context().get(), v1::ListInitiativesRequest(), &response);
    initiatives->assign(response.initiatives().begin(), response.initiatives().end());
    return s;
  }

  grpc::Status WaitApplied(const std::string& initiative) const {
    v1::WaitAppliedRequest request;
    request.set_initiative(initiative);
    request.set_timeout_ms(30000);
    v1::WaitAppliedResponse response;
    return v1::Ingest::NewStub(channel)->WaitApplied(Context().get(), request, &response);
  }

  grpc::Status Backup(const std::string& name) const {
    v1::BackupRequest request;
    request.set_name(name);
    v1::BackupResponse response;
    return v1::Admin::NewStub(channel)->Backup(Context().get(), request, &response);
  }

  // grpc.health.v1.Health/Check for the server as a whole, with this client's token.
  std::string HealthCheck() const { return testing::HealthStatus(channel, Context().get()); }
};

Client Insecure(const std::string& address, const std::string& token = "") {
  return Client{grpc::CreateChannel(address, grpc::InsecureChannelCredentials()), token};
}

class AuthServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_path_ = WriteTokensFile(dir_);
    log_path_ = dir_.Sub("events.log");
    log_file_ = std::fopen(log_path_.c_str(), "w");
    ASSERT_NE(log_file_, nullptr);
    services::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.output_root = dir_.Sub("out");
    options.backup_root = dir_.Sub("backups");
    options.metrics_listen = "127.0.0.1:0";
    options.auth_tokens = tokens_path_;
    options.log_level = services::LogLevel::kDebug;
    options.log_file = log_file_;
    auto server = services::FieldloopServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  void TearDown() override {
    server_.reset();
    if (log_file_ != nullptr) std::fclose(log_file_);
  }

  Client As(const std::string& token) const { return Insecure(server_->address(), token); }

  std::string Metrics() const {
    std::optional<testing::HttpResponse> r = testing::HttpGet(server_->metrics_port(), "/metrics");
    return r.has_value() ? r->body : std::string();
  }

  // Replaces the tokens file with `lines` as operators are told to: a new file renamed over
  // the old one, so that a reload never reads half a file.
  void RewriteTokens(const std::vector<std::string>& lines) const {
    const std::string next = tokens_path_ + ".new";
    {
      std::ofstream out(next);
      for (const std::string& line : lines) out << line << "\n";
    }
    ASSERT_EQ(std::rename(next.c_str(), tokens_path_.c_str()), 0);
  }

  // The event log so far.
  std::string Log() const {
    std::fflush(log_file_);
    return testing::ReadFile(log_path_);
  }

  testing::TempDir dir_;
  std::string tokens_path_;
  std::string log_path_;
  FILE* log_file_ = nullptr;
  std::unique_ptr<services::FieldloopServer> server_;
};

// The tokens file's line for `token`.
std::string TokenLine(const std::string& token, const std::string& name, const std::string& role,
                      const std::string& initiatives) {
  return absl::StrCat(services::TokenHash(token), " ", name, " ", role, " ", initiatives);
}

// An Ingest stream kept open across reloads: each Send writes one record and reads its ack.
class OpenStream {
 public:
  explicit OpenStream(const Client& client)
      : stub_(v1::Ingest::NewStub(client.channel)),
        context_(client.Context()),
        stream_(stub_->Stream(context_.get())) {}

  v1::IngestAck Send(const v1::IngestRequest& request) {
    v1::IngestAck ack;
    EXPECT_TRUE(stream_->Write(request));
    EXPECT_TRUE(stream_->Read(&ack));
    return ack;
  }

  grpc::Status Close() {
    stream_->WritesDone();
    v1::IngestAck ack;
    while (stream_->Read(&ack)) {
    }
    return stream_->Finish();
  }

 private:
  std::unique_ptr<v1::Ingest::Stub> stub_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::IngestRequest, v1::IngestAck>> stream_;
};

// A Themes.WatchThemes of `initiative` from the start, kept open across reloads. The
// context's deadline bounds every wait on it.
class OpenWatch {
 public:
  OpenWatch(const Client& client, const std::string& initiative)
      : stub_(v1::Themes::NewStub(client.channel)), context_(client.Context()) {
    v1::WatchThemesRequest request;
    request.set_initiative(initiative);
    reader_ = stub_->WatchThemes(context_.get(), request);
  }

  // The next change, or nullopt once the watch ended.
  std::optional<v1::ThemeChange> Next() {
    v1::ThemeChange change;
    if (!reader_->Read(&change)) return std::nullopt;
    return change;
  }

  // Reads until the watch ends (at the latest at the context's deadline); its final status.
  grpc::Status End() {
    while (Next().has_value()) {
    }
    return reader_->Finish();
  }

 private:
  std::unique_ptr<v1::Themes::Stub> stub_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReader<v1::ThemeChange>> reader_;
};

TEST_F(AuthServerTest, StreamWithoutTokenOrWithAnUnknownOneIsUnauthenticated) {
  for (const std::string& token : {std::string(), std::string(kWrongToken)}) {
    testing::StreamResult r = As(token).Stream({testing::Feedback(1, kAlpha)});
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << "token: " << token;
    EXPECT_TRUE(r.acks.empty());
  }
  EXPECT_EQ(server_->ingestor().stats().accepted, 0u);
}

TEST_F(AuthServerTest, ReaderCannotIngest) {
  testing::StreamResult r = As(kReaderToken).Stream({testing::Feedback(1, kAlpha)});
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(r.status.error_message(), HasSubstr("board-bot"));
  EXPECT_TRUE(r.acks.empty());
  EXPECT_EQ(server_->ingestor().stats().accepted, 0u);
}

TEST_F(AuthServerTest, ProducerRecordForAnotherInitiativeIsRejectedAndTheStreamGoesOn) {
  testing::StreamResult r = As(kProducerToken)
                                .Stream({testing::Feedback(1, kAlpha), testing::Feedback(2, kBeta),
                                         testing::Feedback(3, kAlpha)});
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.acks.size(), 3u);
  EXPECT_EQ(r.acks[0].status(), v1::ACK_STATUS_ACCEPTED);
  EXPECT_EQ(r.acks[1].status(), v1::ACK_STATUS_REJECTED);
  EXPECT_EQ(r.acks[1].code(), v1::REJECT_CODE_PERMISSION_DENIED);
  EXPECT_EQ(static_cast<int>(r.acks[1].code()), 12);
  EXPECT_EQ(r.acks[1].field(), "feedback_event.initiative");
  EXPECT_EQ(r.acks[1].record_id(), "fb-2");
  EXPECT_EQ(r.acks[1].request_index(), 1u);
  EXPECT_EQ(r.acks[2].status(), v1::ACK_STATUS_ACCEPTED);
  // Nothing of beta was stored.
  std::vector<std::string> initiatives;
  ASSERT_TRUE(As(kAdminToken).ListInitiatives(&initiatives).ok());
  EXPECT_THAT(initiatives, ElementsAre(kAlpha));
}

TEST_F(AuthServerTest, WaitAppliedIsConfinedToTheCallersInitiatives) {
  ASSERT_TRUE(As(kProducerToken).Stream({testing::Feedback(1, kAlpha)}).status.ok());
  EXPECT_TRUE(As(kProducerToken).WaitApplied(kAlpha).ok());
  EXPECT_TRUE(As(kReaderToken).WaitApplied(kAlpha).ok());
  EXPECT_EQ(As(kProducerToken).WaitApplied(kBeta).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(As("").WaitApplied(kAlpha).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthServerTest, ReaderReadsOnlyItsInitiatives) {
  ASSERT_TRUE(As(kAdminToken)
                  .Stream({testing::Feedback(1, kAlpha), testing::Feedback(2, kBeta)})
                  .status.ok());
  ASSERT_TRUE(As(kAdminToken).WaitApplied(kAlpha).ok());
  ASSERT_TRUE(As(kAdminToken).WaitApplied(kBeta).ok());
  const Client reader = As(kReaderToken);
  EXPECT_TRUE(reader.GetBoard(kAlpha).ok());
  EXPECT_TRUE(reader.ListThemes(kAlpha).ok());
  grpc::Status board = reader.GetBoard(kBeta);
  EXPECT_EQ(board.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(board.error_message(), HasSubstr("may not touch initiative 'beta'"));
  EXPECT_EQ(reader.ListThemes(kBeta).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // A producer is no reader, even of its own initiative.
  EXPECT_EQ(As(kProducerToken).GetBoard(kAlpha).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(As(kWrongToken).ListThemes(kAlpha).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // Listing shows only what the caller covers.
  std::vector<std::string> initiatives;
  ASSERT_TRUE(reader.ListInitiatives(&initiatives).ok());
  EXPECT_THAT(initiatives, ElementsAre(kAlpha));
  ASSERT_TRUE(As(kAdminToken).ListInitiatives(&initiatives).ok());
  EXPECT_THAT(initiatives, ElementsAre(kAlpha, kBeta));
}

TEST_F(AuthServerTest, BackupNeedsAnAdminToken) {
  EXPECT_EQ(As(kReaderToken).Backup("b1").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(As(kProducerToken).Backup("b1").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(As("").Backup("b1").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("backups/b1")));
  grpc::Status admin = As(kAdminToken).Backup("b1");
  EXPECT_TRUE(admin.ok()) << admin.error_message();
  EXPECT_TRUE(std::filesystem::exists(dir_.Sub("backups/b1")));
}

TEST_F(AuthServerTest, HealthNeedsNoToken) { EXPECT_EQ(As("").HealthCheck(), "SERVING"); }

TEST_F(AuthServerTest, FailuresAreCountedInMetricsAndNeverLogTheToken) {
  As(kWrongToken).Stream({testing::Feedback(1, kAlpha)});
  As("").GetBoard(kAlpha);
  As(kReaderToken).GetBoard(kBeta);
  As(kProducerToken).Stream({testing::Feedback(2, kBeta)});
  const std::string metrics = Metrics();
  EXPECT_THAT(metrics, HasSubstr("fieldloop_auth_failures_total{code=\"unauthenticated\","
                                 "method=\"Ingest.Stream\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("fieldloop_auth_failures_total{code=\"unauthenticated\","
                                 "method=\"Board.GetBoard\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("fieldloop_auth_failures_total{code=\"permission_denied\","
                                 "method=\"Board.GetBoard\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("fieldloop_auth_failures_total{code=\"permission_denied\","
                                 "method=\"Ingest.Stream\"} 1"));
  server_->Shutdown();
  std::fflush(log_file_);
  const std::string log = testing::ReadFile(log_path_);
  EXPECT_THAT(log, HasSubstr("WARNING auth: "));  // The first refusal is logged.
  for (const char* token : {kWrongToken, kReaderToken, kProducerToken}) {
    EXPECT_THAT(log, Not(HasSubstr(token)));
    EXPECT_THAT(log, Not(HasSubstr(services::TokenHash(token))));
  }
}

TEST_F(AuthServerTest, TokenAddedToTheFileWorksAfterTheReloadAndNotBefore) {
  constexpr char kNewToken[] = "producer-beta-N3wTk8";
  RewriteTokens({TokenLine(kProducerToken, "crm-export", "producer", kAlpha),
                 TokenLine(kReaderToken, "board-bot", "reader", kAlpha),
                 TokenLine(kAdminToken, "ops", "admin", "*"),
                 TokenLine(kNewToken, "beta-loader", "producer", kBeta)});
  // The file changed, but it is read only at start and on a reload.
  EXPECT_EQ(As(kNewToken).Stream({testing::Feedback(1, kBeta)}).status.error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  ASSERT_TRUE(server_->ReloadAuthTokens().ok());
  testing::StreamResult r = As(kNewToken).Stream({testing::Feedback(2, kBeta)});
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.acks.size(), 1u);
  EXPECT_EQ(r.acks[0].status(), v1::ACK_STATUS_ACCEPTED);
  // The tokens kept in the file go on working.
  std::vector<std::string> initiatives;
  EXPECT_TRUE(As(kReaderToken).ListInitiatives(&initiatives).ok());
  EXPECT_TRUE(As(kProducerToken).Stream({testing::Feedback(3, kAlpha)}).status.ok());
}

TEST_F(AuthServerTest, TokenRemovedFromTheFileIsRefusedAfterTheReloadEvenOnAnOpenStream) {
  OpenStream open(As(kProducerToken));
  ASSERT_EQ(open.Send(testing::Feedback(1, kAlpha)).status(), v1::ACK_STATUS_ACCEPTED);
  std::vector<std::string> initiatives;
  ASSERT_TRUE(As(kReaderToken).ListInitiatives(&initiatives).ok());

  RewriteTokens({TokenLine(kAdminToken, "ops", "admin", "*")});
  ASSERT_TRUE(server_->ReloadAuthTokens().ok());

  grpc::Status reader = As(kReaderToken).ListInitiatives(&initiatives);
  EXPECT_EQ(reader.error_code(), grpc::StatusCode::UNAUTHENTICATED) << reader.error_message();
  EXPECT_EQ(As(kReaderToken).GetBoard(kAlpha).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(As(kProducerToken).Stream({testing::Feedback(2, kAlpha)}).status.error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // The stream admitted before goes on, but its records are refused from now on.
  const v1::IngestAck refused = open.Send(testing::Feedback(3, kAlpha));
  EXPECT_EQ(refused.status(), v1::ACK_STATUS_REJECTED);
  EXPECT_EQ(refused.code(), v1::REJECT_CODE_PERMISSION_DENIED);
  EXPECT_EQ(refused.field(), "feedback_event.initiative");
  EXPECT_THAT(refused.message(), HasSubstr("token 'crm-export' is no longer in the tokens file"));
  EXPECT_TRUE(open.Close().ok());
  EXPECT_EQ(server_->ingestor().stats().accepted, 1u);
  EXPECT_THAT(Metrics(), HasSubstr("fieldloop_auth_failures_total{code=\"permission_denied\","
                                   "method=\"Ingest.Stream\"} 1"));
  // The token that stayed works.
  EXPECT_TRUE(As(kAdminToken).ListInitiatives(&initiatives).ok());
}

TEST_F(AuthServerTest, ScopeChangedInTheFileAppliesToNewCallsAndOpenStreamsAfterTheReload) {
  OpenStream open(As(kProducerToken));
  ASSERT_EQ(open.Send(testing::Feedback(1, kAlpha)).status(), v1::ACK_STATUS_ACCEPTED);
  ASSERT_EQ(open.Send(testing::Feedback(2, kBeta)).status(), v1::ACK_STATUS_REJECTED);
  ASSERT_TRUE(As(kAdminToken).Stream({testing::Feedback(3, kBeta)}).status.ok());
  const Client reader = As(kReaderToken);
  std::vector<std::string> initiatives;
  ASSERT_TRUE(reader.ListInitiatives(&initiatives).ok());
  EXPECT_THAT(initiatives, ElementsAre(kAlpha));
  EXPECT_EQ(reader.WaitApplied(kBeta).error_code(), grpc::StatusCode::PERMISSION_DENIED);

  // Both tokens move from alpha to beta.
  RewriteTokens({TokenLine(kProducerToken, "crm-export", "producer", kBeta),
                 TokenLine(kReaderToken, "board-bot", "reader", kBeta),
                 TokenLine(kAdminToken, "ops", "admin", "*")});
  ASSERT_TRUE(server_->ReloadAuthTokens().ok());

  const v1::IngestAck alpha = open.Send(testing::Feedback(4, kAlpha));
  EXPECT_EQ(alpha.status(), v1::ACK_STATUS_REJECTED);
  EXPECT_EQ(alpha.code(), v1::REJECT_CODE_PERMISSION_DENIED);
  EXPECT_THAT(alpha.message(), HasSubstr("may not ingest into initiative 'alpha'"));
  EXPECT_EQ(open.Send(testing::Feedback(5, kBeta)).status(), v1::ACK_STATUS_ACCEPTED);
  EXPECT_TRUE(open.Close().ok());

  ASSERT_TRUE(reader.ListInitiatives(&initiatives).ok());
  EXPECT_THAT(initiatives, ElementsAre(kBeta));
  EXPECT_TRUE(reader.WaitApplied(kBeta).ok());
  EXPECT_EQ(reader.GetBoard(kAlpha).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(As(kProducerToken).Stream({testing::Feedback(6, kAlpha)}).acks.at(0).status(),
            v1::ACK_STATUS_REJECTED);
}

TEST_F(AuthServerTest, OpenWatchOfATokenRemovedFromTheFileEndsAfterTheReload) {
  OpenWatch watch(As(kReaderToken), kAlpha);
  std::optional<v1::ThemeChange> first = watch.Next();  // The (empty) snapshot is read.
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->kind(), v1::ThemeChange::CAUGHT_UP);

  RewriteTokens({TokenLine(kProducerToken, "crm-export", "producer", kAlpha),
                 TokenLine(kAdminToken, "ops", "admin", "*")});
  ASSERT_TRUE(server_->ReloadAuthTokens().ok());

  // Ends on its own, idle (nothing is ingested): well before the 30 s deadline of its call.
  const auto reloaded = std::chrono::steady_clock::now();
  grpc::Status ended = watch.End();
  EXPECT_LT(std::chrono::steady_clock::now() - reloaded, std::chrono::seconds(10));
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::PERMISSION_DENIED) << ended.error_message();
  EXPECT_THAT(ended.error_message(), HasSubstr("token 'board-bot'"));
  EXPECT_THAT(ended.error_message(), HasSubstr("reloaded"));
  EXPECT_THAT(ended.error_message(), Not(HasSubstr(kReaderToken)));
  EXPECT_THAT(ended.error_message(), Not(HasSubstr(services::TokenHash(kReaderToken))));
  EXPECT_THAT(Metrics(), HasSubstr("fieldloop_auth_failures_total{code=\"permission_denied\","
                                   "method=\"Themes.WatchThemes\"} 1"));
  const std::string log = Log();
  EXPECT_THAT(log, Not(HasSubstr(kReaderToken)));
  EXPECT_THAT(log, Not(HasSubstr(services::TokenHash(kReaderToken))));
}

TEST_F(AuthServerTest, OpenWatchOfAnInitiativeTakenFromTheTokenEndsBeforeItsNextChange) {
  OpenWatch watch(As(kReaderToken), kAlpha);
  ASSERT_TRUE(watch.Next().has_value());  // CAUGHT_UP of the empty snapshot.

  // The reader moves from alpha to beta; a record of alpha wakes the watch at once.
  RewriteTokens({TokenLine(kProducerToken, "crm-export", "producer", kAlpha),
                 TokenLine(kReaderToken, "board-bot", "reader", kBeta),
                 TokenLine(kAdminToken, "ops", "admin", "*")});
  ASSERT_TRUE(server_->ReloadAuthTokens().ok());
  ASSERT_TRUE(As(kProducerToken).Stream({testing::Feedback(1, kAlpha)}).status.ok());
  ASSERT_TRUE(As(kProducerToken).WaitApplied(kAlpha).ok());

  std::optional<v1::ThemeChange> change;
  while ((change = watch.Next()).has_value()) {
    ADD_FAILURE() << "a change of alpha reached a token that no longer reads alpha: "
                  << change->ShortDebugString();
  }
  grpc::Status ended = watch.End();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::PERMISSION_DENIED) << ended.error_message();
  EXPECT_THAT(ended.error_message(),
              HasSubstr("token 'board-bot' may not read initiative 'alpha' since the tokens "
                        "file was reloaded"));
}

TEST_F(AuthServerTest, OpenWatchOfATokenKeptInTheFileGoesOnReceivingAfterTheReload) {
  OpenWatch watch(As(kReaderToken), kAlpha);
  ASSERT_TRUE(watch.Next().has_value());  // CAUGHT_UP of the empty snapshot.

  // Another token goes; the reader's line stays as it was.
  RewriteTokens({TokenLine(kReaderToken, "board-bot", "reader", kAlpha),
                 TokenLine(kAdminToken, "ops", "admin", "*")});
  ASSERT_TRUE(server_->ReloadAuthTokens().ok());
  ASSERT_TRUE(As(kAdminToken).Stream({testing::Feedback(1, kAlpha)}).status.ok());
  ASSERT_TRUE(As(kAdminToken).WaitApplied(kAlpha).ok());

  // The watch checks its caller again before sending (and waking idle meanwhile), and the
  // change of the record comes through.
  std::optional<v1::ThemeChange> change = watch.Next();
  ASSERT_TRUE(change.has_value()) << watch.End().error_message();
  EXPECT_EQ(change->kind(), v1::ThemeChange::CREATED);
  EXPECT_GT(change->version(), 0);
  EXPECT_THAT(Metrics(), Not(HasSubstr("method=\"Themes.WatchThemes\"")));
}

TEST_F(AuthServerTest, BrokenOrMissingFileKeepsTheTokensInForce) {
  constexpr char kNewToken[] = "reader-new-Hh27cx";
  // Line 2 is malformed; line 1 would add a token.
  RewriteTokens({TokenLine(kNewToken, "new-bot", "reader", "*"),
                 TokenLine(kReaderToken, "board-bot", "writer", kAlpha),
                 TokenLine(kAdminToken, "ops", "admin", "*")});
  absl::Status broken = server_->ReloadAuthTokens();
  EXPECT_EQ(broken.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(broken.message(), HasSubstr(tokens_path_ + ":2: role 'writer'"));
  std::vector<std::string> initiatives;
  EXPECT_TRUE(As(kReaderToken).ListInitiatives(&initiatives).ok());
  EXPECT_TRUE(As(kProducerToken).Stream({testing::Feedback(1, kAlpha)}).status.ok());
  EXPECT_EQ(As(kNewToken).ListInitiatives(&initiatives).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // No token left: refused too (it would lock everyone out).
  RewriteTokens({"# every token revoked by mistake"});
  EXPECT_EQ(server_->ReloadAuthTokens().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(As(kReaderToken).ListInitiatives(&initiatives).ok());

  ASSERT_EQ(std::remove(tokens_path_.c_str()), 0);
  absl::Status missing = server_->ReloadAuthTokens();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr(tokens_path_));
  EXPECT_TRUE(As(kReaderToken).ListInitiatives(&initiatives).ok());
  EXPECT_EQ(As(kNewToken).ListInitiatives(&initiatives).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  const std::string metrics = Metrics();
  EXPECT_THAT(metrics, HasSubstr("fieldloop_auth_reloads_total{outcome=\"error\"} 3"));
  EXPECT_THAT(metrics, HasSubstr("fieldloop_auth_reloads_total{outcome=\"ok\"} 0"));
  const std::string log = Log();
  EXPECT_THAT(log, HasSubstr(absl::StrCat("ERROR auth: reloading the tokens failed, the 3 tokens "
                                          "in force stay: ",
                                          tokens_path_, ":2: role 'writer'")));
  for (const char* token : {kNewToken, kReaderToken, kAdminToken}) {
    EXPECT_THAT(log, Not(HasSubstr(token)));
    EXPECT_THAT(log, Not(HasSubstr(services::TokenHash(token))));
  }
}

TEST_F(AuthServerTest, ReloadIsLoggedWithCountAndNamesAndCountedNeverWithATokenOrHash) {
  constexpr char kNewToken[] = "reader-new-Pq83la";
  RewriteTokens({TokenLine(kProducerToken, "crm-export", "producer", "alpha,beta"),
                 TokenLine(kAdminToken, "ops", "admin", "*"),
                 TokenLine(kNewToken, "new-bot", "reader", "*")});
  ASSERT_TRUE(server_->ReloadAuthTokens().ok());
  const std::string log = Log();
  EXPECT_THAT(log, HasSubstr(absl::StrCat("INFO auth: reloaded ", tokens_path_,
                                          ": 3 tokens in force; 1 added (new-bot), 1 removed "
                                          "(board-bot), 1 changed (crm-export)")));
  for (const char* token : {kProducerToken, kReaderToken, kAdminToken, kNewToken}) {
    EXPECT_THAT(log, Not(HasSubstr(token)));
    EXPECT_THAT(log, Not(HasSubstr(services::TokenHash(token))));
  }
  EXPECT_THAT(Metrics(), HasSubstr("fieldloop_auth_reloads_total{outcome=\"ok\"} 1"));
}

// A server on 127.0.0.1:0 with `options` completed (data dir, output root).
std::unique_ptr<services::FieldloopServer> StartServer(const testing::TempDir& dir,
                                                       services::ServerOptions options) {
  options.data_dir = dir.Sub("data");
  options.output_root = dir.Sub("out");
  auto server = services::FieldloopServer::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

TEST(AuthReload, WithoutATokensFileThereIsNothingToReloadAndCallsStayOpen) {
  testing::TempDir dir;
  services::ServerOptions options;
  options.listen = "127.0.0.1:0";
  auto server = StartServer(dir, options);
  ASSERT_NE(server, nullptr);
  absl::Status reload = server->ReloadAuthTokens();
  EXPECT_EQ(reload.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(reload.message(), HasSubstr("no tokens file (--auth_tokens) to reload"));
  testing::StreamResult r = Insecure(server->address()).Stream({testing::Feedback(1, kAlpha)});
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.acks.at(0).status(), v1::ACK_STATUS_ACCEPTED);
}

// A TLS channel trusting `ca`, with a client certificate when `cert` is set.
std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address, const std::string& ca,
                                          const std::string& cert = "",
                                          const std::string& key = "") {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = testing::ReadFile(ca);
  if (!cert.empty()) {
    ssl.pem_cert_chain = testing::ReadFile(cert);
    ssl.pem_private_key = testing::ReadFile(key);
  }
  return grpc::CreateChannel(address, grpc::SslCredentials(ssl));
}

class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    auto certs = testing::MakeTestCerts(certs_dir_.path(), &error);
    ASSERT_TRUE(certs.has_value()) << error;
    certs_ = *certs;
  }

  // Server options with TLS from the test certificates, mutual with `mutual`.
  services::ServerOptions TlsOptions(bool mutual) const {
    services::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.tls.cert = certs_.server_cert;
    options.tls.key = certs_.server_key;
    if (mutual) options.tls.client_ca = certs_.ca;
    return options;
  }

  testing::TempDir certs_dir_;
  testing::TempDir dir_;
  testing::TestCerts certs_;
};

TEST_F(TlsServerTest, PlaintextClientCannotCallATlsServer) {
  auto server = StartServer(dir_, TlsOptions(false));
  ASSERT_NE(server, nullptr);
  Client plaintext = Insecure(server->address());
  EXPECT_NE(plaintext.HealthCheck(), "SERVING");
  EXPECT_FALSE(plaintext.Stream({testing::Feedback(1, kAlpha)}).status.ok());
  // A client that trusts another CA does not get through either.
  EXPECT_NE(Client{TlsChannel(server->address(), certs_.other_ca)}.HealthCheck(), "SERVING");
  // One that trusts the server's CA does.
  Client tls{TlsChannel(server->address(), certs_.ca)};
  EXPECT_EQ(tls.HealthCheck(), "SERVING");
  testing::StreamResult r = tls.Stream({testing::Feedback(1, kAlpha)});
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.acks.size(), 1u);
  EXPECT_EQ(r.acks[0].status(), v1::ACK_STATUS_ACCEPTED);
}

TEST_F(TlsServerTest, MutualTlsRefusesAClientWithoutACertificate) {
  auto server = StartServer(dir_, TlsOptions(true));
  ASSERT_NE(server, nullptr);
  Client no_cert{TlsChannel(server->address(), certs_.ca)};
  EXPECT_NE(no_cert.HealthCheck(), "SERVING");
  EXPECT_FALSE(no_cert.Stream({testing::Feedback(1, kAlpha)}).status.ok());
  Client with_cert{TlsChannel(server->address(), certs_.ca, certs_.client_cert, certs_.client_key)};
  EXPECT_EQ(with_cert.HealthCheck(), "SERVING");
  EXPECT_EQ(server->ingestor().stats().accepted, 0u);
}

TEST_F(TlsServerTest, ClientWithTheCaAndATokenWorks) {
  services::ServerOptions options = TlsOptions(false);
  options.auth_tokens = WriteTokensFile(dir_);
  auto server = StartServer(dir_, options);
  ASSERT_NE(server, nullptr);
  Client producer{TlsChannel(server->address(), certs_.ca), kProducerToken};
  testing::StreamResult r = producer.Stream({testing::Feedback(1, kAlpha)});
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.acks.size(), 1u);
  EXPECT_EQ(r.acks[0].status(), v1::ACK_STATUS_ACCEPTED);
  Client anonymous{TlsChannel(server->address(), certs_.ca)};
  EXPECT_EQ(anonymous.Stream({testing::Feedback(2, kAlpha)}).status.error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(TlsServerTest, UnreadableOrIncompleteTlsFilesStopTheStart) {
  services::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir_.Sub("data");
  options.tls.key = certs_.server_key;
  auto no_cert = services::FieldloopServer::Start(options);
  ASSERT_FALSE(no_cert.ok());
  EXPECT_THAT(no_cert.status().message(), HasSubstr("--tls_key needs --tls_cert"));

  options.tls.cert = dir_.Sub("missing.pem");
  auto missing = services::FieldloopServer::Start(options);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("--tls_cert: cannot read '"));

  options.tls.cert = certs_.server_key;  // A key where the certificate belongs.
  auto swapped = services::FieldloopServer::Start(options);
  ASSERT_FALSE(swapped.ok());
  EXPECT_THAT(swapped.status().message(), HasSubstr("holds no PEM CERTIFICATE"));
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("data")));  // Refused before opening.
}

TEST_F(TlsServerTest, NonLoopbackAddressNeedsBothTlsAndTokens) {
  services::ServerOptions options;
  options.listen = "0.0.0.0:0";
  options.data_dir = dir_.Sub("data");
  options.output_root = dir_.Sub("out");
  auto neither = services::FieldloopServer::Start(options);
  ASSERT_FALSE(neither.ok());
  EXPECT_EQ(neither.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(neither.status().message(),
              HasSubstr("is not a loopback address and fieldloopd has no TLS (--tls_cert, "
                        "--tls_key) and no access tokens (--auth_tokens)"));

  options.auth_tokens = WriteTokensFile(dir_);
  auto tokens_only = services::FieldloopServer::Start(options);
  ASSERT_FALSE(tokens_only.ok());
  EXPECT_THAT(tokens_only.status().message(),
              HasSubstr("no TLS (--tls_cert, --tls_key), so the access tokens would travel in "
                        "clear text"));

  options.auth_tokens.clear();
  options.tls.cert = certs_.server_cert;
  options.tls.key = certs_.server_key;
  auto tls_only = services::FieldloopServer::Start(options);
  ASSERT_FALSE(tls_only.ok());
  EXPECT_THAT(tls_only.status().message(), HasSubstr("no access tokens (--auth_tokens)"));

  options.auth_tokens = WriteTokensFile(dir_);
  auto both = services::FieldloopServer::Start(options);
  ASSERT_TRUE(both.ok()) << both.status();
  (*both)->Shutdown();
}

}  // namespace
}  // namespace fieldloop

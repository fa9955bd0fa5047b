// The event log of a real FieldloopServer (127.0.0.1:0, real RocksDB) written to a file:
// streaming the example with one bad record and materializing gives one summary line for
// the stream, one for the materialization and none per record at INFO; DEBUG adds batch
// lines; WARNING keeps a healthy run silent; a restart names the records it replays; a
// failing webhook is logged without the secrets of its URL.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "pipeline/record_validator.h"
#include "proto/fieldloop/v1/board.grpc.pb.h"
#include "services/server.h"
#include "tests/testing/example_records.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/http_receiver.h"
#include "tests/testing/ingest_client.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kInitiative[] = "q3-push";
constexpr char kTime[] = "2026-11-25T10:15:00.000Z";  // The fake clock, as logged.
const absl::Duration kPatience = absl::Minutes(2);

// The lines of `lines` containing `needle`.
std::vector<std::string> Matching(const std::vector<std::string>& lines,
                                  const std::string& needle) {
  std::vector<std::string> out;
  for (const std::string& line : lines) {
    if (absl::StrContains(line, needle)) out.push_back(line);
  }
  return out;
}

std::string Joined(const std::vector<std::string>& lines) {
  return absl::StrCat("\n", absl::StrJoin(lines, "\n"));
}

class ServerLogTest : public ::testing::Test {
 protected:
  ~ServerLogTest() override {
    StopServer();
    if (log_file_ != nullptr) std::fclose(log_file_);
  }

  // Starts a server logging at `level` to a fresh file; `options` as given otherwise.
  void StartServer(services::LogLevel level, services::ServerOptions options = {}) {
    StopServer();
    if (log_file_ != nullptr) std::fclose(log_file_);
    log_path_ = dir_.Sub(absl::StrCat("log", ++logs_, ".txt"));
    log_file_ = std::fopen(log_path_.c_str(), "w");
    ASSERT_NE(log_file_, nullptr);
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.output_root = dir_.Sub("out");
    options.clock = &clock_;
    options.log_level = level;
    options.log_file = log_file_;
    auto server = services::FieldloopServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    board_ = v1::Board::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }

  void StopServer() {
    board_.reset();
    server_.reset();
  }

  // The lines written to the current log so far.
  std::vector<std::string> LogLines() const {
    std::ifstream in(log_path_);
    std::stringstream text;
    text << in.rdbuf();
    return absl::StrSplit(text.str(), '\n', absl::SkipEmpty());
  }

  // Waits until a line of the current log contains `needle`.
  bool AwaitLogLine(const std::string& needle) const {
    const absl::Time deadline = absl::Now() + kPatience;
    while (absl::Now() < deadline) {
      if (!Matching(LogLines(), needle).empty()) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }

  // Every example record with one bad record (empty text) in the middle.
  static std::vector<v1::IngestRequest> RecordsWithOneBad() {
    std::vector<v1::IngestRequest> records = testing::AllExampleRecords();
    v1::IngestRequest bad = testing::Feedback(1);
    bad.mutable_feedback_event()->set_id("fb-bad");
    bad.mutable_feedback_event()->set_text("");
    records.insert(records.begin() + records.size() / 2, bad);
    return records;
  }

  // Streams RecordsWithOneBad() and materializes the example (the answer in
  // `materialized_`); returns the records sent.
  std::vector<v1::IngestRequest> StreamAndMaterialize() {
    std::vector<v1::IngestRequest> records = RecordsWithOneBad();
    testing::StreamResult result = testing::StreamAll(server_->address(), records);
    EXPECT_TRUE(result.status.ok()) << result.status.error_message();
    EXPECT_EQ(result.acks.size(), records.size());
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kPatience));
    v1::MaterializeRequest request;
    request.set_initiative(kInitiative);
    request.set_as_of("2026-11-25");
    grpc::Status s = board_->Materialize(&context, request, &materialized_);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return records;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{
      absl::FromCivil(absl::CivilSecond(2026, 11, 25, 10, 15, 0), absl::UTCTimeZone())};
  std::string log_path_;
  FILE* log_file_ = nullptr;
  int logs_ = 0;
  std::unique_ptr<services::FieldloopServer> server_;
  std::unique_ptr<v1::Board::Stub> board_;
  v1::MaterializeResponse materialized_;
};

TEST_F(ServerLogTest, AtInfoOneLinePerStreamAndMaterializationAndNonePerRecord) {
  StartServer(services::LogLevel::kInfo);
  const std::vector<v1::IngestRequest> records = StreamAndMaterialize();
  const size_t n = records.size();
  StopServer();
  const std::vector<std::string> lines = LogLines();

  const std::regex format(
      R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR) [a-z]+: \S.*$)");
  for (const std::string& line : lines) {
    EXPECT_TRUE(std::regex_match(line, format)) << line;
    EXPECT_THAT(line, ::testing::StartsWith(absl::StrCat(kTime, " INFO "))) << Joined(lines);
  }

  const std::vector<std::string> streams = Matching(lines, " INFO ingest: stream from 127.0.0.1:");
  ASSERT_EQ(streams.size(), 1u) << Joined(lines);
  EXPECT_THAT(streams[0], HasSubstr(absl::StrCat(" ended: ", n, " records, ", n - 1,
                                                 " accepted, 0 duplicate, 1 rejected in ")));
  EXPECT_THAT(streams[0], HasSubstr("; first rejects: fb-bad: feedback_event.text: is required "
                                    "and must not be empty"));
  EXPECT_THAT(streams[0], Not(HasSubstr("more")));

  const std::vector<std::string> boards = Matching(lines, " INFO board: materialized q3-push");
  ASSERT_EQ(boards.size(), 1u) << Joined(lines);
  EXPECT_THAT(boards[0],
              HasSubstr(absl::StrCat("as of 2026-11-25 (request, up to sequence ", n - 1, "): ")));
  ASSERT_GT(materialized_.tasks(), 0);
  EXPECT_THAT(boards[0], HasSubstr(absl::StrCat("): ", materialized_.themes(), " themes, ",
                                                materialized_.tasks(), " tasks in ")));
  EXPECT_THAT(boards[0], HasSubstr(absl::StrCat(
                             "; board ", dir_.Sub("out/specs/projects/q3-push/sales/"),
                             "enablement_feedback.md, plan ",
                             dir_.Sub("out/specs/projects/q3-push/sales/content_refresh.csv"))));

  ASSERT_EQ(Matching(lines, " INFO fieldloopd: started: ").size(), 1u) << Joined(lines);
  EXPECT_THAT(Matching(lines, "fieldloopd: started: ")[0],
              HasSubstr(absl::StrCat("gRPC on ", "127.0.0.1:")));
  EXPECT_THAT(Matching(lines, "fieldloopd: started: ")[0],
              HasSubstr(absl::StrCat("data_dir ", dir_.Sub("data"), " (schema 1)")));
  EXPECT_THAT(Matching(lines, "fieldloopd: started: ")[0], HasSubstr("log_level info"));
  EXPECT_THAT(Joined(lines), Not(HasSubstr("listening on ")));  // fieldloopd's stdout line.
  EXPECT_EQ(Matching(lines,
                     " INFO applier: started: theme state of 0 initiatives loaded; 0 "
                     "records after their watermarks to replay")
                .size(),
            1u)
      << Joined(lines);
  EXPECT_EQ(Matching(lines, " INFO fieldloopd: shutting down").size(), 1u) << Joined(lines);
  EXPECT_EQ(Matching(lines, absl::StrCat(" INFO fieldloopd: stopped; this run: ", n - 1,
                                         " accepted, 0 duplicate, 1 rejected; ", n - 1,
                                         " applied to themes (0 replayed at start)"))
                .size(),
            1u)
      << Joined(lines);

  // Nothing per record: a handful of lines for hundreds of records, none naming an
  // accepted record or quoting a note.
  EXPECT_LE(lines.size(), 8u) << Joined(lines);
  for (const v1::IngestRequest& r : records) {
    const std::string id = pipeline::IdentityOf(r).id;
    if (id == "fb-bad" || id.size() < 6) continue;
    EXPECT_THAT(Joined(lines), Not(HasSubstr(id)));
    if (r.has_feedback_event()) {
      EXPECT_THAT(Joined(lines), Not(HasSubstr(r.feedback_event().text().substr(0, 30))));
    }
  }
}

TEST_F(ServerLogTest, AtDebugBatchesAreLoggedButStillOneSummaryPerStream) {
  StartServer(services::LogLevel::kInfo);
  StreamAndMaterialize();
  StopServer();
  const size_t at_info = LogLines().size();

  std::filesystem::remove_all(dir_.Sub("data"));
  StartServer(services::LogLevel::kDebug);
  StreamAndMaterialize();
  StopServer();
  const std::vector<std::string> lines = LogLines();
  EXPECT_GT(lines.size(), at_info) << Joined(lines);
  EXPECT_GE(Matching(lines, " DEBUG ingest: wrote a batch of ").size(), 1u) << Joined(lines);
  EXPECT_GE(Matching(lines, " DEBUG applier: applied ").size(), 1u) << Joined(lines);
  EXPECT_EQ(Matching(lines, " DEBUG ingest: stream from 127.0.0.1:").size(), 1u);  // Opened.
  EXPECT_EQ(Matching(lines, " INFO ingest: stream from 127.0.0.1:").size(), 1u) << Joined(lines);
  EXPECT_EQ(Matching(lines, " INFO board: materialized ").size(), 1u) << Joined(lines);
}

TEST_F(ServerLogTest, AtWarningAHealthyRunWritesNothing) {
  StartServer(services::LogLevel::kWarning);
  StreamAndMaterialize();
  StopServer();
  EXPECT_THAT(LogLines(), ::testing::IsEmpty());
}

TEST_F(ServerLogTest, RestartNamesTheRecordsReplayedAfterTheWatermark) {
  services::ServerOptions ingest_only;
  ingest_only.apply_themes = false;
  StartServer(services::LogLevel::kInfo, ingest_only);
  const std::vector<v1::IngestRequest> records = testing::ExampleRecords();
  ASSERT_TRUE(testing::StreamAll(server_->address(), records).status.ok());
  StopServer();
  EXPECT_THAT(Joined(LogLines()), Not(HasSubstr("applier")));
  EXPECT_THAT(Joined(LogLines()), HasSubstr("apply_themes=false"));

  StartServer(services::LogLevel::kInfo);
  ASSERT_TRUE(server_->applier().WaitApplied(kInitiative, 0, absl::Now() + kPatience).ok());
  ASSERT_TRUE(AwaitLogLine(" INFO applier: replayed ")) << Joined(LogLines());
  StopServer();
  const std::vector<std::string> lines = LogLines();
  EXPECT_EQ(
      Matching(lines, absl::StrCat(" INFO applier: started: theme state of 1 initiatives "
                                   "loaded; ",
                                   records.size(), " records after their watermarks to replay"))
          .size(),
      1u)
      << Joined(lines);
  EXPECT_EQ(Matching(lines, absl::StrCat(" INFO applier: replayed ", records.size(),
                                         " records after the watermarks in "))
                .size(),
            1u)
      << Joined(lines);
  EXPECT_EQ(Matching(lines, absl::StrCat("(", records.size(), " replayed at start)")).size(), 1u)
      << Joined(lines);
}

TEST_F(ServerLogTest, ScheduledRunIsOneSummaryLineAndOneLinePerMaterialization) {
  services::ServerOptions options;
  options.schedule.every = absl::Hours(1);
  StartServer(services::LogLevel::kInfo, options);
  ASSERT_TRUE(testing::StreamAll(server_->address(), testing::AllExampleRecords()).status.ok());
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 11, 25, 11, 0, 1), absl::UTCTimeZone()));
  server_->scheduler()->Poke();
  ASSERT_TRUE(AwaitLogLine(" schedule: run due ")) << Joined(LogLines());
  StopServer();
  const std::vector<std::string> lines = LogLines();
  EXPECT_THAT(Matching(lines, "fieldloopd: started: ")[0], HasSubstr("schedule every 1h,"));
  const std::vector<std::string> runs = Matching(lines, " schedule: ");
  ASSERT_EQ(runs.size(), 1u) << Joined(lines);
  EXPECT_THAT(runs[0], HasSubstr("2026-11-25T11:00:01.000Z INFO schedule: run due "
                                 "2026-11-25T11:00:00Z (as of 2026-11-25): 1 materialized "
                                 "(q3-push) in "));
  const std::vector<std::string> boards = Matching(lines, " INFO board: materialized q3-push");
  ASSERT_EQ(boards.size(), 1u) << Joined(lines);
  EXPECT_THAT(boards[0], HasSubstr("as of 2026-11-25 (schedule, up to sequence "));
}

TEST_F(ServerLogTest, WebhookFailuresAreWarningsWithoutTheSecretsOfTheUrl) {
  testing::HttpReceiver receiver;
  receiver.FailFirst(3);
  const std::string shown = receiver.Url("/hooks");
  services::ServerOptions options;
  options.tasks_webhook.url =
      absl::StrCat("http://fieldloop:s3cret@127.0.0.1:", receiver.port(), "/hooks?token=t0ken");
  options.tasks_webhook.initial_backoff = absl::Milliseconds(10);
  options.tasks_webhook.max_backoff = absl::Milliseconds(40);
  StartServer(services::LogLevel::kInfo, options);
  StreamAndMaterialize();
  ASSERT_TRUE(server_->tasks_webhook()->WaitIdle(kPatience));
  StopServer();
  const std::vector<std::string> lines = LogLines();
  EXPECT_THAT(Joined(lines), Not(HasSubstr("s3cret")));
  EXPECT_THAT(Joined(lines), Not(HasSubstr("t0ken")));
  EXPECT_THAT(Matching(lines, "fieldloopd: started: ")[0],
              HasSubstr(absl::StrCat("tasks_webhook ", shown)));
  // Failures 1 and 2 of the run are WARNINGs, the 3rd is DEBUG (not written at INFO).
  const std::string tasks = absl::StrCat(materialized_.tasks(), " tasks of q3-push");
  const std::vector<std::string> failures = Matching(
      lines, absl::StrCat(" WARNING webhook: ", shown, ": POST of ", tasks, " failed (HTTP 503; "));
  ASSERT_EQ(failures.size(), 2u) << Joined(lines);
  EXPECT_THAT(failures[0], HasSubstr("1 failures in a row); retrying in 10ms"));
  EXPECT_THAT(failures[1], HasSubstr("2 failures in a row); retrying in 20ms"));
  EXPECT_EQ(Matching(lines, absl::StrCat(" INFO webhook: ", shown, ": delivered ", tasks,
                                         " (HTTP 200) after 3 failed attempts"))
                .size(),
            1u)
      << Joined(lines);
}

}  // namespace
}  // namespace fieldloop

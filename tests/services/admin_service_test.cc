// Admin.Backup through real servers on 127.0.0.1:0 with real RocksDB stores: a backup taken
// while records stream in holds exactly a prefix of them and starts a server whose themes and
// boards carry on; bad names, existing names and a missing --backup_root are refused without
// writing anything outside the backup root.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/fieldloop/v1/admin.grpc.pb.h"
#include "proto/fieldloop/v1/board.grpc.pb.h"
#include "services/server.h"
#include "tests/testing/example_records.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/files.h"
#include "tests/testing/ingest_client.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr char kAsOf[] = "2026-11-25";

// Every path under `root` (recursively, not following links), relative to it, except those
// under `skip` (relative to `root` too).
std::set<std::string> TreeOf(const std::string& root, const std::string& skip = "") {
  std::set<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::string path = fs::relative(it->path(), root).string();
    if (skip.empty() || path.rfind(skip + "/", 0) != 0) out.insert(std::move(path));
  }
  return out;
}

// The names directly in `dir`.
std::set<std::string> EntriesOf(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

class AdminServiceTest : public ::testing::Test {
 protected:
  // A server on `data_dir` with `backup_root` (empty: backups off); its outputs go to a
  // directory of its own.
  std::unique_ptr<services::FieldloopServer> Start(const std::string& data_dir,
                                                   const std::string& backup_root) {
    services::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = data_dir;
    options.output_root = data_dir + "-out";
    options.backup_root = backup_root;
    options.clock = &clock_;
    auto server = services::FieldloopServer::Start(options);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? std::move(*server) : nullptr;
  }

  static grpc::Status Backup(const services::FieldloopServer& server, const std::string& name,
                             v1::BackupResponse* response) {
    auto stub = v1::Admin::NewStub(
        grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    v1::BackupRequest request;
    request.set_name(name);
    return stub->Backup(&context, request, response);
  }

  static v1::GetBoardResponse GetBoard(const services::FieldloopServer& server,
                                       const std::string& initiative) {
    auto stub = v1::Board::NewStub(
        grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    v1::GetBoardRequest request;
    request.set_initiative(initiative);
    request.set_as_of(kAsOf);
    v1::GetBoardResponse response;
    grpc::Status s = stub->GetBoard(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  static v1::WaitAppliedResponse WaitApplied(const services::FieldloopServer& server,
                                             const std::string& initiative) {
    grpc::ClientContext context;
    v1::WaitAppliedRequest request;
    request.set_initiative(initiative);
    request.set_timeout_ms(120000);
    v1::WaitAppliedResponse response;
    grpc::Status s =
        testing::IngestStub(server.address())->WaitApplied(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{
      absl::FromCivil(absl::CivilSecond(2026, 11, 25, 10, 15, 0), absl::UTCTimeZone())};
};

// Streams Feedback(0..) of `initiative` into `address` on one stream from its own thread,
// keeping the acks, until Stop(). At most kInFlight records are unacked at a time, so records
// keep arriving at a steady pace instead of all being queued at once.
class BackgroundStream {
 public:
  BackgroundStream(const std::string& address, std::string initiative)
      : stub_(testing::IngestStub(address)), initiative_(std::move(initiative)) {
    stream_ = stub_->Stream(&context_);
    writer_ = std::thread([this] {
      for (size_t i = 0; !stop_; ++i) {
        {
          absl::MutexLock lock(&mu_);
          auto room = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            return acks_.size() + kInFlight > i;
          };
          mu_.Await(absl::Condition(&room));
        }
        if (!stream_->Write(testing::Feedback(static_cast<int>(i), initiative_))) break;
      }
      stream_->WritesDone();
    });
    reader_ = std::thread([this] {
      v1::IngestAck ack;
      while (stream_->Read(&ack)) {
        absl::MutexLock lock(&mu_);
        acks_.push_back(ack);
      }
    });
  }
  ~BackgroundStream() { Stop(); }

  // Waits until more than `n` acks arrived.
  void AwaitAcksAbove(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return acks_.size() > n; };
    mu_.Await(absl::Condition(&enough));
  }
  std::vector<v1::IngestAck> acks() {
    absl::MutexLock lock(&mu_);
    return acks_;
  }
  // Stops writing and waits for the acks of everything written. Returns the stream's status.
  grpc::Status Stop() {
    if (stopped_) return status_;
    stopped_ = true;
    stop_ = true;
    writer_.join();
    reader_.join();
    status_ = stream_->Finish();
    return status_;
  }

 private:
  static constexpr size_t kInFlight = 16;

  std::unique_ptr<v1::Ingest::Stub> stub_;
  const std::string initiative_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::IngestRequest, v1::IngestAck>> stream_;
  std::atomic<bool> stop_{false};
  std::thread writer_;
  std::thread reader_;
  bool stopped_ = false;
  grpc::Status status_;
  absl::Mutex mu_;
  std::vector<v1::IngestAck> acks_ ABSL_GUARDED_BY(mu_);
};

TEST_F(AdminServiceTest, BackupDuringIngestHoldsAPrefixOfTheAckedRecordsAndStartsAServer) {
  auto first = Start(dir_.Sub("data"), dir_.Sub("backups"));
  ASSERT_NE(first, nullptr);
  // q3-push: the example initiative, fully applied, materialized and edited by a person.
  testing::StreamResult examples =
      testing::StreamAll(first->address(), testing::AllExampleRecords());
  ASSERT_TRUE(examples.status.ok()) << examples.status.error_message();
  for (const auto& ack : examples.acks) ASSERT_EQ(ack.status(), v1::ACK_STATUS_ACCEPTED);
  const uint64_t examples_last = examples.acks.back().sequence();
  ASSERT_EQ(WaitApplied(*first, "q3-push").applied_sequence(), examples_last);
  {
    auto board = v1::Board::NewStub(
        grpc::CreateChannel(first->address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    v1::MaterializeRequest materialize;
    materialize.set_initiative("q3-push");
    materialize.set_as_of(kAsOf);
    v1::MaterializeResponse materialized;
    ASSERT_TRUE(board->Materialize(&context, materialize, &materialized).ok());
    const std::string plan = testing::ReadFile(materialized.plan_path());
    const size_t row = plan.find("\r\n") + 2;
    grpc::ClientContext edit_context;
    v1::UpdateTaskRequest edit;
    edit.set_initiative("q3-push");
    edit.set_task_key(plan.substr(row, plan.find(',', row) - row));
    edit.set_owner("Dana Backup");
    v1::UpdateTaskResponse edited;
    grpc::Status s = board->UpdateTask(&edit_context, edit, &edited);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  const v1::GetBoardResponse board_before = GetBoard(*first, "q3-push");
  ASSERT_THAT(board_before.plan_csv(), HasSubstr("Dana Backup"));

  // q4-push: records streaming in on one stream while the backup is taken.
  BackgroundStream live(first->address(), "q4-push");
  live.AwaitAcksAbove(300);
  const std::vector<v1::IngestAck> acked_before = live.acks();
  v1::BackupResponse backup;
  grpc::Status s = Backup(*first, "b1", &backup);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(backup.initiatives_size(), 2);
  live.AwaitAcksAbove(backup.initiatives(1).last_sequence() + 100);
  ASSERT_TRUE(live.Stop().ok());
  const std::vector<v1::IngestAck> acked = live.acks();
  std::printf("q4-push: %zu acked before the backup, %llu in it, %zu in all\n", acked_before.size(),
              static_cast<unsigned long long>(backup.initiatives(1).last_sequence()), acked.size());

  EXPECT_EQ(backup.dir(), fs::canonical(dir_.Sub("backups")).string() + "/b1");
  EXPECT_EQ(backup.schema_version(), 1);
  EXPECT_GT(backup.bytes(), 0u);
  ASSERT_EQ(backup.initiatives_size(), 2);
  EXPECT_EQ(backup.initiatives(0).initiative(), "q3-push");
  EXPECT_EQ(backup.initiatives(0).last_sequence(), examples_last);
  EXPECT_EQ(backup.initiatives(0).applied_sequence(), examples_last);
  EXPECT_EQ(backup.initiatives(1).initiative(), "q4-push");
  const uint64_t cut = backup.initiatives(1).last_sequence();
  // Everything acked before the call is in it; records kept arriving after it.
  EXPECT_GE(cut, acked_before.back().sequence());
  EXPECT_LT(cut, acked.back().sequence());
  EXPECT_LE(backup.initiatives(1).applied_sequence(), cut);

  // Restore as documented: a copy of the backup is the new server's data directory.
  fs::copy(backup.dir(), dir_.Sub("restored"), fs::copy_options::recursive);
  auto second = Start(dir_.Sub("restored"), "");
  ASSERT_NE(second, nullptr);
  const v1::GetBoardResponse board_after = GetBoard(*second, "q3-push");
  EXPECT_EQ(board_after.board_markdown(), board_before.board_markdown());
  EXPECT_EQ(board_after.plan_csv(), board_before.plan_csv());
  EXPECT_EQ(board_after.applied_sequence(), examples_last);

  // Sent again, the records up to the cut are duplicates with the numbers the first server
  // gave; the later ones are new and get the same numbers again, in order.
  std::vector<v1::IngestRequest> resend;
  for (size_t i = 0; i < acked.size(); ++i) {
    resend.push_back(testing::Feedback(static_cast<int>(i), "q4-push"));
  }
  testing::StreamResult again = testing::StreamAll(second->address(), resend);
  ASSERT_TRUE(again.status.ok()) << again.status.error_message();
  ASSERT_EQ(again.acks.size(), acked.size());
  for (size_t i = 0; i < acked.size(); ++i) {
    ASSERT_EQ(again.acks[i].sequence(), acked[i].sequence()) << i;
    ASSERT_EQ(again.acks[i].status(),
              acked[i].sequence() <= cut ? v1::ACK_STATUS_DUPLICATE : v1::ACK_STATUS_ACCEPTED)
        << "record " << i << " (sequence " << acked[i].sequence() << ", backup cut " << cut << ")";
  }
  // The themes resume: everything, replayed and new, is applied.
  EXPECT_EQ(WaitApplied(*second, "q4-push").applied_sequence(), acked.back().sequence());
}

TEST_F(AdminServiceTest, BadOrTakenNamesAreRefusedAndNothingIsWrittenOutsideTheRoot) {
  const std::string root = dir_.Sub("site/backups");
  auto server = Start(dir_.Sub("site/data"), root);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(testing::StreamAll(server->address(), {testing::Feedback(1)}).status.ok());
  fs::create_directories(dir_.Sub("elsewhere"));
  fs::create_symlink(dir_.Sub("elsewhere"), root + "/link");
  std::ofstream(root + "/taken") << "somebody's file";
  fs::create_directories(root + "/s1.tmp");
  std::ofstream(root + "/s1.tmp/keep") << "somebody's file";
  // The data directory is RocksDB's to change; everything else must stay as it is.
  const std::set<std::string> tree_before = TreeOf(dir_.path(), "site/data");
  const std::set<std::string> root_before = EntriesOf(root);

  for (const std::string& name :
       {std::string(""), std::string("../x"), std::string("/abs"), std::string("a/b"),
        std::string(".."), std::string("."), std::string(".hidden"), std::string("-dash"),
        std::string("B1"), std::string("b 1"), std::string("b1\n"), std::string("b\0", 2),
        std::string(65, 'a'), std::string("b1/../../x")}) {
    v1::BackupResponse response;
    grpc::Status s = Backup(*server, name, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << name;
    EXPECT_THAT(s.error_message(), HasSubstr("[a-z0-9][a-z0-9._-]{0,63}")) << name;
  }
  for (const char* name : {"taken", "link", "s1"}) {
    v1::BackupResponse response;
    grpc::Status s = Backup(*server, name, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << name;
  }
  EXPECT_EQ(TreeOf(dir_.path(), "site/data"), tree_before);
  EXPECT_EQ(testing::ReadFile(root + "/taken"), "somebody's file");
  EXPECT_EQ(testing::ReadFile(root + "/s1.tmp/keep"), "somebody's file");
  EXPECT_TRUE(TreeOf(dir_.Sub("elsewhere")).empty());

  v1::BackupResponse response;
  ASSERT_TRUE(Backup(*server, std::string(64, 'a'), &response).ok());
  grpc::Status again = Backup(*server, std::string(64, 'a'), &response);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(again.error_message(), HasSubstr("already exists"));
  std::set<std::string> expected = root_before;
  expected.insert(std::string(64, 'a'));
  EXPECT_EQ(EntriesOf(root), expected);
  for (const std::string& path : TreeOf(dir_.path(), "site/backups/" + std::string(64, 'a'))) {
    EXPECT_TRUE(tree_before.count(path) || path.rfind("site/data/", 0) == 0 ||
                path == "site/backups/" + std::string(64, 'a'))
        << "written outside the backup: " << path;
  }
}

TEST_F(AdminServiceTest, WithoutBackupRootBackupIsFailedPreconditionNamingTheFlag) {
  auto server = Start(dir_.Sub("data"), "");
  ASSERT_NE(server, nullptr);
  const std::set<std::string> before = TreeOf(dir_.path());
  v1::BackupResponse response;
  grpc::Status s = Backup(*server, "b1", &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("--backup_root"));
  EXPECT_EQ(TreeOf(dir_.path()), before);
}

TEST_F(AdminServiceTest, ServerRefusesABackupRootThatIsRelativeOrInsideTheDataDir) {
  for (const std::string& root : {std::string("backups"), dir_.Sub("data"),
                                  dir_.Sub("data/backups"), dir_.Sub("data/../data/x")}) {
    services::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.output_root = dir_.Sub("out");
    options.backup_root = root;
    options.clock = &clock_;
    auto server = services::FieldloopServer::Start(options);
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument) << root;
    EXPECT_THAT(std::string(server.status().message()), HasSubstr("--backup_root=" + root));
  }
  EXPECT_FALSE(fs::exists(dir_.Sub("data/backups")));
  EXPECT_FALSE(fs::exists("backups"));
  // A file where the root should be cannot become one.
  std::ofstream(dir_.Sub("file")) << "x";
  services::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir_.Sub("data");
  options.backup_root = dir_.Sub("file");
  options.clock = &clock_;
  EXPECT_EQ(services::FieldloopServer::Start(options).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace fieldloop

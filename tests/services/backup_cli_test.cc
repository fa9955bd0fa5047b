// `fieldloop backup` and `fieldloop restore` as real binaries: fieldloopd on 127.0.0.1:0 over
// a temp data dir, backed up through the server (--server --name) and, once stopped, directly
// (--data_dir --to); a restored copy starts a server with the same records.
#include <signal.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/ingest_client.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop::services {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::Runfile;

// Runs `fieldloop args...` to its end.
testing::Finished Cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {Runfile("services/cli/fieldloop")};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::RunToEnd(argv);
}

std::vector<v1::IngestRequest> Records(int from, int to) {
  std::vector<v1::IngestRequest> out;
  for (int i = from; i < to; ++i) out.push_back(testing::Feedback(i));
  return out;
}

// Streams `records` into `address`; expects each to come back with `status` and the
// sequence number first + its index.
void ExpectAcks(const std::string& address, const std::vector<v1::IngestRequest>& records,
                v1::AckStatus status, uint64_t first) {
  testing::StreamResult result = testing::StreamAll(address, records);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  ASSERT_EQ(result.acks.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    ASSERT_EQ(result.acks[i].status(), status) << i;
    ASSERT_EQ(result.acks[i].sequence(), first + i) << i;
  }
}

TEST(BackupCli, OnlineBackupPrintsThePathAndRefusesBadOrTakenNames) {
  testing::TempDir dir;
  std::string address;
  auto daemon = testing::StartDaemon(
      dir.Sub("data"), &address,
      {"--backup_root=" + dir.Sub("backups"), "--output_root=" + dir.Sub("out")});
  ASSERT_NE(daemon, nullptr);
  ExpectAcks(address, Records(0, 100), v1::ACK_STATUS_ACCEPTED, 1);

  testing::Finished made = Cli({"backup", "--server", address, "--name", "b1"});
  EXPECT_EQ(made.status, 0) << made.output;
  const std::string path = fs::canonical(dir.Sub("backups")).string() + "/b1";
  EXPECT_THAT(made.output, HasSubstr("backup b1: " + path + " ("));
  EXPECT_THAT(made.output, HasSubstr("storage schema 1)"));
  EXPECT_THAT(made.output, HasSubstr("q3-push: records 1..100"));
  EXPECT_TRUE(fs::is_regular_file(path + "/CURRENT"));

  testing::Finished taken = Cli({"backup", "--server", address, "--name=b1"});
  EXPECT_EQ(taken.status, 2) << taken.output;
  EXPECT_THAT(taken.output, HasSubstr("backup 'b1' already exists"));
  testing::Finished bad = Cli({"backup", "--server", address, "--name", "../b2"});
  EXPECT_EQ(bad.status, 2) << bad.output;
  EXPECT_THAT(bad.output, HasSubstr("name: '../b2' must match [a-z0-9][a-z0-9._-]{0,63}"));
  EXPECT_FALSE(fs::exists(dir.Sub("b2")));

  // Usage and connection errors: 1.
  EXPECT_EQ(Cli({"backup", "--server", address}).status, 1);
  EXPECT_EQ(Cli({"backup", "--server", address, "--name", "b3", "--to", dir.Sub("x")}).status, 1);
  EXPECT_EQ(
      Cli({"backup", "--name", "b3", "--server", "127.0.0.1:1", "--connect_timeout", "1"}).status,
      1);
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(), 0);
}

TEST(BackupCli, WithoutBackupRootTheServerRefusesNamingTheFlag) {
  testing::TempDir dir;
  std::string address;
  auto daemon = testing::StartDaemon(dir.Sub("data"), &address);
  ASSERT_NE(daemon, nullptr);
  testing::Finished refused = Cli({"backup", "--server", address, "--name", "b1"});
  EXPECT_EQ(refused.status, 2) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("start fieldloopd with --backup_root=DIR"));
}

TEST(BackupCli, FieldloopdRefusesABackupRootInsideTheDataDir) {
  testing::TempDir dir;
  testing::Finished refused =
      testing::RunToEnd({Runfile("services/fieldloopd"), "--listen=127.0.0.1:0",
                         "--data_dir=" + dir.Sub("data"), "--backup_root=" + dir.Sub("data/b")});
  EXPECT_EQ(refused.status, 1) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("is inside --data_dir"));
}

TEST(BackupCli, OfflineBackupWaitsForTheServerToStopAndRestoreStartsOneWithTheSameRecords) {
  testing::TempDir dir;
  const std::string data = dir.Sub("data");
  std::string address;
  auto daemon = testing::StartDaemon(data, &address);
  ASSERT_NE(daemon, nullptr);
  ExpectAcks(address, Records(0, 150), v1::ACK_STATUS_ACCEPTED, 1);

  testing::Finished locked = Cli({"backup", "--data_dir", data, "--to", dir.Sub("copy")});
  EXPECT_EQ(locked.status, 1) << locked.output;
  EXPECT_THAT(locked.output, HasSubstr(data + " is in use by a running fieldloopd"));
  EXPECT_THAT(locked.output, HasSubstr("fieldloop backup --server HOST:PORT --name NAME"));
  EXPECT_FALSE(fs::exists(dir.Sub("copy")));
  daemon->Signal(SIGTERM);
  ASSERT_EQ(daemon->Wait(), 0);

  testing::Finished made = Cli({"backup", "--data_dir", data, "--to", dir.Sub("copy")});
  ASSERT_EQ(made.status, 0) << made.output;
  EXPECT_THAT(made.output, HasSubstr(": " + fs::canonical(dir.Sub("copy")).string() + " ("));
  EXPECT_THAT(made.output, HasSubstr("q3-push: records 1..150, themes applied up to "));
  testing::Finished again = Cli({"backup", "--data_dir", data, "--to", dir.Sub("copy")});
  EXPECT_EQ(again.status, 2) << again.output;
  EXPECT_THAT(again.output, HasSubstr("already exists"));
  testing::Finished inside = Cli({"backup", "--data_dir", data, "--to", data + "/inner"});
  EXPECT_EQ(inside.status, 2) << inside.output;
  EXPECT_THAT(inside.output, HasSubstr("is inside the data dir"));
  testing::Finished missing = Cli({"backup", "--data_dir", dir.Sub("none"), "--to", dir.Sub("x")});
  EXPECT_EQ(missing.status, 1) << missing.output;
  EXPECT_FALSE(fs::exists(dir.Sub("none")));

  testing::Finished restored =
      Cli({"restore", "--from", dir.Sub("copy"), "--data_dir", dir.Sub("new")});
  ASSERT_EQ(restored.status, 0) << restored.output;
  EXPECT_THAT(restored.output, HasSubstr("q3-push: records 1..150"));
  EXPECT_THAT(restored.output, HasSubstr("fieldloopd --data_dir=" + dir.Sub("new")));
  EXPECT_FALSE(fs::exists(dir.Sub("new.restoring")));
  testing::Finished twice =
      Cli({"restore", "--from", dir.Sub("copy"), "--data_dir", dir.Sub("new")});
  EXPECT_EQ(twice.status, 1) << twice.output;
  EXPECT_THAT(twice.output, HasSubstr("exists: restore into a new directory"));
  testing::Finished not_backup =
      Cli({"restore", "--from", dir.Sub("none"), "--data_dir", dir.Sub("n2")});
  EXPECT_EQ(not_backup.status, 1) << not_backup.output;
  EXPECT_FALSE(fs::exists(dir.Sub("n2")));

  // The restored directory serves the same records: sent again they are duplicates with
  // their numbers, and new ones continue after them.
  auto restarted = testing::StartDaemon(dir.Sub("new"), &address);
  ASSERT_NE(restarted, nullptr);
  ExpectAcks(address, Records(0, 150), v1::ACK_STATUS_DUPLICATE, 1);
  ExpectAcks(address, Records(150, 160), v1::ACK_STATUS_ACCEPTED, 151);
  restarted->Signal(SIGTERM);
  EXPECT_EQ(restarted->Wait(), 0);
}

}  // namespace
}  // namespace fieldloop::services

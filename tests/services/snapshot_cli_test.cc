// `fieldloop snapshot`, the weekly snapshot job, as real binaries: fieldloopd on
// 127.0.0.1:0 over a temp data dir and output root, and the fieldloop CLI against it.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/example_records.h"
#include "tests/testing/files.h"
#include "tests/testing/ingest_client.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop::services {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using testing::ReadFile;
using testing::Runfile;
using testing::Subprocess;

using CliRun = testing::Finished;

// Runs `fieldloop snapshot args...` to its end.
CliRun Snapshot(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {Runfile("services/cli/fieldloop"), "snapshot"};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::RunToEnd(argv);
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

// Every path under `root` (recursively), relative to it.
std::vector<std::string> TreeOf(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    out.push_back(std::filesystem::relative(it->path(), root).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Expects the file `copy` to exist and hold exactly the bytes of the file `original`; on a
// difference names both instead of printing two whole boards.
void ExpectSameBytes(const std::string& copy, const std::string& original) {
  ASSERT_TRUE(std::filesystem::exists(copy)) << copy << " was not written";
  const std::string want = ReadFile(original);
  const std::string got = ReadFile(copy);
  EXPECT_FALSE(want.empty()) << original << " is missing or empty";
  EXPECT_TRUE(got == want) << copy << " (" << got.size() << " bytes) differs from " << original
                           << " (" << want.size() << " bytes)";
}

class SnapshotCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ =
        testing::StartDaemon(dir_.Sub("data"), &address_, {"--output_root=" + dir_.Sub("out")});
    ASSERT_NE(daemon_, nullptr) << "fieldloopd did not come up";
  }

  void TearDown() override {
    if (daemon_ == nullptr) return;
    daemon_->Signal(SIGTERM);
    EXPECT_EQ(daemon_->Wait(), 0) << daemon_->DrainOutput();
  }

  void Stream(const std::vector<v1::IngestRequest>& requests) {
    testing::StreamResult result = testing::StreamAll(address_, requests);
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    ASSERT_EQ(result.acks.size(), requests.size());
    for (const auto& ack : result.acks) {
      ASSERT_EQ(ack.status(), v1::ACK_STATUS_ACCEPTED) << ack.record_id() << ": " << ack.message();
    }
  }

  // <output_root>/specs/projects/<initiative>/sales
  std::string SalesDir(const std::string& initiative) const {
    return dir_.Sub("out/specs/projects/" + initiative + "/sales");
  }

  testing::TempDir dir_;
  std::string address_;
  std::unique_ptr<Subprocess> daemon_;
};

TEST_F(SnapshotCliTest, WritesBoardPlanAndIdenticalCopiesUnderTheIsoWeek) {
  Stream(testing::ExampleRecords());
  const CliRun run = Snapshot({"--server", address_, "--initiative", "q3-push", "--as_of",
                               "2026-11-25"});  // A Wednesday: ISO week 2026-W48.
  ASSERT_EQ(run.status, 0) << run.output;

  const std::string sales = SalesDir("q3-push");
  const std::string week = sales + "/history/2026-W48";
  const std::vector<std::string> lines = Lines(run.output);
  ASSERT_EQ(lines.size(), 4u) << run.output;
  EXPECT_THAT(lines[0], MatchesRegex("q3-push \\(as of 2026-11-25\\): [1-9][0-9]* themes, "
                                     "[1-9][0-9]* tasks"));
  EXPECT_EQ(lines[1], "  board: " + sales + "/enablement_feedback.md");
  EXPECT_EQ(lines[2], "  plan:  " + sales + "/content_refresh.csv");
  EXPECT_EQ(lines[3], "  history: " + week + "/enablement_feedback.md");

  const std::string board = ReadFile(sales + "/enablement_feedback.md");
  const std::string plan = ReadFile(sales + "/content_refresh.csv");
  EXPECT_THAT(board, HasSubstr("# Enablement action board: q3-push"));
  EXPECT_THAT(board, HasSubstr("As of 2026-11-25."));
  EXPECT_THAT(plan, HasSubstr("task_key,theme_id,theme,"));
  ExpectSameBytes(week + "/enablement_feedback.md", sales + "/enablement_feedback.md");
  ExpectSameBytes(week + "/content_refresh.csv", sales + "/content_refresh.csv");
  EXPECT_THAT(TreeOf(sales), ElementsAre("content_refresh.csv", "enablement_feedback.md", "history",
                                         "history/2026-W48", "history/2026-W48/content_refresh.csv",
                                         "history/2026-W48/enablement_feedback.md"));
}

TEST_F(SnapshotCliTest, SameWeekReplacesItsCopiesAndANewWeekKeepsTheOldOne) {
  Stream(testing::ExampleRecords());
  const std::string sales = SalesDir("q3-push");
  ASSERT_EQ(
      Snapshot({"--server", address_, "--initiative", "q3-push", "--as_of", "2026-11-25"}).status,
      0);
  // Sunday 2026-11-29 is still in 2026-W48: its copy replaces the Wednesday one.
  const CliRun sunday =
      Snapshot({"--server", address_, "--initiative", "q3-push", "--as_of", "2026-11-29"});
  ASSERT_EQ(sunday.status, 0) << sunday.output;
  const std::string w48_board = ReadFile(sales + "/history/2026-W48/enablement_feedback.md");
  const std::string w48_plan = ReadFile(sales + "/history/2026-W48/content_refresh.csv");
  EXPECT_THAT(w48_board, HasSubstr("As of 2026-11-29."));
  ExpectSameBytes(sales + "/history/2026-W48/enablement_feedback.md",
                  sales + "/enablement_feedback.md");
  ExpectSameBytes(sales + "/history/2026-W48/content_refresh.csv", sales + "/content_refresh.csv");

  // Monday 2026-11-30 starts 2026-W49; the W48 copies stay as they were.
  const CliRun monday =
      Snapshot({"--server", address_, "--initiative", "q3-push", "--as_of", "2026-11-30"});
  ASSERT_EQ(monday.status, 0) << monday.output;
  EXPECT_THAT(monday.output,
              HasSubstr("  history: " + sales + "/history/2026-W49/enablement_feedback.md\n"));
  EXPECT_THAT(ReadFile(sales + "/enablement_feedback.md"), HasSubstr("As of 2026-11-30."));
  ExpectSameBytes(sales + "/history/2026-W49/enablement_feedback.md",
                  sales + "/enablement_feedback.md");
  ExpectSameBytes(sales + "/history/2026-W49/content_refresh.csv", sales + "/content_refresh.csv");
  EXPECT_TRUE(ReadFile(sales + "/history/2026-W48/enablement_feedback.md") == w48_board)
      << "the 2026-W48 board changed";
  EXPECT_TRUE(ReadFile(sales + "/history/2026-W48/content_refresh.csv") == w48_plan)
      << "the 2026-W48 plan changed";

  // Friday 2027-01-01 belongs to the last ISO week of 2026.
  const CliRun new_year =
      Snapshot({"--server", address_, "--initiative", "q3-push", "--as_of", "2027-01-01"});
  ASSERT_EQ(new_year.status, 0) << new_year.output;
  EXPECT_THAT(new_year.output,
              HasSubstr("  history: " + sales + "/history/2026-W53/enablement_feedback.md\n"));
  ExpectSameBytes(sales + "/history/2026-W53/enablement_feedback.md",
                  sales + "/enablement_feedback.md");
  EXPECT_THAT(
      TreeOf(sales + "/history"),
      ElementsAre("2026-W48", "2026-W48/content_refresh.csv", "2026-W48/enablement_feedback.md",
                  "2026-W49", "2026-W49/content_refresh.csv", "2026-W49/enablement_feedback.md",
                  "2026-W53", "2026-W53/content_refresh.csv", "2026-W53/enablement_feedback.md"));
}

TEST_F(SnapshotCliTest, WithoutInitiativeEveryInitiativeOfTheServerIsMaterialized) {
  std::vector<v1::IngestRequest> records;
  for (int i = 0; i < 20; ++i) records.push_back(testing::Feedback(i, "alpha"));
  for (int i = 100; i < 120; ++i) records.push_back(testing::Feedback(i, "beta"));
  Stream(records);
  const CliRun run = Snapshot({"--server", address_, "--as_of", "2026-11-25"});
  ASSERT_EQ(run.status, 0) << run.output;

  const std::vector<std::string> lines = Lines(run.output);
  ASSERT_EQ(lines.size(), 8u) << run.output;
  const std::vector<std::pair<size_t, std::string>> blocks = {{0, "alpha"}, {4, "beta"}};
  for (const auto& [at, initiative] : blocks) {
    SCOPED_TRACE(initiative);
    const std::string sales = SalesDir(initiative);
    EXPECT_THAT(lines[at], HasSubstr(initiative + " (as of 2026-11-25): "));
    EXPECT_THAT(lines[at], Not(HasSubstr("stub")));
    EXPECT_EQ(lines[at + 1], "  board: " + sales + "/enablement_feedback.md");
    EXPECT_EQ(lines[at + 2], "  plan:  " + sales + "/content_refresh.csv");
    EXPECT_EQ(lines[at + 3], "  history: " + sales + "/history/2026-W48/enablement_feedback.md");
    EXPECT_THAT(ReadFile(sales + "/enablement_feedback.md"),
                HasSubstr("# Enablement action board: " + initiative + "\n"));
    ExpectSameBytes(sales + "/history/2026-W48/enablement_feedback.md",
                    sales + "/enablement_feedback.md");
    ExpectSameBytes(sales + "/history/2026-W48/content_refresh.csv",
                    sales + "/content_refresh.csv");
  }
  EXPECT_THAT(
      TreeOf(dir_.Sub("out/specs/projects")),
      ElementsAre("alpha", "alpha/sales", "alpha/sales/content_refresh.csv",
                  "alpha/sales/enablement_feedback.md", "alpha/sales/history",
                  "alpha/sales/history/2026-W48",
                  "alpha/sales/history/2026-W48/content_refresh.csv",
                  "alpha/sales/history/2026-W48/enablement_feedback.md", "beta", "beta/sales",
                  "beta/sales/content_refresh.csv", "beta/sales/enablement_feedback.md",
                  "beta/sales/history", "beta/sales/history/2026-W48",
                  "beta/sales/history/2026-W48/content_refresh.csv",
                  "beta/sales/history/2026-W48/enablement_feedback.md"));
}

TEST(SnapshotCli, MissingServerIsAUsageErrorNamingTheFlag) {
  const CliRun run = Snapshot({"--initiative", "q3-push", "--as_of", "2026-11-25"});
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.output, "fieldloop snapshot: --server HOST:PORT is required\n");
}

TEST(SnapshotCli, BadArgumentsAreUsageErrors) {
  const CliRun unknown = Snapshot({"--server", "127.0.0.1:1", "--bogus"});
  EXPECT_EQ(unknown.status, 1);
  EXPECT_THAT(unknown.output, HasSubstr("fieldloop snapshot: unexpected argument --bogus"));
  const CliRun timeout = Snapshot({"--server", "127.0.0.1:1", "--connect_timeout", "soon"});
  EXPECT_EQ(timeout.status, 1);
  EXPECT_THAT(timeout.output, HasSubstr("--connect_timeout must be a whole number of seconds"));
}

TEST_F(SnapshotCliTest, MalformedAsOfIsAUsageErrorAndWritesNothing) {
  Stream(testing::ExampleRecords());
  const std::vector<std::string> dates = {"notadate", "2026-02-30", "2026-1-5", "25.11.2026"};
  for (const std::string& as_of : dates) {
    SCOPED_TRACE(as_of);
    for (const bool with_initiative : {true, false}) {
      std::vector<std::string> args = {"--server", address_, "--as_of", as_of};
      if (with_initiative) args.insert(args.end(), {"--initiative", "q3-push"});
      const CliRun run = Snapshot(args);
      EXPECT_EQ(run.status, 1);
      EXPECT_EQ(run.output,
                "fieldloop snapshot: --as_of '" + as_of + "' is not a date YYYY-MM-DD\n");
    }
  }
  EXPECT_THAT(TreeOf(dir_.Sub("out")), ::testing::IsEmpty());
}

TEST_F(SnapshotCliTest, InvalidInitiativeFailsAndWritesNothing) {
  Stream(testing::ExampleRecords());
  const std::vector<std::string> names = {"../evil", "../../../evil", "q3-push/../../../../evil",
                                          "/evil",   "Evil",          ".evil"};
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const CliRun run = Snapshot({"--server", address_, "--initiative", name});
    EXPECT_EQ(run.status, 2);
    EXPECT_EQ(run.output, "fieldloop snapshot: " + name + ": initiative: '" + name +
                              "' must match [a-z0-9][a-z0-9._-]{0,63}\n");
  }
  // Nothing was written anywhere in the test's directory but the daemon's store (the
  // output root itself may exist, empty).
  for (const std::string& path : TreeOf(dir_.path())) {
    EXPECT_TRUE(path == "data" || path.rfind("data/", 0) == 0 || path == "out") << path;
  }
}

TEST_F(SnapshotCliTest, InitiativeWithoutRecordsFailsWithExitTwo) {
  const CliRun run = Snapshot({"--server", address_, "--initiative", "nobody"});
  EXPECT_EQ(run.status, 2);
  EXPECT_EQ(run.output, "fieldloop snapshot: nobody: initiative 'nobody' has no records\n");
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("out")));
}

TEST_F(SnapshotCliTest, UnreachableServerFailsWithinTheConnectTimeout) {
  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->Wait(), 0);
  daemon_.reset();  // Nothing listens on address_ any more.
  const auto start = std::chrono::steady_clock::now();
  const CliRun run = Snapshot({"--server", address_, "--connect_timeout", "1"});
  const auto took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - start)
                           .count();
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.output,
            "fieldloop snapshot: cannot connect to " + address_ + " (is fieldloopd running?)\n");
  // Well under the 10 s default: the flag bounds the wait.
  EXPECT_LT(took_ms, 5000);
}

}  // namespace
}  // namespace fieldloop::services

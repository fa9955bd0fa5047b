// `fieldloop themes`, `theme` and `watch` run as processes against a real fieldloopd
// (127.0.0.1:0, temp data dir): tables, --json lines, merged ids, exit codes.
#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/fieldloop/v1/themes.pb.h"
#include "tests/testing/example_records.h"
#include "tests/testing/ingest_client.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop {
namespace {

using ::testing::HasSubstr;
using testing::Runfile;
using testing::Subprocess;

using CliRun = testing::Finished;

// Runs `fieldloop args...` to its end.
CliRun Fieldloop(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {Runfile("services/cli/fieldloop")};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::RunToEnd(argv);
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

class ThemesCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = testing::StartDaemon(dir_.Sub("data"), &address_);
    ASSERT_NE(daemon_, nullptr) << "fieldloopd did not come up";
    const std::vector<v1::IngestRequest> records = testing::ExampleRecords();
    testing::StreamResult result = testing::StreamAll(address_, records);
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    ASSERT_EQ(result.acks.size(), records.size());
    // Themes trail acks; the commands below read them as applied.
    const grpc::Status applied = testing::WaitApplied(address_, "q3-push");
    ASSERT_TRUE(applied.ok()) << applied.error_message();
  }
  void TearDown() override {
    if (daemon_ == nullptr) return;
    daemon_->Signal(SIGTERM);
    EXPECT_EQ(daemon_->Wait(), 0) << daemon_->DrainOutput();
  }

  testing::TempDir dir_;
  std::string address_;
  std::unique_ptr<Subprocess> daemon_;
};

TEST_F(ThemesCliTest, ThemesPrintsATableOrJsonLines) {
  CliRun table = Fieldloop({"themes", "--server", address_, "--initiative", "q3-push", "--limit",
                            "5", "--as_of", "2026-11-25"});
  ASSERT_EQ(table.status, 0) << table.output;
  std::vector<std::string> lines = Lines(table.output);
  ASSERT_EQ(lines.size(), 7u) << table.output;  // Header, 5 themes, "5 of N themes".
  EXPECT_THAT(lines[0], HasSubstr("mentions"));
  EXPECT_THAT(lines[6], HasSubstr("5 of "));

  CliRun json = Fieldloop({"themes", "--server", address_, "--initiative", "q3-push", "--json",
                           "--limit", "0", "--order", "mentions", "--as_of", "2026-11-25"});
  ASSERT_EQ(json.status, 0) << json.output;
  int64_t previous = -1;
  int count = 0;
  for (const std::string& line : Lines(json.output)) {
    v1::ThemeBrief t;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &t).ok()) << line;
    if (previous >= 0) EXPECT_LE(t.mentions(), previous);
    previous = t.mentions();
    ++count;
  }
  EXPECT_GT(count, 20);
  // The table's first theme is the JSON's first by priority.
  CliRun first = Fieldloop({"themes", "--server", address_, "--initiative", "q3-push", "--json",
                            "--limit", "1", "--as_of", "2026-11-25"});
  v1::ThemeBrief top;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(Lines(first.output).at(0), &top).ok());
  EXPECT_THAT(lines[1], HasSubstr(top.label()));
}

TEST_F(ThemesCliTest, ThemeShowsOneThemeAndWatchSendsASnapshotUntilTheServerStops) {
  CliRun first = Fieldloop({"themes", "--server", address_, "--initiative", "q3-push", "--json",
                            "--limit", "1", "--as_of", "2026-11-25"});
  v1::ThemeBrief top;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(Lines(first.output).at(0), &top).ok());
  const std::string id = std::to_string(top.id());
  CliRun shown = Fieldloop(
      {"theme", id, "--server", address_, "--initiative", "q3-push", "--as_of", "2026-11-25"});
  ASSERT_EQ(shown.status, 0) << shown.output;
  EXPECT_THAT(shown.output, HasSubstr("theme " + id + ": " + top.label()));
  EXPECT_THAT(shown.output, HasSubstr("quote "));
  CliRun json = Fieldloop({"theme", id, "--server", address_, "--initiative", "q3-push", "--json"});
  ASSERT_EQ(json.status, 0) << json.output;
  v1::GetThemeResponse got;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.output, &got).ok()) << json.output;
  EXPECT_EQ(got.theme().brief().id(), top.id());

  // watch: the snapshot, then "caught up"; stopped by the daemon's shutdown (exit 0).
  std::vector<std::string> argv = {
      Runfile("services/cli/fieldloop"), "watch", "--server", address_, "--initiative", "q3-push"};
  Subprocess watch(argv);
  ASSERT_TRUE(watch.WaitForLine("caught up").has_value());
  daemon_->Signal(SIGTERM);
  EXPECT_EQ(daemon_->Wait(), 0);
  daemon_.reset();
  const std::string rest = watch.DrainOutput();
  EXPECT_EQ(watch.Wait(), 0) << rest;
}

TEST_F(ThemesCliTest, ErrorsHaveTheirExitCodes) {
  CliRun missing = Fieldloop({"themes", "--server", address_});
  EXPECT_EQ(missing.status, 1);
  EXPECT_THAT(missing.output, HasSubstr("--initiative"));
  CliRun order =
      Fieldloop({"themes", "--server", address_, "--initiative", "q3-push", "--order", "loudest"});
  EXPECT_EQ(order.status, 1);
  EXPECT_THAT(order.output, HasSubstr("--order"));
  CliRun unknown = Fieldloop({"theme", "999999", "--server", address_, "--initiative", "q3-push"});
  EXPECT_EQ(unknown.status, 2);
  EXPECT_THAT(unknown.output, HasSubstr("no such theme"));
  CliRun nobody = Fieldloop({"themes", "--server", address_, "--initiative", "nobody"});
  EXPECT_EQ(nobody.status, 2);
  EXPECT_THAT(nobody.output, HasSubstr("has no records"));
  CliRun bad_id = Fieldloop({"theme", "x1", "--server", address_, "--initiative", "q3-push"});
  EXPECT_EQ(bad_id.status, 1);
}

}  // namespace
}  // namespace fieldloop

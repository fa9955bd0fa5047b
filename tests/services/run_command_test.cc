// `fieldloop run`, the one-shot job, through the real binary on the bundled example.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/files.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop::services {
namespace {

using ::testing::HasSubstr;

using testing::ReadFile;

std::string Example(const std::string& name) {
  return testing::Runfile("examples/q3-push/" + name);
}

int RunJob(const std::string& out, bool with_feedback, std::string* output) {
  std::vector<std::string> argv = {testing::Runfile("services/cli/fieldloop"),
                                   "run",
                                   "--initiative",
                                   "q3-push",
                                   "--out",
                                   out,
                                   "--as_of",
                                   "2026-11-25"};
  if (with_feedback) {
    for (const char* a : {"--feedback_stream", "feedback.jsonl", "--win_loss_notes",
                          "win_loss.jsonl", "--content_inventory", "content_inventory.csv",
                          "--onboarding_metrics", "onboarding_metrics.csv"}) {
      argv.push_back(std::string(a).rfind("--", 0) == 0 ? a : Example(a));
    }
  }
  testing::Subprocess p(argv);
  *output = p.DrainOutput();
  return p.Wait();
}

TEST(RunCommand, WritesBothFilesAndASecondRunIsByteIdentical) {
  testing::TempDir dir;
  std::string output;
  ASSERT_EQ(RunJob(dir.path(), true, &output), 0) << output;
  const std::string sales = dir.Sub("specs/projects/q3-push/sales");
  EXPECT_THAT(output, HasSubstr(sales + "/enablement_feedback.md"));
  EXPECT_THAT(output, HasSubstr("top fixes:"));
  const std::string board = ReadFile(sales + "/enablement_feedback.md");
  const std::string plan = ReadFile(sales + "/content_refresh.csv");
  EXPECT_THAT(board, HasSubstr("# Enablement action board: q3-push"));
  EXPECT_THAT(board, HasSubstr("Cohort 2026-06 (EMEA, Enterprise"));  // The lagging cohort.
  EXPECT_THAT(plan, HasSubstr("Acme CRM Battlecard,refresh,battlecard,Dana Whitfield"));
  EXPECT_EQ(plan.rfind("task_key,theme_id,theme,asset_id,asset,action,format,owner,due,"
                       "priority,status,evidence_count,reason\r\n",
                       0),
            0u);
  // Again on the same state: same bytes.
  ASSERT_EQ(RunJob(dir.path(), true, &output), 0) << output;
  EXPECT_EQ(ReadFile(sales + "/enablement_feedback.md"), board);
  EXPECT_EQ(ReadFile(sales + "/content_refresh.csv"), plan);
}

TEST(RunCommand, NoFeedbackGivesAStubAndNoCsv) {
  testing::TempDir dir;
  std::string output;
  ASSERT_EQ(RunJob(dir.path(), false, &output), 0) << output;
  const std::string sales = dir.Sub("specs/projects/q3-push/sales");
  EXPECT_THAT(ReadFile(sales + "/enablement_feedback.md"), HasSubstr("- feedback_stream"));
  EXPECT_FALSE(std::filesystem::exists(sales + "/content_refresh.csv"));
  EXPECT_THAT(output, HasSubstr("not written (no feedback)"));
}

TEST(RunCommand, AnInitiativeThatIsNotASafeNameWritesNothing) {
  testing::TempDir dir;
  testing::Subprocess p({testing::Runfile("services/cli/fieldloop"), "run", "--initiative",
                         "../escape", "--out", dir.path()});
  const std::string output = p.DrainOutput();
  EXPECT_EQ(p.Wait(), 1);
  EXPECT_THAT(output, HasSubstr("must match"));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

// `fieldloop import-plan` into the one-shot store: a hand edit survives the next run, and a
// bad row is named while the good ones are imported.
TEST(RunCommand, ImportedPlanEditsSurviveTheNextRun) {
  testing::TempDir dir;
  std::string output;
  ASSERT_EQ(RunJob(dir.path(), true, &output), 0) << output;
  const std::string plan_path = dir.Sub("specs/projects/q3-push/sales/content_refresh.csv");
  std::string plan = ReadFile(plan_path);
  // The first task: status and owner edited (cells 7 and 10 hold no commas or quotes).
  const size_t start = plan.find("\r\n") + 2;
  const size_t end = plan.find("\r\n", start);
  std::vector<std::string> cells = absl::StrSplit(plan.substr(start, end - start), ',');
  const std::string key = cells[0];
  cells[7] = "Priya Shah";
  cells[10] = "In Progress";
  std::vector<std::string> bad = cells;
  bad[10] = "bogus";
  bad[0] = "999/new";
  plan.replace(start, end - start, absl::StrJoin(cells, ","));
  plan += absl::StrJoin(bad, ",") + "\r\n";
  {
    std::ofstream out(plan_path, std::ios::binary | std::ios::trunc);
    out << plan;
  }
  testing::Subprocess import(
      {testing::Runfile("services/cli/fieldloop"), "import-plan", "--out", dir.path(), plan_path});
  output = import.DrainOutput();
  EXPECT_EQ(import.Wait(), 2) << output;  // Some rows skipped.
  EXPECT_THAT(output, HasSubstr("1 tasks updated"));
  EXPECT_THAT(output, HasSubstr("1 skipped"));
  EXPECT_THAT(output, HasSubstr(plan_path + ": line "));
  EXPECT_THAT(output, HasSubstr(": status: 'bogus'"));

  ASSERT_EQ(RunJob(dir.path(), true, &output), 0) << output;
  bool found = false;
  for (absl::string_view line : absl::StrSplit(ReadFile(plan_path), "\r\n")) {
    std::vector<std::string> row = absl::StrSplit(line, ',');
    if (row[0] != key) continue;
    found = true;
    EXPECT_EQ(row[7], "Priya Shah");
    EXPECT_EQ(row[10], "in_progress");
  }
  EXPECT_TRUE(found);
}

// The first line where `actual` and `golden` differ, for a readable failure.
std::string FirstDifference(const std::string& actual, const std::string& golden) {
  std::istringstream a(actual), g(golden);
  std::string la, lg;
  for (int line = 1;; ++line) {
    const bool more_a = static_cast<bool>(std::getline(a, la));
    const bool more_g = static_cast<bool>(std::getline(g, lg));
    if (!more_a && !more_g) return "no line differs (line ends?)";
    if (la != lg || more_a != more_g) {
      return "line " + std::to_string(line) + ":\n  golden: " + lg + "\n  actual: " + la;
    }
  }
}

// Golden files: the example's board and plan as of 2026-11-25, byte for byte. After an
// intended change to the analysis or the layout, regenerate them with scripts/update-golden
// and review the diff.
TEST(RunCommand, ExampleOutputsMatchTheGoldenFiles) {
  testing::TempDir dir;
  std::string output;
  ASSERT_EQ(RunJob(dir.path(), true, &output), 0) << output;
  const std::string sales = dir.Sub("specs/projects/q3-push/sales");
  for (const char* name : {"enablement_feedback.md", "content_refresh.csv"}) {
    const std::string golden =
        ReadFile(testing::Runfile(std::string("tests/golden/q3-push/") + name));
    const std::string actual = ReadFile(sales + "/" + name);
    ASSERT_FALSE(golden.empty()) << name;
    EXPECT_TRUE(actual == golden) << name << " differs from tests/golden/q3-push/" << name
                                  << " (scripts/update-golden regenerates it) at "
                                  << FirstDifference(actual, golden);
  }
}

}  // namespace
}  // namespace fieldloop::services

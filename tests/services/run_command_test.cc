// `fieldloop run`, the one-shot job, through the real binary on the bundled example.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop::services {
namespace {

using ::testing::HasSubstr;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

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
  const std::string board = Read(sales + "/enablement_feedback.md");
  const std::string plan = Read(sales + "/content_refresh.csv");
  EXPECT_THAT(board, HasSubstr("# Enablement action board: q3-push"));
  EXPECT_THAT(board, HasSubstr("Cohort 2026-06 (EMEA, Enterprise"));  // The lagging cohort.
  EXPECT_THAT(plan, HasSubstr("Acme CRM Battlecard,refresh,battlecard,Dana Whitfield"));
  EXPECT_EQ(plan.rfind("task_key,theme_id,theme,asset_id,asset,action,format,owner,due,"
                       "priority,status,evidence_count,reason\r\n",
                       0),
            0u);
  // Again on the same state: same bytes.
  ASSERT_EQ(RunJob(dir.path(), true, &output), 0) << output;
  EXPECT_EQ(Read(sales + "/enablement_feedback.md"), board);
  EXPECT_EQ(Read(sales + "/content_refresh.csv"), plan);
}

TEST(RunCommand, NoFeedbackGivesAStubAndNoCsv) {
  testing::TempDir dir;
  std::string output;
  ASSERT_EQ(RunJob(dir.path(), false, &output), 0) << output;
  const std::string sales = dir.Sub("specs/projects/q3-push/sales");
  EXPECT_THAT(Read(sales + "/enablement_feedback.md"), HasSubstr("- feedback_stream"));
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

}  // namespace
}  // namespace fieldloop::services

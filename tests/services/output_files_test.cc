#include "services/output_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/files.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop::services {
namespace {

using testing::ReadFile;

TEST(OutputFiles, PathsFollowTheSeedLayout) {
  auto p = PathsFor("out", "q3-push");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->board, "out/specs/projects/q3-push/sales/enablement_feedback.md");
  EXPECT_EQ(p->plan, "out/specs/projects/q3-push/sales/content_refresh.csv");
}

TEST(OutputFiles, AnUntrustedInitiativeCannotLeaveTheOutputRoot) {
  for (const char* bad : {"../x", "a/b", "..", ".", "", "/etc", "Q3", "a\\b"}) {
    EXPECT_EQ(PathsFor("out", bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(OutputFiles, WritesAtomicallyAndReplacesTheOldFile) {
  testing::TempDir dir;
  const std::string path = dir.Sub("specs/projects/x/sales/content_refresh.csv");
  ASSERT_TRUE(WriteFileAtomically(path, "old\n").ok());
  EXPECT_EQ(ReadFile(path), "old\n");
  ASSERT_TRUE(WriteFileAtomically(path, "new\n").ok());
  EXPECT_EQ(ReadFile(path), "new\n");
  // No temporary file is left behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.Sub("specs/projects/x/sales"))) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(OutputFiles, AFailedWriteLeavesWhatWasThereAndSaysWhere) {
  testing::TempDir dir;
  // The target is a non-empty directory: the rename fails, even for root.
  const std::string path = dir.Sub("sales/board.md");
  std::filesystem::create_directories(path);
  std::ofstream(path + "/keep") << "kept";
  absl::Status s = WriteFileAtomically(path, "new\n");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), ::testing::HasSubstr(path));
  EXPECT_EQ(ReadFile(path + "/keep"), "kept");
  int entries = 0;  // The temporary file was removed.
  for (const auto& e : std::filesystem::directory_iterator(dir.Sub("sales"))) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  // A parent that is a regular file cannot hold the output either.
  std::ofstream(dir.Sub("file")) << "x";
  EXPECT_FALSE(WriteFileAtomically(dir.Sub("file/board.md"), "new").ok());
}

}  // namespace
}  // namespace fieldloop::services

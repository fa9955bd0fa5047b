// EventLog on its own: the line format, level filtering (and that a dropped line is never
// formatted), escaping to keep one event on one line, --log_level parsing, and whole lines
// from concurrent writers.
#include "services/event_log.h"

#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"

namespace fieldloop::services {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A FILE* whose contents the test reads back.
class CapturedFile {
 public:
  CapturedFile() : file_(std::tmpfile()) {}
  ~CapturedFile() { std::fclose(file_); }
  FILE* get() { return file_; }
  std::vector<std::string> Lines() {
    std::fflush(file_);
    std::rewind(file_);
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0) text.append(buf, n);
    std::fseek(file_, 0, SEEK_END);
    EXPECT_TRUE(text.empty() || text.back() == '\n') << "last line not ended: " << text;
    return absl::StrSplit(text, '\n', absl::SkipEmpty());
  }

 private:
  FILE* file_;
};

// Counts how often it was formatted.
struct Counted {
  int* formatted;
  friend absl::FormatConvertResult<absl::FormatConversionCharSet::kString> AbslFormatConvert(
      const Counted& c, const absl::FormatConversionSpec&, absl::FormatSink* sink) {
    ++*c.formatted;
    sink->Append("counted");
    return {true};
  }
};

class EventLogTest : public ::testing::Test {
 protected:
  testing::FakeClock clock_{
      absl::FromCivil(absl::CivilSecond(2026, 11, 25, 17, 30, 0), absl::UTCTimeZone()) +
      absl::Milliseconds(123)};
  CapturedFile out_;
};

TEST_F(EventLogTest, LineIsUtcTimeWithMillisecondsLevelComponentAndMessage) {
  EventLog log(&clock_, LogLevel::kInfo, out_.get());
  log.Info("ingest", "stream from %s ended: %d records", "127.0.0.1:5555", 399);
  clock_.Set(absl::FromUnixMillis(0));
  log.Error("board", "plain");
  EXPECT_THAT(out_.Lines(),
              ElementsAre("2026-11-25T17:30:00.123Z INFO ingest: stream from 127.0.0.1:5555 "
                          "ended: 399 records",
                          "1970-01-01T00:00:00.000Z ERROR board: plain"));
}

TEST_F(EventLogTest, EachLevelIsNamedInTheLine) {
  EventLog log(&clock_, LogLevel::kDebug, out_.get());
  log.Debug("c", "d");
  log.Info("c", "i");
  log.Warning("c", "w");
  log.Error("c", "e");
  log.Write(LogLevel::kWarning, "c", "written");
  EXPECT_THAT(
      out_.Lines(),
      ElementsAre("2026-11-25T17:30:00.123Z DEBUG c: d", "2026-11-25T17:30:00.123Z INFO c: i",
                  "2026-11-25T17:30:00.123Z WARNING c: w", "2026-11-25T17:30:00.123Z ERROR c: e",
                  "2026-11-25T17:30:00.123Z WARNING c: written"));
}

TEST_F(EventLogTest, LinesBelowTheLevelAreDroppedWithoutBeingFormatted) {
  EventLog log(&clock_, LogLevel::kWarning, out_.get());
  int formatted = 0;
  log.Debug("c", "%s", Counted{&formatted});
  log.Info("c", "%s", Counted{&formatted});
  log.Write(LogLevel::kInfo, "c", "dropped too");
  EXPECT_EQ(formatted, 0);
  const int reads = clock_.reads();
  log.Warning("c", "%s", Counted{&formatted});
  log.Error("c", "%s", Counted{&formatted});
  EXPECT_EQ(formatted, 2);
  EXPECT_EQ(clock_.reads(), reads + 2);  // Only written lines read the clock.
  EXPECT_THAT(out_.Lines(), ElementsAre("2026-11-25T17:30:00.123Z WARNING c: counted",
                                        "2026-11-25T17:30:00.123Z ERROR c: counted"));
  EXPECT_FALSE(log.Enabled(LogLevel::kInfo));
  EXPECT_TRUE(log.Enabled(LogLevel::kWarning));
  EXPECT_EQ(log.level(), LogLevel::kWarning);
}

TEST_F(EventLogTest, DefaultLevelIsInfo) {
  EventLog log(&clock_, LogLevel::kInfo, out_.get());
  EXPECT_FALSE(log.Enabled(LogLevel::kDebug));
  EXPECT_TRUE(log.Enabled(LogLevel::kInfo));
  EventLog to_stderr(&clock_);
  EXPECT_EQ(to_stderr.level(), LogLevel::kInfo);
}

TEST_F(EventLogTest, ControlCharactersAndInvalidUtf8AreEscapedSoAnEventStaysOneLine) {
  EventLog log(&clock_, LogLevel::kInfo, out_.get());
  log.Info("in\ngest", "id 'a\nb\r\tc' caf\xc3\xa9 \xe2\x82\xac bad \xff\xc3 end\x7f");
  EXPECT_THAT(out_.Lines(),
              ElementsAre("2026-11-25T17:30:00.123Z INFO in\\x0agest: id 'a\\x0ab\\x0d\\x09c' "
                          "caf\xc3\xa9 \xe2\x82\xac bad \\xff\\xc3 end\\x7f"));
  EXPECT_EQ(EscapeForLog("plain: ok"), "plain: ok");
  EXPECT_EQ(EscapeForLog("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // A surrogate.
  EXPECT_EQ(EscapeForLog("\xc0\xaf"), "\\xc0\\xaf");           // Overlong '/'.
  EXPECT_EQ(EscapeForLog("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");
}

TEST(ParseLogLevel, TakesTheFourNamesInAnyCase) {
  EXPECT_EQ(*ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(*ParseLogLevel("info"), LogLevel::kInfo);
  EXPECT_EQ(*ParseLogLevel("Warning"), LogLevel::kWarning);
  EXPECT_EQ(*ParseLogLevel("ERROR"), LogLevel::kError);
  EXPECT_EQ(LogLevelName(LogLevel::kWarning), "WARNING");
}

TEST(ParseLogLevel, RefusesAnythingElseNamingFlagValueAndChoices) {
  for (const char* bad : {"bogus", "", "warn", "info ", "2"}) {
    absl::StatusOr<LogLevel> level = ParseLogLevel(bad);
    ASSERT_FALSE(level.ok()) << bad;
    EXPECT_TRUE(absl::IsInvalidArgument(level.status())) << bad;
    EXPECT_THAT(std::string(level.status().message()),
                HasSubstr(absl::StrCat("--log_level: '", bad,
                                       "' is not one of debug, info, "
                                       "warning, error")));
  }
}

TEST(IsLoggedRepeat, FirstSecondFourthEighth) {
  std::vector<int> logged;
  for (int n = 0; n <= 20; ++n) {
    if (IsLoggedRepeat(n)) logged.push_back(n);
  }
  EXPECT_THAT(logged, ElementsAre(1, 2, 4, 8, 16));
}

TEST_F(EventLogTest, ConcurrentWritersProduceWholeLines) {
  EventLog log(&clock_, LogLevel::kInfo, out_.get());
  constexpr int kThreads = 8;
  constexpr int kLines = 400;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&log, t] {
      // Long enough that an interleaved write would cut through it.
      const std::string body(2000, static_cast<char>('a' + t));
      for (int i = 0; i < kLines; ++i) log.Info(absl::StrCat("writer", t), "%d %s", i, body);
    });
  }
  for (std::thread& w : writers) w.join();
  const std::vector<std::string> lines = out_.Lines();
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kLines));
  std::map<int, int> next;  // Per writer, the next line number expected.
  for (const std::string& line : lines) {
    const std::string prefix = "2026-11-25T17:30:00.123Z INFO writer";
    ASSERT_EQ(line.substr(0, prefix.size()), prefix) << line.substr(0, 80);
    const int t = line[prefix.size()] - '0';
    ASSERT_GE(t, 0);
    ASSERT_LT(t, kThreads);
    const std::string want = absl::StrCat(prefix, t, ": ", next[t]++, " ",
                                          std::string(2000, static_cast<char>('a' + t)));
    ASSERT_EQ(line, want) << "line of writer " << t << " is not whole";
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next[t], kLines);
}

}  // namespace
}  // namespace fieldloop::services

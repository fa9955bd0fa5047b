#include "services/materializer.h"

#include <time.h>

#include <string>

#include "absl/time/civil_time.h"
#include "gtest/gtest.h"

namespace fieldloop::services {
namespace {

// The ISO week of `day` as glibc's strftime("%G-W%V") writes it.
std::string LibcIsoWeek(absl::CivilDay day) {
  struct tm in = {};
  in.tm_year = static_cast<int>(day.year()) - 1900;
  in.tm_mon = day.month() - 1;
  in.tm_mday = day.day();
  in.tm_hour = 12;
  const time_t seconds = timegm(&in);
  struct tm out = {};
  if (gmtime_r(&seconds, &out) == nullptr) return "gmtime_r failed";
  char buf[32];
  const size_t n = strftime(buf, sizeof(buf), "%G-W%V", &out);
  return std::string(buf, n);
}

TEST(IsoWeek, WritesYearAndTwoDigitWeek) {
  EXPECT_EQ(IsoWeek(absl::CivilDay(2026, 11, 25)), "2026-W48");
}

TEST(IsoWeek, EarlyJanuaryDaysCanBelongToThePreviousIsoYear) {
  EXPECT_EQ(IsoWeek(absl::CivilDay(2021, 1, 3)), "2020-W53");  // Sunday.
  EXPECT_EQ(IsoWeek(absl::CivilDay(2021, 1, 4)), "2021-W01");  // The Monday after.
  EXPECT_EQ(IsoWeek(absl::CivilDay(2027, 1, 1)), "2026-W53");  // Friday.
}

TEST(IsoWeek, LateDecemberDaysCanBelongToTheNextIsoYear) {
  EXPECT_EQ(IsoWeek(absl::CivilDay(2024, 12, 30)), "2025-W01");  // Monday.
}

TEST(IsoWeek, AThursdayJanuaryFirstIsInWeekOne) {
  EXPECT_EQ(IsoWeek(absl::CivilDay(2026, 1, 1)), "2026-W01");
}

TEST(IsoWeek, MatchesLibcStrftimeForEveryDayOf2020To2030) {
  int days = 0;
  for (absl::CivilDay day(2020, 1, 1); day <= absl::CivilDay(2030, 12, 31); ++day) {
    ASSERT_EQ(IsoWeek(day), LibcIsoWeek(day)) << day;
    ++days;
  }
  EXPECT_EQ(days, 4018);  // 11 years, 3 of them leap.
}

}  // namespace
}  // namespace fieldloop::services

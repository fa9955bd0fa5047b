#include "services/materialize_schedule.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"

namespace fieldloop::services {
namespace {

using ::testing::HasSubstr;

// How long a test waits for something that should happen at once before it fails.
constexpr absl::Duration kSafetyTimeout = absl::Seconds(10);

absl::Time Utc(int y, int m, int d, int hh, int mm = 0, int ss = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, ss), absl::UTCTimeZone());
}

ScheduleSpec Every(absl::Duration every) {
  ScheduleSpec spec;
  spec.every = every;
  return spec;
}

ScheduleSpec Weekly(absl::string_view text) {
  ScheduleSpec spec;
  EXPECT_TRUE(ParseWeekly(text, &spec).ok()) << text;
  return spec;
}

using testing::FakeClock;

// What the scheduler's `run` saw: the due time it was given and the clock's time then.
struct RunSeen {
  absl::Time due;
  absl::Time clock_at_run;
};

// Records runs; tests wait on it instead of sleeping.
class RunLog {
 public:
  explicit RunLog(const Clock* clock) : clock_(clock) {}

  std::function<void(absl::Time)> Callback() {
    return [this](absl::Time due) {
      const absl::Time now = clock_->Now();
      absl::MutexLock lock(&mu_);
      runs_.push_back({due, now});
    };
  }
  // Waits until at least `n` runs happened; false after kSafetyTimeout.
  bool AwaitRuns(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return runs_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), kSafetyTimeout);
  }
  std::vector<RunSeen> runs() {
    absl::MutexLock lock(&mu_);
    return runs_;
  }

 private:
  const Clock* const clock_;
  absl::Mutex mu_;
  std::vector<RunSeen> runs_ ABSL_GUARDED_BY(mu_);
};

// --- ParseEvery ---

TEST(ParseEvery, AcceptsDurationsOfAMinuteOrMore) {
  EXPECT_EQ(*ParseEvery("15m"), absl::Minutes(15));
  EXPECT_EQ(*ParseEvery("1h"), absl::Hours(1));
  EXPECT_EQ(*ParseEvery("24h"), absl::Hours(24));
  EXPECT_EQ(*ParseEvery("1m"), absl::Minutes(1));
  EXPECT_EQ(*ParseEvery("1h30m"), absl::Minutes(90));
}

TEST(ParseEvery, EmptyOrZeroIsOff) {
  for (const char* off : {"", "0", "0s"}) {
    absl::StatusOr<absl::Duration> every = ParseEvery(off);
    ASSERT_TRUE(every.ok()) << off << ": " << every.status();
    EXPECT_EQ(*every, absl::ZeroDuration()) << off;
    EXPECT_FALSE(Every(*every).enabled()) << off;
  }
}

TEST(ParseEvery, RejectsNegativeShortAndMalformedNamingTheFlag) {
  for (const char* bad : {"-1h", "-15m", "59s", "500ms", "abc", "15", "1x", "inf", " 1h"}) {
    absl::StatusOr<absl::Duration> every = ParseEvery(bad);
    ASSERT_EQ(every.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(every.status().message()), HasSubstr("--materialize_every")) << bad;
    EXPECT_THAT(std::string(every.status().message()), HasSubstr(bad)) << bad;
  }
}

// --- ParseWeekly ---

TEST(ParseWeekly, AcceptsFullAndShortWeekdaysInAnyCase) {
  struct Case {
    const char* text;
    absl::Weekday weekday;
    int hour;
  };
  for (const Case& c :
       {Case{"mon@06", absl::Weekday::monday, 6}, Case{"Friday@17", absl::Weekday::friday, 17},
        Case{"sun@0", absl::Weekday::sunday, 0}, Case{"WED@23", absl::Weekday::wednesday, 23},
        Case{"tUeSdAy@9", absl::Weekday::tuesday, 9}, Case{"thu@00", absl::Weekday::thursday, 0},
        Case{"Sat@12", absl::Weekday::saturday, 12}}) {
    ScheduleSpec spec;
    ASSERT_TRUE(ParseWeekly(c.text, &spec).ok()) << c.text;
    EXPECT_EQ(spec.weekday, c.weekday) << c.text;
    EXPECT_EQ(spec.hour, c.hour) << c.text;
    EXPECT_TRUE(spec.enabled()) << c.text;
  }
}

TEST(ParseWeekly, EmptyIsOff) {
  ScheduleSpec spec = Weekly("mon@06");
  ASSERT_TRUE(ParseWeekly("", &spec).ok());
  EXPECT_FALSE(spec.weekday.has_value());
  EXPECT_FALSE(spec.enabled());
}

TEST(ParseWeekly, RejectsMalformedNamingTheFlagAndTheFormAndChangesNothing) {
  for (const char* bad :
       {"mon", "mon@", "@06", "mon@24", "mon@-1", "mon@+6", "moon@06", "mo@06", "monda@06",
        "mon@6am", "mon@ 6", "mon@006", "mon@06@07", "mon 06", "1@06"}) {
    ScheduleSpec spec = Weekly("fri@17");
    absl::Status status = ParseWeekly(bad, &spec);
    ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(status.message()), HasSubstr("--materialize_weekly")) << bad;
    EXPECT_THAT(std::string(status.message()), HasSubstr("<weekday>@<hour>")) << bad;
    EXPECT_EQ(spec.weekday, absl::Weekday::friday) << bad;
    EXPECT_EQ(spec.hour, 17) << bad;
  }
}

// --- NextRun ---

TEST(NextRun, EveryIsAlignedToTheEpoch) {
  const absl::Time after = Utc(2026, 11, 25, 10, 15);
  EXPECT_EQ(NextRun(Every(absl::Hours(1)), after), Utc(2026, 11, 25, 11));
  EXPECT_EQ(NextRun(Every(absl::Minutes(15)), after), Utc(2026, 11, 25, 10, 30));
  EXPECT_EQ(NextRun(Every(absl::Hours(24)), after), Utc(2026, 11, 26, 0));
}

TEST(NextRun, EveryOnABoundaryGivesTheNextOne) {
  EXPECT_EQ(NextRun(Every(absl::Hours(1)), Utc(2026, 11, 25, 11)), Utc(2026, 11, 25, 12));
  EXPECT_EQ(NextRun(Every(absl::Hours(24)), Utc(2026, 11, 26, 0)), Utc(2026, 11, 27, 0));
}

TEST(NextRun, WeeklyGoesToTheNextWeekday) {
  // 2026-11-25 is a Wednesday.
  EXPECT_EQ(NextRun(Weekly("mon@06"), Utc(2026, 11, 25, 10)), Utc(2026, 11, 30, 6));
}

TEST(NextRun, WeeklyOnTheSameWeekdayBeforeTheHourIsThatDay) {
  EXPECT_EQ(NextRun(Weekly("wed@17"), Utc(2026, 11, 25, 10)), Utc(2026, 11, 25, 17));
}

TEST(NextRun, WeeklyOnTheSameWeekdayAtOrAfterTheHourIsNextWeek) {
  EXPECT_EQ(NextRun(Weekly("wed@06"), Utc(2026, 11, 25, 10)), Utc(2026, 12, 2, 6));
  EXPECT_EQ(NextRun(Weekly("wed@10"), Utc(2026, 11, 25, 10)), Utc(2026, 12, 2, 10));
}

TEST(NextRun, BothGiveTheEarlier) {
  ScheduleSpec spec = Weekly("wed@17");
  spec.every = absl::Hours(24);
  // Weekly first: Wednesday 17:00 comes before Thursday 00:00.
  EXPECT_EQ(NextRun(spec, Utc(2026, 11, 25, 10)), Utc(2026, 11, 25, 17));
  // Periodic first: after Wednesday 17:00, Thursday 00:00 comes before next Wednesday.
  EXPECT_EQ(NextRun(spec, Utc(2026, 11, 25, 18)), Utc(2026, 11, 26, 0));
}

TEST(NextRun, OffIsInfiniteFuture) {
  EXPECT_EQ(NextRun(ScheduleSpec{}, Utc(2026, 11, 25, 10)), absl::InfiniteFuture());
}

// --- MaterializeScheduler ---

TEST(MaterializeScheduler, RunsOnceWhenTheClockPassesTheDueTime) {
  FakeClock clock(Utc(2026, 11, 25, 10, 15));
  RunLog log(&clock);
  MaterializeScheduler scheduler(Every(absl::Hours(1)), &clock, log.Callback());
  scheduler.Start();

  // Before the due time a wake-up finds nothing to do.
  int reads = clock.reads();
  scheduler.Poke();
  ASSERT_TRUE(clock.AwaitReadsAbove(reads, kSafetyTimeout))
      << "the scheduler did not look at the clock";
  EXPECT_TRUE(log.runs().empty());

  clock.Set(Utc(2026, 11, 25, 11, 0, 30));
  scheduler.Poke();
  ASSERT_TRUE(log.AwaitRuns(1)) << "no run within " << kSafetyTimeout;
  // The next run is due at 12:00: a second run can only come from a wrong schedule.
  reads = clock.reads();
  scheduler.Poke();
  ASSERT_TRUE(clock.AwaitReadsAbove(reads, kSafetyTimeout));
  scheduler.Stop();

  const std::vector<RunSeen> runs = log.runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].due, Utc(2026, 11, 25, 11));
  EXPECT_GE(runs[0].clock_at_run, runs[0].due);
}

TEST(MaterializeScheduler, MissedSlotsGiveOneRunNotABurst) {
  FakeClock clock(Utc(2026, 11, 25, 10, 15));
  RunLog log(&clock);
  MaterializeScheduler scheduler(Every(absl::Hours(1)), &clock, log.Callback());
  scheduler.Start();

  // Past the 11:00, 12:00 and 13:00 slots at once.
  clock.Set(Utc(2026, 11, 25, 13, 30));
  scheduler.Poke();
  ASSERT_TRUE(log.AwaitRuns(1)) << "no run within " << kSafetyTimeout;
  // Let the scheduler take its next due time from 13:30, not from the time set below: the
  // run read the clock before it was logged, so a later read is the scheduler's, after the
  // run. The Poke makes one happen even if the scheduler already went back to waiting.
  const int reads = clock.reads();
  scheduler.Poke();
  ASSERT_TRUE(clock.AwaitReadsAbove(reads, kSafetyTimeout)) << "no read after the run";

  // The next run is 14:00's; a burst would have run 12:00 and 13:00 first.
  clock.Set(Utc(2026, 11, 25, 14, 0, 1));
  scheduler.Poke();
  ASSERT_TRUE(log.AwaitRuns(2)) << "no second run within " << kSafetyTimeout;
  scheduler.Stop();

  const std::vector<RunSeen> runs = log.runs();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].due, Utc(2026, 11, 25, 11));
  EXPECT_EQ(runs[1].due, Utc(2026, 11, 25, 14));
}

TEST(MaterializeScheduler, StopWakesTheWaitingThread) {
  // The next run is nearly 14 hours of real time away: only Stop can end the wait.
  FakeClock clock(Utc(2026, 11, 25, 10, 15));
  RunLog log(&clock);
  MaterializeScheduler scheduler(Every(absl::Hours(24)), &clock, log.Callback());
  scheduler.Start();
  ASSERT_TRUE(clock.AwaitReadsAbove(1, kSafetyTimeout)) << "the scheduler did not start waiting";
  scheduler.Stop();
  scheduler.Stop();  // Idempotent.
  EXPECT_TRUE(log.runs().empty());
}

TEST(MaterializeScheduler, StopWaitsForTheRunInProgress) {
  FakeClock clock(Utc(2026, 11, 25, 10, 15));
  absl::Notification started;
  absl::Notification release;
  absl::Mutex mu;
  bool finished = false;
  MaterializeScheduler scheduler(Every(absl::Hours(1)), &clock, [&](absl::Time) {
    started.Notify();
    release.WaitForNotificationWithTimeout(kSafetyTimeout);
    absl::MutexLock lock(&mu);
    finished = true;
  });
  scheduler.Start();
  clock.Set(Utc(2026, 11, 25, 11));
  scheduler.Poke();
  ASSERT_TRUE(started.WaitForNotificationWithTimeout(kSafetyTimeout)) << "no run";

  bool finished_when_stopped = false;
  absl::Notification stopped;
  std::thread stopper([&] {
    scheduler.Stop();
    {
      absl::MutexLock lock(&mu);
      finished_when_stopped = finished;
    }
    stopped.Notify();
  });
  // While the run is held, Stop must not return. (A Stop that does not wait would return
  // within this window; the window only bounds how surely such a bug is caught.)
  EXPECT_FALSE(stopped.WaitForNotificationWithTimeout(absl::Milliseconds(300)));
  release.Notify();
  stopper.join();
  EXPECT_TRUE(finished_when_stopped);
}

TEST(MaterializeScheduler, ADisabledSpecNeverStartsAThread) {
  FakeClock clock(Utc(2026, 11, 25, 10, 15));
  RunLog log(&clock);
  MaterializeScheduler scheduler(ScheduleSpec{}, &clock, log.Callback());
  scheduler.Start();
  clock.Set(Utc(2027, 1, 1, 0));
  scheduler.Poke();
  scheduler.Stop();
  // Starting a thread reads the clock for the first due time.
  EXPECT_EQ(clock.reads(), 0);
  EXPECT_TRUE(log.runs().empty());
}

}  // namespace
}  // namespace fieldloop::services

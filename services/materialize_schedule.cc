#include "services/materialize_schedule.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace fieldloop::services {
namespace {

constexpr char kWeeklyForm[] =
    "expected <weekday>@<hour> in UTC, e.g. \"mon@06\" or \"Friday@17\" "
    "(weekday full or 3 letters, hour 0..23)";

struct WeekdayName {
  absl::string_view full;
  absl::Weekday weekday;
};
constexpr WeekdayName kWeekdays[] = {
    {"monday", absl::Weekday::monday},       {"tuesday", absl::Weekday::tuesday},
    {"wednesday", absl::Weekday::wednesday}, {"thursday", absl::Weekday::thursday},
    {"friday", absl::Weekday::friday},       {"saturday", absl::Weekday::saturday},
    {"sunday", absl::Weekday::sunday},
};

absl::Status WeeklyError(absl::string_view text, absl::string_view rule) {
  return absl::InvalidArgumentError(
      absl::StrCat("--materialize_weekly: \"", text, "\": ", rule, "; ", kWeeklyForm));
}

// The next `weekday` at `hour`:00:00 UTC strictly after `after`.
absl::Time NextWeekly(absl::Weekday weekday, int hour, absl::Time after) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilDay today = absl::ToCivilDay(after, utc);
  const int days = (static_cast<int>(weekday) - static_cast<int>(absl::GetWeekday(today)) + 7) % 7;
  const absl::Time next = absl::FromCivil(absl::CivilHour(today + days) + hour, utc);
  if (next > after) return next;
  return absl::FromCivil(absl::CivilHour(today + days + 7) + hour, utc);
}

}  // namespace

bool ScheduleSpec::enabled() const { return every > absl::ZeroDuration() || weekday.has_value(); }

absl::StatusOr<absl::Duration> ParseEvery(absl::string_view text) {
  if (text.empty()) return absl::ZeroDuration();
  absl::Duration every;
  if (!absl::ParseDuration(text, &every) || every == absl::InfiniteDuration() ||
      every == -absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--materialize_every: \"", text,
                     "\" is not a duration such as \"15m\", \"1h\" or \"24h\" (\"0\" is off)"));
  }
  if (every < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--materialize_every: \"", text, "\" is negative (\"0\" is off)"));
  }
  if (every > absl::ZeroDuration() && every < absl::Minutes(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--materialize_every: \"", text, "\" is under the 1m minimum"));
  }
  return every;
}

absl::Status ParseWeekly(absl::string_view text, ScheduleSpec* spec) {
  if (text.empty()) {
    spec->weekday.reset();
    spec->hour = 0;
    return absl::OkStatus();
  }
  const size_t at = text.find('@');
  if (at == absl::string_view::npos) return WeeklyError(text, "no '@'");
  const absl::string_view name = text.substr(0, at);
  const absl::string_view hour_text = text.substr(at + 1);

  std::optional<absl::Weekday> weekday;
  for (const WeekdayName& w : kWeekdays) {
    if (absl::EqualsIgnoreCase(name, w.full) || absl::EqualsIgnoreCase(name, w.full.substr(0, 3))) {
      weekday = w.weekday;
    }
  }
  if (!weekday.has_value()) return WeeklyError(text, "unknown weekday");

  if (hour_text.empty() || hour_text.size() > 2 ||
      !std::all_of(hour_text.begin(), hour_text.end(), absl::ascii_isdigit)) {
    return WeeklyError(text, "the hour is not one or two digits");
  }
  int hour = 0;
  for (char c : hour_text) hour = hour * 10 + (c - '0');
  if (hour > 23) return WeeklyError(text, "the hour is over 23");

  spec->weekday = weekday;
  spec->hour = hour;
  return absl::OkStatus();
}

absl::Time NextRun(const ScheduleSpec& spec, absl::Time after) {
  absl::Time next = absl::InfiniteFuture();
  if (after == absl::InfiniteFuture() || after == absl::InfinitePast()) return next;
  if (spec.every > absl::ZeroDuration()) {
    const absl::Time epoch = absl::UnixEpoch();
    next = epoch + absl::Floor(after - epoch, spec.every) + spec.every;
  }
  if (spec.weekday.has_value()) next = std::min(next, NextWeekly(*spec.weekday, spec.hour, after));
  return next;
}

MaterializeScheduler::MaterializeScheduler(ScheduleSpec spec, const Clock* clock,
                                           std::function<void(absl::Time due)> run)
    : spec_(std::move(spec)), clock_(clock), run_(std::move(run)) {}

MaterializeScheduler::~MaterializeScheduler() { Stop(); }

void MaterializeScheduler::Start() {
  absl::MutexLock lifecycle(&lifecycle_mu_);
  if (started_ || !spec_.enabled()) return;
  started_ = true;
  // Read here, not on the thread, so the first due time follows the clock at Start.
  const absl::Time first = NextRun(spec_, clock_->Now());
  thread_ = std::thread([this, first] { Loop(first); });
}

void MaterializeScheduler::Stop() {
  absl::MutexLock lifecycle(&lifecycle_mu_);
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  // A scheduler that never started cannot start now: Start sees started_.
  started_ = true;
  if (thread_.joinable()) thread_.join();
}

void MaterializeScheduler::Poke() {
  absl::MutexLock lock(&mu_);
  poked_ = true;
}

void MaterializeScheduler::Loop(absl::Time due) {
  while (WaitUntilDue(due)) {
    run_(due);
    // From the clock's time now, not from `due`: slots that passed during the run are skipped.
    due = NextRun(spec_, clock_->Now());
  }
}

bool MaterializeScheduler::WaitUntilDue(absl::Time due) {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    // Cleared before reading the clock, so a Poke after a clock change is never lost.
    poked_ = false;
    const absl::Time now = clock_->Now();
    if (now >= due) return true;
    mu_.AwaitWithDeadline(absl::Condition(this, &MaterializeScheduler::Woken),
                          absl::Now() + (due - now));
  }
  return false;
}

}  // namespace fieldloop::services

// MaterializeSchedule: when the server materializes boards, from the flags
// `--materialize_every` (a period aligned to the Unix epoch) and `--materialize_weekly`
// (a weekday and hour, UTC), and the thread that calls the materializer at those times.
// Times are read from a Clock, so tests drive the schedule with a fake one.
#ifndef FIELDLOOP_SERVICES_MATERIALIZE_SCHEDULE_H_
#define FIELDLOOP_SERVICES_MATERIALIZE_SCHEDULE_H_

#include <functional>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/clock.h"

namespace fieldloop::services {

struct ScheduleSpec {
  // Period of the runs; runs fall on whole multiples of it since the Unix epoch, so "1h"
  // runs on the hour and "24h" at 00:00 UTC. Zero or negative turns periodic runs off.
  // Default: off.
  absl::Duration every = absl::ZeroDuration();
  // Day of the weekly run, UTC. Unset turns weekly runs off.
  // Default: off.
  std::optional<absl::Weekday> weekday;
  // Hour of the weekly run, 0..23 UTC; ignored when `weekday` is unset.
  // Default: 0.
  int hour = 0;

  // True iff periodic or weekly runs are on.
  bool enabled() const;
};

// Parses the value of `--materialize_every`: an absl duration string ("15m", "1h", "24h").
// Returns ZeroDuration (off) for "" or a zero duration ("0", "0s"). Returns InvalidArgument,
// naming the flag and the rule, for text that is not a finite duration, a negative duration
// or one under 1 minute.
absl::StatusOr<absl::Duration> ParseEvery(absl::string_view text);

// Parses the value of `--materialize_weekly`, "<weekday>@<hour>" in UTC ("mon@06",
// "Friday@17", "sun@0"): the weekday full or in 3 letters, any case; the hour 0..23 in one
// or two digits. On success sets `spec->weekday` and `spec->hour`; "" clears them (off).
// Returns InvalidArgument naming the flag, the rule broken and the expected form otherwise,
// and leaves `*spec` unchanged.
absl::Status ParseWeekly(absl::string_view text, ScheduleSpec* spec);

// Returns the first time strictly after `after` at which a run is due: the next multiple of
// `spec.every` since the Unix epoch, the next `spec.weekday` at `spec.hour`:00:00 UTC, or
// the earlier of the two when both are on. Returns InfiniteFuture when `spec` is off or
// `after` is infinite.
absl::Time NextRun(const ScheduleSpec& spec, absl::Time after);

// MaterializeScheduler: calls `run(due)` on its own thread at each NextRun time, as read
// from `clock`, until Stop. `due` is the scheduled time that came due. Runs never overlap:
// when a run ends (or the thread wakes) later than one or more further slots, those slots
// are skipped, not run in a burst; the next due time is NextRun of the clock's time then.
//
// The thread waits on real time for a deadline translated from `clock` (absl::Now() plus
// the clock's time left until due) and re-reads `clock` whenever it wakes; Poke wakes it at
// once, so a test can advance a fake clock and Poke to trigger a due run without sleeping.
// Thread-safe.
class MaterializeScheduler {
 public:
  // `clock` must outlive the scheduler. `run` must not call Stop (it would wait for itself).
  MaterializeScheduler(ScheduleSpec spec, const Clock* clock,
                       std::function<void(absl::Time due)> run);
  // Stops.
  ~MaterializeScheduler();
  MaterializeScheduler(const MaterializeScheduler&) = delete;
  MaterializeScheduler& operator=(const MaterializeScheduler&) = delete;

  // Starts the thread. The first run is due at NextRun(spec, clock->Now()), with the clock
  // read before Start returns. Does nothing when `spec` is off, when already started, or
  // after Stop (a scheduler starts once).
  void Start() ABSL_LOCKS_EXCLUDED(lifecycle_mu_, mu_);

  // Stops the thread and returns once it has ended: a run in progress (or found due just
  // before) finishes first; no later run starts. Returns at once when not started.
  // Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(lifecycle_mu_, mu_);

  // Wakes the thread to re-read the clock now, and run if a run is due. Cheap; no effect
  // when not started.
  void Poke() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Runs at `due` and each NextRun after it until Stop.
  void Loop(absl::Time due) ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until `clock_` reaches `due` (returns true) or Stop (returns false).
  bool WaitUntilDue(absl::Time due) ABSL_LOCKS_EXCLUDED(mu_);
  bool Woken() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return poked_ || stopping_; }

  const ScheduleSpec spec_;
  const Clock* const clock_;
  const std::function<void(absl::Time)> run_;

  // Serializes Start and Stop, so a second Stop also waits for the thread to end.
  absl::Mutex lifecycle_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  bool started_ ABSL_GUARDED_BY(lifecycle_mu_) = false;
  std::thread thread_ ABSL_GUARDED_BY(lifecycle_mu_);

  mutable absl::Mutex mu_;
  bool poked_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_MATERIALIZE_SCHEDULE_H_

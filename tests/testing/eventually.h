// Eventually: polls a condition until it holds or a deadline passes, for tests that wait on
// something another thread or process does (a stream closing, a backlog draining) without
// a fixed sleep.
#ifndef FIELDLOOP_TESTS_TESTING_EVENTUALLY_H_
#define FIELDLOOP_TESTS_TESTING_EVENTUALLY_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace fieldloop::testing {

// Calls `done` every `every` until it returns true or `timeout` passes; returns its last
// value. `timeout` is generous on purpose: it bounds a failing test, not a passing one.
template <typename F>
bool Eventually(F done, absl::Duration timeout = absl::Seconds(60),
                absl::Duration every = absl::Milliseconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(every);
  }
  return true;
}

}  // namespace fieldloop::testing

#endif  // FIELDLOOP_TESTS_TESTING_EVENTUALLY_H_

// FakeClock: a services::Clock whose time the test sets. Counts reads, so a test can wait
// until a component has looked at the clock.
#ifndef FIELDLOOP_TESTS_TESTING_FAKE_CLOCK_H_
#define FIELDLOOP_TESTS_TESTING_FAKE_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/clock.h"

namespace fieldloop::testing {

class FakeClock : public services::Clock {
 public:
  explicit FakeClock(absl::Time now) : now_(now) {}

  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    ++reads_;
    return now_;
  }
  void Set(absl::Time now) {
    absl::MutexLock lock(&mu_);
    now_ = now;
  }
  int reads() const {
    absl::MutexLock lock(&mu_);
    return reads_;
  }
  // Waits until the clock was read more than `reads` times; false after `timeout`.
  bool AwaitReadsAbove(int reads, absl::Duration timeout) const {
    absl::MutexLock lock(&mu_);
    auto read = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return reads_ > reads; };
    return mu_.AwaitWithTimeout(absl::Condition(&read), timeout);
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  mutable int reads_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace fieldloop::testing

#endif  // FIELDLOOP_TESTS_TESTING_FAKE_CLOCK_H_

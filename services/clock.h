// Clock: where services read the time, so tests can fix it.
#ifndef FIELDLOOP_SERVICES_CLOCK_H_
#define FIELDLOOP_SERVICES_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace fieldloop::services {

class Clock {
 public:
  virtual ~Clock() = default;
  // Returns the current time.
  virtual absl::Time Now() const = 0;
};

// The system's real-time clock.
class SystemClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_CLOCK_H_

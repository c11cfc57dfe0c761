#include "services/common/clock.h"

namespace prima {

const Clock& RealClock::Get() {
  static const RealClock* const kClock = new RealClock();
  return *kClock;
}

absl::Time FakeClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

void FakeClock::Advance(absl::Duration by) {
  absl::MutexLock lock(&mu_);
  now_ += by;
}

void FakeClock::Set(absl::Time to) {
  absl::MutexLock lock(&mu_);
  now_ = to;
}

}  // namespace prima

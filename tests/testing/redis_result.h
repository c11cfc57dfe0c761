#pragma once

#include <utility>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "services/common/redis_client.h"

namespace prima::testing {

// Waits for one RedisClient callback's result.
class RedisResult {
 public:
  RedisClient::Callback Callback() {
    return [this](absl::StatusOr<RedisValue> r) {
      value_ = std::move(r);
      done_.Notify();
    };
  }
  // DEADLINE_EXCEEDED when the callback has not run within `timeout`.
  absl::StatusOr<RedisValue> Get(absl::Duration timeout = absl::Seconds(10)) {
    if (!done_.WaitForNotificationWithTimeout(timeout)) {
      return absl::DeadlineExceededError("callback never ran");
    }
    return value_;
  }

 private:
  absl::Notification done_;
  absl::StatusOr<RedisValue> value_ = absl::UnknownError("unset");
};

}  // namespace prima::testing

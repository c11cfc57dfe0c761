#pragma once

#include <memory>
#include <optional>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace prima {

// An asynchronous answer: how stores and readers hand back a result.
template <typename T>
using Done = absl::AnyInvocable<void(absl::StatusOr<T>)>;

// Blocks the calling thread until `start`'s asynchronous call answers through
// the Done it is given; DEADLINE_EXCEEDED after `timeout`. Only for threads
// that may block (sweepers, event consumers, tests), never on a callback
// thread. The answer may come after the timeout: it is then dropped safely.
template <typename T>
absl::StatusOr<T> Await(absl::FunctionRef<void(Done<T>)> start,
                        absl::Duration timeout = absl::Seconds(30)) {
  struct Slot {
    absl::Notification answered;
    std::optional<absl::StatusOr<T>> result;
  };
  auto slot = std::make_shared<Slot>();
  start([slot](absl::StatusOr<T> result) {
    slot->result = std::move(result);
    slot->answered.Notify();
  });
  if (!slot->answered.WaitForNotificationWithTimeout(timeout)) {
    return absl::DeadlineExceededError("no answer in time");
  }
  return *std::move(slot->result);
}

}  // namespace prima

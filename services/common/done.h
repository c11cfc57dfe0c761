#pragma once

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"

namespace prima {

// An asynchronous answer: how stores and readers hand back a result.
template <typename T>
using Done = absl::AnyInvocable<void(absl::StatusOr<T>)>;

}  // namespace prima

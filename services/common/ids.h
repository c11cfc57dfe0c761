#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace prima {

// 26 characters of Crockford base32: 48 bits of milliseconds then 80 random
// bits, so ids sort by creation time (ULID layout). For events and generated
// resource ids.
std::string NewTimeOrderedId(absl::Time now);

// `bytes` bytes from the OS's CSPRNG as lowercase hex: receipt secrets, dev
// keys.
std::string NewSecret(int bytes = 16);

// Lowercase hex SHA-256 of `data`: how receipt secrets are stored (never the
// secret itself).
std::string Sha256Hex(absl::string_view data);

// A fresh idempotency key for clients that have none (the CLI: one per
// invocation).
std::string NewRequestId();

}  // namespace prima

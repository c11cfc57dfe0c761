#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace prima {

// Request validation. Every error is INVALID_ARGUMENT and its message starts
// with the field's name, then the rule, e.g. `office_id: must be 1-63
// characters of a-z, 0-9 and
// "-", starting with a letter or digit`. Values are echoed only truncated and
// escaped.

// The error of a field that breaks a rule: INVALID_ARGUMENT "field: rule".
absl::Status Invalid(absl::string_view field, absl::string_view rule);

// Resource ids used in Redis keys: ^[a-z0-9][a-z0-9-]{0,62}$. Required.
absl::Status ValidateId(absl::string_view field, absl::string_view value);
// Same as ValidateId but an empty value is accepted (optional reference).
absl::Status ValidateOptionalId(absl::string_view field,
                                absl::string_view value);

// Ids chosen by clients (idempotency keys, the x-request-id header): 1-128
// characters of [A-Za-z0-9._:-].
bool IsWellFormedRequestId(absl::string_view value);
// The same rule for a required request field.
absl::Status ValidateRequestId(absl::string_view field,
                               absl::string_view value);

// Non-empty after trimming ASCII whitespace.
absl::Status RequireNonEmpty(absl::string_view field, absl::string_view value);

// Valid UTF-8 of at most max_chars code points (empty allowed).
absl::Status ValidateText(absl::string_view field, absl::string_view value,
                          int max_chars);

// lo <= value <= hi.
absl::Status ValidateRange(absl::string_view field, int64_t value, int64_t lo,
                           int64_t hi);

// page_size rule of every List RPC: negative is an error, 0 means
// `default_size`, anything above `max_size` is lowered to it.
absl::StatusOr<int> EffectivePageSize(absl::string_view field,
                                      int32_t page_size, int default_size = 50,
                                      int max_size = 500);

}  // namespace prima

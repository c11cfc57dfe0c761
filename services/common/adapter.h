#pragma once

// Helpers of the gRPC adapter layer that every service shares: finishing a
// call on a validation error, page tokens, and handing a store's result to a
// call.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prima/common/v1/common.pb.h"
#include "services/common/auth.h"
#include "services/common/config.h"
#include "services/common/done.h"
#include "services/common/rate_limit.h"
#include "services/common/rpc.h"

// Finishes `call` (a std::unique_ptr<UnaryCall>) with `expr`'s status when it
// is an error, and returns the reactor.
#define RETURN_IF_ERROR_FINISH(call, expr)                             \
  do {                                                                 \
    if (absl::Status s_ = (expr); !s_.ok()) return (call)->Finish(s_); \
  } while (0)

namespace prima {

// A mutation's request_id (ValidateRequestId). Callers without a token share
// one idempotency namespace, so theirs must be random enough not to collide
// with another kiosk's or phone's: at least 16 characters.
absl::Status ValidateMutationRequestId(const Principal& caller,
                                       absl::string_view request_id);

// The rate-limit counters of one call of `rpc` (RateChecks) with the
// caller as ClientIdentity sees it and the limits of `config`. `office` is
// the office (or agency) the call is about; it may be empty.
std::vector<RateCheck> CallRateChecks(const ServiceConfig& config,
                                      const grpc::ServerContextBase& context,
                                      const Principal& caller,
                                      absl::string_view service,
                                      absl::string_view rpc,
                                      absl::string_view office);

// NOT_FOUND "<field>: <id> is not of agency <agency>": a directory resource the
// request names belongs to another agency (as if it did not exist for it).
absl::Status NotOfAgency(absl::string_view field, absl::string_view id,
                         absl::string_view agency);

// A receipt secret as given with a request: at most 128 characters (empty
// allowed: the caller may prove access otherwise).
absl::Status ValidateReceiptSecret(absl::string_view secret);

// Page tokens: web-safe base64 of "<kind>:<cursor>", so a token of one list is
// refused by another. An empty cursor (last page) gives an empty token.
std::string EncodePageToken(absl::string_view kind, absl::string_view cursor);
// The cursor of an id-keyed list ("" for an empty token); INVALID_ARGUMENT
// naming page.page_token when the token is not one of this list or its cursor
// is not a valid id.
absl::StatusOr<std::string> DecodeIdPageToken(absl::string_view kind,
                                              absl::string_view token);
// The raw cursor of a list whose store checks its own cursors ("" for an
// empty token); INVALID_ARGUMENT when the token is not one of this list.
absl::StatusOr<std::string> DecodePageToken(absl::string_view kind,
                                            absl::string_view token);
// The offset of an offset-paged list (0 for an empty token; at most 1000000).
absl::StatusOr<int64_t> DecodeOffsetPageToken(absl::string_view kind,
                                              absl::string_view token);

// Finishes `call` with the store's result moved into `response`.
template <typename T>
Done<T> ReplyInto(std::unique_ptr<UnaryCall> call, T* response) {
  return [call = std::move(call), response](absl::StatusOr<T> result) mutable {
    if (!result.ok()) {
      call->Finish(result.status());
      return;
    }
    *response = std::move(*result);
    call->Finish(absl::OkStatus());
  };
}

}  // namespace prima

#include "services/common/adapter.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/validation.h"

namespace prima {

absl::Status ValidateMutationRequestId(const Principal& caller,
                                       absl::string_view request_id) {
  constexpr size_t kMinAnonymousRequestIdChars = 16;
  if (absl::Status s = ValidateRequestId("request_id", request_id); !s.ok()) {
    return s;
  }
  if (caller.subject.empty() &&
      request_id.size() < kMinAnonymousRequestIdChars) {
    return absl::InvalidArgumentError(
        "request_id: without a token it must be a random id of 16-128 "
        "characters (e.g. a UUID)");
  }
  return absl::OkStatus();
}

absl::Status NotOfAgency(absl::string_view field, absl::string_view id,
                         absl::string_view agency) {
  return absl::NotFoundError(
      absl::StrCat(field, ": ", id, " is not of agency ", agency));
}

std::vector<RateCheck> CallRateChecks(const ServiceConfig& config,
                                      const grpc::ServerContextBase& context,
                                      const Principal& caller,
                                      absl::string_view service,
                                      absl::string_view rpc,
                                      absl::string_view office) {
  return RateChecks(service, rpc, config.rate_limits.For(rpc),
                    ClientIdentity(context, caller, config.trusted_proxies),
                    office);
}

absl::Status ValidateReceiptSecret(absl::string_view secret) {
  if (secret.size() > 128) {
    return absl::InvalidArgumentError(
        "receipt_secret: must be at most 128 characters");
  }
  return absl::OkStatus();
}

std::string EncodePageToken(absl::string_view kind, absl::string_view cursor) {
  if (cursor.empty()) return "";
  return absl::WebSafeBase64Escape(absl::StrCat(kind, ":", cursor));
}

namespace {

absl::Status NotOurToken() {
  return absl::InvalidArgumentError(
      "page.page_token: not a token of this list");
}

// The cursor inside a token of `kind`, or an error.
absl::StatusOr<std::string> TokenCursor(absl::string_view kind,
                                        absl::string_view token) {
  std::string raw;
  const std::string prefix = absl::StrCat(kind, ":");
  if (!absl::WebSafeBase64Unescape(token, &raw) ||
      !absl::StartsWith(raw, prefix)) {
    return NotOurToken();
  }
  return raw.substr(prefix.size());
}

}  // namespace

absl::StatusOr<std::string> DecodePageToken(absl::string_view kind,
                                            absl::string_view token) {
  if (token.empty()) return std::string();
  return TokenCursor(kind, token);
}

absl::StatusOr<std::string> DecodeIdPageToken(absl::string_view kind,
                                              absl::string_view token) {
  if (token.empty()) return std::string();
  absl::StatusOr<std::string> cursor = TokenCursor(kind, token);
  if (!cursor.ok()) return cursor.status();
  if (!ValidateId("page.page_token", *cursor).ok()) return NotOurToken();
  return cursor;
}

absl::StatusOr<int64_t> DecodeOffsetPageToken(absl::string_view kind,
                                              absl::string_view token) {
  if (token.empty()) return 0;
  absl::StatusOr<std::string> cursor = TokenCursor(kind, token);
  if (!cursor.ok()) return cursor.status();
  int64_t offset = 0;
  if (!absl::SimpleAtoi(*cursor, &offset) || offset < 0 || offset > 1000000) {
    return NotOurToken();
  }
  return offset;
}

}  // namespace prima

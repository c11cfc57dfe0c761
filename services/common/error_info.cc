#include "services/common/error_info.h"

#include <cstdint>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/any.pb.h"
#include "google/rpc/status.pb.h"
#include "services/common/rpc.h"

namespace prima {
namespace {

constexpr char kErrorInfoUrl[] = "type.googleapis.com/google.rpc.ErrorInfo";
constexpr char kRetryInfoUrl[] = "type.googleapis.com/google.rpc.RetryInfo";

// "a.b[2].c" of a message that starts "a.b[2].c: ...", or "".
std::string FieldPathPrefix(absl::string_view message) {
  const size_t colon = message.find(": ");
  if (colon == absl::string_view::npos || colon == 0 || colon > 200) return "";
  const absl::string_view path = message.substr(0, colon);
  if (!absl::ascii_islower(path.front())) return "";
  for (char c : path) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_' &&
        c != '.' && c != '[' && c != ']') {
      return "";
    }
  }
  return std::string(path);
}

template <typename Message>
std::optional<Message> Payload(const absl::Status& status, const char* url) {
  auto bytes = status.GetPayload(url);  // absl::optional in this Abseil
  if (!bytes.has_value()) return std::nullopt;
  Message message;
  if (!message.ParseFromString(std::string(*bytes))) return std::nullopt;
  return message;
}

}  // namespace

absl::Status WithReason(
    absl::Status status, absl::string_view reason,
    const std::vector<std::pair<std::string, std::string>>& metadata) {
  if (status.ok()) return status;
  google::rpc::ErrorInfo info =
      Payload<google::rpc::ErrorInfo>(status, kErrorInfoUrl)
          .value_or(google::rpc::ErrorInfo());
  info.set_reason(std::string(reason));
  info.set_domain(kErrorDomain);
  for (const auto& [key, value] : metadata) {
    (*info.mutable_metadata())[key] = value;
  }
  status.SetPayload(kErrorInfoUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

absl::Status WithRetryDelay(absl::Status status, absl::Duration delay) {
  if (status.ok()) return status;
  google::rpc::RetryInfo retry;
  const int64_t seconds = absl::ToInt64Seconds(delay);
  retry.mutable_retry_delay()->set_seconds(seconds);
  retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(delay - absl::Seconds(seconds))));
  status.SetPayload(kRetryInfoUrl, absl::Cord(retry.SerializeAsString()));
  google::rpc::ErrorInfo info = ErrorInfoOf(status);
  (*info.mutable_metadata())["retry_after_seconds"] =
      absl::StrCat(absl::ToInt64Seconds(absl::Ceil(delay, absl::Seconds(1))));
  status.SetPayload(kErrorInfoUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

google::rpc::ErrorInfo ErrorInfoOf(const absl::Status& status) {
  if (std::optional<google::rpc::ErrorInfo> own =
          Payload<google::rpc::ErrorInfo>(status, kErrorInfoUrl)) {
    return *own;
  }
  google::rpc::ErrorInfo info;
  info.set_domain(kErrorDomain);
  info.set_reason(absl::StatusCodeToString(status.code()));
  if (!IsServerFault(status)) {
    if (std::string field = FieldPathPrefix(status.message()); !field.empty()) {
      (*info.mutable_metadata())["field"] = std::move(field);
    }
  }
  return info;
}

std::string ErrorDetailsOf(const absl::Status& status,
                           absl::string_view message) {
  google::rpc::Status out;
  out.set_code(static_cast<int>(status.code()));
  out.set_message(std::string(message));
  out.add_details()->PackFrom(ErrorInfoOf(status));
  if (std::optional<google::rpc::RetryInfo> retry =
          Payload<google::rpc::RetryInfo>(status, kRetryInfoUrl)) {
    out.add_details()->PackFrom(*retry);
  }
  return out.SerializeAsString();
}

}  // namespace prima

#include "services/common/rpc.h"

#include "absl/strings/str_cat.h"
#include "services/common/error_info.h"
#include "services/common/logging.h"
#include "services/common/request_id.h"

namespace prima {

bool IsServerFault(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnavailable:
      return true;
    default:
      return false;
  }
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  std::string message;
  if (!IsServerFault(status)) {
    message = std::string(status.message());
  } else if (status.code() == absl::StatusCode::kUnavailable) {
    message =
        "temporarily unavailable: retry shortly (a change with the same "
        "request_id is made at most once)";
  } else {
    message =
        "internal error: the server's log has the details under this call's "
        "x-request-id";
  }
  std::string details = ErrorDetailsOf(status, message);
  return grpc::Status(code, std::move(message), std::move(details));
}

grpc::Status StreamEndStatus(absl::string_view method,
                             const absl::Status& status) {
  if (IsServerFault(status)) {
    Log(LogLevel::kWarn, "stream failed",
        LogFields()
            .Add("method", method)
            .Add("code", absl::StatusCodeToString(status.code()))
            .Add("error", status.message()));
  }
  return ToGrpcStatus(status);
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

std::string RequestIdFromMetadata(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kRequestIdMetadataKey);
  if (it == metadata.end()) return "";
  return ValidRequestId(absl::string_view(it->second.data(), it->second.size()))
      .value_or("");
}

UnaryCall::UnaryCall(grpc::CallbackServerContext* context,
                     absl::string_view method)
    : context_(context),
      reactor_(context->DefaultReactor()),
      method_(method),
      request_id_(RequestIdFromMetadata(*context)),
      start_(absl::Now()) {}

UnaryCall::~UnaryCall() {
  if (!finished_.load()) {
    Finish(absl::UnavailableError("the call was dropped before it finished"));
  }
}

grpc::ServerUnaryReactor* UnaryCall::Finish(const absl::Status& status) {
  if (finished_.exchange(true)) return reactor_;
  // Log before finishing: the context may be gone once Finish returns.
  const bool server_fault = IsServerFault(status);
  const LogLevel level = server_fault ? LogLevel::kWarn : LogLevel::kInfo;
  if (LogEnabled(level)) {
    LogFields fields;
    fields.Add("method", method_)
        .Add("code", absl::StatusCodeToString(status.code()))
        .Add("latency_ms", absl::ToDoubleMilliseconds(absl::Now() - start_));
    if (!agency_.empty()) fields.Add("agency", agency_);
    if (!request_id_.empty()) fields.Add("request_id", request_id_);
    if (!idempotency_key_.empty()) {
      fields.Add("idempotency_key", idempotency_key_);
    }
    if (server_fault) fields.Add("error", status.message());
    Log(level, "rpc", fields);
  }
  reactor_->Finish(ToGrpcStatus(status));
  return reactor_;
}

}  // namespace prima

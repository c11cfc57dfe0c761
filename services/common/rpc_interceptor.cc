#include "services/common/rpc_interceptor.h"

#include <grpcpp/server_context.h>

#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/error_info.h"
#include "services/common/metrics.h"
#include "services/common/request_id.h"
#include "services/common/rpc.h"

namespace prima {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;

absl::string_view ToStringView(const grpc::string_ref& ref) {
  return absl::string_view(ref.data(), ref.size());
}

// What a client gets for a request the library could not parse. gRPC's own
// answer is UNIMPLEMENTED with no message (its callback handlers fall back to
// an "unimplemented" reactor when deserializing fails).
constexpr absl::string_view kUnparsedRequest =
    "request: not a valid message of this method's request type (malformed "
    "or truncated protobuf, or a string field that is not UTF-8)";

class RpcInterceptor final : public grpc::experimental::Interceptor {
 public:
  RpcInterceptor(grpc::ServerContextBase* context, Metrics* metrics,
                 absl::string_view method)
      : context_(context),
        metrics_(metrics),
        method_(metrics != nullptr ? &metrics->Method(method) : nullptr),
        start_(absl::Now()) {
    if (method_ != nullptr) metrics_->RpcStarted(*method_);
  }

  // The call is over (the library destroys its interceptors then), whether
  // or not a status was sent: a call that never sent one was cancelled.
  ~RpcInterceptor() override {
    if (method_ == nullptr) return;
    const absl::Time end = status_sent_ ? status_time_ : absl::Now();
    metrics_->RpcFinished(*method_,
                          cancelled_ ? grpc::StatusCode::CANCELLED : code_,
                          end - start_);
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      AdoptRequestId(*methods->GetRecvInitialMetadata());
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_INITIAL_METADATA) &&
        !request_id_.empty()) {
      methods->GetSendInitialMetadata()->emplace(kRequestIdMetadataKey,
                                                 request_id_);
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE)) {
      // Null when the request did not parse, or never came (the client
      // cancelled or half-closed first).
      request_unparsed_ = methods->GetRecvMessage() == nullptr;
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      if (request_unparsed_ &&
          status.error_code() == grpc::StatusCode::UNIMPLEMENTED &&
          status.error_message().empty()) {
        status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              std::string(kUnparsedRequest));
        methods->ModifySendStatus(status);
      }
      if (!status.ok() && status.error_details().empty()) {
        // Every error carries an ErrorInfo, also those not made by
        // ToGrpcStatus (a request that did not parse, a stream cut short).
        status = grpc::Status(
            status.error_code(), status.error_message(),
            ErrorDetailsOf(FromGrpcStatus(status), status.error_message()));
        methods->ModifySendStatus(status);
      }
      code_ = status.error_code();
      status_time_ = absl::Now();
      status_sent_ = true;
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_CLOSE)) {
      // The call ended before its status reached the client: it was
      // cancelled (by the client, its deadline or a reset stream), whatever
      // status the server then tried to send. Counting such calls by that
      // status made steady load traffic, cut off at its end, show as a
      // trickle of UNIMPLEMENTED (requests that never arrived).
      // Only the callback API's contexts answer this without completing the
      // call (the sync API's would run this hook again, endlessly); the sync
      // ones are the library's own health and reflection services.
      if (auto* callback_context =
              dynamic_cast<grpc::CallbackServerContext*>(context_)) {
        cancelled_ = callback_context->IsCancelled();
      }
    }
    methods->Proceed();
  }

 private:
  void AdoptRequestId(
      std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
    absl::string_view client_id;
    absl::string_view traceparent;
    if (auto it = metadata.find(kRequestIdMetadataKey); it != metadata.end()) {
      client_id = ToStringView(it->second);
    }
    if (auto it = metadata.find(kTraceparentMetadataKey);
        it != metadata.end()) {
      traceparent = ToStringView(it->second);
    }
    request_id_ = ChooseRequestId(client_id, traceparent);
    // Handlers read the id from the metadata; the map holds references, and
    // request_id_ lives (unchanged) as long as the call.
    metadata.erase(kRequestIdMetadataKey);
    metadata.emplace(grpc::string_ref(kRequestIdMetadataKey),
                     grpc::string_ref(request_id_));
  }

  grpc::ServerContextBase* const context_;
  Metrics* const metrics_;
  Metrics::RpcMethod* const method_;
  const absl::Time start_;
  std::string request_id_;
  int code_ = grpc::StatusCode::CANCELLED;
  bool request_unparsed_ = false;
  bool cancelled_ = false;
  bool status_sent_ = false;
  absl::Time status_time_;
};

class RpcInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcInterceptorFactory(Metrics* metrics) : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    const char* method = info->method();
    return new RpcInterceptor(info->server_context(), metrics_,
                              method != nullptr ? method : "");
  }

 private:
  Metrics* const metrics_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeRpcInterceptorFactory(Metrics* metrics) {
  return std::make_unique<RpcInterceptorFactory>(metrics);
}

}  // namespace prima

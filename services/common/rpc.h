#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace prima {

// Whether `status` is the server's own fault (INTERNAL, UNKNOWN, DATA_LOSS,
// UNAVAILABLE) rather than an answer about the request.
bool IsServerFault(const absl::Status& status);

// absl::Status -> grpc::Status as a client may see it: the same code; the
// message for answers about the request, but for server faults a plain one
// (Redis errors, script hashes, Lua line numbers and the like stay in the
// log: UnaryCall::Finish logs the original with the request id).
grpc::Status ToGrpcStatus(const absl::Status& status);
// ToGrpcStatus for the end of a server stream of `method`, which no UnaryCall
// logs: a server fault's original message is logged here.
grpc::Status StreamEndStatus(absl::string_view method,
                             const absl::Status& status);
// grpc::Status -> absl::Status (client side).
absl::Status FromGrpcStatus(const grpc::Status& status);

// One unary RPC in flight on the callback API. Whoever holds it finishes the
// call exactly once (later calls are ignored) and writes the call's JSON log
// line (method, code, latency, agency, request id, idempotency key). Dropping
// an unfinished call finishes it with UNAVAILABLE, so a lost callback can never
// leave an RPC hanging.
//
//   auto call = std::make_unique<UnaryCall>(context, "IssueTicket");
//   auto* reactor = call->reactor();
//   store.Issue(..., [call = std::move(call), response](auto result) { ...
//                        call->Finish(status); });
//   return reactor;
class UnaryCall {
 public:
  UnaryCall(grpc::CallbackServerContext* context, absl::string_view method);
  ~UnaryCall();
  UnaryCall(const UnaryCall&) = delete;
  UnaryCall& operator=(const UnaryCall&) = delete;

  grpc::ServerUnaryReactor* reactor() const { return reactor_; }
  grpc::CallbackServerContext* context() const { return context_; }

  // Logged with the call. Set once the request is parsed / the caller is known.
  void set_agency(absl::string_view agency) { agency_ = std::string(agency); }
  // A mutation's request_id field (its idempotency key), not the call's
  // request id.
  void set_idempotency_key(absl::string_view key) {
    idempotency_key_ = std::string(key);
  }

  // Finishes the RPC; returns the reactor so a handler can `return
  // call->Finish(...)`.
  grpc::ServerUnaryReactor* Finish(const absl::Status& status);

 private:
  grpc::CallbackServerContext* context_;
  grpc::ServerUnaryReactor* reactor_;
  std::string method_;
  std::string agency_;
  std::string request_id_;
  std::string idempotency_key_;
  absl::Time start_;
  std::atomic<bool> finished_{false};
};

// The call's request id: what the server's interceptor put in its
// `x-request-id` metadata (see services/common/rpc_interceptor.h); "" when
// absent or not well-formed (a server built without the interceptor).
std::string RequestIdFromMetadata(const grpc::ServerContextBase& context);

// A server stream finished with `status` before it began (a bad request, no
// access, no room): what a streaming handler returns instead of its reactor.
template <typename Message>
grpc::ServerWriteReactor<Message>* FailedStream(const absl::Status& status) {
  class Failed final : public grpc::ServerWriteReactor<Message> {
   public:
    explicit Failed(const absl::Status& status) {
      this->Finish(ToGrpcStatus(status));
    }
    void OnDone() override { delete this; }
  };
  return new Failed(status);
}

}  // namespace prima

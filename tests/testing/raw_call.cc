#include "tests/testing/raw_call.h"

#include <grpcpp/generic/generic_stub.h>

#include <chrono>
#include <vector>

#include "absl/synchronization/notification.h"

namespace prima::testing {

grpc::Status RawUnaryCall(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
    absl::string_view request, std::string* response, absl::Duration timeout,
    const std::multimap<std::string, std::string>& metadata) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(timeout));
  for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
  grpc::Slice slice(request.data(), request.size());
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request_buffer,
                 &response_buffer, [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (response != nullptr) {
    response->clear();
    std::vector<grpc::Slice> slices;
    if (status.ok() && response_buffer.Dump(&slices).ok()) {
      for (const grpc::Slice& s : slices) {
        response->append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
  }
  return status;
}

namespace {

// Writes one request, half-closes, and reads until the first message.
class FirstMessageReactor final
    : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  FirstMessageReactor(grpc::ClientContext* context, absl::string_view request)
      : context_(context) {
    grpc::Slice slice(request.data(), request.size());
    request_ = grpc::ByteBuffer(&slice, 1);
  }

  void Start() {
    StartWriteLast(&request_, grpc::WriteOptions());
    StartRead(&response_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (ok) {
      got_message_ = true;
      context_->TryCancel();
    }
  }
  void OnDone(const grpc::Status& status) override {
    status_ = status;
    done_.Notify();
  }

  grpc::Status Wait() {
    done_.WaitForNotification();
    return got_message_ ? grpc::Status::OK : status_;
  }

 private:
  grpc::ClientContext* context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  bool got_message_ = false;  // written before OnDone, read after done_
  grpc::Status status_;
  absl::Notification done_;
};

}  // namespace

grpc::Status RawFirstStreamedMessage(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
    absl::string_view request, absl::Duration timeout,
    const std::multimap<std::string, std::string>& metadata) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(timeout));
  for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
  FirstMessageReactor reactor(&context, request);
  stub.PrepareBidiStreamingCall(&context, method, grpc::StubOptions(),
                                &reactor);
  reactor.Start();
  return reactor.Wait();
}

}  // namespace prima::testing

#include "services/common/reflection_client.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/generic/generic_stub.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/common/rpc.h"

namespace prima {
namespace {

// Debian ships no generated client for reflection.proto, and compiling our own
// copy would clash with the descriptors libgrpc++_reflection registers, so the
// few bytes involved are encoded and decoded by hand.
constexpr char kMethod[] =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

// ServerReflectionRequest{list_services = ""}: field 7, length-delimited,
// empty.
constexpr char kListServicesRequest[] = {0x3a, 0x00};

// ServerReflectionResponse fields.
constexpr int kListServicesResponseField = 6;  // ListServiceResponse
constexpr int kErrorResponseField = 7;         // ErrorResponse
// ListServiceResponse{repeated ServiceResponse service = 1}.
constexpr int kServiceField = 1;
// ServiceResponse{string name = 1}.
constexpr int kServiceNameField = 1;
// ErrorResponse{int32 error_code = 1; string error_message = 2}.
constexpr int kErrorCodeField = 1;
constexpr int kErrorMessageField = 2;

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

bool IsLengthDelimited(uint32_t tag) {
  return WireFormatLite::GetTagWireType(tag) ==
         WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
}

// Calls `parse_body` on the next length-delimited field's contents.
template <typename ParseBody>
bool ParseNested(CodedInputStream& in, ParseBody parse_body) {
  uint32_t length = 0;
  if (!in.ReadVarint32(&length)) return false;
  const CodedInputStream::Limit limit = in.PushLimit(static_cast<int>(length));
  if (!parse_body(in) || !in.ConsumedEntireMessage()) return false;
  in.PopLimit(limit);
  return true;
}

bool ReadString(CodedInputStream& in, std::string* out) {
  uint32_t length = 0;
  return in.ReadVarint32(&length) &&
         in.ReadString(out, static_cast<int>(length));
}

// ServiceResponse: appends its name.
bool ParseServiceResponse(CodedInputStream& in,
                          std::vector<std::string>* names) {
  std::string name;
  while (uint32_t tag = in.ReadTag()) {
    if (WireFormatLite::GetTagFieldNumber(tag) == kServiceNameField &&
        IsLengthDelimited(tag)) {
      if (!ReadString(in, &name)) return false;
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
  }
  names->push_back(std::move(name));
  return true;
}

bool ParseListServiceResponse(CodedInputStream& in,
                              std::vector<std::string>* names) {
  while (uint32_t tag = in.ReadTag()) {
    if (WireFormatLite::GetTagFieldNumber(tag) == kServiceField &&
        IsLengthDelimited(tag)) {
      if (!ParseNested(in, [names](CodedInputStream& nested) {
            return ParseServiceResponse(nested, names);
          })) {
        return false;
      }
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
  }
  return true;
}

bool ParseErrorResponse(CodedInputStream& in, absl::Status* error) {
  uint32_t code = static_cast<uint32_t>(absl::StatusCode::kUnknown);
  std::string message;
  while (uint32_t tag = in.ReadTag()) {
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    if (field == kErrorCodeField && WireFormatLite::GetTagWireType(tag) ==
                                        WireFormatLite::WIRETYPE_VARINT) {
      if (!in.ReadVarint32(&code)) return false;
    } else if (field == kErrorMessageField && IsLengthDelimited(tag)) {
      if (!ReadString(in, &message)) return false;
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
  }
  if (code == 0 ||
      code > static_cast<uint32_t>(absl::StatusCode::kUnauthenticated)) {
    code = static_cast<uint32_t>(absl::StatusCode::kUnknown);
  }
  *error = absl::Status(static_cast<absl::StatusCode>(code),
                        absl::StrCat("server reflection: ", message));
  return true;
}

// One ServerReflectionResponse: appends the listed services, or sets `error`
// from an error_response. Unknown fields (valid_host, original_request, ...)
// are skipped.
absl::Status ParseResponse(absl::string_view bytes,
                           std::vector<std::string>* names) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  absl::Status error;
  bool parsed = true;
  while (uint32_t tag = in.ReadTag()) {
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    if (field == kListServicesResponseField && IsLengthDelimited(tag)) {
      parsed = ParseNested(in, [names](CodedInputStream& nested) {
        return ParseListServiceResponse(nested, names);
      });
    } else if (field == kErrorResponseField && IsLengthDelimited(tag)) {
      parsed = ParseNested(in, [&error](CodedInputStream& nested) {
        return ParseErrorResponse(nested, &error);
      });
    } else {
      parsed = WireFormatLite::SkipField(&in, tag);
    }
    if (!parsed) break;
  }
  if (!parsed || !in.ConsumedEntireMessage()) {
    return absl::InternalError(
        "server reflection: cannot decode the ServerReflectionResponse");
  }
  return error;
}

// Runs the stream step by step on a private completion queue.
class ReflectionStream {
 public:
  ReflectionStream(const std::shared_ptr<grpc::Channel>& channel,
                   absl::Duration timeout)
      : stub_(channel) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  }

  ~ReflectionStream() {
    cq_.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (cq_.Next(&tag, &ok)) {
    }
  }

  absl::StatusOr<std::vector<std::string>> ListServices() {
    call_ = stub_.PrepareCall(&context_, kMethod, &cq_);
    if (call_ == nullptr) {
      return absl::InternalError("server reflection: cannot start the call");
    }
    std::vector<std::string> names;
    absl::Status decoded;
    call_->StartCall(this);
    if (Await()) {
      grpc::Slice slice(kListServicesRequest, sizeof(kListServicesRequest));
      grpc::ByteBuffer request(&slice, 1);
      call_->Write(request, this);
      if (Await()) {
        call_->WritesDone(this);
        Await();
        grpc::ByteBuffer response;
        for (call_->Read(&response, this); Await();
             call_->Read(&response, this)) {
          if (!decoded.ok()) continue;  // keep reading to the end of the stream
          std::vector<grpc::Slice> slices;
          if (!response.Dump(&slices).ok()) {
            decoded =
                absl::InternalError("server reflection: unreadable reply");
            continue;
          }
          std::string bytes;
          for (const grpc::Slice& s : slices) {
            bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
          }
          decoded = ParseResponse(bytes, &names);
        }
      }
    }
    grpc::Status status;
    call_->Finish(&status, this);
    Await();
    if (!status.ok()) return FromGrpcStatus(status);
    if (!decoded.ok()) return decoded;
    return names;
  }

 private:
  // Waits for the one operation in flight; false when it failed (stream over).
  bool Await() {
    void* tag = nullptr;
    bool ok = false;
    if (!cq_.Next(&tag, &ok)) return false;
    return ok;
  }

  grpc::GenericStub stub_;
  grpc::ClientContext context_;
  grpc::CompletionQueue cq_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
};

}  // namespace

absl::StatusOr<std::vector<std::string>> ListServicesByReflection(
    const std::shared_ptr<grpc::Channel>& channel, absl::Duration timeout) {
  ReflectionStream stream(channel, timeout);
  return stream.ListServices();
}

}  // namespace prima

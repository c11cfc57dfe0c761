// Hostile input to every RPC of every service, driven by the protos'
// descriptors (so a new RPC is covered without touching this file): bytes that
// do not parse, strings that are not UTF-8, and every Timestamp set to the
// ends of int64, and every string and list one beyond its size. Every reply is
// a documented code with a message, no server stops serving, and Redis gains no
// key.
#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/rpc/error_details.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "prima/common/v1/common.pb.h"
#include "services/common/request_bounds.h"
#include "tests/testing/e2e_stack.h"
#include "tests/testing/error_details.h"
#include "tests/testing/raw_call.h"
#include "tests/testing/served_services.h"

namespace prima {
namespace {

using ::google::protobuf::Descriptor;
using ::google::protobuf::DynamicMessageFactory;
using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::Message;
using ::google::protobuf::MethodDescriptor;
using ::prima::testing::AllServices;
using ::prima::testing::Fact;
using ::prima::testing::MethodPath;
using ::prima::testing::RawUnaryCall;
using ::prima::testing::ReplyErrorInfo;
using ::prima::testing::ServedBy;

// Sets every Timestamp reachable from `message` (through singular message
// fields, a few levels deep) to `seconds`; true if there was one.
bool SetEveryTimestamp(Message* message, int64_t seconds, int depth = 0) {
  if (depth > 4) return false;
  const Descriptor* type = message->GetDescriptor();
  const auto* reflection = message->GetReflection();
  bool found = false;
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
        field->is_repeated()) {
      continue;
    }
    Message* child = reflection->MutableMessage(message, field);
    if (field->message_type()->full_name() == "google.protobuf.Timestamp") {
      const auto* child_reflection = child->GetReflection();
      child_reflection->SetInt64(
          child, field->message_type()->FindFieldByNumber(1), seconds);
      found = true;
    } else if (SetEveryTimestamp(child, seconds, depth + 1)) {
      found = true;
    } else {
      reflection->ClearField(message, field);
    }
  }
  return found;
}

// The number of the first string field of `type`, 0 if none.
int FirstStringField(const Descriptor* type) {
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    if (field->type() == FieldDescriptor::TYPE_STRING &&
        !field->is_repeated()) {
      return field->number();
    }
  }
  return 0;
}

// One field of a request made too large: its path and the request's bytes.
struct Oversized {
  std::string path;
  std::string request;
};

// For every string, repeated field and map reachable from `type` through
// singular message fields (a few levels deep), a request in which only that
// field is one beyond its limit (request_bounds.h, or the field's declared
// (prima.common.v1.max_size)).
void CollectOversized(DynamicMessageFactory& factory, const Descriptor* type,
                      const std::string& prefix,
                      const std::function<Message*(Message*)>& reach, int depth,
                      const Descriptor* root, std::vector<Oversized>* out) {
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    const std::string path = prefix + field->name();
    const int declared = field->options().GetExtension(common::v1::max_size);
    auto make = [&](const std::function<void(Message*)>& fill) {
      std::unique_ptr<Message> request(factory.GetPrototype(root)->New());
      fill(reach(request.get()));
      out->push_back({path, request->SerializeAsString()});
    };
    if (field->is_repeated()) {
      const int max = declared > 0 ? declared : kDefaultMaxRepeated;
      make([&](Message* m) {
        const auto* r = m->GetReflection();
        for (int n = 0; n <= max; ++n) {
          switch (field->cpp_type()) {
            case FieldDescriptor::CPPTYPE_MESSAGE:
              r->AddMessage(m, field);
              break;
            case FieldDescriptor::CPPTYPE_STRING:
              r->AddString(m, field, "");
              break;
            case FieldDescriptor::CPPTYPE_ENUM:
              r->AddEnumValue(m, field, 0);
              break;
            case FieldDescriptor::CPPTYPE_INT32:
              r->AddInt32(m, field, 0);
              break;
            case FieldDescriptor::CPPTYPE_INT64:
              r->AddInt64(m, field, 0);
              break;
            default:
              ADD_FAILURE() << path << ": no filler for its repeated type";
              return;
          }
        }
      });
    } else if (field->type() == FieldDescriptor::TYPE_STRING) {
      const int max = declared > 0 ? declared : kDefaultMaxStringChars;
      make([&](Message* m) {
        m->GetReflection()->SetString(m, field, std::string(max + 1, 'x'));
      });
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
               depth < 3 &&
               !absl::StartsWith(field->message_type()->full_name(),
                                 "google.protobuf.")) {
      CollectOversized(
          factory, field->message_type(), path + ".",
          [reach, field](Message* m) {
            Message* parent = reach(m);
            return parent->GetReflection()->MutableMessage(parent, field);
          },
          depth + 1, root, out);
    }
  }
}

class HostileInputTest : public testing::E2eTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StartStack(
        PRIMA_CLI_PATH, {{"catalog", PRIMA_CATALOG_PATH},
                         {"queue", PRIMA_QUEUE_PATH},
                         {"complaint", PRIMA_COMPLAINT_PATH},
                         {"satisfaction", PRIMA_SATISFACTION_PATH}}));
    ASSERT_NO_FATAL_FAILURE(ApplyDirectory(PRIMA_DEMO_DIRECTORY));
    for (const ServedBy& s : AllServices()) {
      if (channels_.count(s.binary) == 0) {
        channels_[s.binary] = grpc::CreateChannel(
            stack_->Address(s.binary), grpc::InsecureChannelCredentials());
      }
    }
    region_admin_ = absl::StrCat("Bearer ", Mint("region_admin", "attacker"));
  }

  // Calls every method of every service with `make_request`'s bytes (a
  // method it returns nullopt for is skipped), once without a token and
  // once as a region admin, and hands each reply to `check`.
  void ForEveryMethod(
      const std::function<std::optional<std::string>(const MethodDescriptor&)>&
          make_request,
      const std::function<void(const MethodDescriptor&, bool with_token,
                               const grpc::Status&)>& check) {
    int called = 0;
    for (const ServedBy& s : AllServices()) {
      for (int i = 0; i < s.service->method_count(); ++i) {
        const MethodDescriptor& method = *s.service->method(i);
        std::optional<std::string> request = make_request(method);
        if (!request.has_value()) continue;
        for (bool with_token : {false, true}) {
          std::multimap<std::string, std::string> metadata;
          if (with_token) metadata.emplace("authorization", region_admin_);
          const grpc::Status status =
              RawUnaryCall(channels_[s.binary], MethodPath(method), *request,
                           nullptr, absl::Seconds(5), metadata);
          check(method, with_token, status);
          ++called;
        }
      }
    }
    EXPECT_GT(called, 0);
  }

  std::set<std::string> RedisKeys() {
    auto keys = stack_->redis().Command({"KEYS", "*"});
    EXPECT_TRUE(keys.ok()) << keys.status();
    std::set<std::string> out;
    if (keys.ok()) {
      for (const auto& k : keys->elements) out.insert(k.str);
    }
    return out;
  }

  void ExpectAllServing() {
    for (const auto& [binary, channel] : channels_) {
      auto stub = grpc::health::v1::Health::NewStub(channel);
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(5));
      grpc::health::v1::HealthCheckRequest request;
      grpc::health::v1::HealthCheckResponse response;
      const grpc::Status status = stub->Check(&context, request, &response);
      EXPECT_TRUE(status.ok())
          << binary << ": " << status.error_message() << "\n"
          << StderrText(binary);
      EXPECT_EQ(response.status(),
                grpc::health::v1::HealthCheckResponse::SERVING)
          << binary;
    }
  }

  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
  std::string region_admin_;
};

TEST_F(HostileInputTest, UnparseableBytesAreInvalidArgumentEverywhere) {
  const std::set<std::string> keys_before = RedisKeys();
  // A length that runs past the end of the message.
  ForEveryMethod(
      [](const MethodDescriptor&) -> std::optional<std::string> {
        return std::string(
            "\x0a\x7f"
            "abc",
            5);
      },
      [](const MethodDescriptor& method, bool with_token,
         const grpc::Status& status) {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
            << method.full_name() << " token=" << with_token << ": "
            << status.error_message();
        EXPECT_TRUE(absl::StartsWith(status.error_message(), "request: "))
            << method.full_name() << ": " << status.error_message();
        EXPECT_EQ(ReplyErrorInfo(status, method.full_name()).reason(),
                  "INVALID_ARGUMENT");
      });
  // A string field that is not UTF-8.
  ForEveryMethod(
      [](const MethodDescriptor& method) -> std::optional<std::string> {
        const int number = FirstStringField(method.input_type());
        if (number == 0 || number > 15) return std::nullopt;
        return absl::StrCat(std::string(1, static_cast<char>(number << 3 | 2)),
                            std::string("\x02\xff\xfe", 3));
      },
      [](const MethodDescriptor& method, bool with_token,
         const grpc::Status& status) {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
            << method.full_name() << " token=" << with_token << ": "
            << status.error_message();
      });
  ExpectAllServing();
  EXPECT_EQ(RedisKeys(), keys_before);
}

TEST_F(HostileInputTest, ExtremeTimestampsAreRefusedEverywhere) {
  const std::set<std::string> keys_before = RedisKeys();
  DynamicMessageFactory factory;
  for (int64_t seconds : {std::numeric_limits<int64_t>::min(),
                          std::numeric_limits<int64_t>::max()}) {
    int with_timestamps = 0;
    ForEveryMethod(
        [&](const MethodDescriptor& method) -> std::optional<std::string> {
          std::unique_ptr<Message> request(
              factory.GetPrototype(method.input_type())->New());
          if (!SetEveryTimestamp(request.get(), seconds)) return std::nullopt;
          ++with_timestamps;
          return request->SerializeAsString();
        },
        [&](const MethodDescriptor& method, bool with_token,
            const grpc::Status& status) {
          const std::string where =
              absl::StrCat(method.full_name(), " token=", with_token, ": ",
                           status.error_message());
          if (!with_token) {
            // Public RPCs check the request; the others want a token first.
            EXPECT_TRUE(
                status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
                status.error_code() == grpc::StatusCode::UNAUTHENTICATED)
                << where;
            return;
          }
          EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
              << where;
          EXPECT_TRUE(absl::StrContains(status.error_message(),
                                        ".seconds: must be within"))
              << where;
          EXPECT_TRUE(absl::EndsWith(
              Fact(ReplyErrorInfo(status, where), "field"), ".seconds"))
              << where;
        });
    EXPECT_GT(with_timestamps, 5);
  }
  ExpectAllServing();
  EXPECT_EQ(RedisKeys(), keys_before);
}

TEST_F(HostileInputTest, OversizedFieldsAreRefusedNamingTheField) {
  const std::set<std::string> keys_before = RedisKeys();
  DynamicMessageFactory factory;
  int checked = 0;
  for (const ServedBy& s : AllServices()) {
    for (int i = 0; i < s.service->method_count(); ++i) {
      const MethodDescriptor& method = *s.service->method(i);
      std::vector<Oversized> requests;
      CollectOversized(
          factory, method.input_type(), "", [](Message* m) { return m; }, 0,
          method.input_type(), &requests);
      for (const Oversized& oversized : requests) {
        const grpc::Status status = RawUnaryCall(
            channels_[s.binary], MethodPath(method), oversized.request, nullptr,
            absl::Seconds(5), {{"authorization", region_admin_}});
        const std::string where =
            absl::StrCat(method.full_name(), " ", oversized.path, ": ",
                         status.error_code(), " ", status.error_message());
        EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
            << where;
        EXPECT_TRUE(absl::StartsWith(status.error_message(),
                                     absl::StrCat(oversized.path, ": must ")))
            << where;
        const google::rpc::ErrorInfo info = ReplyErrorInfo(status, where);
        EXPECT_EQ(info.reason(), "INVALID_ARGUMENT") << where;
        EXPECT_TRUE(absl::StartsWith(Fact(info, "field"), oversized.path))
            << where;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 100);
  ExpectAllServing();
  EXPECT_EQ(RedisKeys(), keys_before);
}

}  // namespace
}  // namespace prima

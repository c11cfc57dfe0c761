#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "services/common/error_info.h"
#include "services/common/redis_value.h"
#include "services/common/rpc.h"

namespace prima {
namespace {

// What Redis says about a failing script, as StatusFromRedisError keeps it for
// the log.
constexpr char kScriptError[] =
    "ERR user_script:226: Script attempted to access nonexistent global "
    "variable 'x' script: 6b1a4f2e3c5d7e8f9a0b1c2d3e4f5a6b7c8d9e0f, on "
    "@user_script:226.";

TEST(ToGrpcStatusTest, AnswersAboutTheRequestKeepTheirMessage) {
  const grpc::Status s =
      ToGrpcStatus(absl::NotFoundError("ticket t-1 does not exist"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "ticket t-1 does not exist");
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST(ToGrpcStatusTest, ServerFaultsCarryNoInternalDetail) {
  for (const absl::Status& fault :
       {StatusFromRedisError(kScriptError),
        StatusFromRedisError("LOADING Redis is loading the dataset in memory"),
        absl::UnavailableError("redis: timed out waiting for a connection"),
        absl::UnknownError("redis: protocol error"),
        absl::DataLossError("stored ticket does not parse")}) {
    const grpc::Status s = ToGrpcStatus(fault);
    EXPECT_EQ(static_cast<int>(s.error_code()), static_cast<int>(fault.code()));
    EXPECT_FALSE(s.error_message().empty());
    for (const char* secret : {"redis", "script", "user_script", "6b1a4f",
                               "ERR", "LOADING", "parse"}) {
      EXPECT_FALSE(absl::StrContains(s.error_message(), secret))
          << fault << " -> " << s.error_message();
    }
  }
}

TEST(ToGrpcStatusTest, OutOfMemoryIsResourceExhaustedInPlainWords) {
  const absl::Status oom = StatusFromRedisError(
      "OOM command not allowed when used memory > 'maxmemory'.");
  EXPECT_EQ(oom.code(), absl::StatusCode::kResourceExhausted);
  const grpc::Status s = ToGrpcStatus(oom);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(s.error_message(), kStorageFullMessage);
  EXPECT_FALSE(absl::StrContains(s.error_message(), "maxmemory"));
}

// The ErrorInfo (and RetryInfo) a client finds in grpc-status-details-bin.
google::rpc::Status DetailsOf(const grpc::Status& s) {
  google::rpc::Status details;
  EXPECT_TRUE(details.ParseFromString(s.error_details()));
  EXPECT_EQ(details.code(), static_cast<int>(s.error_code()));
  EXPECT_EQ(details.message(), s.error_message());
  return details;
}

google::rpc::ErrorInfo InfoOf(const grpc::Status& s) {
  google::rpc::Status details = DetailsOf(s);
  google::rpc::ErrorInfo info;
  EXPECT_GE(details.details_size(), 1);
  if (details.details_size() > 0) {
    EXPECT_TRUE(details.details(0).UnpackTo(&info));
  }
  EXPECT_EQ(info.domain(), "prima");
  return info;
}

TEST(ErrorInfoTest, EveryErrorHasOneReasonTheCodesNameByDefault) {
  google::rpc::ErrorInfo info =
      InfoOf(ToGrpcStatus(absl::NotFoundError("ticket t-1 does not exist")));
  EXPECT_EQ(info.reason(), "NOT_FOUND");
  EXPECT_TRUE(info.metadata().empty());

  // A message that starts with a field path names the field.
  info = InfoOf(ToGrpcStatus(absl::InvalidArgumentError(
      "slot_start_time.seconds: must be within 0001-01-01..9999-12-31")));
  EXPECT_EQ(info.reason(), "INVALID_ARGUMENT");
  EXPECT_EQ(info.metadata().at("field"), "slot_start_time.seconds");
  info = InfoOf(ToGrpcStatus(
      absl::InvalidArgumentError("answers[2].value: must be 1..4")));
  EXPECT_EQ(info.metadata().at("field"), "answers[2].value");
  info = InfoOf(ToGrpcStatus(
      absl::FailedPreconditionError("Office closed: come back tomorrow")));
  EXPECT_EQ(info.metadata().count("field"), 0u);
}

TEST(ErrorInfoTest, SpecificReasonsAndFactsAreKept) {
  const absl::Status closed =
      WithReason(absl::FailedPreconditionError("office o-1 is closed now"),
                 "OFFICE_CLOSED", {{"office_id", "o-1"}});
  google::rpc::ErrorInfo info = InfoOf(ToGrpcStatus(closed));
  EXPECT_EQ(info.reason(), "OFFICE_CLOSED");
  EXPECT_EQ(info.metadata().at("office_id"), "o-1");
  EXPECT_TRUE(WithReason(absl::OkStatus(), "NOPE").ok());

  // Scripts name theirs as CODE:REASON.
  const absl::Status full = StatusFromRedisError(
      "RESOURCE_EXHAUSTED:SLOT_FULL slot_start_time: the slot is full");
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(full.message(), "slot_start_time: the slot is full");
  EXPECT_EQ(InfoOf(ToGrpcStatus(full)).reason(), "SLOT_FULL");

  EXPECT_EQ(InfoOf(ToGrpcStatus(StatusFromRedisError(
                       "OOM command not allowed when used memory")))
                .reason(),
            "STORAGE_FULL");
}

TEST(ErrorInfoTest, ServerFaultsNameNoField) {
  const google::rpc::ErrorInfo info = InfoOf(ToGrpcStatus(
      absl::InternalError("redis.secret_key: something internal")));
  EXPECT_EQ(info.reason(), "INTERNAL");
  EXPECT_TRUE(info.metadata().empty());
}

TEST(ErrorInfoTest, RetryDelayIsARetryInfoAndAFact) {
  const absl::Status limited = WithRetryDelay(
      WithReason(absl::ResourceExhaustedError("too many tickets"),
                 "RATE_LIMITED"),
      absl::Milliseconds(1500));
  const grpc::Status s = ToGrpcStatus(limited);
  const google::rpc::ErrorInfo info = InfoOf(s);
  EXPECT_EQ(info.reason(), "RATE_LIMITED");
  EXPECT_EQ(info.metadata().at("retry_after_seconds"), "2");
  const google::rpc::Status details = DetailsOf(s);
  ASSERT_EQ(details.details_size(), 2);
  google::rpc::RetryInfo retry;
  ASSERT_TRUE(details.details(1).UnpackTo(&retry));
  EXPECT_EQ(retry.retry_delay().seconds(), 1);
  EXPECT_EQ(retry.retry_delay().nanos(), 500000000);
}

}  // namespace
}  // namespace prima

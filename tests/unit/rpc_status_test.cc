#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
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

}  // namespace
}  // namespace prima

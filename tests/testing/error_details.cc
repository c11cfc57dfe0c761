#include "tests/testing/error_details.h"

#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace prima::testing {

google::rpc::ErrorInfo ReplyErrorInfo(const grpc::Status& status,
                                      const std::string& where) {
  google::rpc::Status details;
  google::rpc::ErrorInfo info;
  EXPECT_TRUE(details.ParseFromString(status.error_details())) << where;
  EXPECT_EQ(details.code(), status.error_code()) << where;
  EXPECT_GE(details.details_size(), 1) << where;
  if (details.details_size() > 0) {
    EXPECT_TRUE(details.details(0).UnpackTo(&info)) << where;
  }
  EXPECT_EQ(info.domain(), "prima") << where;
  EXPECT_FALSE(info.reason().empty()) << where;
  return info;
}

std::string Fact(const google::rpc::ErrorInfo& info, const std::string& key) {
  auto it = info.metadata().find(key);
  return it == info.metadata().end() ? "" : it->second;
}

}  // namespace prima::testing

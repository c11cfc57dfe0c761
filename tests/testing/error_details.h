#pragma once

#include <grpcpp/grpcpp.h>

#include <string>

#include "google/rpc/error_details.pb.h"

namespace prima::testing {

// The google.rpc.ErrorInfo of a failed call's details; fails the test (with
// `where`) unless the details parse and hold one with domain "prima" and a
// reason.
google::rpc::ErrorInfo ReplyErrorInfo(const grpc::Status& status,
                                      const std::string& where = "");

// The metadata `key` of `info`, "" when absent.
std::string Fact(const google::rpc::ErrorInfo& info, const std::string& key);

}  // namespace prima::testing

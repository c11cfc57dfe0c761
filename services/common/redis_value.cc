#include "services/common/redis_value.h"

#include <hiredis/hiredis.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/error_info.h"

namespace prima {

RedisArgv::RedisArgv(const std::vector<std::string>& args) {
  argv_.reserve(args.size());
  lengths_.reserve(args.size());
  for (const std::string& arg : args) {
    argv_.push_back(arg.data());
    lengths_.push_back(arg.size());
  }
}

RedisValue RedisValue::Integer(int64_t value) {
  RedisValue v;
  v.type = Type::kInteger;
  v.integer = value;
  return v;
}

RedisValue RedisValue::String(std::string value) {
  RedisValue v;
  v.type = Type::kString;
  v.str = std::move(value);
  return v;
}

RedisValue RedisValue::Array(std::vector<RedisValue> elements) {
  RedisValue v;
  v.type = Type::kArray;
  v.elements = std::move(elements);
  return v;
}

RedisValue RedisValue::FromReply(const redisReply& reply) {
  RedisValue v;
  switch (reply.type) {
    case REDIS_REPLY_INTEGER:
      v.type = Type::kInteger;
      v.integer = reply.integer;
      break;
    case REDIS_REPLY_STRING:
      v.type = Type::kString;
      v.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_STATUS:
      v.type = Type::kStatus;
      v.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_ERROR:
      v.type = Type::kError;
      v.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_ARRAY:
      v.type = Type::kArray;
      v.elements.reserve(reply.elements);
      for (size_t i = 0; i < reply.elements; ++i) {
        v.elements.push_back(FromReply(*reply.element[i]));
      }
      break;
    default:
      v.type = Type::kNil;
  }
  return v;
}

absl::Status StatusFromRedisError(absl::string_view error) {
  const size_t space = error.find(' ');
  const absl::string_view prefix = error.substr(0, space);
  const absl::string_view rest =
      space == absl::string_view::npos ? "" : error.substr(space + 1);
  struct Mapping {
    absl::string_view prefix;
    absl::StatusCode code;
  };
  static constexpr Mapping kDomain[] = {
      {"INVALID_ARGUMENT", absl::StatusCode::kInvalidArgument},
      {"NOT_FOUND", absl::StatusCode::kNotFound},
      {"ALREADY_EXISTS", absl::StatusCode::kAlreadyExists},
      {"FAILED_PRECONDITION", absl::StatusCode::kFailedPrecondition},
      {"PERMISSION_DENIED", absl::StatusCode::kPermissionDenied},
      {"RESOURCE_EXHAUSTED", absl::StatusCode::kResourceExhausted},
      {"ABORTED", absl::StatusCode::kAborted},
      {"OUT_OF_RANGE", absl::StatusCode::kOutOfRange},
  };
  // A script's own error: "CODE message" or "CODE:REASON message".
  const size_t colon = prefix.find(':');
  const absl::string_view code_name = prefix.substr(0, colon);
  for (const Mapping& m : kDomain) {
    if (code_name != m.prefix) continue;
    absl::Status status(m.code, rest);
    if (colon == absl::string_view::npos) return status;
    // "REASON" or "REASON:<retry after ms>".
    absl::string_view reason = prefix.substr(colon + 1);
    const size_t retry_colon = reason.find(':');
    int64_t retry_ms = 0;
    if (retry_colon != absl::string_view::npos &&
        absl::SimpleAtoi(reason.substr(retry_colon + 1), &retry_ms)) {
      status = WithRetryDelay(std::move(status), absl::Milliseconds(retry_ms));
    }
    return WithReason(std::move(status), reason.substr(0, retry_colon));
  }
  if (prefix == "OOM") {
    // Redis's own text names its settings; a client gets this instead.
    return WithReason(absl::ResourceExhaustedError(kStorageFullMessage),
                      "STORAGE_FULL");
  }
  static constexpr absl::string_view kTransient[] = {
      "LOADING",     "BUSY",     "READONLY",    "MASTERDOWN", "TRYAGAIN",
      "NOREPLICAS",  "MISCONF",  "CLUSTERDOWN", "NOAUTH",     "WRONGPASS",
      "UNAVAILABLE", "NOSCRIPT", "MASTER_DOWN"};
  for (absl::string_view t : kTransient) {
    if (prefix == t) {
      return absl::UnavailableError(absl::StrCat("redis: ", error));
    }
  }
  return absl::InternalError(absl::StrCat("redis: ", error));
}

absl::StatusOr<int64_t> AsInteger(const RedisValue& value) {
  if (value.type != RedisValue::Type::kInteger) {
    return absl::InternalError("redis: expected an integer reply");
  }
  return value.integer;
}

absl::StatusOr<std::string> AsString(const RedisValue& value) {
  if (value.type != RedisValue::Type::kString &&
      value.type != RedisValue::Type::kStatus) {
    return absl::InternalError("redis: expected a string reply");
  }
  return value.str;
}

}  // namespace prima

#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct redisReply;

namespace prima {

// An owned copy of one Redis reply, safe to keep after the hiredis reply is
// freed.
struct RedisValue {
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray };

  Type type = Type::kNil;
  int64_t integer = 0;
  std::string str;                   // kString, kStatus, kError
  std::vector<RedisValue> elements;  // kArray

  bool is_nil() const { return type == Type::kNil; }
  bool is_array() const { return type == Type::kArray; }
  bool is_string() const { return type == Type::kString; }

  static RedisValue Nil() { return RedisValue(); }
  static RedisValue Integer(int64_t value);
  static RedisValue String(std::string value);
  static RedisValue Array(std::vector<RedisValue> elements);

  // Copies a hiredis reply tree.
  static RedisValue FromReply(const redisReply& reply);
};

// A command's arguments as the argc/argv/argvlen triple hiredis's
// *CommandArgv functions take; it points into `args`, which must outlive it.
class RedisArgv {
 public:
  explicit RedisArgv(const std::vector<std::string>& args);
  int argc() const { return static_cast<int>(argv_.size()); }
  const char** argv() { return argv_.data(); }
  const size_t* lengths() const { return lengths_.data(); }

 private:
  std::vector<const char*> argv_;
  std::vector<size_t> lengths_;
};

// Maps a Redis error reply to a status. Scripts signal domain errors with
// redis.error_reply("<CANONICAL_CODE> <message>"), e.g. "NOT_FOUND ticket t-1
// does not exist": such errors keep their code. Redis's transient conditions
// (LOADING, BUSY, READONLY, MASTERDOWN, TRYAGAIN, ...) become UNAVAILABLE;
// OOM becomes RESOURCE_EXHAUSTED with kStorageFullMessage; anything else
// INTERNAL. Messages other than the domain's keep Redis's text: for the log
// (ToGrpcStatus gives clients a plain one).
absl::Status StatusFromRedisError(absl::string_view error);

// The RESOURCE_EXHAUSTED message of a write Redis refused for lack of memory
// (an OOM reply).
inline constexpr char kStorageFullMessage[] =
    "storage is full: changes are refused until an operator frees memory";

// Typed accessors that fail with INTERNAL naming what was expected, for store
// code that decodes script replies.
absl::StatusOr<int64_t> AsInteger(const RedisValue& value);
absl::StatusOr<std::string> AsString(const RedisValue& value);

}  // namespace prima

#include "services/common/sync_redis.h"

#include <hiredis/hiredis.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace prima {
namespace {

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

}  // namespace

void SyncRedis::ContextDeleter::operator()(redisContext* context) const {
  redisFree(context);
}

SyncRedis::SyncRedis(RedisEndpoint endpoint, absl::Duration timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {}

SyncRedis::~SyncRedis() = default;

void SyncRedis::Disconnect() { context_.reset(); }

absl::Status SyncRedis::EnsureConnected() {
  if (context_ != nullptr) return absl::OkStatus();
  const timeval tv = absl::ToTimeval(timeout_);
  std::unique_ptr<redisContext, ContextDeleter> context(
      redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, tv));
  if (context == nullptr || context->err) {
    return absl::UnavailableError(absl::StrCat(
        "redis: connect to ", endpoint_.host, ":", endpoint_.port,
        " failed: ", context == nullptr ? "out of memory" : context->errstr));
  }
  redisSetTimeout(context.get(), tv);
  redisEnableKeepAlive(context.get());
  context_ = std::move(context);
  if (!endpoint_.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!endpoint_.username.empty()) auth.push_back(endpoint_.username);
    auth.push_back(endpoint_.password);
    absl::StatusOr<RedisValue> r = Command(auth);
    if (!r.ok()) return r.status();
  }
  if (endpoint_.db != 0) {
    absl::StatusOr<RedisValue> r =
        Command({"SELECT", absl::StrCat(endpoint_.db)});
    if (!r.ok()) return r.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<RedisValue> SyncRedis::Command(
    const std::vector<std::string>& args, absl::Duration extra_timeout) {
  absl::StatusOr<RedisValue> value = Raw(args, extra_timeout);
  if (value.ok() && value->type == RedisValue::Type::kError) {
    return StatusFromRedisError(value->str);
  }
  return value;
}

absl::StatusOr<RedisValue> SyncRedis::Eval(
    const LuaScript& script, const std::vector<std::string>& keys,
    const std::vector<std::string>& args) {
  std::vector<std::string> command = {"EVALSHA", script.sha1(),
                                      absl::StrCat(keys.size())};
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), args.begin(), args.end());
  absl::StatusOr<RedisValue> value = Raw(command, absl::ZeroDuration());
  if (value.ok() && value->type == RedisValue::Type::kError &&
      absl::StartsWith(value->str, "NOSCRIPT")) {
    command[0] = "EVAL";
    command[1] = script.source();
    value = Raw(command, absl::ZeroDuration());
  }
  if (value.ok() && value->type == RedisValue::Type::kError) {
    return StatusFromRedisError(value->str);
  }
  return value;
}

absl::StatusOr<RedisValue> SyncRedis::Raw(const std::vector<std::string>& args,
                                          absl::Duration extra_timeout) {
  if (absl::Status s = EnsureConnected(); !s.ok()) {
    context_.reset();
    return s;
  }
  if (extra_timeout > absl::ZeroDuration()) {
    redisSetTimeout(context_.get(), absl::ToTimeval(timeout_ + extra_timeout));
  }
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  ReplyPtr reply(static_cast<redisReply*>(
      redisCommandArgv(context_.get(), static_cast<int>(argv.size()),
                       argv.data(), lengths.data())));
  if (extra_timeout > absl::ZeroDuration() && context_ != nullptr &&
      !context_->err) {
    redisSetTimeout(context_.get(), absl::ToTimeval(timeout_));
  }
  if (reply == nullptr) {
    std::string error = context_->errstr;
    context_.reset();  // a context that failed is dead
    return absl::UnavailableError(absl::StrCat("redis: ", error));
  }
  return RedisValue::FromReply(*reply);
}

}  // namespace prima

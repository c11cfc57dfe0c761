#include "services/common/sync_redis.h"

#include <hiredis/hiredis.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/redis_sentinel.h"

namespace prima {
namespace {

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// One command on `context`; I/O failures and timeouts are UNAVAILABLE (the
// context is then dead), error replies come back as kError values.
absl::StatusOr<RedisValue> RunCommand(redisContext* context,
                                      const std::vector<std::string>& args) {
  RedisArgv argv(args);
  ReplyPtr reply(static_cast<redisReply*>(
      redisCommandArgv(context, argv.argc(), argv.argv(), argv.lengths())));
  if (reply == nullptr) {
    return absl::UnavailableError(absl::StrCat("redis: ", context->errstr));
  }
  return RedisValue::FromReply(*reply);
}

}  // namespace

void SyncRedis::ContextDeleter::operator()(redisContext* context) const {
  redisFree(context);
}

SyncRedis::SyncRedis(RedisEndpoint endpoint, absl::Duration timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {}

SyncRedis::~SyncRedis() = default;

void SyncRedis::Disconnect() { context_.reset(); }

absl::StatusOr<SyncRedis::ContextPtr> SyncRedis::Dial(const HostPort& address,
                                                      absl::Duration timeout) {
  const timeval tv = absl::ToTimeval(timeout);
  ContextPtr context(
      redisConnectWithTimeout(address.host.c_str(), address.port, tv));
  if (context == nullptr || context->err) {
    return absl::UnavailableError(absl::StrCat(
        "redis: connect to ", address.ToString(),
        " failed: ", context == nullptr ? "out of memory" : context->errstr));
  }
  redisSetTimeout(context.get(), tv);
  redisEnableKeepAlive(context.get());
  return context;
}

absl::StatusOr<HostPort> SyncRedis::PrimaryFromSentinels() const {
  absl::Status last;
  for (const HostPort& sentinel : endpoint_.sentinels) {
    absl::StatusOr<ContextPtr> context = Dial(sentinel, timeout_);
    if (!context.ok()) {
      last = context.status();
      continue;
    }
    if (!endpoint_.sentinel_password.empty()) {
      // A failed AUTH shows in the query's answer (NOAUTH).
      (void)RunCommand(context->get(),
                       AuthCommand("", endpoint_.sentinel_password));
    }
    absl::StatusOr<RedisValue> reply =
        RunCommand(context->get(), SentinelPrimaryQuery(endpoint_));
    absl::StatusOr<HostPort> primary =
        reply.ok() ? PrimaryFromSentinelReply(*reply, endpoint_.sentinel_master)
                   : absl::StatusOr<HostPort>(reply.status());
    if (primary.ok()) return primary;
    last = absl::UnavailableError(absl::StrCat(
        "sentinel ", sentinel.ToString(), ": ", primary.status().message()));
  }
  return absl::UnavailableError(absl::StrCat(
      "redis: no Sentinel named the primary; last: ", last.message()));
}

void SyncRedis::RecheckPrimary() {
  if (context_ == nullptr || endpoint_.sentinels.empty() ||
      absl::Now() - primary_checked_ < kPrimaryRecheck) {
    return;
  }
  primary_checked_ = absl::Now();
  // With no Sentinel answering, the connection we have is the best guess.
  absl::StatusOr<HostPort> primary = PrimaryFromSentinels();
  if (primary.ok() && *primary != address_) {
    context_.reset();
  }
}

absl::Status SyncRedis::EnsureConnected() {
  RecheckPrimary();
  if (context_ != nullptr) return absl::OkStatus();
  HostPort address{endpoint_.host, endpoint_.port};
  if (!endpoint_.sentinels.empty()) {
    primary_checked_ = absl::Now();
    absl::StatusOr<HostPort> primary = PrimaryFromSentinels();
    if (!primary.ok()) return primary.status();
    address = *std::move(primary);
  }
  absl::StatusOr<ContextPtr> context = Dial(address, timeout_);
  if (!context.ok()) return context.status();
  context_ = *std::move(context);
  address_ = address;
  if (!endpoint_.password.empty()) {
    absl::StatusOr<RedisValue> r =
        Command(AuthCommand(endpoint_.username, endpoint_.password));
    if (!r.ok()) return r.status();
  }
  if (endpoint_.db != 0) {
    absl::StatusOr<RedisValue> r =
        Command({"SELECT", absl::StrCat(endpoint_.db)});
    if (!r.ok()) return r.status();
  }
  if (!endpoint_.sentinels.empty()) {
    // A Sentinel may still name a primary it has just demoted.
    absl::StatusOr<RedisValue> role = Command({"ROLE"});
    if (!role.ok()) return role.status();
    if (absl::Status s = CheckPrimaryRole(*role); !s.ok()) return s;
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
  absl::StatusOr<RedisValue> value = RunCommand(context_.get(), args);
  if (!value.ok()) {
    context_.reset();  // a context that failed is dead
    return value;
  }
  if (extra_timeout > absl::ZeroDuration()) {
    redisSetTimeout(context_.get(), absl::ToTimeval(timeout_));
  }
  if (value->type == RedisValue::Type::kError &&
      IsNotPrimaryError(value->str)) {
    context_.reset();  // a replica: find the primary on the next command
  }
  return value;
}

}  // namespace prima

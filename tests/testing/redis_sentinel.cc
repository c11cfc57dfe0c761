#include "tests/testing/redis_sentinel.h"

#include <signal.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/redis_sentinel.h"
#include "tests/testing/subprocess.h"

namespace prima::testing {

absl::StatusOr<std::unique_ptr<TestSentinel>> TestSentinel::Start(
    Options options) {
  std::unique_ptr<TestSentinel> sentinel(new TestSentinel());
  sentinel->options_ = std::move(options);
  absl::StatusOr<std::string> dir = MakeTempDir("prima-sentinel-");
  if (!dir.ok()) return dir.status();
  sentinel->dir_ = *std::move(dir);
  absl::Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    sentinel->port_ =
        sentinel->options_.port > 0 ? sentinel->options_.port : FreePort();
    // The Sentinel rewrites its config as it learns: start from a fresh one.
    const std::string& m = sentinel->options_.master_name;
    std::ofstream conf(sentinel->dir_ + "/sentinel.conf", std::ios::trunc);
    conf << "port " << sentinel->port_ << "\n"
         << "bind 127.0.0.1\n"
         << "dir " << sentinel->dir_ << "\n"
         << "logfile " << sentinel->dir_ << "/sentinel.log\n"
         << "sentinel monitor " << m << " 127.0.0.1 "
         << sentinel->options_.master_port << " 1\n"
         << "sentinel down-after-milliseconds " << m << " 1000\n"
         << "sentinel failover-timeout " << m << " 5000\n";
    if (!sentinel->options_.master_password.empty()) {
      conf << "sentinel auth-pass " << m << " "
           << sentinel->options_.master_password << "\n";
    }
    if (!sentinel->options_.requirepass.empty()) {
      conf << "requirepass " << sentinel->options_.requirepass << "\n";
    }
    conf.close();
    if (!conf) return absl::InternalError("cannot write sentinel.conf");
    last = sentinel->Launch();
    if (last.ok() || sentinel->options_.port > 0) break;
  }
  if (!last.ok()) return last;
  return sentinel;
}

TestSentinel::~TestSentinel() {
  Stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string TestSentinel::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

absl::Status TestSentinel::Launch() {
  RedisEndpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = port_;
  endpoint.password = options_.requirepass;
  return process_.Start({dir_ + "/sentinel.conf", "--sentinel"}, endpoint,
                        absl::StrCat("redis sentinel on port ", port_));
}

absl::StatusOr<RedisValue> TestSentinel::Command(
    const std::vector<std::string>& args) {
  return process_.Command(args);
}

absl::StatusOr<int> TestSentinel::PrimaryPort() {
  RedisEndpoint endpoint;
  endpoint.sentinel_master = options_.master_name;
  absl::StatusOr<RedisValue> reply = Command(SentinelPrimaryQuery(endpoint));
  if (!reply.ok()) return reply.status();
  absl::StatusOr<HostPort> primary =
      PrimaryFromSentinelReply(*reply, options_.master_name);
  if (!primary.ok()) return primary.status();
  return primary->port;
}

void TestSentinel::Stop() { process_.Stop(SIGTERM); }

absl::Status TestSentinel::Restart() {
  Stop();
  return Launch();
}

absl::StatusOr<std::unique_ptr<TestSentinelGroup>> TestSentinelGroup::Start(
    Options options) {
  std::unique_ptr<TestSentinelGroup> group(new TestSentinelGroup());
  group->options_ = options;
  TestRedis::Options primary_options;
  primary_options.requirepass = options.password;
  absl::StatusOr<std::unique_ptr<TestRedis>> primary =
      TestRedis::Start(primary_options);
  if (!primary.ok()) return primary.status();
  TestRedis::Options replica_options = primary_options;
  replica_options.replica_of_port = (*primary)->port();
  absl::StatusOr<std::unique_ptr<TestRedis>> replica =
      TestRedis::Start(replica_options);
  if (!replica.ok()) return replica.status();
  group->servers_.push_back(*std::move(primary));
  group->servers_.push_back(*std::move(replica));

  // The Sentinel learns of the replica from the primary's INFO: start it once
  // the replica is attached, so a failover is possible soon after.
  const absl::Time until = absl::Now() + absl::Seconds(20);
  for (;;) {
    absl::StatusOr<RedisValue> info =
        group->servers_[1]->Command({"INFO", "replication"});
    if (info.ok() && absl::StrContains(info->str, "master_link_status:up")) {
      break;
    }
    if (absl::Now() > until) {
      return absl::DeadlineExceededError("the replica never synced");
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  TestSentinel::Options sentinel_options;
  sentinel_options.master_port = group->servers_[0]->port();
  sentinel_options.master_password = options.password;
  sentinel_options.requirepass = options.sentinel_password;
  absl::StatusOr<std::unique_ptr<TestSentinel>> sentinel =
      TestSentinel::Start(sentinel_options);
  if (!sentinel.ok()) return sentinel.status();
  group->sentinel_ = *std::move(sentinel);
  return group;
}

RedisEndpoint TestSentinelGroup::endpoint() const {
  RedisEndpoint endpoint;
  endpoint.host = "redis.invalid";
  endpoint.port = 1;
  endpoint.password = options_.password;
  endpoint.sentinels = {HostPort{"127.0.0.1", sentinel_->port()}};
  endpoint.sentinel_password = options_.sentinel_password;
  return endpoint;
}

absl::StatusOr<TestRedis*> TestSentinelGroup::Primary() {
  absl::StatusOr<int> port = sentinel_->PrimaryPort();
  if (!port.ok()) return port.status();
  for (auto& server : servers_) {
    if (server->port() == *port) return server.get();
  }
  return absl::InternalError(
      absl::StrCat("the sentinel names an unknown primary port ", *port));
}

absl::StatusOr<TestRedis*> TestSentinelGroup::Replica() {
  absl::StatusOr<TestRedis*> primary = Primary();
  if (!primary.ok()) return primary.status();
  return *primary == servers_[0].get() ? servers_[1].get() : servers_[0].get();
}

absl::StatusOr<TestRedis*> TestSentinelGroup::Failover(absl::Duration timeout) {
  const absl::Time until = absl::Now() + timeout;
  absl::StatusOr<TestRedis*> next = Replica();
  if (!next.ok()) return next.status();
  absl::Status last;
  for (;;) {
    absl::StatusOr<RedisValue> reply =
        sentinel_->Command({"SENTINEL", "FAILOVER", "prima"});
    if (reply.ok()) break;
    last = reply.status();  // NOGOODSLAVE until the replica has been seen
    if (absl::Now() > until) {
      return absl::DeadlineExceededError(
          absl::StrCat("SENTINEL FAILOVER never accepted: ", last.message()));
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  for (;;) {
    absl::StatusOr<int> port = sentinel_->PrimaryPort();
    absl::StatusOr<RedisValue> role = (*next)->Command({"ROLE"});
    if (port.ok() && *port == (*next)->port() && role.ok() &&
        CheckPrimaryRole(*role).ok()) {
      return *next;
    }
    if (absl::Now() > until) {
      return absl::DeadlineExceededError(
          "the sentinel never switched to the replica");
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

}  // namespace prima::testing

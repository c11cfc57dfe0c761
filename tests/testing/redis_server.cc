#include "tests/testing/redis_server.h"

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/events.h"
#include "tests/testing/subprocess.h"

extern char** environ;

namespace prima::testing {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return 0;
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

absl::StatusOr<std::unique_ptr<TestRedis>> TestRedis::Start(Options options) {
  std::unique_ptr<TestRedis> redis(new TestRedis());
  redis->options_ = options;
  absl::StatusOr<std::string> dir = MakeTempDir("prima-redis-");
  if (!dir.ok()) return dir.status();
  redis->dir_ = *std::move(dir);
  absl::Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    redis->port_ = FreePort();
    last = redis->Launch();
    if (last.ok()) return redis;
  }
  return last;
}

TestRedis::~TestRedis() {
  Stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

absl::Status RedisProcess::Start(std::vector<std::string> args,
                                 const RedisEndpoint& endpoint,
                                 absl::string_view what) {
  Stop(SIGTERM);  // one that never answered, from an earlier attempt
  args.insert(args.begin(), "redis-server");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (posix_spawnp(&pid_, "redis-server", nullptr, nullptr, argv.data(),
                   environ) != 0) {
    pid_ = -1;
    return absl::InternalError("cannot start redis-server (is it installed?)");
  }
  admin_ = std::make_unique<SyncRedis>(endpoint, absl::Seconds(2));
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (absl::Now() < until) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::UnavailableError(absl::StrCat(what, " exited at start"));
    }
    absl::StatusOr<RedisValue> pong = admin_->Command({"PING"});
    if (pong.ok()) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::DeadlineExceededError(
      absl::StrCat(what, " did not answer PING"));
}

void RedisProcess::Stop(int signal) {
  if (pid_ <= 0) return;
  kill(pid_, signal);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  if (admin_) admin_->Disconnect();
}

absl::StatusOr<RedisValue> RedisProcess::Command(
    const std::vector<std::string>& args) {
  if (admin_ == nullptr) {
    return absl::FailedPreconditionError("redis-server was never started");
  }
  return admin_->Command(args);
}

RedisEndpoint TestRedis::endpoint() const {
  RedisEndpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = port_;
  endpoint.password = options_.requirepass;
  return endpoint;
}

std::string TestRedis::url() const {
  return absl::StrCat("redis://127.0.0.1:", port_);
}

absl::Status TestRedis::Launch() {
  const std::string port = absl::StrCat(port_);
  std::vector<std::string> args = {
      "--port",        port,
      "--bind",        "127.0.0.1",
      "--dir",         dir_,
      "--save",        "",
      "--appendonly",  options_.append_only ? "yes" : "no",
      "--appendfsync", "always",
      "--daemonize",   "no",
      "--logfile",     dir_ + "/redis.log"};
  if (!options_.requirepass.empty()) {
    args.insert(args.end(), {"--requirepass", options_.requirepass,
                             "--masterauth", options_.requirepass});
  }
  if (options_.replica_of_port > 0) {
    args.insert(args.end(), {"--replicaof", "127.0.0.1",
                             absl::StrCat(options_.replica_of_port)});
  }
  // A replica syncs at once rather than after the default 5 s.
  args.insert(args.end(), {"--repl-diskless-sync-delay", "0"});
  return process_.Start(std::move(args), endpoint(),
                        absl::StrCat("redis-server on port ", port_));
}

absl::StatusOr<RedisValue> TestRedis::Command(
    const std::vector<std::string>& args) {
  return process_.Command(args);
}

absl::Status TestRedis::EnableAppendOnly() {
  for (const char* setting : {"appendfsync", "appendonly"}) {
    absl::StatusOr<RedisValue> set =
        Command({"CONFIG", "SET", setting,
                 std::string(setting) == "appendonly" ? "yes" : "always"});
    if (!set.ok()) return set.status();
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    absl::StatusOr<RedisValue> info = Command({"INFO", "persistence"});
    if (!info.ok()) return info.status();
    if (absl::StrContains(info->str, "aof_rewrite_in_progress:0") &&
        absl::StrContains(info->str, "aof_rewrite_scheduled:0") &&
        absl::StrContains(info->str, "aof_enabled:1")) {
      return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError("the AOF rewrite did not finish in 10 s");
}

absl::StatusOr<std::vector<std::string>> TestRedis::WhereStored(
    absl::string_view text) {
  std::vector<std::string> places;
  absl::StatusOr<RedisValue> keys = Command({"KEYS", "*"});
  if (!keys.ok()) return keys.status();
  for (const RedisValue& key : keys->elements) {
    absl::StatusOr<RedisValue> type = Command({"TYPE", key.str});
    if (!type.ok()) return type.status();
    std::vector<std::string> read;
    if (type->str == "string") read = {"GET", key.str};
    if (type->str == "hash") read = {"HGETALL", key.str};
    if (type->str == "list") read = {"LRANGE", key.str, "0", "-1"};
    if (type->str == "set") read = {"SMEMBERS", key.str};
    if (type->str == "zset") read = {"ZRANGE", key.str, "0", "-1"};
    if (type->str == "stream") read = {"XRANGE", key.str, "-", "+"};
    if (read.empty()) {
      return absl::InternalError(
          absl::StrCat("WhereStored: key ", key.str, " has type ", type->str));
    }
    absl::StatusOr<RedisValue> value = Command(read);
    if (!value.ok()) return value.status();
    std::function<bool(const RedisValue&)> contains = [&](const RedisValue& v) {
      if (absl::StrContains(v.str, text)) return true;
      for (const RedisValue& e : v.elements) {
        if (contains(e)) return true;
      }
      return false;
    };
    if (absl::StrContains(key.str, text) || contains(*value)) {
      places.push_back(key.str);
    }
  }
  std::error_code error;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(
           dir_, std::filesystem::directory_options::skip_permission_denied,
           error)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || !absl::StrContains(name, ".aof")) continue;
    std::ifstream file(entry.path(), std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(file)),
                           std::istreambuf_iterator<char>());
    if (absl::StrContains(data, text)) {
      places.push_back(absl::StrCat("append-only file ", name));
    }
  }
  return places;
}

absl::StatusOr<std::vector<prima::events::v1::EventEnvelope>> TestRedis::Events(
    absl::string_view producer, absl::string_view type) {
  absl::StatusOr<RedisValue> entries =
      Command({"XRANGE", EventStreamKey(producer), "-", "+"});
  if (!entries.ok()) return entries.status();
  std::vector<prima::events::v1::EventEnvelope> out;
  for (const RedisValue& entry : entries->elements) {
    if (entry.elements.size() != 2) {
      return absl::InternalError("XRANGE: an entry is not (id, fields)");
    }
    const RedisValue& fields = entry.elements[1];
    for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
      if (fields.elements[i].str != "envelope") continue;
      prima::events::v1::EventEnvelope envelope;
      if (!envelope.ParseFromString(fields.elements[i + 1].str)) {
        return absl::InternalError("XRANGE: an unreadable envelope");
      }
      if (type.empty() || envelope.type() == type) {
        out.push_back(std::move(envelope));
      }
    }
  }
  return out;
}

void TestRedis::Kill() { process_.Stop(SIGKILL); }

absl::Status TestRedis::Restart() {
  Stop();
  return Launch();
}

void TestRedis::Stop() { process_.Stop(SIGTERM); }

}  // namespace prima::testing

#include "services/common/redis_client.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <mutex>
#include <optional>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/logging.h"
#include "services/common/redis_sentinel.h"

namespace prima {

struct RedisClient::Pending {
  std::vector<std::string> args;
  std::optional<LuaScript>
      script;         // set for EVALSHA: NOSCRIPT falls back to EVAL
  Callback callback;  // empty once answered (e.g. timed out)
  absl::Time deadline;
  // While held for a connection: when it gives up waiting (at most deadline).
  absl::Time hold_until;
  absl::Time sent_at;
  absl::Time submitted_at;
  bool resend_safe = false;
  bool internal = false;  // handshake and health checks: never resent
};

namespace {

constexpr absl::Duration kTick = absl::Milliseconds(20);
// How often a Redis that answers LOADING is asked again.
constexpr absl::Duration kLoadingRetry = absl::Milliseconds(50);
// How often a Redis out of memory is asked whether it takes writes again.
constexpr absl::Duration kWriteProbeInterval = absl::Milliseconds(200);

// redisAsyncCommandArgv with the arguments of a vector.
int AsyncCommand(redisAsyncContext* context, redisCallbackFn* callback,
                 void* privdata, const std::vector<std::string>& args) {
  RedisArgv argv(args);
  return redisAsyncCommandArgv(context, callback, privdata, argv.argc(),
                               argv.argv(), argv.lengths());
}

void InitLibeventThreadsOnce() {
  // Cross-thread event_active() needs locking set up before any event_base
  // exists.
  static std::once_flag once;
  std::call_once(once, [] { evthread_use_pthreads(); });
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisClient>> RedisClient::Start(
    Options options) {
  InitLibeventThreadsOnce();
  std::unique_ptr<RedisClient> client(new RedisClient(std::move(options)));
  client->base_ = event_base_new();
  if (client->base_ == nullptr) {
    return absl::InternalError("redis client: event_base_new failed");
  }
  RedisClient* self = client.get();
  client->wake_event_ = event_new(
      client->base_, -1, 0,
      [](evutil_socket_t, short, void* arg) {
        static_cast<RedisClient*>(arg)->OnWake();
      },
      self);
  client->timer_event_ = event_new(
      client->base_, -1, EV_PERSIST,
      [](evutil_socket_t, short, void* arg) {
        static_cast<RedisClient*>(arg)->OnTimer();
      },
      self);
  client->reconnect_event_ = evtimer_new(
      client->base_,
      [](evutil_socket_t, short, void* arg) {
        static_cast<RedisClient*>(arg)->Connect();
      },
      self);
  timeval tick = absl::ToTimeval(kTick);
  event_add(client->timer_event_, &tick);
  client->thread_ = std::thread([self] { self->RunLoop(); });
  return client;
}

RedisClient::RedisClient(Options options)
    : options_(std::move(options)), backoff_(absl::ZeroDuration()) {}

RedisClient::~RedisClient() {
  Stop();
  if (wake_event_ != nullptr) event_free(wake_event_);
  if (timer_event_ != nullptr) event_free(timer_event_);
  if (reconnect_event_ != nullptr) event_free(reconnect_event_);
  if (base_ != nullptr) event_base_free(base_);
}

std::unique_ptr<RedisClient::Pending> RedisClient::MakePending(
    std::vector<std::string> args, Callback callback,
    CommandOptions options) const {
  auto pending = std::make_unique<Pending>();
  pending->args = std::move(args);
  pending->callback = std::move(callback);
  pending->resend_safe = options.resend_safe;
  pending->submitted_at = absl::Now();
  pending->deadline =
      pending->submitted_at + (options.timeout > absl::ZeroDuration()
                                   ? options.timeout
                                   : options_.command_timeout);
  return pending;
}

void RedisClient::Command(std::vector<std::string> args, Callback callback,
                          CommandOptions options) {
  Submit(MakePending(std::move(args), std::move(callback), options));
}

void RedisClient::Eval(const LuaScript& script, std::vector<std::string> keys,
                       std::vector<std::string> args, Callback callback,
                       CommandOptions options) {
  std::vector<std::string> command;
  command.reserve(3 + keys.size() + args.size());
  command.push_back("EVALSHA");
  command.push_back(script.sha1());
  command.push_back(absl::StrCat(keys.size()));
  for (auto& k : keys) command.push_back(std::move(k));
  for (auto& a : args) command.push_back(std::move(a));
  auto pending = MakePending(std::move(command), std::move(callback), options);
  pending->script = script;
  Submit(std::move(pending));
}

void RedisClient::Submit(std::unique_ptr<Pending> pending) {
  bool wake = false;
  {
    absl::MutexLock lock(&mu_);
    if (!stopped_) {
      incoming_.push_back(std::move(pending));
      wake = !wake_scheduled_;
      wake_scheduled_ = true;
    }
  }
  if (pending != nullptr) {  // the client has stopped: answer here
    Callback callback = std::move(pending->callback);
    callback(absl::UnavailableError("redis client stopped"));
    return;
  }
  if (wake) event_active(wake_event_, 0, 0);
}

bool RedisClient::WaitUntilUsable(absl::Duration timeout) const {
  const absl::Time until = absl::Now() + timeout;
  while (!usable()) {
    if (absl::Now() >= until) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

RedisClient::Stats RedisClient::stats() const {
  Stats s;
  s.commands = stat_commands_.load();
  s.timeouts = stat_timeouts_.load();
  s.connection_losses = stat_losses_.load();
  s.connects = stat_connects_.load();
  s.resent = stat_resent_.load();
  return s;
}

void RedisClient::Stop() {
  bool wake = false;
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      stopping_ = true;
      wake = !wake_scheduled_;
      wake_scheduled_ = true;
    }
  }
  if (wake) event_active(wake_event_, 0, 0);
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
    thread_.join();
  }
}

// ---- loop thread ----

void RedisClient::RunLoop() {
  Connect();
  event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY);
}

void RedisClient::OnWake() {
  std::vector<std::unique_ptr<Pending>> batch;
  bool stopping;
  {
    absl::MutexLock lock(&mu_);
    batch.swap(incoming_);
    wake_scheduled_ = false;
    stopping = stopping_;
  }
  for (auto& pending : batch) {
    if (state_ == State::kReady && !reset_requested_ && !shutting_down_) {
      Send(std::move(pending));
    } else {
      FailOrHold(std::move(pending), "redis is not connected");
    }
  }
  if (stopping && !shutting_down_) ShutdownOnLoop();
}

void RedisClient::FailOrHold(std::unique_ptr<Pending> pending,
                             absl::string_view why) {
  if (shutting_down_ || pending->internal) {
    Complete(*pending, absl::UnavailableError(absl::StrCat("redis: ", why)),
             LostOutcome());
    return;
  }
  if (absl::Now() >= pending->deadline) {
    ++stat_timeouts_;
    Complete(*pending,
             absl::UnavailableError(absl::StrCat("redis: timed out: ", why)),
             RedisCommandOutcome::kTimeout);
    return;
  }
  if (outage_confirmed_) {
    Complete(*pending, absl::UnavailableError(absl::StrCat("redis: ", why)),
             RedisCommandOutcome::kConnectionLost);
    return;
  }
  if (held_.size() >= options_.max_held_commands) {
    Complete(*pending,
             absl::UnavailableError(
                 absl::StrCat("redis: too many commands waiting: ", why)),
             RedisCommandOutcome::kConnectionLost);
    return;
  }
  Hold(std::move(pending));
}

void RedisClient::Hold(std::unique_ptr<Pending> pending) {
  pending->hold_until = std::min(
      pending->deadline, absl::Now() + options_.max_wait_for_connection);
  held_.push_back(std::move(pending));
}

void RedisClient::Send(std::unique_ptr<Pending> pending) {
  if (pending->script.has_value() &&
      !scripts_.contains(pending->script->sha1())) {
    scripts_.emplace(pending->script->sha1(), *pending->script);
  }
  Pending* raw = pending.get();
  if (AsyncCommand(context_, &RedisClient::ReplyThunk, raw, pending->args) !=
      REDIS_OK) {
    // Not sent (the context is going away), so it is safe to hold whatever it
    // is.
    FailOrHold(std::move(pending), "redis connection is closing");
    return;
  }
  raw->sent_at = absl::Now();
  ++stat_commands_;
  inflight_.push_back(std::move(pending));
}

void RedisClient::SendInternal(
    std::vector<std::string> args,
    absl::AnyInvocable<void(absl::StatusOr<RedisValue>)> done) {
  auto pending = std::make_unique<Pending>();
  pending->args = std::move(args);
  pending->callback = std::move(done);
  pending->internal = true;
  pending->deadline = absl::Now() + options_.stall_timeout;
  Send(std::move(pending));
}

RedisCommandOutcome RedisClient::LostOutcome() const {
  // Stopping fails what is left; that is not a Redis failure to count.
  return shutting_down_ ? RedisCommandOutcome::kStopped
                        : RedisCommandOutcome::kConnectionLost;
}

void RedisClient::Complete(Pending& pending, absl::StatusOr<RedisValue> result,
                           RedisCommandOutcome outcome) {
  if (!pending.callback) return;
  if (options_.on_command_done && !pending.internal) {
    options_.on_command_done(absl::Now() - pending.submitted_at, outcome);
  }
  Callback callback = std::move(pending.callback);
  pending.callback = nullptr;
  callback(std::move(result));
}

void RedisClient::ReplyThunk(redisAsyncContext* context, void* reply,
                             void* privdata) {
  static_cast<RedisClient*>(context->data)
      ->OnReply(context, reply, static_cast<Pending*>(privdata));
}

void RedisClient::SentinelReplyThunk(redisAsyncContext* context, void* reply,
                                     void*) {
  static_cast<RedisClient*>(context->data)->OnSentinelReply(context, reply);
}

void RedisClient::SwitchMasterThunk(redisAsyncContext* context, void* reply,
                                    void*) {
  static_cast<RedisClient*>(context->data)->OnSwitchMaster(context, reply);
}

void RedisClient::ConnectThunk(const redisAsyncContext* context, int status) {
  static_cast<RedisClient*>(context->data)
      ->OnConnected(const_cast<redisAsyncContext*>(context), status);
}

void RedisClient::DisconnectThunk(const redisAsyncContext* context, int) {
  static_cast<RedisClient*>(context->data)->OnDisconnected(context);
}

void RedisClient::OnReply(redisAsyncContext*, void* reply_ptr,
                          Pending* pending_ptr) {
  // Replies come back in the order commands were sent.
  std::unique_ptr<Pending> pending;
  for (auto it = inflight_.begin(); it != inflight_.end(); ++it) {
    if (it->get() == pending_ptr) {
      pending = std::move(*it);
      inflight_.erase(it);
      break;
    }
  }
  if (pending == nullptr) return;  // cannot happen: every send is tracked
  const absl::Time now = absl::Now();
  last_activity_ = now;

  if (reply_ptr == nullptr) {
    // The connection is gone; the command may or may not have run. Handshake
    // commands need no answer: the next connection sends its own.
    if (!pending->callback || pending->internal) return;
    if (!shutting_down_ && !pending->internal && pending->resend_safe &&
        now < pending->deadline) {
      ++stat_resent_;
      Hold(std::move(pending));  // merged in order by ConnectionLost
      return;
    }
    Complete(
        *pending,
        absl::UnavailableError(
            shutting_down_ ? "redis client stopped"
                           : "redis connection lost; the command may have run"),
        LostOutcome());
    return;
  }

  const auto* reply = static_cast<const redisReply*>(reply_ptr);
  if (reply->type == REDIS_REPLY_ERROR) {
    absl::string_view error(reply->str, reply->len);
    if (IsNotPrimaryError(error) && !shutting_down_) {
      // A replica (a demoted primary, or a managed Redis's endpoint that has
      // moved) refused the command, so it did not run: send it again to the
      // primary the next connection finds, within its deadline.
      RequestReset("the server is not the primary (READONLY)");
      if (pending->callback && !pending->internal && now < pending->deadline) {
        ++stat_resent_;
        Hold(std::move(pending));
        return;
      }
    }
    if (absl::StartsWith(error, "NOSCRIPT") && pending->script.has_value() &&
        pending->args[0] == "EVALSHA" && pending->callback) {
      // The script cache was flushed (restart, failover, SCRIPT FLUSH); the
      // script did not run, so sending it in full is safe.
      pending->args[0] = "EVAL";
      pending->args[1] = pending->script->source();
      Send(std::move(pending));
      return;
    }
    const bool out_of_memory = absl::StartsWith(error, "OOM");
    if (out_of_memory && !write_refused_) {
      // Writes (and scripts) are refused until memory is freed: not ready
      // to serve, until the write probe in OnTimer is accepted again.
      write_refused_ = true;
      Log(LogLevel::kError, "redis refuses writes: out of memory",
          LogFields().Add("error", error));
      SetUsable(false);
    }
    absl::Status status = StatusFromRedisError(error);
    // Redis's own failures map to these; any other code is a script's answer
    // about the domain: Redis worked.
    const bool redis_failed = out_of_memory ||
                              status.code() == absl::StatusCode::kInternal ||
                              status.code() == absl::StatusCode::kUnavailable;
    Complete(*pending, std::move(status),
             redis_failed ? RedisCommandOutcome::kReplyError
                          : RedisCommandOutcome::kRejected);
    return;
  }
  Complete(*pending, RedisValue::FromReply(*reply), RedisCommandOutcome::kOk);
}

void RedisClient::Connect() {
  if (shutting_down_ || context_ != nullptr || sentinel_context_ != nullptr) {
    return;
  }
  if (options_.endpoint.sentinels.empty()) {
    ConnectTo(HostPort{options_.endpoint.host, options_.endpoint.port});
  } else {
    AskSentinel(0);
  }
}

// Asks Sentinel `index` for the primary without blocking the loop: its answer
// (OnSentinelReply), a failure (SentinelFailed from the connect and disconnect
// callbacks) or the connect timeout (OnTimer) moves on; past the last
// Sentinel, the next attempt waits for the backoff.
void RedisClient::AskSentinel(size_t index) {
  const std::vector<HostPort>& sentinels = options_.endpoint.sentinels;
  for (; index < sentinels.size(); ++index) {
    const HostPort& sentinel = sentinels[index];
    std::string error;
    redisAsyncContext* context = OpenSentinel(sentinel, &error);
    if (context == nullptr) {
      Log(LogLevel::kWarn, "redis sentinel unreachable",
          LogFields().Add("sentinel", sentinel.ToString()).Add("error", error));
      continue;
    }
    AsyncCommand(context, &RedisClient::SentinelReplyThunk, nullptr,
                 SentinelPrimaryQuery(options_.endpoint));
    sentinel_context_ = context;
    sentinel_index_ = index;
    sentinel_started_ = absl::Now();
    state_ = State::kResolving;
    return;
  }
  state_ = State::kDisconnected;
  ConnectionLost();  // schedules the next attempt
}

void RedisClient::OnSentinelReply(redisAsyncContext* context, void* reply_ptr) {
  // A NULL reply comes with a failure that SentinelFailed handles.
  if (context != sentinel_context_ || reply_ptr == nullptr) return;
  sentinel_context_ = nullptr;
  redisAsyncDisconnect(context);  // once this callback returns
  absl::StatusOr<HostPort> primary = PrimaryFromSentinelReply(
      RedisValue::FromReply(*static_cast<const redisReply*>(reply_ptr)),
      options_.endpoint.sentinel_master);
  if (!primary.ok()) {
    SentinelFailed(primary.status().message());
    return;
  }
  const HostPort& sentinel = options_.endpoint.sentinels[sentinel_index_];
  if (watch_context_ == nullptr) WatchSentinel(sentinel);
  if (*primary != address_) {
    Log(LogLevel::kInfo, "redis primary from sentinel",
        LogFields()
            .Add("sentinel", sentinel.ToString())
            .Add("master", options_.endpoint.sentinel_master)
            .Add("host", primary->host)
            .Add("port", primary->port));
  }
  state_ = State::kDisconnected;
  ConnectTo(*primary);
}

void RedisClient::SentinelFailed(absl::string_view why) {
  sentinel_context_ = nullptr;  // freed by hiredis or the caller
  // Logged at the start of an outage, not on every retry.
  if (backoff_ <= options_.backoff_initial) {
    const HostPort& sentinel = options_.endpoint.sentinels[sentinel_index_];
    Log(LogLevel::kWarn, "redis sentinel gave no primary",
        LogFields()
            .Add("sentinel", sentinel.ToString())
            .Add("master", options_.endpoint.sentinel_master)
            .Add("error", why));
  }
  AskSentinel(sentinel_index_ + 1);
}

redisAsyncContext* RedisClient::OpenSentinel(const HostPort& sentinel,
                                             std::string* error) {
  redisAsyncContext* context =
      redisAsyncConnect(sentinel.host.c_str(), sentinel.port);
  if (context == nullptr || context->err) {
    *error = context == nullptr ? "out of memory" : context->errstr;
    if (context != nullptr) redisAsyncFree(context);
    return nullptr;
  }
  context->data = this;
  redisLibeventAttach(context, base_);
  redisAsyncSetConnectCallback(context, &RedisClient::ConnectThunk);
  redisAsyncSetDisconnectCallback(context, &RedisClient::DisconnectThunk);
  // Queued now, written once connected; a failed AUTH shows in the next
  // command's answer (NOAUTH).
  if (!options_.endpoint.sentinel_password.empty()) {
    AsyncCommand(context, nullptr, nullptr,
                 AuthCommand("", options_.endpoint.sentinel_password));
  }
  return context;
}

void RedisClient::WatchSentinel(const HostPort& sentinel) {
  std::string error;
  redisAsyncContext* context = OpenSentinel(sentinel, &error);
  if (context == nullptr) return;  // tried again after the next lookup
  // +promoted-slave comes first: the Sentinel names the new primary from then
  // on, while +switch-master waits for the other replicas' reconfiguration.
  AsyncCommand(context, &RedisClient::SwitchMasterThunk, nullptr,
               {"SUBSCRIBE", "+switch-master", "+promoted-slave"});
  watch_context_ = context;
}

void RedisClient::OnSwitchMaster(redisAsyncContext* context, void* reply_ptr) {
  if (context != watch_context_ || reply_ptr == nullptr) return;
  const auto* reply = static_cast<const redisReply*>(reply_ptr);
  // ["message", "+switch-master", "<name> <old-ip> <old-port> <ip> <port>"]
  // ["message", "+promoted-slave",
  //  "slave <ip>:<port> <ip> <port> @ <name> <old-ip> <old-port>"]
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
      reply->element[1]->type != REDIS_REPLY_STRING ||
      reply->element[2]->type != REDIS_REPLY_STRING ||
      absl::string_view(reply->element[0]->str, reply->element[0]->len) !=
          "message") {
    return;
  }
  const absl::string_view channel(reply->element[1]->str,
                                  reply->element[1]->len);
  const std::vector<std::string> words = absl::StrSplit(
      absl::string_view(reply->element[2]->str, reply->element[2]->len), ' ');
  std::string master, host, port;
  if (channel == "+switch-master" && words.size() == 5) {
    master = words[0];
    host = words[3];
    port = words[4];
  } else if (channel == "+promoted-slave" && words.size() == 8 &&
             words[4] == "@") {
    master = words[5];
    host = words[2];
    port = words[3];
  } else {
    return;
  }
  if (master != options_.endpoint.sentinel_master) return;
  Log(LogLevel::kInfo, "redis sentinel switched the primary",
      LogFields()
          .Add("event", channel)
          .Add("master", master)
          .Add("host", host)
          .Add("port", port));
  if (host != address_.host || port != absl::StrCat(address_.port)) {
    RequestReset("the Sentinel switched the primary");
  }
}

void RedisClient::ConnectTo(const HostPort& address) {
  address_ = address;
  redisAsyncContext* context =
      redisAsyncConnect(address.host.c_str(), address.port);
  if (context == nullptr || context->err) {
    if (context != nullptr) {
      Log(LogLevel::kWarn, "redis connect failed",
          LogFields().Add("error", context->errstr));
      redisAsyncFree(context);
    }
    ScheduleReconnect();
    return;
  }
  context->data = this;
  redisLibeventAttach(context, base_);
  // The connect callback must be set after attaching: it registers the write
  // event.
  redisAsyncSetConnectCallback(context, &RedisClient::ConnectThunk);
  redisAsyncSetDisconnectCallback(context, &RedisClient::DisconnectThunk);
  context_ = context;
  state_ = State::kConnecting;
  connect_started_ = absl::Now();
}

void RedisClient::ScheduleReconnect() {
  if (shutting_down_) return;
  const absl::Duration delay = backoff_;
  backoff_ = backoff_ == absl::ZeroDuration()
                 ? options_.backoff_initial
                 : std::min(backoff_ * 2, options_.backoff_max);
  // Jitter keeps replicas from reconnecting in lockstep after a Redis restart.
  static thread_local absl::BitGen gen;
  const absl::Duration jittered = delay == absl::ZeroDuration()
                                      ? delay
                                      : delay * absl::Uniform(gen, 0.75, 1.25);
  timeval tv = absl::ToTimeval(jittered);
  evtimer_add(reconnect_event_, &tv);
}

void RedisClient::OnConnected(redisAsyncContext* context, int status) {
  if (context == watch_context_ && context != nullptr) {
    if (status != REDIS_OK) watch_context_ = nullptr;  // hiredis frees it
    return;
  }
  if (context == sentinel_context_ && context != nullptr) {
    // On success the query is on its way; hiredis frees a failed context.
    if (status != REDIS_OK) {
      SentinelFailed(context->errstr != nullptr ? context->errstr
                                                : "connect failed");
    }
    return;
  }
  if (context != context_) return;
  if (status != REDIS_OK) {
    // hiredis frees the context after this callback.
    if (backoff_ <= options_.backoff_initial) {
      Log(LogLevel::kWarn, "redis connect failed",
          LogFields()
              .Add("host", address_.host)
              .Add("port", address_.port)
              .Add("error", context->errstr != nullptr ? context->errstr : ""));
    }
    context_ = nullptr;
    state_ = State::kDisconnected;
    ConnectionLost();
    return;
  }
  ++stat_connects_;
  state_ = State::kHandshaking;
  reset_requested_ = false;
  last_activity_ = absl::Now();
  const RedisEndpoint& ep = options_.endpoint;
  handshake_ping_due_ = absl::InfiniteFuture();
  auto check = [this](absl::string_view step) {
    return [this, step = std::string(step)](absl::StatusOr<RedisValue> r) {
      // A Redis still loading refuses SCRIPT LOAD: the PING step waits for
      // it, and a script it lacks later is sent with EVAL (NOSCRIPT).
      if (!r.ok() && absl::StrContains(r.status().message(), "LOADING")) {
        return;
      }
      if (!r.ok() && context_ != nullptr) {
        Log(LogLevel::kError, "redis handshake failed",
            LogFields().Add("step", step).Add("error", r.status().message()));
        RequestReset("handshake failed");
      }
    };
  };
  if (!ep.password.empty()) {
    SendInternal(AuthCommand(ep.username, ep.password), check("AUTH"));
  }
  if (ep.db != 0) {
    SendInternal({"SELECT", absl::StrCat(ep.db)}, check("SELECT"));
  }
  if (!ep.sentinels.empty()) {
    // A Sentinel may still name a primary it has just demoted.
    SendInternal({"ROLE"}, [role_failed = check("ROLE")](
                               absl::StatusOr<RedisValue> r) mutable {
      if (r.ok()) {
        if (absl::Status role = CheckPrimaryRole(*r); !role.ok()) r = role;
      }
      role_failed(std::move(r));
    });
  }
  for (const auto& [sha, script] : scripts_) {
    SendInternal({"SCRIPT", "LOAD", script.source()},
                 check(absl::StrCat("SCRIPT LOAD ", script.name())));
  }
  SendHandshakePing();
}

void RedisClient::SendHandshakePing() {
  // PING answers (LOADING while Redis reads its AOF is an error) once the
  // connection really works: only then do held commands go out, in order.
  SendInternal({"PING"}, [this](absl::StatusOr<RedisValue> r) {
    if (state_ != State::kHandshaking || reset_requested_) return;
    if (!r.ok()) {
      if (absl::StrContains(r.status().message(), "LOADING")) {
        // Restarted and reading its data: ask again soon on this connection
        // rather than reconnect after a backoff.
        handshake_ping_due_ = absl::Now() + kLoadingRetry;
        return;
      }
      Log(LogLevel::kError, "redis handshake failed",
          LogFields().Add("step", "PING").Add("error", r.status().message()));
      RequestReset("handshake failed");
      return;
    }
    state_ = State::kReady;
    backoff_ = absl::ZeroDuration();
    outage_confirmed_ = false;
    SetUsable(!write_refused_);
    std::deque<std::unique_ptr<Pending>> held;
    held.swap(held_);
    for (auto& pending : held) {
      if (!pending->callback) continue;
      Send(std::move(pending));
    }
  });
}

void RedisClient::OnDisconnected(const redisAsyncContext* context) {
  if (context == watch_context_ && context != nullptr) {
    watch_context_ = nullptr;  // opened again after the next lookup
    return;
  }
  if (context == sentinel_context_ && context != nullptr) {
    SentinelFailed(context->errstr != nullptr && context->errstr[0] != '\0'
                       ? context->errstr
                       : "sentinel closed the connection");
    return;
  }
  if (context != context_) return;  // a reset we started; already handled
  context_ = nullptr;
  state_ = State::kDisconnected;
  ConnectionLost();
}

void RedisClient::ResetConnection(absl::string_view why) {
  if (context_ == nullptr) return;
  Log(LogLevel::kWarn, "redis connection reset", LogFields().Add("why", why));
  redisAsyncContext* context = context_;
  context_ = nullptr;
  state_ = State::kDisconnected;
  // Runs every pending callback with a NULL reply (see OnReply), then frees.
  redisAsyncFree(context);
  ConnectionLost();
}

void RedisClient::RequestReset(absl::string_view why) {
  // Not from inside a hiredis callback: the timer resets.
  if (!reset_requested_) reset_reason_ = std::string(why);
  reset_requested_ = true;
}

void RedisClient::ConnectionLost() {
  reset_requested_ = false;
  // A connection that was serving dropped: commands wait briefly for the
  // immediate reconnect. An attempt that failed confirms an outage: commands
  // fail at once until a connection is ready again.
  const bool attempt_failed = !usable_.load();
  // Commands resent after a loss were appended to held_ in send order, behind
  // any commands that were waiting; send order among the resent ones is what
  // matters.
  for (auto& pending : inflight_) {  // anything hiredis did not hand back
    if (pending->callback) {
      Complete(*pending, absl::UnavailableError("redis connection lost"),
               LostOutcome());
    }
  }
  inflight_.clear();
  if (usable_.load() && !shutting_down_) {
    ++stat_losses_;
    Log(LogLevel::kWarn, "redis connection lost",
        LogFields().Add("host", address_.host).Add("port", address_.port));
  }
  SetUsable(false);
  if (shutting_down_) {
    for (auto& pending : held_) {
      Complete(*pending, absl::UnavailableError("redis client stopped"),
               RedisCommandOutcome::kStopped);
    }
    held_.clear();
    return;
  }
  if (attempt_failed && !outage_confirmed_) {
    outage_confirmed_ = true;
    for (auto& pending : held_) {
      if (pending->callback) {
        Complete(*pending, absl::UnavailableError("redis: unreachable"),
                 RedisCommandOutcome::kConnectionLost);
      }
    }
    held_.clear();
  }
  ScheduleReconnect();
}

void RedisClient::OnTimer() {
  const absl::Time now = absl::Now();
  if (reset_requested_) {
    reset_requested_ = false;
    ResetConnection(reset_reason_);
    return;
  }
  if (state_ == State::kResolving &&
      now - sentinel_started_ > options_.connect_timeout) {
    redisAsyncContext* context = sentinel_context_;
    sentinel_context_ = nullptr;
    // Its callbacks find it no longer current and do nothing.
    if (context != nullptr) redisAsyncFree(context);
    SentinelFailed("no answer within the connect timeout");
    return;
  }
  if (state_ == State::kConnecting &&
      now - connect_started_ > options_.connect_timeout) {
    ResetConnection("connect timed out");
    return;
  }
  // Answer commands past their deadline now; a late reply is dropped.
  for (auto& pending : inflight_) {
    if (pending->callback && now >= pending->deadline) {
      ++stat_timeouts_;
      Complete(*pending, absl::UnavailableError("redis: command timed out"),
               RedisCommandOutcome::kTimeout);
    }
  }
  for (auto it = held_.begin(); it != held_.end();) {
    if (now >= (*it)->deadline) {
      ++stat_timeouts_;
      Complete(
          **it,
          absl::UnavailableError("redis: timed out waiting for a connection"),
          RedisCommandOutcome::kTimeout);
      it = held_.erase(it);
    } else if (now >= (*it)->hold_until) {
      Complete(**it, absl::UnavailableError("redis: no usable connection"),
               RedisCommandOutcome::kConnectionLost);
      it = held_.erase(it);
    } else {
      ++it;
    }
  }
  if (state_ == State::kHandshaking && now >= handshake_ping_due_) {
    handshake_ping_due_ = absl::InfiniteFuture();
    SendHandshakePing();
  }
  if (state_ != State::kReady && state_ != State::kHandshaking) return;
  if (!inflight_.empty() &&
      now - inflight_.front()->sent_at > options_.stall_timeout) {
    ResetConnection("no reply within the stall timeout");
    return;
  }
  if (state_ == State::kReady && write_refused_ &&
      now - last_write_probe_ > kWriteProbeInterval) {
    // SETRANGE is refused while Redis is out of memory (it may grow memory);
    // with an empty value on a missing key it writes nothing.
    last_write_probe_ = now;
    SendInternal({"SETRANGE", "prima:health:write-probe", "0", ""},
                 [this](absl::StatusOr<RedisValue> r) {
                   if (r.ok() && write_refused_) {
                     write_refused_ = false;
                     Log(LogLevel::kInfo, "redis accepts writes again",
                         LogFields());
                     SetUsable(true);
                   }
                 });
  }
  if (state_ == State::kReady && inflight_.empty() &&
      now - last_activity_ > options_.ping_interval) {
    last_activity_ = now;
    SendInternal({"PING"}, [this](absl::StatusOr<RedisValue> r) {
      if (r.ok() && !write_refused_) SetUsable(true);
    });
  }
}

void RedisClient::SetUsable(bool usable) {
  // A stopping client is not an outage: don't report it as one.
  if (usable_.exchange(usable) != usable && options_.on_usable_change &&
      !shutting_down_) {
    options_.on_usable_change(usable);
  }
}

void RedisClient::ShutdownOnLoop() {
  shutting_down_ = true;
  std::vector<std::unique_ptr<Pending>> batch;
  {
    absl::MutexLock lock(&mu_);
    batch.swap(incoming_);
    stopped_ = true;
  }
  for (auto& pending : batch) {
    Complete(*pending, absl::UnavailableError("redis client stopped"),
             RedisCommandOutcome::kStopped);
  }
  for (redisAsyncContext** sentinel : {&sentinel_context_, &watch_context_}) {
    if (*sentinel != nullptr) {
      redisAsyncContext* context = *sentinel;
      *sentinel = nullptr;
      redisAsyncFree(context);
    }
  }
  if (context_ != nullptr) {
    redisAsyncContext* context = context_;
    context_ = nullptr;
    redisAsyncFree(context);
  }
  ConnectionLost();  // fails whatever is left
  event_del(timer_event_);
  event_del(reconnect_event_);
  event_base_loopbreak(base_);
}

}  // namespace prima

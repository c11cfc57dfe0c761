#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/config.h"
#include "services/common/lua_script.h"
#include "services/common/redis_value.h"

struct event_base;
struct event;
struct redisAsyncContext;

namespace prima {

// Per-command options of RedisClient.
struct RedisCommandOptions {
  // Safe to send again after a lost connection (reads; idempotent scripts).
  bool resend_safe = false;
  // Overrides the client's command_timeout when positive.
  absl::Duration timeout = absl::ZeroDuration();
};

// How a command submitted with Command or Eval ended, for observers.
enum class RedisCommandOutcome {
  kOk,
  kRejected,        // a script refused it with a domain error (NOT_FOUND, ...)
  kReplyError,      // Redis answered with any other error (OOM, READONLY, ...)
  kTimeout,         // its deadline passed
  kConnectionLost,  // no connection, or lost with the command in flight
  kStopped,         // the client stopped
};

// An asynchronous Redis client: one pipelined hiredis connection owned by one
// libevent loop thread. Any thread may submit commands; they are handed to the
// loop through a locked queue and one coalesced wake-up, and commands from many
// RPCs share round trips. Callbacks run on the loop thread and must not block:
// finish the RPC and return.
//
// Failure handling (see ../shared/PRACTICES.md, "Measured on this machine"):
// - every command has a deadline; past it the callback gets UNAVAILABLE at
// once;
// - a connection whose oldest command has been unanswered for `stall_timeout`
// is reset;
// - reconnect at once, then with exponential backoff (at most
//   `backoff_max`); commands submitted meanwhile are held (bounded) for at
//   most `max_wait_for_connection` and sent if the connection is back by
//   then, else they fail with UNAVAILABLE; after a failed attempt they fail
//   at once until a connection is ready; a Redis still loading its data
//   (LOADING) is asked again every 50 ms on the same connection;
// - on a lost connection, commands already sent may or may not have run: only
// those
//   submitted with `resend_safe` (reads, or scripts keyed by a request_id) are
//   resent, the others fail with UNAVAILABLE;
// - every new connection first loads the scripts it has seen (SCRIPT LOAD), and
// an
//   EVALSHA answered with NOSCRIPT is retried once as EVAL;
// - with Sentinels in the endpoint, every connection attempt first asks them in
//   turn for the primary's address (asynchronously, each bounded by
//   `connect_timeout`) and the handshake checks ROLE is master; a READONLY
//   reply (the command did not run: it is held and sent again), a lost
//   connection or a +switch-master announcement (subscribed to on the Sentinel
//   that answered) leads back through the Sentinels;
// - every callback runs exactly once, including when the client stops.
class RedisClient {
 public:
  struct Options {
    RedisEndpoint endpoint;
    // Default deadline of a command, from submission to reply.
    absl::Duration command_timeout = absl::Seconds(2);
    // A connection whose oldest unanswered command is this old is reset.
    absl::Duration stall_timeout = absl::Seconds(2);
    absl::Duration connect_timeout = absl::Seconds(2);
    absl::Duration backoff_initial = absl::Milliseconds(50);
    // Low enough that the first command after Redis comes back runs within
    // 0.5 s of it accepting connections (with jitter up to 1.25x).
    absl::Duration backoff_max = absl::Milliseconds(200);
    // A command that finds no usable connection waits this long for one (a
    // connection that dropped and comes straight back), then fails with
    // UNAVAILABLE; once a reconnect attempt has failed, commands fail at
    // once. During an outage callers hear of it within 100 ms (the timer
    // ticks every 20 ms), not at their deadline.
    absl::Duration max_wait_for_connection = absl::Milliseconds(60);
    // An idle connection is checked with PING this often.
    absl::Duration ping_interval = absl::Seconds(1);
    // Commands waiting for a connection beyond this many fail with UNAVAILABLE
    // at once.
    size_t max_held_commands = 100000;
    // Called on the loop thread when the connection becomes usable or is lost.
    std::function<void(bool usable)> on_usable_change;
    // Called on the loop thread when a command submitted with Command or Eval
    // is answered, with the time since it was submitted (for metrics; keeps
    // this client free of any metrics library). Must be cheap.
    std::function<void(absl::Duration elapsed, RedisCommandOutcome outcome)>
        on_command_done;
  };

  using CommandOptions = RedisCommandOptions;

  // Called exactly once, on the loop thread (or, after Stop(), on the
  // submitting thread). Error replies arrive as statuses
  // (StatusFromRedisError); lost connections, timeouts and a stopped client as
  // UNAVAILABLE.
  using Callback = absl::AnyInvocable<void(absl::StatusOr<RedisValue>)>;

  struct Stats {
    uint64_t commands = 0;
    uint64_t timeouts = 0;
    uint64_t connection_losses = 0;
    uint64_t connects = 0;
    uint64_t resent = 0;
  };

  // Starts the loop thread and the first connection attempt; does not wait for
  // it.
  static absl::StatusOr<std::unique_ptr<RedisClient>> Start(Options options);
  ~RedisClient();

  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  void Command(std::vector<std::string> args, Callback callback,
               CommandOptions options = {});
  // EVALSHA script numkeys keys... args...
  void Eval(const LuaScript& script, std::vector<std::string> keys,
            std::vector<std::string> args, Callback callback,
            CommandOptions options = {});

  // Whether a connection is up, answered its last check, and Redis accepts
  // writes (an OOM reply makes it false until a probe write is accepted).
  bool usable() const { return usable_.load(std::memory_order_acquire); }
  // Blocks until usable() or the timeout passes; for start-up and tests.
  bool WaitUntilUsable(absl::Duration timeout) const;

  Stats stats() const;

  // Fails everything pending with UNAVAILABLE, closes the connection and joins
  // the loop thread. Idempotent; the destructor calls it.
  void Stop();

 private:
  struct Pending;
  // kResolving: asking a Sentinel for the primary's address.
  // kHandshaking: connected, AUTH/SELECT/ROLE/SCRIPT LOAD/PING sent; commands
  // are held until the PING answers, so none is sent on a connection that never
  // worked (a connect can succeed into the backlog of a Redis that is dying).
  enum class State {
    kDisconnected,
    kResolving,
    kConnecting,
    kHandshaking,
    kReady
  };

  explicit RedisClient(Options options);
  std::unique_ptr<Pending> MakePending(std::vector<std::string> args,
                                       Callback callback,
                                       CommandOptions options) const;
  void Submit(std::unique_ptr<Pending> pending);

  // Everything below runs on the loop thread only.
  void RunLoop();
  void OnWake();
  void OnTimer();
  void Connect();
  // A connection to `sentinel` with the callbacks set and AUTH queued;
  // nullptr with `*error` set when it cannot even start.
  redisAsyncContext* OpenSentinel(const HostPort& sentinel, std::string* error);
  void AskSentinel(size_t index);
  void OnSentinelReply(redisAsyncContext* context, void* reply);
  void SentinelFailed(absl::string_view why);
  void WatchSentinel(const HostPort& sentinel);
  void OnSwitchMaster(redisAsyncContext* context, void* reply);
  void ConnectTo(const HostPort& address);
  void RequestReset(absl::string_view why);
  void ScheduleReconnect();
  void OnConnected(redisAsyncContext* context, int status);
  void OnDisconnected(const redisAsyncContext* context);
  void OnReply(redisAsyncContext* context, void* reply, Pending* pending);
  // The handshake's last step: PING; its answer makes the connection ready.
  void SendHandshakePing();
  void Send(std::unique_ptr<Pending> pending);
  void SendInternal(std::vector<std::string> args,
                    absl::AnyInvocable<void(absl::StatusOr<RedisValue>)> done);
  void ResetConnection(absl::string_view why);
  void ConnectionLost();
  void FailOrHold(std::unique_ptr<Pending> pending, absl::string_view why);
  // Keeps `pending` for the next connection, for at most
  // max_wait_for_connection.
  void Hold(std::unique_ptr<Pending> pending);
  void Complete(Pending& pending, absl::StatusOr<RedisValue> result,
                RedisCommandOutcome outcome);
  // How a command that found no connection ended: kStopped once stopping.
  RedisCommandOutcome LostOutcome() const;
  void SetUsable(bool usable);
  void ShutdownOnLoop();

  static void ReplyThunk(redisAsyncContext* context, void* reply,
                         void* privdata);
  static void SentinelReplyThunk(redisAsyncContext* context, void* reply,
                                 void* privdata);
  static void SwitchMasterThunk(redisAsyncContext* context, void* reply,
                                void* privdata);
  static void ConnectThunk(const redisAsyncContext* context, int status);
  static void DisconnectThunk(const redisAsyncContext* context, int status);

  const Options options_;
  std::thread thread_;
  event_base* base_ = nullptr;
  event* wake_event_ = nullptr;
  event* timer_event_ = nullptr;
  event* reconnect_event_ = nullptr;

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Pending>> incoming_ ABSL_GUARDED_BY(mu_);
  bool wake_scheduled_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;

  // Loop-thread state: not shared, so not locked.
  redisAsyncContext* context_ = nullptr;
  State state_ = State::kDisconnected;
  HostPort address_;  // of the Redis connected or being connected to
  redisAsyncContext* sentinel_context_ = nullptr;  // while kResolving
  size_t sentinel_index_ = 0;                      // the Sentinel being asked
  absl::Time sentinel_started_;
  // Subscribed to +switch-master: without it, a client would keep writing to
  // a demoted primary until the Sentinel reconfigures it (~10 s), and those
  // writes would be lost.
  redisAsyncContext* watch_context_ = nullptr;
  absl::Time connect_started_;
  absl::Time last_activity_;
  // When the handshake PING is sent again: Redis answered LOADING.
  absl::Time handshake_ping_due_ = absl::InfiniteFuture();
  // A connection attempt failed since the last ready connection: commands
  // fail at once instead of waiting for a connection.
  bool outage_confirmed_ = false;
  // Redis answered OOM: not usable until a probe write is accepted again.
  bool write_refused_ = false;
  absl::Time last_write_probe_;
  absl::Duration backoff_;
  bool shutting_down_ = false;
  // The handshake failed or a replica answered: reset from the timer.
  bool reset_requested_ = false;
  std::string reset_reason_;
  std::deque<std::unique_ptr<Pending>>
      inflight_;                               // sent, FIFO like the replies
  std::deque<std::unique_ptr<Pending>> held_;  // waiting for a connection
  absl::flat_hash_map<std::string, LuaScript>
      scripts_;  // by sha1, loaded on connect

  std::atomic<bool> usable_{false};
  std::atomic<uint64_t> stat_commands_{0};
  std::atomic<uint64_t> stat_timeouts_{0};
  std::atomic<uint64_t> stat_losses_{0};
  std::atomic<uint64_t> stat_connects_{0};
  std::atomic<uint64_t> stat_resent_{0};
};

}  // namespace prima

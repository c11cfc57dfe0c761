#pragma once

// The live feed behind the server-streaming RPCs WatchTicket and WatchOffice.
//
// One follower thread per server reads the region-wide stream kLiveStreamKey
// (written by every replica's queue scripts) with XREAD BLOCK, so a watcher on
// this replica sees changes made through any replica. Per batch of entries and
// per office touched it re-reads the board once (when the office has board
// watchers) and the ticket of every ticket watcher of that office, and pushes
// what changed to the watchers.
//
// Each stream has at most one write in flight. What a slow reader has not
// taken yet is coalesced: a board keeps only the latest waiting counts and at
// most `max_pending_calls` calls (dropping the oldest); a ticket only its
// latest state. So a slow watcher never slows the queue or other watchers.
//
// A heartbeat thread sends a heartbeat to every stream idle for `heartbeat`
// (measured in real time, whatever the injected clock says; the clock only
// stamps the messages).

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "prima/queue/v1/queue.pb.h"
#include "services/common/clock.h"
#include "services/common/config.h"
#include "services/queue/queue_store.h"

namespace prima::queue {

class LiveFeed {
 public:
  struct Options {
    // Live streams (both kinds together) per server; PRIMA_QUEUE_MAX_WATCHERS.
    int max_watchers = 1000;
    // A stream with nothing sent for this long gets a heartbeat.
    absl::Duration heartbeat = absl::Seconds(15);
    // XREAD BLOCK; also bounds how long Stop waits for the follower.
    absl::Duration block = absl::Seconds(1);
    // The follower's own Redis connection: connect and read timeout.
    absl::Duration redis_timeout = absl::Seconds(2);
    // Calls a board keeps for a slow reader; beyond, the oldest are dropped.
    size_t max_pending_calls = 100;
    // Told the number of live streams whenever it changes (metrics); called
    // under the feed's lock, so it must be cheap and not call back.
    std::function<void(int watchers)> on_watchers_change;
  };

  // `store` and `clock` must outlive the LiveFeed. `endpoint` is for the
  // follower's own blocking connection.
  LiveFeed(QueueStore& store, RedisEndpoint endpoint, const Clock& clock,
           Options options);
  ~LiveFeed();  // Stop()
  LiveFeed(const LiveFeed&) = delete;
  LiveFeed& operator=(const LiveFeed&) = delete;

  // Starts the follower (from the stream's newest entry) and heartbeat
  // threads. Watch calls before Start are accepted but see no changes until
  // the follower runs.
  void Start();
  // Idempotent. Stops the threads, finishes every open stream with
  // UNAVAILABLE "server shutting down" and refuses new ones the same way.
  // Returns within about `block` plus `redis_timeout`. A stream whose write is
  // stuck behind a client that does not read finishes once gRPC cancels it
  // (server shutdown deadline).
  void Stop();
  // True once the follower knows where the stream ends (changes from then on
  // reach the watchers). For tests.
  bool WaitUntilFollowing(absl::Duration timeout) const;

  // The adapter has validated the ids (and, unless it passes a Precheck, the
  // office's existence for WatchOffice) and returns the reactor from its
  // handler. WatchTicket checks
  // `proof` with the first read: a failure (NOT_FOUND, PERMISSION_DENIED, ...)
  // finishes the stream with that status and no message. Beyond
  // `max_watchers` live streams: RESOURCE_EXHAUSTED.
  grpc::ServerWriteReactor<prima::queue::v1::TicketUpdate>* WatchTicket(
      grpc::CallbackServerContext* context, std::string ticket_id,
      AccessProof proof);
  grpc::ServerWriteReactor<prima::queue::v1::BoardUpdate>* WatchOffice(
      grpc::CallbackServerContext* context, std::string office_id);

  // An asynchronous check run before the snapshot (e.g. that the office
  // exists, from the directory cache): it calls its argument once, on any
  // thread; an error ends the stream with that status and no message. The
  // stream counts against `max_watchers` meanwhile.
  using Precheck =
      absl::AnyInvocable<void(absl::AnyInvocable<void(absl::Status)>)>;
  grpc::ServerWriteReactor<prima::queue::v1::BoardUpdate>* WatchOffice(
      grpc::CallbackServerContext* context, std::string office_id,
      Precheck precheck);

  // Live streams now (both kinds), for metrics and tests.
  int watchers() const;

  // Shared with the streams and the Redis callbacks still in flight, so none
  // of them outlives what it uses. Defined in live_feed.cc.
  class Hub;

 private:
  void Follow();
  void Beat();

  const RedisEndpoint endpoint_;
  const Options options_;
  std::shared_ptr<Hub> hub_;
  std::thread follower_;
  std::thread heartbeat_;
  absl::Notification stop_;
  absl::Notification following_;
  std::atomic<bool> stopped_{false};
};

}  // namespace prima::queue

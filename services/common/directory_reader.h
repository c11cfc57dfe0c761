#pragma once

// DirectoryReader: the read-through cache of the catalog's directory that
// every service uses on its request paths (offices, public services, counters,
// officers, agencies).
//
// - A hit answers from memory, inline on the calling thread.
// - A miss reads Redis through the shared RedisClient in one round trip (HGET,
//   or one read-only script for an office's counters), fills the cache and
//   answers on the client's loop thread. Callbacks must not block.
// - Freshness: a background thread follows the catalog's event stream with a
//   plain XREAD (no consumer group: every replica sees every event) and drops
//   what each `directory.changed` event names, or everything of the agency for
//   whole-agency events. Entries also expire after `ttl`, a safety net for
//   missed events. Until the thread is following the stream nothing is cached
//   (every call reads Redis), so no entry can predate the events it would miss.
// - A fill that raced with an invalidation is not stored.
// - NOT_FOUND answers are not cached.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "prima/catalog/v1/directory.pb.h"
#include "prima/events/v1/events.pb.h"
#include "services/common/clock.h"
#include "services/common/config.h"
#include "services/common/directory_keys.h"
#include "services/common/redis_client.h"

namespace prima {

class DirectoryReader {
 public:
  struct Options {
    // How long an entry may be served without an event refreshing it.
    absl::Duration ttl = absl::Seconds(60);
    // XREAD BLOCK of the invalidation thread (also how quickly Stop returns).
    absl::Duration block = absl::Seconds(1);
    // Timeout of the invalidation thread's own connection.
    absl::Duration redis_timeout = absl::Seconds(2);
    // Entries beyond this many are not added (the cache never grows without
    // bound); the oldest are dropped when they expire.
    size_t max_entries = 100000;
  };

  template <typename T>
  using Callback = absl::AnyInvocable<void(absl::StatusOr<T>)>;

  // `redis` (the service's shared client) and `clock` must outlive the reader.
  // `endpoint` is the same Redis, for the invalidation thread's connection.
  DirectoryReader(RedisClient& redis, RedisEndpoint endpoint,
                  const Clock& clock, Options options);
  DirectoryReader(RedisClient& redis, RedisEndpoint endpoint,
                  const Clock& clock)
      : DirectoryReader(redis, std::move(endpoint), clock, Options{}) {}
  ~DirectoryReader();
  DirectoryReader(const DirectoryReader&) = delete;
  DirectoryReader& operator=(const DirectoryReader&) = delete;

  // Starts following the event stream; Stop() joins the thread (idempotent).
  void Start();
  void Stop();
  // True once the thread follows the stream (caching is on); for start-up and
  // tests.
  bool WaitUntilFollowing(absl::Duration timeout) const;

  // `id` is checked (INVALID_ARGUMENT) before it reaches a key. NOT_FOUND when
  // the resource does not exist; UNAVAILABLE when Redis does not answer.
  void GetAgency(absl::string_view id,
                 Callback<prima::catalog::v1::Agency> done);
  void GetOffice(absl::string_view id,
                 Callback<prima::catalog::v1::Office> done);
  void GetPublicService(absl::string_view id,
                        Callback<prima::catalog::v1::PublicService> done);
  void GetCounter(absl::string_view id,
                  Callback<prima::catalog::v1::Counter> done);
  void GetOfficer(absl::string_view id,
                  Callback<prima::catalog::v1::Officer> done);
  // Every counter of an office (at most 500), ordered by id; empty for an
  // office without counters (or an unknown office).
  void ListOfficeCounters(
      absl::string_view office_id,
      Callback<std::vector<prima::catalog::v1::Counter>> done);

  // Applies one event as the thread does (exposed for tests).
  void Apply(const prima::events::v1::EventEnvelope& envelope);
  // Drops everything.
  void Clear();

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t events = 0;  // directory.changed events applied
  };
  Stats stats() const;

 private:
  struct Cache;

  template <typename T>
  void Get(directory::Kind kind, absl::string_view id, Callback<T> done);
  void Follow();

  RedisClient& redis_;
  RedisEndpoint endpoint_;
  const Options options_;
  std::shared_ptr<Cache> cache_;  // shared with in-flight Redis callbacks
  std::thread thread_;
  std::atomic<bool> stop_requested_{false};
  absl::Notification stop_;
  absl::Notification following_;
};

}  // namespace prima

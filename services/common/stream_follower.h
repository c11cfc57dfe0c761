#pragma once

// Following a Redis stream the way every replica must see it: from its newest
// entry on, with a plain XREAD (no consumer group), on a blocking connection
// of the follower's own. Used for caches and live feeds, not for work that must
// be done once (that is EventConsumer).

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "services/common/config.h"
#include "services/common/redis_value.h"

namespace prima {

struct StreamFollowOptions {
  std::string stream;
  // XREAD BLOCK; also how soon the follower notices `stop`.
  absl::Duration block = absl::Seconds(1);
  // Connect and read timeout of the follower's connection.
  absl::Duration redis_timeout = absl::Seconds(2);
  int batch = 100;
  // Names the follower in log lines, e.g. "live feed".
  std::string who;
};

// Runs on the calling thread until `stop` is notified. `on_following` runs once
// the position (the newest entry) is known: what happens from then on is
// seen. `on_entries` gets each batch read: the field lists (name, value, ...)
// of the entries in stream order. Redis errors are logged and retried with
// backoff (100 ms doubling to 5 s); the position is kept.
void FollowStream(
    const RedisEndpoint& endpoint, const StreamFollowOptions& options,
    const absl::Notification& stop, absl::FunctionRef<void()> on_following,
    absl::FunctionRef<void(const std::vector<const RedisValue*>& fields)>
        on_entries);

}  // namespace prima

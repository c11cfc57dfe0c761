#include "services/common/stream_follower.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/common/logging.h"
#include "services/common/sync_redis.h"

namespace prima {

void FollowStream(
    const RedisEndpoint& endpoint, const StreamFollowOptions& options,
    const absl::Notification& stop, absl::FunctionRef<void()> on_following,
    absl::FunctionRef<void(const std::vector<const RedisValue*>& fields)>
        on_entries) {
  SyncRedis redis(endpoint, options.redis_timeout);
  std::string last;  // the last entry seen; empty until known
  absl::Duration backoff = absl::Milliseconds(100);
  auto fail = [&](absl::string_view step, const absl::Status& status) {
    Log(LogLevel::kWarn,
        absl::StrCat(options.who, ": cannot follow the stream"),
        LogFields()
            .Add("stream", options.stream)
            .Add("step", step)
            .Add("error", status.message()));
    stop.WaitForNotificationWithTimeout(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(5));
  };
  while (!stop.HasBeenNotified()) {
    if (last.empty()) {
      absl::StatusOr<RedisValue> newest =
          redis.Command({"XREVRANGE", options.stream, "+", "-", "COUNT", "1"});
      if (!newest.ok()) {
        fail("XREVRANGE", newest.status());
        continue;
      }
      last = "0-0";
      if (newest->is_array() && !newest->elements.empty() &&
          !newest->elements[0].elements.empty()) {
        last = newest->elements[0].elements[0].str;
      }
      on_following();
    }
    absl::StatusOr<RedisValue> read =
        redis.Command({"XREAD", "COUNT", absl::StrCat(options.batch), "BLOCK",
                       absl::StrCat(absl::ToInt64Milliseconds(options.block)),
                       "STREAMS", options.stream, last},
                      options.block);
    if (!read.ok()) {
      fail("XREAD", read.status());
      continue;
    }
    backoff = absl::Milliseconds(100);
    if (read->is_nil() || !read->is_array() || read->elements.empty() ||
        read->elements[0].elements.size() < 2) {
      continue;
    }
    std::vector<const RedisValue*> fields;
    for (const RedisValue& entry : read->elements[0].elements[1].elements) {
      if (!entry.is_array() || entry.elements.size() < 2) continue;
      last = entry.elements[0].str;
      fields.push_back(&entry.elements[1]);
    }
    if (!fields.empty()) on_entries(fields);
  }
}

}  // namespace prima

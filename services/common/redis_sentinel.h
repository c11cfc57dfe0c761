#pragma once

// The parts of the Redis Sentinel client protocol that RedisClient (async) and
// SyncRedis (blocking) share: what to ask, how to read the answers, and which
// replies mean "not the primary any more".

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/config.h"
#include "services/common/redis_value.h"

namespace prima {

// AUTH [user] password, for a connection's handshake.
std::vector<std::string> AuthCommand(const std::string& username,
                                     const std::string& password);

// SENTINEL get-master-addr-by-name <master>.
std::vector<std::string> SentinelPrimaryQuery(const RedisEndpoint& endpoint);

// The primary's address from the answer to SentinelPrimaryQuery. A nil answer
// (the Sentinel monitors no such master) and malformed answers are
// UNAVAILABLE naming the master, so callers retry like any outage.
absl::StatusOr<HostPort> PrimaryFromSentinelReply(const RedisValue& reply,
                                                  absl::string_view master);

// OK when a ROLE reply says "master"; UNAVAILABLE otherwise: a Sentinel may
// still name a primary that was just demoted, and a write there is refused.
absl::Status CheckPrimaryRole(const RedisValue& role_reply);

// An error reply that means the connection is not to the primary (a replica
// refusing a write): the command did not run, and the connection must be
// dropped and the primary looked up again.
bool IsNotPrimaryError(absl::string_view error);

}  // namespace prima

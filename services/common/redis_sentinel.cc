#include "services/common/redis_sentinel.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace prima {

std::vector<std::string> AuthCommand(const std::string& username,
                                     const std::string& password) {
  std::vector<std::string> auth = {"AUTH"};
  if (!username.empty()) auth.push_back(username);
  auth.push_back(password);
  return auth;
}

std::vector<std::string> SentinelPrimaryQuery(const RedisEndpoint& endpoint) {
  return {"SENTINEL", "get-master-addr-by-name", endpoint.sentinel_master};
}

absl::StatusOr<HostPort> PrimaryFromSentinelReply(const RedisValue& reply,
                                                  absl::string_view master) {
  if (reply.type == RedisValue::Type::kError) {
    return absl::UnavailableError(absl::StrCat(
        "sentinel refused the lookup of master \"", master, "\": ", reply.str));
  }
  if (reply.is_nil()) {
    return absl::UnavailableError(
        absl::StrCat("sentinel does not monitor a master named \"", master,
                     "\" (check PRIMA_REDIS_SENTINEL_MASTER)"));
  }
  int port = 0;
  if (!reply.is_array() || reply.elements.size() != 2 ||
      !reply.elements[0].is_string() || reply.elements[0].str.empty() ||
      !reply.elements[1].is_string() ||
      !absl::SimpleAtoi(reply.elements[1].str, &port) || port < 1 ||
      port > 65535) {
    return absl::UnavailableError(absl::StrCat(
        "sentinel gave a malformed address for master \"", master, "\""));
  }
  return HostPort{reply.elements[0].str, port};
}

absl::Status CheckPrimaryRole(const RedisValue& role_reply) {
  if (role_reply.is_array() && !role_reply.elements.empty() &&
      role_reply.elements[0].str == "master") {
    return absl::OkStatus();
  }
  const std::string role = role_reply.is_array() && !role_reply.elements.empty()
                               ? role_reply.elements[0].str
                               : std::string("unknown");
  return absl::UnavailableError(absl::StrCat("the server Sentinel named is a ",
                                             role, ", not the primary"));
}

bool IsNotPrimaryError(absl::string_view error) {
  return absl::StartsWith(error, "READONLY");
}

}  // namespace prima

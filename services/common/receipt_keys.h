#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace prima {

// Receipt secrets (of tickets, appointments, complaints) are derived, never
// stored: HMAC-SHA256(key, kind ":" record id), its first 16 bytes as 32
// lowercase hex characters. Records keep only the secret's SHA-256 (to check
// it) and the id of the key that made it (so a retried request can be given
// the same secret again). Rotation: put a new key first and keep the old one
// listed for a day (the idempotency window), then drop it.
class ReceiptKeys {
 public:
  // The smallest key, in bytes.
  static constexpr size_t kMinKeyBytes = 32;
  static constexpr size_t kMaxKeys = 8;

  ReceiptKeys() = default;

  // PRIMA_RECEIPT_KEYS: "id:hexkey[,id:hexkey]...", the first one current.
  // Ids are 1-16 characters of a-z 0-9 -; keys at least kMinKeyBytes bytes
  // as hex. Errors name no variable; the caller adds it.
  static absl::StatusOr<ReceiptKeys> Parse(absl::string_view spec);
  // When PRIMA_RECEIPT_KEYS is unset: one key, id "jwt", derived from the
  // HS256 token secret (rotating that secret rotates this key too).
  static ReceiptKeys FromJwtSecret(absl::string_view jwt_secret);

  bool empty() const { return keys_.empty(); }
  // The id new records are given. Requires !empty().
  const std::string& current_id() const { return keys_.front().first; }
  // The secret of record `record_id` of `kind` ("ticket", ...) under key
  // `key_id`; NOT_FOUND when that key is no longer configured.
  absl::StatusOr<std::string> Secret(absl::string_view key_id,
                                     absl::string_view kind,
                                     absl::string_view record_id) const;
  // Secret(), for giving a secret again with a retried request: "" (and a
  // warning in the log) when its key is no longer configured; the record
  // stands, its secret cannot be shown again.
  std::string SecretForReplay(absl::string_view key_id, absl::string_view kind,
                              absl::string_view record_id) const;
  // The same under the current key. Requires !empty().
  std::string CurrentSecret(absl::string_view kind,
                            absl::string_view record_id) const;

 private:
  std::vector<std::pair<std::string, std::string>> keys_;  // id, raw key
};

}  // namespace prima

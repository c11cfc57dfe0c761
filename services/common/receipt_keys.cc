#include "services/common/receipt_keys.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/logging.h"

namespace prima {
namespace {

constexpr size_t kMaxKeyIdBytes = 16;
constexpr size_t kSecretBytes = 16;

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac,
       &size);
  return std::string(reinterpret_cast<const char*>(mac), size);
}

bool IsKeyId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxKeyIdBytes) return false;
  for (char c : id) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') {
      return false;
    }
  }
  return true;
}

std::string Derive(absl::string_view key, absl::string_view kind,
                   absl::string_view record_id) {
  const std::string mac = HmacSha256(key, absl::StrCat(kind, ":", record_id));
  return absl::BytesToHexString(absl::string_view(mac).substr(0, kSecretBytes));
}

}  // namespace

absl::StatusOr<ReceiptKeys> ReceiptKeys::Parse(absl::string_view spec) {
  ReceiptKeys out;
  for (absl::string_view entry :
       absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    const size_t colon = entry.find(':');
    const absl::string_view id =
        colon == absl::string_view::npos ? entry : entry.substr(0, colon);
    if (colon == absl::string_view::npos || !IsKeyId(id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("each entry must be id:hexkey with an id of 1-",
                       kMaxKeyIdBytes, " characters of a-z 0-9 -"));
    }
    const absl::string_view hex = entry.substr(colon + 1);
    const bool is_hex =
        hex.size() % 2 == 0 && std::all_of(hex.begin(), hex.end(), [](char c) {
          return absl::ascii_isxdigit(c);
        });
    const std::string key = is_hex ? absl::HexStringToBytes(hex) : "";
    if (key.size() < kMinKeyBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "key ", id, ": must be at least ", kMinKeyBytes,
          " bytes written as hex (openssl rand -hex ", kMinKeyBytes, ")"));
    }
    for (const auto& [known, unused] : out.keys_) {
      if (known == id) {
        return absl::InvalidArgumentError(
            absl::StrCat("key id ", id, " is listed twice"));
      }
    }
    out.keys_.emplace_back(std::string(id), std::move(key));
  }
  if (out.keys_.empty()) {
    return absl::InvalidArgumentError("must list at least one id:hexkey");
  }
  if (out.keys_.size() > kMaxKeys) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most ", kMaxKeys, " keys"));
  }
  return out;
}

ReceiptKeys ReceiptKeys::FromJwtSecret(absl::string_view jwt_secret) {
  ReceiptKeys out;
  out.keys_.emplace_back("jwt",
                         HmacSha256(jwt_secret, "prima receipt secrets v1"));
  return out;
}

absl::StatusOr<std::string> ReceiptKeys::Secret(
    absl::string_view key_id, absl::string_view kind,
    absl::string_view record_id) const {
  for (const auto& [id, key] : keys_) {
    if (id == key_id) return Derive(key, kind, record_id);
  }
  return absl::NotFoundError(
      absl::StrCat("receipt key ", key_id, " is no longer configured"));
}

std::string ReceiptKeys::SecretForReplay(absl::string_view key_id,
                                         absl::string_view kind,
                                         absl::string_view record_id) const {
  absl::StatusOr<std::string> secret = Secret(key_id, kind, record_id);
  if (secret.ok()) return *std::move(secret);
  Log(LogLevel::kWarn, "receipt secret not recomputed",
      LogFields()
          .Add("kind", kind)
          .Add("id", record_id)
          .Add("error", secret.status().message()));
  return "";
}

std::string ReceiptKeys::CurrentSecret(absl::string_view kind,
                                       absl::string_view record_id) const {
  return Derive(keys_.front().second, kind, record_id);
}

}  // namespace prima

#include "services/common/ids.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "absl/strings/escaping.h"

namespace prima {
namespace {

constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

std::string RandomBytes(int n) {
  std::string bytes(static_cast<size_t>(n), '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), n) != 1) {
    // Without randomness secrets are guessable: this must never be papered
    // over.
    std::abort();
  }
  return bytes;
}

}  // namespace

std::string NewTimeOrderedId(absl::Time now) {
  const uint64_t millis = static_cast<uint64_t>(absl::ToUnixMillis(now));
  const std::string random = RandomBytes(10);
  // 128 bits: 48 time + 80 random, emitted 5 bits at a time (26 chars, 130 bits
  // with two leading zero bits).
  unsigned char bits[16];
  for (int i = 0; i < 6; ++i) bits[i] = (millis >> (8 * (5 - i))) & 0xff;
  for (int i = 0; i < 10; ++i)
    bits[6 + i] = static_cast<unsigned char>(random[i]);
  std::string out(26, '0');
  for (int c = 0; c < 26; ++c) {
    const int bit_from_end = (25 - c) * 5;  // index of this char's lowest bit
    int value = 0;
    for (int b = 4; b >= 0; --b) {
      const int bit = bit_from_end + b;
      if (bit >= 128) continue;  // the two padding bits are zero
      const int byte = 15 - bit / 8;
      value = (value << 1) | ((bits[byte] >> (bit % 8)) & 1);
    }
    out[c] = kCrockford[value & 31];
  }
  return out;
}

std::string NewSecret(int bytes) {
  return absl::BytesToHexString(RandomBytes(bytes));
}

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string NewRequestId() { return NewSecret(16); }

}  // namespace prima

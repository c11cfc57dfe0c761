#include "services/common/validation.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/common/logging.h"

namespace prima {
namespace {

// How many code points of a bad value an error message echoes.
constexpr int kEchoChars = 40;

// Decodes one UTF-8 code point starting at text[pos]. On success stores the
// sequence length in *len and returns true; rejects overlong forms, surrogates
// and code points above U+10FFFF.
bool DecodeUtf8(absl::string_view text, size_t pos, size_t* len) {
  const auto byte = [&](size_t i) {
    return static_cast<unsigned char>(text[pos + i]);
  };
  const auto is_cont = [&](size_t i) {
    return pos + i < text.size() && (byte(i) & 0xC0) == 0x80;
  };
  const unsigned char b0 = byte(0);
  if (b0 < 0x80) {
    *len = 1;
    return true;
  }
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    *len = 2;
    return is_cont(1);
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!is_cont(1) || !is_cont(2)) return false;
    const unsigned char b1 = byte(1);
    if (b0 == 0xE0 && b1 < 0xA0) return false;  // overlong
    if (b0 == 0xED && b1 > 0x9F) return false;  // UTF-16 surrogate
    *len = 3;
    return true;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!is_cont(1) || !is_cont(2) || !is_cont(3)) return false;
    const unsigned char b1 = byte(1);
    if (b0 == 0xF0 && b1 < 0x90) return false;  // overlong
    if (b0 == 0xF4 && b1 > 0x8F) return false;  // above U+10FFFF
    *len = 4;
    return true;
  }
  return false;  // stray continuation byte, 0xC0/0xC1 or 0xF5..0xFF
}

// The value as it may appear in an error message: at most kEchoChars code
// points (then "..."), invalid UTF-8 replaced by U+FFFD, JSON-escaped, quoted.
std::string Echo(absl::string_view value) {
  std::string clean;
  int chars = 0;
  size_t pos = 0;
  while (pos < value.size()) {
    if (chars == kEchoChars) {
      clean += "...";
      break;
    }
    size_t len = 0;
    if (DecodeUtf8(value, pos, &len)) {
      clean.append(value.data() + pos, len);
      pos += len;
    } else {
      clean += "\xEF\xBF\xBD";  // U+FFFD
      ++pos;
    }
    ++chars;
  }
  return absl::StrCat("\"", JsonEscape(clean), "\"");
}

bool IsLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool IsRequestIdChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

}  // namespace

absl::Status Invalid(absl::string_view field, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", rule));
}

absl::Status ValidateId(absl::string_view field, absl::string_view value) {
  constexpr absl::string_view kRule =
      "must be 1-63 characters of a-z, 0-9 and \"-\", starting with a letter "
      "or digit";
  if (value.empty()) {
    return Invalid(field, absl::StrCat("is required; ", kRule));
  }
  bool ok = value.size() <= 63 && IsLowerAlnum(value[0]);
  for (size_t i = 1; ok && i < value.size(); ++i) {
    ok = IsLowerAlnum(value[i]) || value[i] == '-';
  }
  if (!ok) return Invalid(field, absl::StrCat(kRule, "; got ", Echo(value)));
  return absl::OkStatus();
}

absl::Status ValidateOptionalId(absl::string_view field,
                                absl::string_view value) {
  if (value.empty()) return absl::OkStatus();
  return ValidateId(field, value);
}

bool IsWellFormedRequestId(absl::string_view value) {
  return !value.empty() && value.size() <= 128 &&
         std::all_of(value.begin(), value.end(), IsRequestIdChar);
}

absl::Status ValidateRequestId(absl::string_view field,
                               absl::string_view value) {
  constexpr absl::string_view kRule =
      "must be 1-128 characters of A-Z, a-z, 0-9, \".\", \"_\", \":\" and "
      "\"-\"";
  if (value.empty()) {
    return Invalid(field, absl::StrCat("is required; ", kRule));
  }
  if (!IsWellFormedRequestId(value)) {
    return Invalid(field, absl::StrCat(kRule, "; got ", Echo(value)));
  }
  return absl::OkStatus();
}

absl::Status RequireNonEmpty(absl::string_view field, absl::string_view value) {
  if (absl::StripAsciiWhitespace(value).empty()) {
    return Invalid(field, "must not be empty");
  }
  return absl::OkStatus();
}

absl::Status ValidateText(absl::string_view field, absl::string_view value,
                          int max_chars) {
  int64_t chars = 0;
  size_t pos = 0;
  while (pos < value.size()) {
    size_t len = 0;
    if (!DecodeUtf8(value, pos, &len)) {
      return Invalid(field, absl::StrCat("must be valid UTF-8 (bad byte at "
                                         "offset ",
                                         pos, ")"));
    }
    pos += len;
    ++chars;
  }
  if (chars > max_chars) {
    return Invalid(field, absl::StrCat("must be at most ", max_chars,
                                       " characters; got ", chars));
  }
  return absl::OkStatus();
}

absl::Status ValidateRange(absl::string_view field, int64_t value, int64_t lo,
                           int64_t hi) {
  if (value < lo || value > hi) {
    return Invalid(field, absl::StrCat("must be between ", lo, " and ", hi,
                                       "; got ", value));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> EffectivePageSize(absl::string_view field,
                                      int32_t page_size, int default_size,
                                      int max_size) {
  if (page_size < 0) {
    return Invalid(field,
                   absl::StrCat("must not be negative; got ", page_size));
  }
  if (page_size == 0) return default_size < max_size ? default_size : max_size;
  return page_size > max_size ? max_size : static_cast<int>(page_size);
}

}  // namespace prima

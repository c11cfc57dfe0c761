#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace prima {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// "debug", "info", "warn" or "error" (case-insensitive).
absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view text);
absl::string_view LogLevelName(LogLevel level);

// Process-wide threshold; lines below it are dropped.
void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

// Key/value pairs of one log line. Never put tokens or personal data here.
class LogFields {
 public:
  LogFields& Add(absl::string_view key, absl::string_view value);
  LogFields& Add(absl::string_view key, const char* value) {
    return Add(key, absl::string_view(value));
  }
  LogFields& Add(absl::string_view key, int64_t value);
  LogFields& Add(absl::string_view key, int value) {
    return Add(key, static_cast<int64_t>(value));
  }
  LogFields& Add(absl::string_view key, double value);
  LogFields& Add(absl::string_view key, bool value);

  // The pairs as JSON members: `"k":"v","n":1` (no braces).
  const std::string& json_members() const { return members_; }

 private:
  void Key(absl::string_view key);
  std::string members_;
};

// Writes one JSON object line to stderr:
// {"ts":...,"level":...,"msg":...,<fields>}.
void Log(LogLevel level, absl::string_view message,
         const LogFields& fields = LogFields());

// The body of a JSON string literal for `text` (no surrounding quotes).
std::string JsonEscape(absl::string_view text);

}  // namespace prima

#include "services/common/logging.h"

#include <atomic>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace prima {
namespace {

std::atomic<int> g_log_level{static_cast<int>(LogLevel::kInfo)};

}  // namespace

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "debug") return LogLevel::kDebug;
  if (lower == "info") return LogLevel::kInfo;
  if (lower == "warn" || lower == "warning") return LogLevel::kWarn;
  if (lower == "error") return LogLevel::kError;
  return absl::InvalidArgumentError(absl::StrCat(
      "log level must be one of debug, info, warn, error; got \"", text, "\""));
}

absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

void SetLogLevel(LogLevel level) {
  g_log_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= g_log_level.load(std::memory_order_relaxed);
}

std::string JsonEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

void LogFields::Key(absl::string_view key) {
  if (!members_.empty()) members_.push_back(',');
  absl::StrAppend(&members_, "\"", JsonEscape(key), "\":");
}

LogFields& LogFields::Add(absl::string_view key, absl::string_view value) {
  Key(key);
  absl::StrAppend(&members_, "\"", JsonEscape(value), "\"");
  return *this;
}

LogFields& LogFields::Add(absl::string_view key, int64_t value) {
  Key(key);
  absl::StrAppend(&members_, value);
  return *this;
}

LogFields& LogFields::Add(absl::string_view key, double value) {
  Key(key);
  absl::StrAppendFormat(&members_, "%.3f", value);
  return *this;
}

LogFields& LogFields::Add(absl::string_view key, bool value) {
  Key(key);
  members_ += value ? "true" : "false";
  return *this;
}

void Log(LogLevel level, absl::string_view message, const LogFields& fields) {
  if (!LogEnabled(level)) return;
  std::string line =
      absl::StrCat("{\"ts\":\"",
                   absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                    absl::UTCTimeZone()),
                   "\",\"level\":\"", LogLevelName(level), "\",\"msg\":\"",
                   JsonEscape(message), "\"");
  if (!fields.json_members().empty()) {
    absl::StrAppend(&line, ",", fields.json_members());
  }
  line += "}\n";
  // One write per line keeps lines whole when several threads log at once.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace prima

#include "clients/cli/cli_context.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "services/common/ids.h"
#include "services/common/logging.h"
#include "services/common/proto_time.h"
#include "services/common/rpc.h"

namespace prima::cli {

const std::vector<std::string>& ServerNames() {
  static const auto* names = new std::vector<std::string>{
      "catalog", "queue", "complaint", "satisfaction"};
  return *names;
}

void CliContext::AddGlobalFlags(CLI::App& app) {
  const std::string group = "Global options";
  app.add_option("--catalog-addr", options.catalog_addr,
                 "catalog server host:port")
      ->envname("PRIMA_CATALOG_ADDR")
      ->capture_default_str()
      ->group(group);
  app.add_option("--queue-addr", options.queue_addr, "queue server host:port")
      ->envname("PRIMA_QUEUE_ADDR")
      ->capture_default_str()
      ->group(group);
  app.add_option("--complaint-addr", options.complaint_addr,
                 "complaint server host:port")
      ->envname("PRIMA_COMPLAINT_ADDR")
      ->capture_default_str()
      ->group(group);
  app.add_option("--satisfaction-addr", options.satisfaction_addr,
                 "satisfaction server host:port")
      ->envname("PRIMA_SATISFACTION_ADDR")
      ->capture_default_str()
      ->group(group);
  app.add_option("--token", options.token,
                 "JWT sent as `authorization: Bearer <token>`")
      ->envname("PRIMA_TOKEN")
      ->group(group);
  app.add_option("-o,--output", options.output, "result format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str()
      ->group(group);
  app.add_option("--timeout", options.timeout_seconds,
                 "deadline of each RPC, in seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->group(group);
}

OutputFormat CliContext::output() const {
  return options.output == "json" ? OutputFormat::kJson : OutputFormat::kTable;
}

absl::Duration CliContext::timeout() const {
  return absl::Seconds(options.timeout_seconds);
}

std::string CliContext::AddressOf(absl::string_view server) const {
  if (server == "catalog") return options.catalog_addr;
  if (server == "queue") return options.queue_addr;
  if (server == "complaint") return options.complaint_addr;
  if (server == "satisfaction") return options.satisfaction_addr;
  return "";
}

std::vector<ServerAddress> CliContext::Servers(
    const std::vector<std::string>& names) const {
  std::vector<ServerAddress> servers;
  for (const std::string& name : ServerNames()) {
    if (names.empty() ||
        std::find(names.begin(), names.end(), name) != names.end()) {
      servers.push_back({name, AddressOf(name)});
    }
  }
  return servers;
}

std::shared_ptr<grpc::Channel> CliContext::NewChannel(
    const std::string& address) const {
  grpc::ChannelArguments args;
  // Channels to the same address do not share a connection or its reconnect
  // backoff.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   args);
}

void CliContext::PrepareContext(grpc::ClientContext* context) const {
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout()));
  if (!options.token.empty()) {
    context->AddMetadata("authorization",
                         absl::StrCat("Bearer ", options.token));
  }
  context->AddMetadata("x-request-id", request_id());
  SetRequestIdForErrors(request_id());
}

const std::string& CliContext::request_id() const {
  if (request_id_.empty()) request_id_ = NewRequestId();
  return request_id_;
}

namespace {

// Keeps the first text-format error, with its line and column.
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (error_.empty()) {
      error_ = absl::StrCat("line ", line + 1, ", column ", column + 1, ": ",
                            message);
    }
  }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

}  // namespace

absl::Status ReadTextProtoFile(const std::string& path,
                               google::protobuf::Message* message) {
  std::ifstream in(path);
  if (!in)
    return absl::InvalidArgumentError(absl::StrCat("-f: cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  google::protobuf::TextFormat::Parser parser;
  FirstError errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text.str(), message)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", errors.error()));
  }
  return absl::OkStatus();
}

int PrintError(const absl::Status& status) {
  const std::string code = absl::StatusCodeToString(status.code());
  if (status.message().empty()) {
    // e.g. UNIMPLEMENTED from an RPC a server does not serve yet.
    std::fprintf(stderr, "error: %s\n", code.c_str());
  } else {
    std::fprintf(stderr, "error: %s: %s\n", code.c_str(),
                 std::string(status.message()).c_str());
  }
  return 1;
}

namespace {

// The CLI is one command per process: the id its calls were sent with.
std::string& RequestIdForErrors() {
  static std::string* id = new std::string();
  return *id;
}

}  // namespace

void SetRequestIdForErrors(absl::string_view request_id) {
  RequestIdForErrors() = std::string(request_id);
}

int PrintError(const grpc::Status& status) {
  const int exit_code = PrintError(FromGrpcStatus(status));
  if (!RequestIdForErrors().empty()) {
    // The servers log it with the call: what support looks for.
    std::fprintf(stderr, "request id: %s\n", RequestIdForErrors().c_str());
  }
  return exit_code;
}

Table::Table(std::vector<std::string> columns) : columns_(std::move(columns)) {}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

void Table::Print(OutputFormat format, std::FILE* out) const {
  if (format == OutputFormat::kJson) {
    std::string json = "[";
    for (size_t r = 0; r < rows_.size(); ++r) {
      absl::StrAppend(&json, r == 0 ? "{" : ",{");
      for (size_t c = 0; c < columns_.size(); ++c) {
        absl::StrAppend(&json, c == 0 ? "" : ",", "\"", JsonEscape(columns_[c]),
                        "\":\"", JsonEscape(rows_[r][c]), "\"");
      }
      absl::StrAppend(&json, "}");
    }
    absl::StrAppend(&json, "]\n");
    std::fputs(json.c_str(), out);
    return;
  }
  std::vector<size_t> widths(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) {
    widths[c] = columns_[c].size();
    for (const auto& row : rows_)
      widths[c] = std::max(widths[c], row[c].size());
  }
  auto print_row = [&](const std::vector<std::string>& cells, bool upper) {
    std::string line;
    for (size_t c = 0; c < cells.size(); ++c) {
      std::string cell = upper ? absl::AsciiStrToUpper(cells[c]) : cells[c];
      if (c + 1 < cells.size()) cell.resize(widths[c] + 2, ' ');
      line += cell;
    }
    // No trailing blanks when the last cells are empty.
    line.erase(line.find_last_not_of(' ') + 1);
    std::fprintf(out, "%s\n", line.c_str());
  };
  print_row(columns_, /*upper=*/true);
  for (const auto& row : rows_) print_row(row, /*upper=*/false);
}

void RunConcurrently(const std::vector<std::function<void()>>& work) {
  std::vector<std::thread> threads;
  threads.reserve(work.size());
  for (const auto& fn : work) threads.emplace_back(fn);
  for (std::thread& t : threads) t.join();
}

std::string MessageJson(const google::protobuf::Message& message,
                        bool one_line) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = !one_line;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  if (json.empty() || json.back() != '\n') json += "\n";
  return json;
}

void PrintMessage(OutputFormat format, const google::protobuf::Message& message,
                  const Table& table) {
  if (format == OutputFormat::kJson) {
    std::fputs(MessageJson(message).c_str(), stdout);
    return;
  }
  table.Print(OutputFormat::kTable);
}

namespace {

// One end of a time range; `end` moves a date to the start of the next day so
// that the half-open range includes the date.
absl::StatusOr<google::protobuf::Timestamp> ParseRangeEnd(
    absl::string_view flag, const std::string& value, bool end) {
  absl::CivilDay day;
  if (absl::ParseCivilTime(value, &day)) {
    return prima::ToProtoTime(
        absl::FromCivil(end ? day + 1 : day, absl::LocalTimeZone()));
  }
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, value, &t, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag,
                     ": not a date YYYY-MM-DD or an RFC 3339 time "
                     "(2026-11-01T08:00:00+07:00): ",
                     value));
  }
  return prima::ToProtoTime(t);
}

}  // namespace

absl::StatusOr<prima::common::v1::TimeRange> ParseTimeRangeFlags(
    const std::string& from, const std::string& to) {
  prima::common::v1::TimeRange range;
  if (!from.empty()) {
    absl::StatusOr<google::protobuf::Timestamp> start =
        ParseRangeEnd("--from", from, /*end=*/false);
    if (!start.ok()) return start.status();
    *range.mutable_start_time() = *start;
  }
  if (!to.empty()) {
    absl::StatusOr<google::protobuf::Timestamp> end =
        ParseRangeEnd("--to", to, /*end=*/true);
    if (!end.ok()) return end.status();
    *range.mutable_end_time() = *end;
  }
  return range;
}

std::string FormatTimestamp(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "";
  // "%Ez" would print "+00:00" for UTC; the Z is what the comment promises.
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", prima::ToAbslTime(ts),
                          absl::UTCTimeZone());
}

}  // namespace prima::cli

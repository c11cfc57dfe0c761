#pragma once

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "prima/common/v1/common.pb.h"

namespace CLI {
class App;
}

namespace prima::cli {

enum class OutputFormat { kTable, kJson };

// The flags every subcommand shares (each with a PRIMA_* environment fallback).
struct GlobalOptions {
  std::string catalog_addr = "127.0.0.1:50051";       // PRIMA_CATALOG_ADDR
  std::string queue_addr = "127.0.0.1:50052";         // PRIMA_QUEUE_ADDR
  std::string complaint_addr = "127.0.0.1:50053";     // PRIMA_COMPLAINT_ADDR
  std::string satisfaction_addr = "127.0.0.1:50054";  // PRIMA_SATISFACTION_ADDR
  std::string token;                                  // PRIMA_TOKEN
  std::string output = "table";                       // table | json
  double timeout_seconds = 5;                         // per RPC
};

// One Prima server binary and where it listens.
struct ServerAddress {
  std::string name;  // "catalog", "queue", "complaint", "satisfaction"
  std::string address;
};

// The names ServerAddress::name takes, in port order.
const std::vector<std::string>& ServerNames();

// What a subcommand runs with: the global options and the helpers every RPC
// needs. A subcommand's CLI11 callback stores its work in `action`; main() runs
// it once parsing succeeded and exits with its result.
class CliContext {
 public:
  GlobalOptions options;
  std::function<int()> action;

  // Registers the global flags on the top-level app.
  void AddGlobalFlags(CLI::App& app);

  OutputFormat output() const;
  absl::Duration timeout() const;

  // The servers named (all four, in port order, when `names` is empty).
  std::vector<ServerAddress> Servers(
      const std::vector<std::string>& names = {}) const;
  // The address of one server by name ("queue" -> --queue-addr).
  std::string AddressOf(absl::string_view server) const;

  // A channel to `address` (plaintext).
  std::shared_ptr<grpc::Channel> NewChannel(const std::string& address) const;
  // Prepares a call: deadline now + --timeout, `authorization: Bearer <token>`
  // when a token is set, and this invocation's `x-request-id`.
  void PrepareContext(grpc::ClientContext* context) const;

  // One id per invocation: sent as x-request-id and usable as an idempotency
  // key.
  const std::string& request_id() const;

 private:
  mutable std::string request_id_;
};

// Reads a protobuf text-format file (`-f`) into `message`. INVALID_ARGUMENT
// names the file and the first error's line and column.
absl::Status ReadTextProtoFile(const std::string& path,
                               google::protobuf::Message* message);

// Prints `error: <GRPC_CODE>: <message>` on stderr and returns the exit code 1.
int PrintError(const absl::Status& status);
// Same, from a gRPC status, followed by `request id: <id>` when a call was
// prepared (PrepareContext): the servers log the call under that id.
int PrintError(const grpc::Status& status);
void SetRequestIdForErrors(absl::string_view request_id);

// One unary call through `stub`: prints the reply with `print`, or the error;
// returns the exit code.
template <typename Stub, typename Request, typename Response>
int CallUnary(const CliContext& context, std::unique_ptr<Stub> stub,
              grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                           Response*),
              const Request& request,
              void (*print)(const CliContext&, const Response&)) {
  Response response;
  grpc::ClientContext call;
  context.PrepareContext(&call);
  grpc::Status status = (stub.get()->*method)(&call, request, &response);
  if (!status.ok()) return PrintError(status);
  print(context, response);
  return 0;
}

// Rows of string cells printed as an aligned table (upper-case headers) or as a
// JSON array of objects keyed by the column names.
class Table {
 public:
  explicit Table(std::vector<std::string> columns);
  void AddRow(std::vector<std::string> cells);  // one cell per column
  void Print(OutputFormat format, std::FILE* out = stdout) const;

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// A reply as JSON with the proto's field names: indented, or on one line
// (ending in a newline) for streams.
std::string MessageJson(const google::protobuf::Message& message,
                        bool one_line = false);

// Prints a reply as JSON (--output json) or as `table` otherwise.
void PrintMessage(OutputFormat format, const google::protobuf::Message& message,
                  const Table& table);

// RFC 3339 in UTC to the second ("2026-11-24T01:30:00Z"); "" when unset.
std::string FormatTimestamp(const google::protobuf::Timestamp& ts);

// A --from/--to pair: each an RFC 3339 time (2026-11-01T08:00:00+07:00) or a
// date YYYY-MM-DD in the local time zone (TZ); a --to date includes its whole
// day. An empty flag leaves that end unbounded. INVALID_ARGUMENT names the
// flag.
absl::StatusOr<prima::common::v1::TimeRange> ParseTimeRangeFlags(
    const std::string& from, const std::string& to);

// Runs each function on its own thread and returns when all have (for calls to
// several servers at once, so one unreachable server does not delay the
// others).
void RunConcurrently(const std::vector<std::function<void()>>& work);

}  // namespace prima::cli

// prima queue: tickets, appointments, counters, boards and statistics on the
// queue server (prima.queue.v1.QueueService).
//   Citizens (a kiosk needs no token; --secret is the ticket's receipt secret):
//   prima queue issue OFFICE SERVICE [--channel kiosk|web|mobile|counter]
//                    [--class regular|elderly|disabled|pregnant]
//   prima queue get|cancel TICKET [--secret S]
//   prima queue watch-ticket TICKET [--secret S] [--count N]
//   prima queue slots OFFICE SERVICE --date YYYY-MM-DD
//   prima queue book OFFICE SERVICE --slot 2026-11-25T01:30:00Z
//   prima queue appointment|cancel-appointment|check-in APPOINTMENT [--secret
//   S] Officers (the counter must be open by the caller): prima queue
//   open|close|pause|resume|counter COUNTER prima queue next COUNTER prima
//   queue recall|no-show|start COUNTER TICKET prima queue complete COUNTER
//   TICKET [--outcome done|incomplete-requirements
//                                                  |referred]
//   prima queue transfer COUNTER TICKET --to-service S | --to-counter C
//   Boards, statistics and settings:
//   prima queue board OFFICE [--count N]
//   prima queue stats OFFICE --date YYYY-MM-DD [--service S]
//   prima queue settings OFFICE SERVICE [--slot-minutes N] [--capacity N]
//                        [--horizon-days N] [--grace-minutes N]
// Mutations send this invocation's request id unless --request-id names one
// (a fixed id makes a retry idempotent). The two watches have no deadline:
// they run until the stream ends, --count messages arrived, or Ctrl-C.

#include <google/protobuf/descriptor.h>
#include <google/protobuf/generated_enum_reflection.h>
#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/cli/cli_context.h"
#include "clients/cli/commands.h"
#include "clients/cli/enum_flags.h"
#include "prima/queue/v1/queue.grpc.pb.h"
#include "services/common/proto_time.h"

namespace prima::cli {
namespace {

using namespace ::prima::queue::v1;  // NOLINT: request/response types
using Stub = QueueService::Stub;

// The board shows at most this many calls, as the server's snapshot does.
constexpr int kBoardCalls = 10;

struct QueueOptions {
  std::string office;
  std::string service;
  std::string ticket;
  std::string appointment;
  std::string counter;
  std::string secret;
  std::string channel = "kiosk";
  std::string priority_class = "regular";
  std::string outcome = "done";
  std::string to_service;
  std::string to_counter;
  std::string date;  // YYYY-MM-DD
  std::string slot;  // RFC 3339
  int count = 0;     // watches: stop after this many messages (0: never)
  // settings: the proto's defaults, used for flags left out.
  int slot_minutes = 30;
  int capacity_per_slot = 2;
  int booking_horizon_days = 14;
  int check_in_grace_minutes = 15;
  std::string request_id;
};

std::unique_ptr<Stub> NewStub(const CliContext& context) {
  return QueueService::NewStub(context.NewChannel(context.AddressOf("queue")));
}

std::string RequestId(const CliContext& context, const QueueOptions& options) {
  return options.request_id.empty() ? context.request_id() : options.request_id;
}

// ---- enums, times and dates ----

std::string FormatLocalClock(absl::Time t) {
  return absl::FormatTime("%H:%M:%S", t, absl::LocalTimeZone());
}

// Whole minutes, rounded up, of an estimate in seconds.
int WaitMinutes(int seconds) { return (seconds + 59) / 60; }

// ---- printing ----

// After IssueTicket, CheckIn and BookAppointment: the receipt, once.
void PrintSecretHint(const CliContext& context, const std::string& secret,
                     const char* what) {
  if (context.output() != OutputFormat::kTable || secret.empty()) return;
  std::printf(
      "\nreceipt secret: %s\nKeep it: it reads, watches and cancels this %s "
      "without a token, and is not shown again.\n",
      secret.c_str(), what);
}

void PrintTicket(const CliContext& context, const Ticket& t) {
  Table table({"id", "number", "service", "class", "status", "position",
               "wait_min", "counter"});
  const bool waiting = t.status() == TICKET_STATUS_WAITING;
  table.AddRow(
      {t.id(), t.number(), t.service_id(), EnumLabel(t.priority_class()),
       EnumLabel(t.status()), waiting ? absl::StrCat(t.position()) : "",
       waiting ? absl::StrCat(WaitMinutes(t.estimated_wait_seconds())) : "",
       t.counter_name()});
  PrintMessage(context.output(), t, table);
  PrintSecretHint(context, t.receipt_secret(), "ticket");
}

void PrintAppointment(const CliContext& context, const Appointment& a) {
  Table table({"id", "office", "service", "status", "slot_start", "slot_end",
               "ticket"});
  table.AddRow({a.id(), a.office_id(), a.service_id(), EnumLabel(a.status()),
                FormatTimestamp(a.slot_start_time()),
                FormatTimestamp(a.slot_end_time()), a.ticket_id()});
  PrintMessage(context.output(), a, table);
  PrintSecretHint(context, a.receipt_secret(), "appointment");
}

void PrintSession(const CliContext& context, const CounterSession& s) {
  Table table({"counter", "name", "state", "officer", "current_ticket",
               "services", "priority"});
  table.AddRow({s.counter_id(), s.counter_name(), EnumLabel(s.state()),
                s.officer_id(), s.current_ticket_id(),
                absl::StrJoin(s.service_ids(), ","),
                s.priority() ? "yes" : "no"});
  PrintMessage(context.output(), s, table);
}

void PrintSettings(const CliContext& context, const AppointmentSettings& s) {
  Table table({"office", "service", "slot_minutes", "capacity_per_slot",
               "booking_horizon_days", "check_in_grace_minutes"});
  table.AddRow({s.office_id(), s.service_id(), absl::StrCat(s.slot_minutes()),
                absl::StrCat(s.capacity_per_slot()),
                absl::StrCat(s.booking_horizon_days()),
                absl::StrCat(s.check_in_grace_minutes())});
  PrintMessage(context.output(), s, table);
}

void PrintSlots(const CliContext& context,
                const ListAvailableSlotsResponse& response) {
  Table table({"start", "end", "capacity", "booked", "available"});
  for (const Slot& s : response.slots()) {
    table.AddRow({FormatTimestamp(s.start_time()),
                  FormatTimestamp(s.end_time()), absl::StrCat(s.capacity()),
                  absl::StrCat(s.booked()), absl::StrCat(s.available())});
  }
  PrintMessage(context.output(), response, table);
}

void PrintStats(const CliContext& context, const QueueStats& s) {
  auto minutes = [](double seconds) {
    return absl::StrCat(static_cast<int>(seconds / 6 + 0.5) / 10.0);
  };
  Table table({"figure", "value"});
  table.AddRow({"office", s.office_id()});
  table.AddRow(
      {"date", absl::FormatCivilTime(absl::CivilDay(
                   s.date().year(), s.date().month(), s.date().day()))});
  table.AddRow({"service", s.service_id().empty() ? "(all)" : s.service_id()});
  for (const auto& [figure, value] :
       {std::pair{"waiting_now", s.waiting_now()},
        std::pair{"issued", s.issued()}, std::pair{"called", s.called()},
        std::pair{"served", s.served()}, std::pair{"no_shows", s.no_shows()},
        std::pair{"cancelled", s.cancelled()},
        std::pair{"transferred", s.transferred()},
        std::pair{"expired", s.expired()}}) {
    table.AddRow({figure, absl::StrCat(value)});
  }
  table.AddRow({"wait_min_mean", minutes(s.wait_seconds_mean())});
  table.AddRow({"wait_min_p50", minutes(s.wait_seconds_p50())});
  table.AddRow({"wait_min_p90", minutes(s.wait_seconds_p90())});
  table.AddRow({"service_min_mean", minutes(s.service_seconds_mean())});
  table.AddRow(
      {"within_target_pct",
       absl::StrCat(static_cast<int>(s.within_target_share() * 100 + 0.5))});
  for (const ServerStats& c : s.counters()) {
    table.AddRow({absl::StrCat("counter ", c.id()),
                  absl::StrCat(c.served(), " served, ",
                               minutes(c.service_seconds_mean()), " min")});
  }
  for (const ServerStats& o : s.officers()) {
    table.AddRow({absl::StrCat("officer ", o.id()),
                  absl::StrCat(o.served(), " served, ",
                               minutes(o.service_seconds_mean()), " min")});
  }
  PrintMessage(context.output(), s, table);
}

// ---- calls ----

template <typename Request, typename Response>
using UnaryMethod = grpc::Status (Stub::*)(grpc::ClientContext*, const Request&,
                                           Response*);

// One unary call: prints the reply with `print` or the error; the exit code.
template <typename Request, typename Response>
int Call(const CliContext& context, UnaryMethod<Request, Response> method,
         const Request& request,
         void (*print)(const CliContext&, const Response&)) {
  return CallUnary(context, NewStub(context), method, request, print);
}

// A stream read until it ends, `options.count` messages arrived (count > 0),
// or the process is interrupted. No deadline: a watch runs as long as it must.
template <typename Request, typename Update>
int Watch(const CliContext& context, const QueueOptions& options,
          std::unique_ptr<grpc::ClientReader<Update>> (Stub::*method)(
              grpc::ClientContext*, const Request&),
          const Request& request,
          const std::function<void(const Update&)>& on) {
  grpc::ClientContext call;
  context.PrepareContext(&call);
  call.set_deadline(std::chrono::system_clock::time_point::max());
  std::unique_ptr<Stub> stub = NewStub(context);
  std::unique_ptr<grpc::ClientReader<Update>> reader =
      (stub.get()->*method)(&call, request);
  Update update;
  int received = 0;
  while (reader->Read(&update)) {
    on(update);
    std::fflush(stdout);
    if (options.count > 0 && ++received >= options.count) {
      call.TryCancel();
      (void)reader->Finish();
      return 0;
    }
  }
  grpc::Status status = reader->Finish();
  return status.ok() ? 0 : PrintError(status);
}

// ---- citizens ----

int RunIssue(const CliContext& context, const QueueOptions& options) {
  IssueTicketRequest request;
  request.set_request_id(RequestId(context, options));
  request.set_office_id(options.office);
  request.set_service_id(options.service);
  request.set_channel(FromFlag<Channel>(options.channel));
  request.set_priority_class(FromFlag<PriorityClass>(options.priority_class));
  return Call(context, &Stub::IssueTicket, request, PrintTicket);
}

int RunGet(const CliContext& context, const QueueOptions& options) {
  GetTicketRequest request;
  request.set_ticket_id(options.ticket);
  request.set_receipt_secret(options.secret);
  return Call(context, &Stub::GetTicket, request, PrintTicket);
}

int RunCancel(const CliContext& context, const QueueOptions& options) {
  CancelTicketRequest request;
  request.set_request_id(RequestId(context, options));
  request.set_ticket_id(options.ticket);
  request.set_receipt_secret(options.secret);
  return Call(context, &Stub::CancelTicket, request, PrintTicket);
}

int RunWatchTicket(const CliContext& context, const QueueOptions& options) {
  WatchTicketRequest request;
  request.set_ticket_id(options.ticket);
  request.set_receipt_secret(options.secret);
  const bool json = context.output() == OutputFormat::kJson;
  return Watch<WatchTicketRequest, TicketUpdate>(
      context, options, &Stub::WatchTicket, request,
      [json](const TicketUpdate& u) {
        if (json) {
          std::fputs(MessageJson(u, /*one_line=*/true).c_str(), stdout);
          return;
        }
        const Ticket& t = u.ticket();
        std::string line = absl::StrCat(FormatLocalClock(ToAbslTime(u.time())),
                                        " ", EnumLabel(u.kind()));
        if (u.has_ticket()) {
          absl::StrAppend(&line, " ", t.number(), " ", EnumLabel(t.status()));
        }
        if (t.status() == TICKET_STATUS_WAITING) {
          absl::StrAppend(&line, " position ", t.position(), ", ~",
                          WaitMinutes(t.estimated_wait_seconds()), " min");
        } else if (!t.counter_name().empty()) {
          absl::StrAppend(&line, " -> ", t.counter_name());
        }
        std::printf("%s\n", line.c_str());
      });
}

int RunSlots(const CliContext& context, const QueueOptions& options) {
  ListAvailableSlotsRequest request;
  request.set_office_id(options.office);
  request.set_service_id(options.service);
  absl::StatusOr<prima::common::v1::LocalDate> date =
      ParseDateFlag("--date", options.date);
  if (!date.ok()) return PrintError(date.status());
  *request.mutable_date() = *date;
  return Call(context, &Stub::ListAvailableSlots, request, PrintSlots);
}

int RunBook(const CliContext& context, const QueueOptions& options) {
  BookAppointmentRequest request;
  request.set_request_id(RequestId(context, options));
  request.set_office_id(options.office);
  request.set_service_id(options.service);
  absl::Time slot;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, options.slot, &slot, &error)) {
    return PrintError(absl::InvalidArgumentError(absl::StrCat(
        "--slot: not an RFC 3339 time (2026-11-25T08:30:00+07:00): ", error)));
  }
  *request.mutable_slot_start_time() = ToProtoTime(slot);
  return Call(context, &Stub::BookAppointment, request, PrintAppointment);
}

int RunAppointment(const CliContext& context, const QueueOptions& options) {
  GetAppointmentRequest request;
  request.set_appointment_id(options.appointment);
  request.set_receipt_secret(options.secret);
  return Call(context, &Stub::GetAppointment, request, PrintAppointment);
}

int RunCancelAppointment(const CliContext& context,
                         const QueueOptions& options) {
  CancelAppointmentRequest request;
  request.set_request_id(RequestId(context, options));
  request.set_appointment_id(options.appointment);
  request.set_receipt_secret(options.secret);
  return Call(context, &Stub::CancelAppointment, request, PrintAppointment);
}

int RunCheckIn(const CliContext& context, const QueueOptions& options) {
  CheckInRequest request;
  request.set_request_id(RequestId(context, options));
  request.set_appointment_id(options.appointment);
  request.set_receipt_secret(options.secret);
  return Call(context, &Stub::CheckIn, request, PrintTicket);
}

int RunSettings(const CliContext& context, const QueueOptions& options) {
  UpdateAppointmentSettingsRequest request;
  request.set_request_id(RequestId(context, options));
  AppointmentSettings* s = request.mutable_settings();
  s->set_office_id(options.office);
  s->set_service_id(options.service);
  s->set_slot_minutes(options.slot_minutes);
  s->set_capacity_per_slot(options.capacity_per_slot);
  s->set_booking_horizon_days(options.booking_horizon_days);
  s->set_check_in_grace_minutes(options.check_in_grace_minutes);
  return Call(context, &Stub::UpdateAppointmentSettings, request,
              PrintSettings);
}

// ---- officers ----

// Open, close, pause, resume and next: a request_id and a counter.
template <typename Request, typename Response>
int RunCounterAction(const CliContext& context, const QueueOptions& options,
                     UnaryMethod<Request, Response> method,
                     void (*print)(const CliContext&, const Response&)) {
  Request request;
  request.set_request_id(RequestId(context, options));
  request.set_counter_id(options.counter);
  return Call(context, method, request, print);
}

int RunOpen(const CliContext& context, const QueueOptions& options) {
  return RunCounterAction(context, options, &Stub::OpenCounter, PrintSession);
}

int RunClose(const CliContext& context, const QueueOptions& options) {
  return RunCounterAction(context, options, &Stub::CloseCounter, PrintSession);
}

int RunPause(const CliContext& context, const QueueOptions& options) {
  return RunCounterAction(context, options, &Stub::PauseCounter, PrintSession);
}

int RunResume(const CliContext& context, const QueueOptions& options) {
  return RunCounterAction(context, options, &Stub::ResumeCounter, PrintSession);
}

int RunCounter(const CliContext& context, const QueueOptions& options) {
  GetCounterSessionRequest request;
  request.set_counter_id(options.counter);
  return Call(context, &Stub::GetCounterSession, request, PrintSession);
}

int RunNext(const CliContext& context, const QueueOptions& options) {
  return RunCounterAction(context, options, &Stub::CallNext, PrintTicket);
}

// Recall, no-show and start: the counter's current ticket.
int RunTicketAction(const CliContext& context, const QueueOptions& options,
                    UnaryMethod<TicketActionRequest, Ticket> method) {
  TicketActionRequest request;
  request.set_request_id(RequestId(context, options));
  request.set_counter_id(options.counter);
  request.set_ticket_id(options.ticket);
  return Call(context, method, request, PrintTicket);
}

int RunRecall(const CliContext& context, const QueueOptions& options) {
  return RunTicketAction(context, options, &Stub::Recall);
}

int RunNoShow(const CliContext& context, const QueueOptions& options) {
  return RunTicketAction(context, options, &Stub::MarkNoShow);
}

int RunStart(const CliContext& context, const QueueOptions& options) {
  return RunTicketAction(context, options, &Stub::StartService);
}

int RunComplete(const CliContext& context, const QueueOptions& options) {
  CompleteServiceRequest request;
  request.set_request_id(RequestId(context, options));
  request.set_counter_id(options.counter);
  request.set_ticket_id(options.ticket);
  request.set_outcome(FromFlag<ServiceOutcome>(options.outcome));
  return Call(context, &Stub::CompleteService, request, PrintTicket);
}

int RunTransfer(const CliContext& context, const QueueOptions& options) {
  TransferTicketRequest request;
  request.set_request_id(RequestId(context, options));
  request.set_counter_id(options.counter);
  request.set_ticket_id(options.ticket);
  if (!options.to_service.empty()) {
    request.set_to_service_id(options.to_service);
  } else if (!options.to_counter.empty()) {
    request.set_to_counter_id(options.to_counter);
  } else {
    return PrintError(absl::InvalidArgumentError(
        "transfer: name a target with --to-service or --to-counter"));
  }
  return Call(context, &Stub::TransferTicket, request, PrintTicket);
}

// ---- boards and statistics ----

// What a board shows, built from the stream's messages.
struct Board {
  std::vector<BoardCall> calls;  // newest first
  std::vector<ServiceWaiting> waiting;
  absl::Time time = absl::Now();
};

void ApplyUpdate(const BoardUpdate& update, Board& board) {
  if (update.has_time()) board.time = ToAbslTime(update.time());
  switch (update.kind()) {
    case BoardUpdate::KIND_SNAPSHOT:
      board.calls.assign(update.calls().begin(), update.calls().end());
      board.waiting.assign(update.waiting().begin(), update.waiting().end());
      break;
    case BoardUpdate::KIND_CALL:
      board.calls.insert(board.calls.begin(), update.calls().begin(),
                         update.calls().end());
      if (board.calls.size() > kBoardCalls) board.calls.resize(kBoardCalls);
      break;
    case BoardUpdate::KIND_COUNTS:
      board.waiting.assign(update.waiting().begin(), update.waiting().end());
      break;
    default:
      break;
  }
}

// The board as text; on a terminal it replaces the screen.
void RenderBoard(const std::string& office, const Board& board, bool terminal) {
  if (terminal) std::fputs("\033[H\033[2J", stdout);
  std::printf("office %s   %s\n\n", office.c_str(),
              absl::FormatTime("%Y-%m-%d %H:%M:%S %Z", board.time,
                               absl::LocalTimeZone())
                  .c_str());
  Table calls({"number", "counter", ""});
  for (const BoardCall& c : board.calls) {
    calls.AddRow(
        {c.ticket_number(), c.counter_name(), c.recall() ? "(recall)" : ""});
  }
  calls.Print(OutputFormat::kTable);
  std::printf("\n");
  Table waiting({"service", "waiting"});
  for (const ServiceWaiting& w : board.waiting) {
    waiting.AddRow({w.service_id(), absl::StrCat(w.waiting())});
  }
  waiting.Print(OutputFormat::kTable);
  if (!terminal) std::printf("\n");
}

int RunBoard(const CliContext& context, const QueueOptions& options) {
  WatchOfficeRequest request;
  request.set_office_id(options.office);
  const bool json = context.output() == OutputFormat::kJson;
  const bool terminal = isatty(STDOUT_FILENO) != 0;
  Board board;
  return Watch<WatchOfficeRequest, BoardUpdate>(
      context, options, &Stub::WatchOffice, request,
      [&](const BoardUpdate& update) {
        if (json) {
          std::fputs(MessageJson(update, /*one_line=*/true).c_str(), stdout);
          return;
        }
        ApplyUpdate(update, board);
        RenderBoard(options.office, board, terminal);
      });
}

int RunStats(const CliContext& context, const QueueOptions& options) {
  GetQueueStatsRequest request;
  request.set_office_id(options.office);
  request.set_service_id(options.service);
  absl::StatusOr<prima::common::v1::LocalDate> date =
      ParseDateFlag("--date", options.date);
  if (!date.ok()) return PrintError(date.status());
  *request.mutable_date() = *date;
  return Call(context, &Stub::GetQueueStats, request, PrintStats);
}

// ---- registration ----

using RunFn = int (*)(const CliContext&, const QueueOptions&);

struct Subcommand {
  const char* name;
  const char* help;
  RunFn run;
};

// Adds `name` under `queue`; its callback runs `run` with the shared options.
CLI::App* AddRun(CLI::App* queue, CliContext& context,
                 std::shared_ptr<QueueOptions> options, const char* name,
                 const char* help, RunFn run, bool mutation) {
  CLI::App* sub = queue->add_subcommand(name, help);
  if (mutation) {
    sub->add_option("--request-id", options->request_id,
                    "idempotency key (default: one per invocation)");
  }
  sub->callback([&context, options, run] {
    context.action = [&context, options, run] {
      return run(context, *options);
    };
  });
  return sub;
}

void AddSecret(CLI::App* sub, QueueOptions& options) {
  sub->add_option("--secret", options.secret,
                  "the receipt secret (not needed with the issuing citizen's "
                  "or a staff token)");
}

void AddCount(CLI::App* sub, QueueOptions& options) {
  sub->add_option("--count", options.count,
                  "stop after this many messages (default: until the stream "
                  "ends)")
      ->check(CLI::NonNegativeNumber);
}

}  // namespace

void AddQueueCommand(CLI::App& app, CliContext& context) {
  auto options = std::make_shared<QueueOptions>();
  QueueOptions& o = *options;
  CLI::App* queue = app.add_subcommand(
      "queue", "Tickets, appointments, counters, boards and statistics");
  queue->require_subcommand(1);
  auto add = [&](const char* name, const char* help, RunFn run, bool mutation) {
    return AddRun(queue, context, options, name, help, run, mutation);
  };

  // Citizens.
  CLI::App* sub = add("issue", "Take a ticket (public)", RunIssue, true);
  sub->add_option("office", o.office, "office id")->required();
  sub->add_option("service", o.service, "public service id")->required();
  sub->add_option("--channel", o.channel, "where the ticket is taken")
      ->check(EnumFlag<Channel>())
      ->capture_default_str();
  sub->add_option("--class", o.priority_class,
                  "who is served first (appointment tickets come from "
                  "check-in)")
      ->check(EnumFlag<PriorityClass>({PRIORITY_CLASS_APPOINTMENT}))
      ->capture_default_str();
  sub =
      add("get", "Show a ticket with its position and estimate", RunGet, false);
  sub->add_option("ticket", o.ticket, "ticket id")->required();
  AddSecret(sub, o);
  sub = add("cancel", "Cancel a WAITING ticket", RunCancel, true);
  sub->add_option("ticket", o.ticket, "ticket id")->required();
  AddSecret(sub, o);
  sub = add("watch-ticket", "Follow a ticket, one line per update",
            RunWatchTicket, false);
  sub->add_option("ticket", o.ticket, "ticket id")->required();
  AddSecret(sub, o);
  AddCount(sub, o);
  sub = add("slots", "Appointment slots of one local date (public)", RunSlots,
            false);
  sub->add_option("office", o.office, "office id")->required();
  sub->add_option("service", o.service, "public service id")->required();
  sub->add_option("--date", o.date, "the office's local date, YYYY-MM-DD")
      ->required();
  sub = add("book", "Book a place in a slot (public)", RunBook, true);
  sub->add_option("office", o.office, "office id")->required();
  sub->add_option("service", o.service, "public service id")->required();
  sub->add_option("--slot", o.slot, "the slot's start, RFC 3339")->required();
  sub = add("appointment", "Show an appointment", RunAppointment, false);
  sub->add_option("appointment", o.appointment, "appointment id")->required();
  AddSecret(sub, o);
  sub = add("cancel-appointment", "Cancel a BOOKED appointment",
            RunCancelAppointment, true);
  sub->add_option("appointment", o.appointment, "appointment id")->required();
  AddSecret(sub, o);
  sub = add("check-in", "Turn a BOOKED appointment into a ticket", RunCheckIn,
            true);
  sub->add_option("appointment", o.appointment, "appointment id")->required();
  AddSecret(sub, o);

  // Officers.
  for (const auto& [name, help, run] : std::initializer_list<Subcommand>{
           Subcommand{"open", "Open a counter (start your session)", RunOpen},
           Subcommand{"close", "Close your counter", RunClose},
           Subcommand{"pause", "Pause your counter", RunPause},
           Subcommand{"resume", "Resume your paused counter", RunResume},
           Subcommand{"next", "Call the next ticket to your counter",
                      RunNext}}) {
    sub = add(name, help, run, true);
    sub->add_option("counter", o.counter, "counter id")->required();
  }
  sub = add("counter", "Show a counter's session", RunCounter, false);
  sub->add_option("counter", o.counter, "counter id")->required();
  for (const auto& [name, help, run] : std::initializer_list<Subcommand>{
           Subcommand{"recall", "Call the counter's ticket again", RunRecall},
           Subcommand{"no-show", "The citizen did not come", RunNoShow},
           Subcommand{"start", "The citizen arrived: start serving", RunStart},
           Subcommand{"complete", "End the service with an outcome",
                      RunComplete},
           Subcommand{"transfer",
                      "Pass the ticket to another service or counter",
                      RunTransfer}}) {
    sub = add(name, help, run, true);
    sub->add_option("counter", o.counter, "counter id")->required();
    sub->add_option("ticket", o.ticket, "the counter's current ticket id")
        ->required();
    if (run == RunComplete) {
      sub->add_option("--outcome", o.outcome, "how the service ended")
          ->check(EnumFlag<ServiceOutcome>())
          ->capture_default_str();
    } else if (run == RunTransfer) {
      CLI::Option* to_service = sub->add_option("--to-service", o.to_service,
                                                "another service's queue");
      sub->add_option("--to-counter", o.to_counter, "one counter of the office")
          ->excludes(to_service);
    }
  }

  // Boards, statistics and settings.
  sub = add("board", "The office's live display board", RunBoard, false);
  sub->add_option("office", o.office, "office id")->required();
  AddCount(sub, o);
  sub =
      add("stats", "One local day's statistics (supervisor)", RunStats, false);
  sub->add_option("office", o.office, "office id")->required();
  sub->add_option("--date", o.date, "the office's local date, YYYY-MM-DD")
      ->required();
  sub->add_option("--service", o.service, "only this public service");
  sub = add("settings",
            "Set a service's appointment settings at an office (replaces "
            "them; a flag left out takes its default)",
            RunSettings, true);
  sub->add_option("office", o.office, "office id")->required();
  sub->add_option("service", o.service, "public service id")->required();
  sub->add_option("--slot-minutes", o.slot_minutes, "5-240")
      ->capture_default_str();
  sub->add_option("--capacity", o.capacity_per_slot,
                  "bookings per slot, 0-1000 (0 turns appointments off)")
      ->capture_default_str();
  sub->add_option("--horizon-days", o.booking_horizon_days,
                  "days ahead a slot may be booked, 1-90")
      ->capture_default_str();
  sub->add_option("--grace-minutes", o.check_in_grace_minutes,
                  "minutes after the slot start a check-in is on time, 0-120")
      ->capture_default_str();
}

}  // namespace prima::cli

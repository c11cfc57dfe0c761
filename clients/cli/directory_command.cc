// prima directory: the agency directory on the catalog server.
//   prima directory apply -f region.textproto   (ApplyDirectoryRequest, text)
//   prima directory agencies|offices|services|counters|officers
//         [--agency A] [--office O]
//   prima directory get agency|office|service|counter|officer ID

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "clients/cli/cli_context.h"
#include "clients/cli/commands.h"
#include "prima/catalog/v1/directory.grpc.pb.h"
#include "services/common/rpc.h"

namespace prima::cli {
namespace {

using namespace ::prima::catalog::v1;  // NOLINT: request/response types

// Lists follow next_page_token up to this many items.
constexpr int kMaxListed = 100000;

struct DirectoryOptions {
  std::string file;    // apply -f
  std::string agency;  // --agency
  std::string office;  // --office
  std::string kind;    // get KIND
  std::string id;      // get ID
};

std::unique_ptr<DirectoryService::Stub> Stub(const CliContext& context) {
  return DirectoryService::NewStub(
      context.NewChannel(context.AddressOf("catalog")));
}

int RunApply(const CliContext& context, const DirectoryOptions& options) {
  ApplyDirectoryRequest request;
  if (absl::Status read = ReadTextProtoFile(options.file, &request);
      !read.ok()) {
    return PrintError(read);
  }
  if (request.request_id().empty())
    request.set_request_id(context.request_id());

  ApplyDirectoryResponse response;
  grpc::ClientContext call;
  context.PrepareContext(&call);
  grpc::Status status =
      Stub(context)->ApplyDirectory(&call, request, &response);
  if (!status.ok()) return PrintError(status);

  Table table({"kind", "created", "updated", "unchanged"});
  auto row = [&](const char* kind, const ApplyCounts& counts) {
    table.AddRow({kind, absl::StrCat(counts.created()),
                  absl::StrCat(counts.updated()),
                  absl::StrCat(counts.unchanged())});
  };
  row("agencies", response.agencies());
  row("offices", response.offices());
  row("services", response.public_services());
  row("counters", response.counters());
  row("officers", response.officers());
  table.Print(context.output());
  if (context.output() == OutputFormat::kTable) {
    std::printf(
        "changed agencies: %s\n",
        response.changed_agency_ids().empty()
            ? "none"
            : absl::StrJoin(response.changed_agency_ids(), ", ").c_str());
  }
  return 0;
}

std::string Minutes(int minute) {
  return absl::StrFormat("%02d:%02d", minute / 60, minute % 60);
}

std::string CompletionText(const CompletionTime& time) {
  if (time.unit() == CompletionTime::UNIT_UNSPECIFIED) return "";
  static constexpr const char* kUnits[] = {"", "minutes", "hours", "days",
                                           "working days"};
  const int unit = static_cast<int>(time.unit());
  return absl::StrCat(time.value(), " ",
                      unit >= 1 && unit <= 4 ? kUnits[unit] : "");
}

// Calls a List RPC page after page. `fetch` issues one page with the token and
// returns its next token (or an error).
template <typename Fetch>
int FollowPages(Fetch fetch) {
  std::string token;
  int pages = 0;
  do {
    grpc::Status status = fetch(&token);
    if (!status.ok()) return PrintError(status);
  } while (!token.empty() && ++pages * 500 < kMaxListed);
  return 0;
}

int RunList(const CliContext& context, const std::string& kind,
            const DirectoryOptions& options) {
  auto stub = Stub(context);
  if (kind == "agencies") {
    Table table({"id", "name", "region", "phone"});
    int rc = FollowPages([&](std::string* token) {
      ListAgenciesRequest request;
      request.set_page_size(500);
      request.set_page_token(*token);
      ListAgenciesResponse response;
      grpc::ClientContext call;
      context.PrepareContext(&call);
      grpc::Status status = stub->ListAgencies(&call, request, &response);
      for (const Agency& a : response.agencies()) {
        table.AddRow({a.id(), a.name(), a.region(), a.contact().phone()});
      }
      *token = response.next_page_token();
      return status;
    });
    if (rc == 0) table.Print(context.output());
    return rc;
  }
  if (kind == "offices") {
    Table table({"id", "agency", "name", "time_zone", "hours", "address"});
    int rc = FollowPages([&](std::string* token) {
      ListOfficesRequest request;
      request.set_agency_id(options.agency);
      request.set_page_size(500);
      request.set_page_token(*token);
      ListOfficesResponse response;
      grpc::ClientContext call;
      context.PrepareContext(&call);
      grpc::Status status = stub->ListOffices(&call, request, &response);
      for (const Office& o : response.offices()) {
        std::vector<std::string> hours;
        for (const OpeningInterval& h : o.opening_hours()) {
          hours.push_back(absl::StrCat(Weekday_Name(h.weekday()).substr(8, 3),
                                       " ", Minutes(h.open_minute()), "-",
                                       Minutes(h.close_minute())));
        }
        table.AddRow({o.id(), o.agency_id(), o.name(), o.time_zone(),
                      absl::StrJoin(hours, ", "), o.location().address()});
      }
      *token = response.next_page_token();
      return status;
    });
    if (rc == 0) table.Print(context.output());
    return rc;
  }
  if (kind == "services") {
    Table table({"id", "agency", "name", "prefix", "completion", "fee_idr",
                 "target_wait_min"});
    int rc = FollowPages([&](std::string* token) {
      ListPublicServicesRequest request;
      request.set_agency_id(options.agency);
      request.set_page_size(500);
      request.set_page_token(*token);
      ListPublicServicesResponse response;
      grpc::ClientContext call;
      context.PrepareContext(&call);
      grpc::Status status = stub->ListPublicServices(&call, request, &response);
      for (const PublicService& s : response.public_services()) {
        table.AddRow({s.id(), s.agency_id(), s.name(), s.ticket_prefix(),
                      CompletionText(s.standard().completion_time()),
                      absl::StrCat(s.standard().fee().amount()),
                      absl::StrCat(s.target_waiting_minutes())});
      }
      *token = response.next_page_token();
      return status;
    });
    if (rc == 0) table.Print(context.output());
    return rc;
  }
  if (kind == "counters") {
    Table table({"id", "agency", "office", "name", "services", "priority"});
    int rc = FollowPages([&](std::string* token) {
      ListCountersRequest request;
      request.set_office_id(options.office);
      request.set_page_size(500);
      request.set_page_token(*token);
      ListCountersResponse response;
      grpc::ClientContext call;
      context.PrepareContext(&call);
      grpc::Status status = stub->ListCounters(&call, request, &response);
      for (const Counter& c : response.counters()) {
        if (!options.agency.empty() && c.agency_id() != options.agency)
          continue;
        table.AddRow({c.id(), c.agency_id(), c.office_id(), c.name(),
                      absl::StrJoin(c.service_ids(), ","),
                      c.priority() ? "yes" : "no"});
      }
      *token = response.next_page_token();
      return status;
    });
    if (rc == 0) table.Print(context.output());
    return rc;
  }
  // officers
  Table table(
      {"id", "agency", "office", "name", "nip", "position", "front_line"});
  int rc = FollowPages([&](std::string* token) {
    ListOfficersRequest request;
    request.set_agency_id(options.agency);
    request.set_office_id(options.office);
    request.set_page_size(500);
    request.set_page_token(*token);
    ListOfficersResponse response;
    grpc::ClientContext call;
    context.PrepareContext(&call);
    grpc::Status status = stub->ListOfficers(&call, request, &response);
    for (const Officer& o : response.officers()) {
      table.AddRow({o.id(), o.agency_id(), o.office_id(), o.name(), o.nip(),
                    o.position(), o.front_line() ? "yes" : "no"});
    }
    *token = response.next_page_token();
    return status;
  });
  if (rc == 0) table.Print(context.output());
  return rc;
}

// Prints one resource: text format by default, JSON with --output json.
int PrintResource(const CliContext& context,
                  const google::protobuf::Message& message) {
  std::string out;
  if (context.output() == OutputFormat::kJson) {
    out = MessageJson(message);
  } else {
    google::protobuf::TextFormat::PrintToString(message, &out);
  }
  std::fputs(out.c_str(), stdout);
  if (!out.empty() && out.back() != '\n') std::fputs("\n", stdout);
  return 0;
}

int RunGet(const CliContext& context, const DirectoryOptions& options) {
  auto stub = Stub(context);
  grpc::ClientContext call;
  context.PrepareContext(&call);
  grpc::Status status;
  auto finish = [&](const google::protobuf::Message& m) {
    return status.ok() ? PrintResource(context, m) : PrintError(status);
  };
  if (options.kind == "agency") {
    GetAgencyRequest request;
    request.set_agency_id(options.id);
    Agency response;
    status = stub->GetAgency(&call, request, &response);
    return finish(response);
  }
  if (options.kind == "office") {
    GetOfficeRequest request;
    request.set_office_id(options.id);
    Office response;
    status = stub->GetOffice(&call, request, &response);
    return finish(response);
  }
  if (options.kind == "service") {
    GetPublicServiceRequest request;
    request.set_public_service_id(options.id);
    PublicService response;
    status = stub->GetPublicService(&call, request, &response);
    return finish(response);
  }
  if (options.kind == "counter") {
    GetCounterRequest request;
    request.set_counter_id(options.id);
    Counter response;
    status = stub->GetCounter(&call, request, &response);
    return finish(response);
  }
  GetOfficerRequest request;
  request.set_officer_id(options.id);
  Officer response;
  status = stub->GetOfficer(&call, request, &response);
  return finish(response);
}

}  // namespace

void AddDirectoryCommand(CLI::App& app, CliContext& context) {
  auto options = std::make_shared<DirectoryOptions>();
  CLI::App* directory = app.add_subcommand(
      "directory", "The agency directory: apply a region file, list, get");
  directory->require_subcommand(1);

  CLI::App* apply = directory->add_subcommand(
      "apply",
      "Create or update everything in a text-format ApplyDirectoryRequest "
      "(idempotent: running it twice changes nothing)");
  apply->add_option("-f,--file", options->file, "the .textproto file")
      ->required();
  apply->callback([&context, options] {
    context.action = [&context, options] {
      return RunApply(context, *options);
    };
  });

  struct ListKind {
    const char* name;
    const char* help;
    bool agency;
    bool office;
  };
  static constexpr ListKind kLists[] = {
      {"agencies", "List agencies", false, false},
      {"offices", "List offices", true, false},
      {"services", "List public services and their standards", true, false},
      {"counters", "List counters", true, true},
      {"officers", "List officers (staff token needed)", true, true},
  };
  for (const ListKind& kind : kLists) {
    CLI::App* list = directory->add_subcommand(kind.name, kind.help);
    if (kind.agency) {
      list->add_option("--agency", options->agency, "only this agency");
    }
    if (kind.office) {
      list->add_option("--office", options->office, "only this office");
    }
    const std::string name = kind.name;
    list->callback([&context, options, name] {
      context.action = [&context, options, name] {
        return RunList(context, name, *options);
      };
    });
  }

  CLI::App* get = directory->add_subcommand("get", "Show one resource in full");
  get->add_option("kind", options->kind,
                  "agency|office|service|counter|officer")
      ->required()
      ->check(
          CLI::IsMember({"agency", "office", "service", "counter", "officer"}));
  get->add_option("id", options->id, "its id")->required();
  get->callback([&context, options] {
    context.action = [&context, options] { return RunGet(context, *options); };
  });
}

}  // namespace prima::cli

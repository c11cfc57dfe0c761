#include "services/satisfaction/visit_consumer.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/logging.h"
#include "services/common/proto_time.h"
#include "services/satisfaction/satisfaction_rules.h"

namespace prima::satisfaction {

namespace {

namespace ev = prima::events::v1;

constexpr char kGroup[] = "satisfaction";
// Invitations after a visit or a handled complaint ask the official survey.
constexpr char kInvitationTemplate[] = "skm";

std::vector<ScopeRef> VisitScopes(absl::string_view agency,
                                  const ev::TicketServiceCompleted& visit) {
  std::vector<ScopeRef> scopes = {{v1::SCOPE_KIND_AGENCY, std::string(agency)},
                                  {v1::SCOPE_KIND_OFFICE, visit.office_id()}};
  if (!visit.service_id().empty()) {
    scopes.push_back({v1::SCOPE_KIND_SERVICE, visit.service_id()});
  }
  if (!visit.officer_id().empty()) {
    scopes.push_back({v1::SCOPE_KIND_OFFICER, visit.officer_id()});
  }
  return scopes;
}

class VisitHandler {
 public:
  VisitHandler(SatisfactionStore& store, const Clock& clock,
               absl::Duration invitation_ttl)
      : store_(store), clock_(clock), invitation_ttl_(invitation_ttl) {}

  absl::Status Handle(const StreamEvent& event) {
    const ev::EventEnvelope& envelope = event.envelope;
    if (envelope.type() == "ticket.service_completed") {
      ev::TicketServiceCompleted visit;
      if (!envelope.payload().UnpackTo(&visit)) {
        return absl::DataLossError("ticket.service_completed without payload");
      }
      return Visit(envelope, visit);
    }
    if (envelope.type() == "complaint.resolved") {
      ev::ComplaintResolved resolved;
      if (!envelope.payload().UnpackTo(&resolved)) {
        return absl::DataLossError("complaint.resolved without payload");
      }
      if (resolved.office_id().empty() ||
          resolved.receipt_secret_sha256().empty()) {
        return absl::OkStatus();  // nowhere to score it, or nobody to ask
      }
      v1::Invitation invitation = BaseInvitation(envelope);
      invitation.set_office_id(resolved.office_id());
      invitation.set_service_id(resolved.service_id());
      invitation.set_officer_id(resolved.officer_id());
      invitation.set_source(v1::INVITATION_SOURCE_COMPLAINT);
      invitation.set_source_id(resolved.complaint_id());
      return Invite(envelope, invitation, resolved.receipt_secret_sha256());
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Visit(const ev::EventEnvelope& envelope,
                     const ev::TicketServiceCompleted& visit) {
    const absl::CivilDay day(visit.local_date().year(),
                             visit.local_date().month(),
                             visit.local_date().day());
    if (visit.office_id().empty() || visit.local_date().year() == 0) {
      Log(LogLevel::kWarn, "ticket.service_completed without office or date",
          LogFields().Add("event", envelope.id()));
      return absl::OkStatus();
    }
    absl::StatusOr<bool> counted = Await<bool>([&](Done<bool> done) {
      store_.CountVisit(envelope.id(), VisitScopes(envelope.agency(), visit),
                        StoredPeriodKeysOf(day), std::move(done));
    });
    if (!counted.ok()) return counted.status();
    if (visit.receipt_secret_sha256().empty()) return absl::OkStatus();
    v1::Invitation invitation = BaseInvitation(envelope);
    invitation.set_office_id(visit.office_id());
    invitation.set_service_id(visit.service_id());
    invitation.set_officer_id(visit.officer_id());
    invitation.set_source(v1::INVITATION_SOURCE_TICKET);
    invitation.set_source_id(visit.ticket_id());
    return Invite(envelope, invitation, visit.receipt_secret_sha256());
  }

  v1::Invitation BaseInvitation(const ev::EventEnvelope& envelope) const {
    const absl::Time now = clock_.Now();
    v1::Invitation invitation;
    invitation.set_agency_id(envelope.agency());
    invitation.set_template_id(kInvitationTemplate);
    invitation.set_template_version(
        FindBuiltInTemplate(kInvitationTemplate)->version);
    *invitation.mutable_create_time() = ToProtoTime(now);
    *invitation.mutable_expire_time() = ToProtoTime(now + invitation_ttl_);
    return invitation;
  }

  // Once per source (the store keeps one invitation per ticket or
  // complaint), and once per event (the idempotency key).
  absl::Status Invite(const ev::EventEnvelope& envelope,
                      const v1::Invitation& invitation,
                      const std::string& token_sha) {
    const SatisfactionActor actor{absl::StrCat("event:", envelope.id()),
                                  "invitation"};
    absl::StatusOr<v1::Invitation> stored =
        Await<v1::Invitation>([&](Done<v1::Invitation> done) {
          store_.CreateInvitation(invitation, token_sha, actor,
                                  std::move(done));
        });
    if (absl::IsInvalidArgument(stored.status())) {
      // Bad ids in an event: nobody can answer it; retrying changes nothing.
      Log(LogLevel::kWarn, "invitation refused",
          LogFields()
              .Add("event", envelope.id())
              .Add("error", stored.status().ToString()));
      return absl::OkStatus();
    }
    return stored.status();
  }

  SatisfactionStore& store_;
  const Clock& clock_;
  const absl::Duration invitation_ttl_;
};

}  // namespace

ConsumerOptions VisitConsumerOptions(absl::string_view producer) {
  ConsumerOptions options;
  options.stream = EventStreamKey(producer);
  options.group = kGroup;
  return options;
}

EventHandler MakeVisitHandler(SatisfactionStore& store, const Clock& clock,
                              absl::Duration invitation_ttl) {
  auto handler = std::make_shared<VisitHandler>(store, clock, invitation_ttl);
  return [handler](const StreamEvent& event, SyncRedis&) {
    return handler->Handle(event);
  };
}

}  // namespace prima::satisfaction

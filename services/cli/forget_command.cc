#include "services/cli/forget_command.h"

#include "grpcpp/grpcpp.h"
#include "proto/fieldloop/v1/admin.grpc.pb.h"

namespace fieldloop::cli {

int RunForget(const ForgetOptions& o, std::FILE* out, std::FILE* err) {
  if (o.server.empty() || o.initiative.empty() || (o.record_ids.empty() && o.rep_id.empty())) {
    std::fprintf(err,
                 "fieldloop forget: needs --server HOST:PORT, --initiative NAME and at least one "
                 "--record_id ID or --rep_id REP\n");
    return 1;
  }
  auto channel = Connect("forget", o.server, o.connect_timeout_s, err, o.transport);
  if (channel == nullptr) return 1;
  auto stub = fieldloop::v1::Admin::NewStub(channel);
  grpc::ClientContext context;
  fieldloop::v1::ForgetRequest request;
  request.set_initiative(o.initiative);
  request.set_rep_id(o.rep_id);
  for (const std::string& id : o.record_ids) request.add_records()->set_id(id);
  fieldloop::v1::ForgetResponse response;
  grpc::Status s = stub->Forget(&context, request, &response);
  if (!s.ok()) {
    std::fprintf(err, "fieldloop forget: %s\n", s.error_message().c_str());
    return 2;
  }
  const long long total = response.feedback_events() + response.call_transcripts() +
                          response.win_loss_notes() + response.content_assets() +
                          response.onboarding_metrics();
  if (total == 0) {
    std::fprintf(out, "forget %s: nothing matched; nothing removed\n", o.initiative.c_str());
    return 0;
  }
  std::fprintf(out,
               "forget %s: %lld records removed (%lld feedback events, %lld call transcripts, "
               "%lld win/loss notes, %lld content assets, %lld onboarding metrics)\n"
               "  themes rebuilt: %lld live before, %lld after; version %lld\n"
               "  not removed: boards and plans already written, backups, webhook deliveries\n",
               o.initiative.c_str(), total, static_cast<long long>(response.feedback_events()),
               static_cast<long long>(response.call_transcripts()),
               static_cast<long long>(response.win_loss_notes()),
               static_cast<long long>(response.content_assets()),
               static_cast<long long>(response.onboarding_metrics()),
               static_cast<long long>(response.themes_before()),
               static_cast<long long>(response.themes_after()),
               static_cast<long long>(response.version()));
  return 0;
}

}  // namespace fieldloop::cli

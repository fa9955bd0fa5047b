#include "services/admin_service.h"

#include "services/rpc_conversions.h"
#include "storage/keys.h"

namespace fieldloop::services {

grpc::Status AdminService::Backup(grpc::ServerContext* context,
                                  const fieldloop::v1::BackupRequest* request,
                                  fieldloop::v1::BackupResponse* response) {
  // A backup holds every initiative: an admin token with `*`.
  if (grpc::Status s = CheckAccessAll(authorizer_, *context, "Admin.Backup", Permission::kAdmin);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<storage::CheckpointInfo> info = backups_->Create(request->name());
  if (!info.ok()) return ToGrpc(info.status());
  response->set_dir(info->dir);
  response->set_bytes(info->bytes);
  response->set_schema_version(info->schema_version);
  for (const storage::CheckpointInitiative& i : info->initiatives) {
    fieldloop::v1::BackupInitiative* out = response->add_initiatives();
    out->set_initiative(i.initiative);
    out->set_last_sequence(i.last_sequence);
    out->set_applied_sequence(i.applied_sequence);
  }
  return grpc::Status::OK;
}

grpc::Status AdminService::Forget(grpc::ServerContext* context,
                                  const fieldloop::v1::ForgetRequest* request,
                                  fieldloop::v1::ForgetResponse* response) {
  if (grpc::Status s = CheckAccess(authorizer_, *context, "Admin.Forget", Permission::kAdmin,
                                   request->initiative());
      !s.ok()) {
    return s;
  }
  if (forgetter_ == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "Forget is not offered by this server");
  }
  ForgetSelection selection;
  selection.initiative = request->initiative();
  selection.rep_id = request->rep_id();
  for (int i = 0; i < request->records_size(); ++i) {
    const fieldloop::v1::ForgetRecord& r = request->records(i);
    ForgetSelection::RecordRef& ref = selection.records.emplace_back();
    ref.id = r.id();
    if (r.kind() == fieldloop::v1::RECORD_KIND_UNSPECIFIED) continue;
    if (!storage::IsValidRecordKind(static_cast<uint8_t>(r.kind()))) {
      return ToGrpc(absl::InvalidArgumentError(
          absl::StrCat("records[", i, "].kind: unknown record kind ", r.kind())));
    }
    // The proto's RecordKind numbers are the stored kind bytes (storage/keys.h).
    ref.kind = static_cast<storage::RecordKind>(r.kind());
  }
  absl::StatusOr<ForgetResult> result = forgetter_->Forget(selection);
  if (!result.ok()) return ToGrpc(result.status());
  response->set_feedback_events(result->feedback_events);
  response->set_call_transcripts(result->call_transcripts);
  response->set_win_loss_notes(result->win_loss_notes);
  response->set_content_assets(result->content_assets);
  response->set_onboarding_metrics(result->onboarding_metrics);
  response->set_themes_before(result->themes_before);
  response->set_themes_after(result->themes_after);
  response->set_version(static_cast<int64_t>(result->version));
  return grpc::Status::OK;
}

}  // namespace fieldloop::services

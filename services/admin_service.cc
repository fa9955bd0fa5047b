#include "services/admin_service.h"

#include "services/rpc_conversions.h"

namespace fieldloop::services {

grpc::Status AdminService::Backup(grpc::ServerContext*, const fieldloop::v1::BackupRequest* request,
                                  fieldloop::v1::BackupResponse* response) {
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

}  // namespace fieldloop::services

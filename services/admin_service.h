// AdminService: the fieldloop.v1.Admin gRPC service (proto/fieldloop/v1/admin.proto), a thin
// adapter over Backups. Synchronous handlers: a backup flushes and links files on a gRPC
// server thread, never on the callback threads that serve ingest.
#ifndef FIELDLOOP_SERVICES_ADMIN_SERVICE_H_
#define FIELDLOOP_SERVICES_ADMIN_SERVICE_H_

#include "proto/fieldloop/v1/admin.grpc.pb.h"
#include "services/backups.h"

namespace fieldloop::services {

class AdminService final : public fieldloop::v1::Admin::Service {
 public:
  // `backups` must outlive the service.
  explicit AdminService(Backups* backups) : backups_(backups) {}

  grpc::Status Backup(grpc::ServerContext* context, const fieldloop::v1::BackupRequest* request,
                      fieldloop::v1::BackupResponse* response) override;

 private:
  Backups* const backups_;
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_ADMIN_SERVICE_H_

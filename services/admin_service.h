// AdminService: the fieldloop.v1.Admin gRPC service (proto/fieldloop/v1/admin.proto), a thin
// adapter over Backups and Forgetter. Synchronous handlers: a backup flushes and links
// files, a forget rebuilds theme state, on a gRPC server thread, never on the callback
// threads that serve ingest.
#ifndef FIELDLOOP_SERVICES_ADMIN_SERVICE_H_
#define FIELDLOOP_SERVICES_ADMIN_SERVICE_H_

#include "proto/fieldloop/v1/admin.grpc.pb.h"
#include "services/auth.h"
#include "services/backups.h"
#include "services/forgetter.h"

namespace fieldloop::services {

class AdminService final : public fieldloop::v1::Admin::Service {
 public:
  // `backups`, `authorizer` and `forgetter` must outlive the service. Every call needs
  // Permission::kAdmin from `authorizer` (nullptr: no access control); Backup needs it on
  // every initiative, Forget on the initiative it names. Without a `forgetter`, Forget
  // returns UNIMPLEMENTED.
  explicit AdminService(Backups* backups, const Authorizer* authorizer = nullptr,
                        const Forgetter* forgetter = nullptr)
      : backups_(backups), authorizer_(authorizer), forgetter_(forgetter) {}

  grpc::Status Backup(grpc::ServerContext* context, const fieldloop::v1::BackupRequest* request,
                      fieldloop::v1::BackupResponse* response) override;

  grpc::Status Forget(grpc::ServerContext* context, const fieldloop::v1::ForgetRequest* request,
                      fieldloop::v1::ForgetResponse* response) override;

 private:
  Backups* const backups_;
  const Authorizer* const authorizer_;  // nullptr: no access control.
  const Forgetter* const forgetter_;    // nullptr: Forget is not offered.
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_ADMIN_SERVICE_H_

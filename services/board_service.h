// BoardService: the fieldloop.v1.Board gRPC service (proto/fieldloop/v1/board.proto), a thin
// adapter over BoardKeeper. Synchronous handlers: a Materialize waits for the theme applier
// and renders on a gRPC server thread, never on the callback threads that serve ingest.
#ifndef FIELDLOOP_SERVICES_BOARD_SERVICE_H_
#define FIELDLOOP_SERVICES_BOARD_SERVICE_H_

#include "proto/fieldloop/v1/board.grpc.pb.h"
#include "services/auth.h"
#include "services/board_keeper.h"
#include "services/clock.h"

namespace fieldloop::services {

class BoardService final : public fieldloop::v1::Board::Service {
 public:
  // `keeper` and `clock` (today's date when as_of is empty) must outlive the service.
  // Every call needs Permission::kRead from `authorizer` (nullptr: no access control) on
  // its initiative; ListInitiatives lists only the initiatives the caller covers.
  BoardService(BoardKeeper* keeper, const Clock* clock, const Authorizer* authorizer = nullptr)
      : keeper_(keeper), clock_(clock), authorizer_(authorizer) {}

  grpc::Status Materialize(grpc::ServerContext* context,
                           const fieldloop::v1::MaterializeRequest* request,
                           fieldloop::v1::MaterializeResponse* response) override;
  grpc::Status GetBoard(grpc::ServerContext* context, const fieldloop::v1::GetBoardRequest* request,
                        fieldloop::v1::GetBoardResponse* response) override;
  grpc::Status UpdateTask(grpc::ServerContext* context,
                          const fieldloop::v1::UpdateTaskRequest* request,
                          fieldloop::v1::UpdateTaskResponse* response) override;
  grpc::Status ImportPlan(grpc::ServerContext* context,
                          const fieldloop::v1::ImportPlanRequest* request,
                          fieldloop::v1::ImportPlanResponse* response) override;
  grpc::Status ListInitiatives(grpc::ServerContext* context,
                               const fieldloop::v1::ListInitiativesRequest* request,
                               fieldloop::v1::ListInitiativesResponse* response) override;

 private:
  BoardKeeper* const keeper_;
  const Clock* const clock_;
  const Authorizer* const authorizer_;  // nullptr: no access control.
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_BOARD_SERVICE_H_

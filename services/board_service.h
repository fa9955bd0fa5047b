// BoardService: the fieldloop.v1.Board gRPC service (proto/fieldloop/v1/board.proto), a thin
// adapter over BoardKeeper. Synchronous handlers: a Materialize waits for the theme applier
// and renders on a gRPC server thread, never on the callback threads that serve ingest.
#ifndef FIELDLOOP_SERVICES_BOARD_SERVICE_H_
#define FIELDLOOP_SERVICES_BOARD_SERVICE_H_

#include "proto/fieldloop/v1/board.grpc.pb.h"
#include "services/board_keeper.h"
#include "services/clock.h"

namespace fieldloop::services {

class BoardService final : public fieldloop::v1::Board::Service {
 public:
  // `keeper` and `clock` (today's date when as_of is empty) must outlive the service.
  BoardService(BoardKeeper* keeper, const Clock* clock) : keeper_(keeper), clock_(clock) {}

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
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_BOARD_SERVICE_H_

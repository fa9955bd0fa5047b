#include "services/board_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "pipeline/record_validator.h"
#include "services/rpc_conversions.h"

namespace fieldloop::services {

grpc::Status BoardService::Materialize(grpc::ServerContext* context,
                                       const fieldloop::v1::MaterializeRequest* request,
                                       fieldloop::v1::MaterializeResponse* response) {
  if (grpc::Status s = CheckAccess(authorizer_, *context, "Board.Materialize", Permission::kRead,
                                   request->initiative());
      !s.ok()) {
    return s;
  }
  absl::StatusOr<absl::CivilDay> as_of = AsOfDay(request->as_of(), *clock_);
  if (!as_of.ok()) return ToGrpc(as_of.status());
  absl::StatusOr<Materialized> m =
      keeper_->Materialize(request->initiative(), *as_of, request->keep_history());
  if (!m.ok()) return ToGrpc(m.status());
  response->set_board_path(m->result.paths.board);
  if (!m->result.stub) response->set_plan_path(m->result.paths.plan);
  response->set_stub(m->result.stub);
  response->set_themes(m->result.themes);
  response->set_tasks(static_cast<int32_t>(m->result.tasks.size()));
  response->set_as_of(absl::FormatCivilTime(*as_of));
  response->set_applied_sequence(m->applied);
  response->set_history_board_path(m->result.history_board);
  response->set_history_plan_path(m->result.history_plan);
  return grpc::Status::OK;
}

grpc::Status BoardService::GetBoard(grpc::ServerContext* context,
                                    const fieldloop::v1::GetBoardRequest* request,
                                    fieldloop::v1::GetBoardResponse* response) {
  if (grpc::Status s = CheckAccess(authorizer_, *context, "Board.GetBoard", Permission::kRead,
                                   request->initiative());
      !s.ok()) {
    return s;
  }
  absl::StatusOr<absl::CivilDay> as_of = AsOfDay(request->as_of(), *clock_);
  if (!as_of.ok()) return ToGrpc(as_of.status());
  absl::StatusOr<Rendered> r = keeper_->Render(request->initiative(), *as_of);
  if (!r.ok()) return ToGrpc(r.status());
  response->set_board_markdown(std::move(r->outputs.board));
  response->set_plan_csv(std::move(r->outputs.plan_csv));
  response->set_stub(r->outputs.stub);
  response->set_themes(r->outputs.themes);
  response->set_tasks(static_cast<int32_t>(r->outputs.tasks.size()));
  response->set_as_of(absl::FormatCivilTime(*as_of));
  response->set_applied_sequence(r->applied);
  return grpc::Status::OK;
}

grpc::Status BoardService::UpdateTask(grpc::ServerContext* context,
                                      const fieldloop::v1::UpdateTaskRequest* request,
                                      fieldloop::v1::UpdateTaskResponse* response) {
  if (grpc::Status s = CheckAccess(authorizer_, *context, "Board.UpdateTask", Permission::kRead,
                                   request->initiative());
      !s.ok()) {
    return s;
  }
  pipeline::TaskEdit edit;
  edit.task_key = request->task_key();
  if (request->has_status()) edit.status = request->status();
  if (request->has_owner()) edit.owner = request->owner();
  if (request->has_due()) edit.due = request->due();
  absl::StatusOr<state::TaskRecord> record = keeper_->UpdateTask(request->initiative(), edit);
  if (!record.ok()) return ToGrpc(record.status());
  fieldloop::v1::TaskEdits* task = response->mutable_task();
  task->set_task_key(record->task_key());
  if (record->has_status()) task->set_status(record->status());
  if (record->has_owner()) task->set_owner(record->owner());
  if (record->has_due()) task->set_due(record->due());
  return grpc::Status::OK;
}

grpc::Status BoardService::ImportPlan(grpc::ServerContext* context,
                                      const fieldloop::v1::ImportPlanRequest* request,
                                      fieldloop::v1::ImportPlanResponse* response) {
  if (grpc::Status s = CheckAccess(authorizer_, *context, "Board.ImportPlan", Permission::kRead,
                                   request->initiative());
      !s.ok()) {
    return s;
  }
  absl::StatusOr<ImportSummary> summary =
      keeper_->ImportPlan(request->initiative(), request->csv());
  if (!summary.ok()) return ToGrpc(summary.status());
  response->set_rows(summary->rows);
  response->set_updated(summary->updated);
  response->set_unchanged(summary->unchanged);
  for (std::string& e : summary->errors) response->add_errors(std::move(e));
  return grpc::Status::OK;
}

grpc::Status BoardService::ListInitiatives(grpc::ServerContext* context,
                                           const fieldloop::v1::ListInitiativesRequest*,
                                           fieldloop::v1::ListInitiativesResponse* response) {
  Caller caller;
  if (grpc::Status s =
          AdmitCaller(authorizer_, *context, "Board.ListInitiatives", Permission::kRead, &caller);
      !s.ok()) {
    return s;
  }
  // Only those the caller may touch: a scoped token does not learn the others' names.
  for (const std::string& i : keeper_->Initiatives()) {
    if (caller.Covers(i)) response->add_initiatives(i);
  }
  return grpc::Status::OK;
}

}  // namespace fieldloop::services

// PlanObserver: what BoardKeeper tells about each refresh plan it writes, so that something
// else (the tasks webhook, services/tasks_webhook.h) can act on the tasks without BoardKeeper
// knowing what it is.
#ifndef FIELDLOOP_SERVICES_PLAN_OBSERVER_H_
#define FIELDLOOP_SERVICES_PLAN_OBSERVER_H_

#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "pipeline/refresh_plan.h"
#include "pipeline/task_edits.h"

namespace fieldloop::services {

class PlanObserver {
 public:
  virtual ~PlanObserver() = default;

  // Called once per materialization of `initiative` (Board.Materialize, the schedule,
  // `fieldloop snapshot`) after its files were written and its task records stored, with
  // BoardKeeper's lock held: calls come one at a time, in the order of the
  // materializations, and must return quickly (never wait on the network). `tasks` are the
  // plan's tasks in board order with people's edits applied (none for a stub board);
  // `records` are the task records of the initiative as now stored, by task key (empty
  // when they could not be read). Neither is kept by BoardKeeper after the call.
  virtual void OnPlanWritten(const std::string& initiative, absl::CivilDay as_of,
                             const std::vector<pipeline::RefreshTask>& tasks,
                             const pipeline::TaskRecords& records) = 0;
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_PLAN_OBSERVER_H_

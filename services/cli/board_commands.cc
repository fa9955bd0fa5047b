#include "services/cli/board_commands.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "absl/strings/str_split.h"
#include "grpcpp/grpcpp.h"
#include "pipeline/record_validator.h"
#include "proto/fieldloop/v1/board.grpc.pb.h"
#include "services/board_keeper.h"
#include "services/cli/connect.h"
#include "services/cli/run_command.h"
#include "storage/store.h"

namespace fieldloop::cli {
namespace {

// A Board stub on `server`, or nullptr after printing why.
std::unique_ptr<fieldloop::v1::Board::Stub> BoardStub(const char* command,
                                                      const std::string& server, int timeout_s,
                                                      std::FILE* err,
                                                      const TransportOptions& transport) {
  auto channel = Connect(command, server, timeout_s, err, transport);
  return channel == nullptr ? nullptr : fieldloop::v1::Board::NewStub(channel);
}

// The initiative of a path ".../specs/projects/<initiative>/sales/<file>", "" otherwise.
std::string InitiativeOfPath(const std::string& path) {
  std::vector<std::string> parts = absl::StrSplit(path, '/');
  const size_t n = parts.size();
  if (n >= 5 && parts[n - 2] == "sales" && parts[n - 4] == "projects" && parts[n - 5] == "specs") {
    return parts[n - 3];
  }
  return "";
}

int PrintImport(int rows, int updated, int unchanged, const std::vector<std::string>& errors,
                const std::string& file, std::FILE* out, std::FILE* err) {
  std::fprintf(out, "%d rows read: %d tasks updated, %d unchanged, %d skipped\n", rows, updated,
               unchanged, rows - updated - unchanged);
  for (const std::string& e : errors) std::fprintf(err, "%s: %s\n", file.c_str(), e.c_str());
  return errors.empty() ? 0 : 2;
}

}  // namespace

int RunSnapshot(const SnapshotOptions& o, std::FILE* out, std::FILE* err) {
  if (o.server.empty()) {
    std::fprintf(err, "fieldloop snapshot: --server HOST:PORT is required\n");
    return 1;
  }
  // A malformed date is a usage error, found before connecting; the server would otherwise
  // fail every initiative with it (exit 2), or none when it has no initiatives (exit 0).
  if (!o.as_of.empty()) {
    if (absl::StatusOr<absl::CivilDay> day = pipeline::ParseDay(o.as_of); !day.ok()) {
      std::fprintf(err, "fieldloop snapshot: --as_of %s\n",
                   std::string(day.status().message()).c_str());
      return 1;
    }
  }
  auto stub = BoardStub("snapshot", o.server, o.connect_timeout_s, err, o.transport);
  if (stub == nullptr) return 1;
  std::vector<std::string> initiatives;
  if (!o.initiative.empty()) {
    initiatives.push_back(o.initiative);
  } else {
    grpc::ClientContext context;
    fieldloop::v1::ListInitiativesResponse list;
    grpc::Status s = stub->ListInitiatives(&context, {}, &list);
    if (!s.ok()) {
      std::fprintf(err, "fieldloop snapshot: listing initiatives: %s\n", s.error_message().c_str());
      return 1;
    }
    initiatives.assign(list.initiatives().begin(), list.initiatives().end());
  }
  int failed = 0;
  for (const std::string& initiative : initiatives) {
    grpc::ClientContext context;
    fieldloop::v1::MaterializeRequest request;
    request.set_initiative(initiative);
    request.set_as_of(o.as_of);
    request.set_keep_history(true);
    fieldloop::v1::MaterializeResponse response;
    grpc::Status s = stub->Materialize(&context, request, &response);
    if (!s.ok()) {
      ++failed;
      std::fprintf(err, "fieldloop snapshot: %s: %s\n", initiative.c_str(),
                   s.error_message().c_str());
      continue;
    }
    std::fprintf(out, "%s (as of %s): %d themes, %d tasks%s\n  board: %s\n", initiative.c_str(),
                 response.as_of().c_str(), response.themes(), response.tasks(),
                 response.stub() ? " (stub: no feedback, no plan)" : "",
                 response.board_path().c_str());
    if (!response.plan_path().empty()) {
      std::fprintf(out, "  plan:  %s\n", response.plan_path().c_str());
    }
    std::fprintf(out, "  history: %s\n", response.history_board_path().c_str());
  }
  return failed > 0 ? 2 : 0;
}

int RunImportPlan(const ImportPlanOptions& o, std::FILE* out, std::FILE* err) {
  if (o.file.empty()) {
    std::fprintf(err, "fieldloop import-plan: no file given\n");
    return 1;
  }
  const std::string initiative = o.initiative.empty() ? InitiativeOfPath(o.file) : o.initiative;
  if (initiative.empty()) {
    std::fprintf(err,
                 "fieldloop import-plan: --initiative is required when %s is not under "
                 "specs/projects/<initiative>/sales/\n",
                 o.file.c_str());
    return 1;
  }
  std::ifstream in(o.file, std::ios::binary);
  if (!in) {
    std::fprintf(err, "fieldloop import-plan: cannot read %s\n", o.file.c_str());
    return 1;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  if (!o.server.empty()) {
    auto stub = BoardStub("import-plan", o.server, o.connect_timeout_s, err, o.transport);
    if (stub == nullptr) return 1;
    grpc::ClientContext context;
    fieldloop::v1::ImportPlanRequest request;
    request.set_initiative(initiative);
    request.set_csv(buf.str());
    fieldloop::v1::ImportPlanResponse response;
    grpc::Status s = stub->ImportPlan(&context, request, &response);
    if (!s.ok()) {
      std::fprintf(err, "fieldloop import-plan: %s: %s\n", o.file.c_str(),
                   s.error_message().c_str());
      return 1;
    }
    return PrintImport(response.rows(), response.updated(), response.unchanged(),
                       {response.errors().begin(), response.errors().end()}, o.file, out, err);
  }
  const std::string data_dir = OneShotDataDir(o.out.empty() ? "." : o.out, o.data_dir);
  storage::StoreOptions store_options;
  store_options.create_if_missing = false;
  auto store = storage::Store::Open(data_dir, store_options);
  if (!store.ok()) {
    std::fprintf(err, "fieldloop import-plan: %s: %s\n", data_dir.c_str(),
                 std::string(store.status().message()).c_str());
    return 1;
  }
  auto summary = services::ImportPlanCsv(**store, initiative, buf.str());
  if (!summary.ok()) {
    std::fprintf(err, "fieldloop import-plan: %s: %s\n", o.file.c_str(),
                 std::string(summary.status().message()).c_str());
    return 1;
  }
  return PrintImport(summary->rows, summary->updated, summary->unchanged, summary->errors, o.file,
                     out, err);
}

}  // namespace fieldloop::cli

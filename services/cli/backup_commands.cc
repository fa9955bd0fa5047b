#include "services/cli/backup_commands.h"

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "proto/fieldloop/v1/admin.grpc.pb.h"
#include "services/cli/connect.h"
#include "storage/store.h"

namespace fieldloop::cli {
namespace {

unsigned long long Ull(uint64_t v) { return static_cast<unsigned long long>(v); }

// "12.3 MB" style size, for people; the exact bytes are printed next to it.
std::string HumanBytes(uint64_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1000 && unit < 4) {
    value /= 1000;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return buf;
}

void PrintInitiative(const std::string& initiative, uint64_t last, uint64_t applied,
                     std::FILE* out) {
  std::fprintf(out, "  %s: records 1..%llu, themes applied up to %llu\n", initiative.c_str(),
               Ull(last), Ull(applied));
}

int OnlineBackup(const BackupOptions& o, std::FILE* out, std::FILE* err) {
  auto channel = Connect("backup", o.server, o.connect_timeout_s, err, o.transport);
  if (channel == nullptr) return 1;
  auto stub = fieldloop::v1::Admin::NewStub(channel);
  grpc::ClientContext context;
  fieldloop::v1::BackupRequest request;
  request.set_name(o.name);
  fieldloop::v1::BackupResponse response;
  grpc::Status s = stub->Backup(&context, request, &response);
  if (!s.ok()) {
    std::fprintf(err, "fieldloop backup: %s\n", s.error_message().c_str());
    return 2;
  }
  std::fprintf(out, "backup %s: %s (%s, %llu bytes, storage schema %d)\n", o.name.c_str(),
               response.dir().c_str(), HumanBytes(response.bytes()).c_str(), Ull(response.bytes()),
               response.schema_version());
  for (const auto& i : response.initiatives()) {
    PrintInitiative(i.initiative(), i.last_sequence(), i.applied_sequence(), out);
  }
  return 0;
}

int OfflineBackup(const BackupOptions& o, std::FILE* out, std::FILE* err) {
  storage::StoreOptions store_options;
  store_options.create_if_missing = false;
  auto store = storage::Store::Open(o.data_dir, store_options);
  if (!store.ok()) {
    const std::string message(store.status().message());
    if (store.status().code() == absl::StatusCode::kUnavailable &&
        absl::StrContains(absl::AsciiStrToLower(message), "lock")) {
      std::fprintf(err,
                   "fieldloop backup: %s is in use by a running fieldloopd (it holds the store's "
                   "lock): back it up through that server with fieldloop backup --server "
                   "HOST:PORT --name NAME (fieldloopd needs --backup_root), or stop it first\n",
                   o.data_dir.c_str());
    } else {
      std::fprintf(err, "fieldloop backup: %s\n", message.c_str());
    }
    return 1;
  }
  absl::StatusOr<storage::CheckpointInfo> info = (*store)->Checkpoint(o.to);
  if (!info.ok()) {
    std::fprintf(err, "fieldloop backup: %s\n", std::string(info.status().message()).c_str());
    return 2;
  }
  std::fprintf(out, "backup of %s: %s (%s, %llu bytes, storage schema %d)\n",
               (*store)->dir().c_str(), info->dir.c_str(), HumanBytes(info->bytes).c_str(),
               Ull(info->bytes), info->schema_version);
  for (const auto& i : info->initiatives) {
    PrintInitiative(i.initiative, i.last_sequence, i.applied_sequence, out);
  }
  return 0;
}

}  // namespace

int RunBackup(const BackupOptions& o, std::FILE* out, std::FILE* err) {
  const bool online = !o.server.empty() || !o.name.empty();
  const bool offline = !o.data_dir.empty() || !o.to.empty();
  if (online == offline) {
    std::fprintf(err,
                 "fieldloop backup: give either --server HOST:PORT --name NAME (a running "
                 "server) or --data_dir DIR --to NEWDIR (a stopped one)\n");
    return 1;
  }
  if (online && (o.server.empty() || o.name.empty())) {
    std::fprintf(err, "fieldloop backup: --server and --name go together\n");
    return 1;
  }
  if (offline && (o.data_dir.empty() || o.to.empty())) {
    std::fprintf(err, "fieldloop backup: --data_dir and --to go together\n");
    return 1;
  }
  return online ? OnlineBackup(o, out, err) : OfflineBackup(o, out, err);
}

int RunRestore(const RestoreOptions& o, std::FILE* out, std::FILE* err) {
  namespace fs = std::filesystem;
  if (o.from.empty() || o.data_dir.empty()) {
    std::fprintf(err, "fieldloop restore: --from BACKUP and --data_dir NEWDIR are required\n");
    return 1;
  }
  std::error_code ec;
  if (!fs::is_regular_file(fs::path(o.from) / "CURRENT", ec)) {
    std::fprintf(err, "fieldloop restore: %s is not a backup (no RocksDB CURRENT file in it)\n",
                 o.from.c_str());
    return 1;
  }
  std::string target = o.data_dir;
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  const std::string staging = target + ".restoring";
  for (const std::string& path : {target, staging}) {
    if (fs::exists(fs::symlink_status(path, ec))) {
      std::fprintf(err, "fieldloop restore: %s exists: restore into a new directory\n",
                   path.c_str());
      return 1;
    }
  }
  if (const fs::path parent = fs::absolute(target).parent_path(); !parent.empty()) {
    fs::create_directories(parent, ec);
  }
  // From here on `staging` is ours: remove it on every failure.
  auto fail = [&](const std::string& why) {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    std::fprintf(err, "fieldloop restore: %s\n", why.c_str());
    return 1;
  };
  fs::copy(o.from, staging, fs::copy_options::recursive, ec);
  if (ec) return fail(absl::StrCat("copying ", o.from, " to ", staging, ": ", ec.message()));
  uint64_t bytes = 0;
  for (auto it = fs::recursive_directory_iterator(staging, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) bytes += it->file_size(size_ec);
  }
  std::string summary;
  int schema_version = 0;
  {
    storage::StoreOptions store_options;
    store_options.create_if_missing = false;
    auto store = storage::Store::Open(staging, store_options);
    if (!store.ok()) {
      return fail(
          absl::StrCat("the copy of ", o.from, " does not open: ", store.status().message()));
    }
    schema_version = (*store)->schema_version();
    for (const std::string& initiative : (*store)->Initiatives()) {
      absl::StatusOr<storage::SequenceNumber> applied = (*store)->AppliedSequence(initiative);
      absl::StrAppend(&summary, "  ", initiative, ": records 1..",
                      (*store)->LastSequence(initiative), ", themes applied up to ",
                      applied.ok() ? *applied : 0, "\n");
    }
  }
  fs::rename(staging, target, ec);
  if (ec) return fail(absl::StrCat("renaming ", staging, " to ", target, ": ", ec.message()));
  std::fprintf(out, "restored %s into %s (%s, %llu bytes, storage schema %d)\n%s", o.from.c_str(),
               target.c_str(), HumanBytes(bytes).c_str(), Ull(bytes), schema_version,
               summary.c_str());
  std::fprintf(out, "start the server on it: fieldloopd --data_dir=%s\n", target.c_str());
  return 0;
}

}  // namespace fieldloop::cli

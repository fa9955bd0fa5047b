// FieldloopServer: the fieldloopd process minus flag parsing. Opens the store, starts the
// Ingestor and the gRPC server (Ingest, grpc.health.v1 health, server reflection).
#ifndef FIELDLOOP_SERVICES_SERVER_H_
#define FIELDLOOP_SERVICES_SERVER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "services/board_keeper.h"
#include "services/board_service.h"
#include "services/clock.h"
#include "services/ingest_service.h"
#include "services/ingestor.h"
#include "services/materialize_schedule.h"
#include "services/theme_applier.h"
#include "storage/store.h"

namespace fieldloop::services {

struct ServerOptions {
  // host:port to listen on; port 0 picks a free one (see FieldloopServer::port()).
  // Default: 127.0.0.1:50551.
  std::string listen = "127.0.0.1:50551";
  // Directory of the RocksDB store; created when missing.
  // Default: ./data/fieldloop.
  std::string data_dir = "./data/fieldloop";
  // Sync the write-ahead log before acking (survives power loss, slower).
  // Default: false (acked records survive a crash of the process, not of the machine).
  bool sync_writes = false;
  // Largest accepted record, in bytes (serialized IngestRequest).
  // Default: 64 KiB.
  size_t max_record_bytes = 64 * 1024;
  // Keep theme state current (the theme applier). Off: an ingest-only server; records are
  // still stored and are applied when a server with it on starts on the same data.
  // Default: true.
  bool apply_themes = true;
  // Root directory of the outputs: boards and plans go to
  // <output_root>/specs/projects/<initiative>/sales/ (Board.Materialize, the schedule).
  // Default: ./out.
  std::string output_root = "./out";
  // When boards are made on their own (--materialize_every, --materialize_weekly): each run
  // materializes the initiatives with records new since their last materialization.
  // Default: off (only on request). Needs apply_themes.
  ScheduleSpec schedule;
  // Clock for timestamp validation, today's date and the schedule; nullptr means the
  // system clock.
  const Clock* clock = nullptr;
};

class FieldloopServer {
 public:
  // Opens the store and starts serving. Returns the store's error when it cannot be opened,
  // InvalidArgument for a bad option, Unavailable when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<FieldloopServer>> Start(const ServerOptions& options);

  // Shuts down (see Shutdown).
  ~FieldloopServer();

  // The port the server listens on.
  int port() const { return port_; }
  // "127.0.0.1:<port>" style address for clients.
  std::string address() const;

  // Clean shutdown: refuses new streams, lets open streams ack what they have read and end
  // with UNAVAILABLE, waits up to `grace` for them, writes what is queued. The store is
  // closed by the destructor. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(5));

  const Ingestor& ingestor() const { return *ingestor_; }
  ThemeApplier& applier() { return *applier_; }
  BoardKeeper& board_keeper() { return *board_keeper_; }
  // The schedule's thread; nullptr when the schedule is off.
  MaterializeScheduler* scheduler() { return scheduler_.get(); }

 private:
  FieldloopServer() = default;

  ServerOptions options_;
  SystemClock system_clock_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ThemeApplier> applier_;
  std::unique_ptr<Ingestor> ingestor_;
  std::unique_ptr<IngestService> ingest_service_;
  std::unique_ptr<BoardKeeper> board_keeper_;
  std::unique_ptr<BoardService> board_service_;
  std::unique_ptr<MaterializeScheduler> scheduler_;
  std::unique_ptr<grpc::Server> server_;
  std::string host_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_SERVER_H_

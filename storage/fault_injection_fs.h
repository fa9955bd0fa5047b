// FaultInjectionFs: a rocksdb::FileSystem that passes everything to a real one and, when told,
// fails writes the way a full or broken disk does, so tests can watch the store and the server
// lose and regain the ability to write without filling a real disk.
//
// Once armed with FailAfterBytes(n), writes may use n more bytes (Append and PositionedAppend,
// summed over every file whose name matches the filter); the write that does not fit and every
// write after it fail, as do Flush, Sync, Fsync and RangeSync of those files. A failing write
// writes nothing. Heal() ends the faults. Creating files, reads, renames, deletions, directory
// syncs and Close pass through, as on a real full disk (which has inodes left but no blocks):
// RocksDB can still read, start new files and clean up.
//
// Errors are IOStatus::NoSpace (not marked retryable, unlike what RocksDB's POSIX file system
// returns for ENOSPC: see docs/storage.md, "Storage faults") or IOStatus::IOError (EIO).
// Thread-safe.
#ifndef FIELDLOOP_STORAGE_FAULT_INJECTION_FS_H_
#define FIELDLOOP_STORAGE_FAULT_INJECTION_FS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/io_status.h"

namespace fieldloop::storage {

class FaultInjectionFs : public rocksdb::FileSystemWrapper {
 public:
  enum class Fault {
    kNoSpace,  // IOStatus::NoSpace: the disk is full.
    kIOError,  // IOStatus::IOError: the disk reports an I/O error.
  };

  // Wraps `base` (the machine's file system by default). Starts healthy.
  explicit FaultInjectionFs(
      std::shared_ptr<rocksdb::FileSystem> base = rocksdb::FileSystem::Default());

  static const char* kClassName() { return "FieldloopFaultInjectionFs"; }
  const char* Name() const override { return kClassName(); }

  // From now on, writes to files whose name ends with `path_suffix` (every file when empty,
  // e.g. ".sst" or ".log") may use `bytes` more bytes; then they fail with `fault` until Heal.
  // `bytes` 0 fails the next write. Replaces any earlier setting.
  void FailAfterBytes(uint64_t bytes, Fault fault = Fault::kNoSpace, std::string path_suffix = "")
      ABSL_LOCKS_EXCLUDED(mu_);

  // Ends the faults: every operation passes through again. Counters are kept.
  void Heal() ABSL_LOCKS_EXCLUDED(mu_);

  // True once a write did not fit the budget, until Heal (the "disk" is full).
  bool exhausted() const ABSL_LOCKS_EXCLUDED(mu_);
  // Operations failed on purpose since construction (writes, syncs, file creations).
  uint64_t failed_operations() const ABSL_LOCKS_EXCLUDED(mu_);
  // Bytes written through this file system since construction (failed writes excluded).
  uint64_t bytes_written() const ABSL_LOCKS_EXCLUDED(mu_);

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& file_opts,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname,
                                       const rocksdb::FileOptions& file_opts,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const rocksdb::FileOptions& file_opts,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;

  // For the file wrappers: OK when a write of `bytes` to `fname` fits (and counts it), the
  // fault otherwise. `bytes` 0 checks without counting (syncs, flushes).
  rocksdb::IOStatus ChargeWrite(const std::string& fname, uint64_t bytes, const char* op)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // The fault for an operation on `fname`, OK when it passes.
  rocksdb::IOStatus Check(const std::string& fname, uint64_t bytes, const char* op)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  bool armed_ ABSL_GUARDED_BY(mu_) = false;
  bool exhausted_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t budget_ ABSL_GUARDED_BY(mu_) = 0;
  Fault fault_ ABSL_GUARDED_BY(mu_) = Fault::kNoSpace;
  std::string suffix_ ABSL_GUARDED_BY(mu_);
  uint64_t failed_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;
};

// A FaultInjectionFs and an Env that uses it (rocksdb::NewCompositeEnv: files through `fs`,
// threads and clock from the default Env), for StoreOptions::env. Keep it alive as long as
// a store opened with `env` is.
struct FaultInjectionEnv {
  std::shared_ptr<FaultInjectionFs> fs;
  std::unique_ptr<rocksdb::Env> env;
};
FaultInjectionEnv NewFaultInjectionEnv();

}  // namespace fieldloop::storage

#endif  // FIELDLOOP_STORAGE_FAULT_INJECTION_FS_H_

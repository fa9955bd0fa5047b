#include "storage/fault_injection_fs.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace fieldloop::storage {
namespace {

// A writable file whose writes and syncs are charged to the FaultInjectionFs first.
class FaultInjectionFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultInjectionFile(std::unique_ptr<rocksdb::FSWritableFile> target, FaultInjectionFs* fs,
                     std::string fname)
      : FSWritableFileOwnerWrapper(std::move(target)), fs_(fs), fname_(std::move(fname)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->ChargeWrite(fname_, data.size(), "append");
    return s.ok() ? FSWritableFileOwnerWrapper::Append(data, options, dbg) : s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->ChargeWrite(fname_, data.size(), "append");
    return s.ok() ? FSWritableFileOwnerWrapper::Append(data, options, info, dbg) : s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->ChargeWrite(fname_, data.size(), "positioned append");
    return s.ok() ? FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, dbg) : s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->ChargeWrite(fname_, data.size(), "positioned append");
    return s.ok() ? FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, info, dbg)
                  : s;
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->ChargeWrite(fname_, 0, "flush");
    return s.ok() ? FSWritableFileOwnerWrapper::Flush(options, dbg) : s;
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->ChargeWrite(fname_, 0, "sync");
    return s.ok() ? FSWritableFileOwnerWrapper::Sync(options, dbg) : s;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->ChargeWrite(fname_, 0, "fsync");
    return s.ok() ? FSWritableFileOwnerWrapper::Fsync(options, dbg) : s;
  }
  rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->ChargeWrite(fname_, 0, "range sync");
    return s.ok() ? FSWritableFileOwnerWrapper::RangeSync(offset, nbytes, options, dbg) : s;
  }

 private:
  FaultInjectionFs* const fs_;  // Outlives its files: RocksDB closes them before the Env.
  const std::string fname_;
};

}  // namespace

FaultInjectionFs::FaultInjectionFs(std::shared_ptr<rocksdb::FileSystem> base)
    : FileSystemWrapper(std::move(base)) {}

void FaultInjectionFs::FailAfterBytes(uint64_t bytes, Fault fault, std::string path_suffix) {
  absl::MutexLock lock(&mu_);
  armed_ = true;
  exhausted_ = false;
  budget_ = bytes;
  fault_ = fault;
  suffix_ = std::move(path_suffix);
}

void FaultInjectionFs::Heal() {
  absl::MutexLock lock(&mu_);
  armed_ = false;
  exhausted_ = false;
}

bool FaultInjectionFs::exhausted() const {
  absl::MutexLock lock(&mu_);
  return exhausted_;
}

uint64_t FaultInjectionFs::failed_operations() const {
  absl::MutexLock lock(&mu_);
  return failed_;
}

uint64_t FaultInjectionFs::bytes_written() const {
  absl::MutexLock lock(&mu_);
  return written_;
}

rocksdb::IOStatus FaultInjectionFs::Check(const std::string& fname, uint64_t bytes,
                                          const char* op) {
  const bool matches = suffix_.empty() || absl::EndsWith(fname, suffix_);
  if (armed_ && matches && !exhausted_ && bytes > budget_) exhausted_ = true;
  if (!armed_ || !matches || !exhausted_) return rocksdb::IOStatus::OK();
  ++failed_;
  const std::string context = absl::StrCat("injected fault: ", op, " ", fname);
  if (fault_ == Fault::kIOError) {
    return rocksdb::IOStatus::IOError(context, "Input/output error");
  }
  // Not marked retryable: RocksDB 7.8 answers a retryable error with its own recovery at once
  // (SstFileManager), regardless of listeners, which a still-full disk turns fatal.
  return rocksdb::IOStatus::NoSpace(context, "No space left on device");
}

rocksdb::IOStatus FaultInjectionFs::ChargeWrite(const std::string& fname, uint64_t bytes,
                                                const char* op) {
  absl::MutexLock lock(&mu_);
  rocksdb::IOStatus s = Check(fname, bytes, op);
  if (!s.ok()) return s;
  if (armed_ && (suffix_.empty() || absl::EndsWith(fname, suffix_))) budget_ -= bytes;
  written_ += bytes;
  return s;
}

rocksdb::IOStatus FaultInjectionFs::NewWritableFile(
    const std::string& fname, const rocksdb::FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->NewWritableFile(fname, file_opts, &file, dbg);
  if (s.ok()) result->reset(new FaultInjectionFile(std::move(file), this, fname));
  return s;
}

rocksdb::IOStatus FaultInjectionFs::ReopenWritableFile(
    const std::string& fname, const rocksdb::FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->ReopenWritableFile(fname, file_opts, &file, dbg);
  if (s.ok()) result->reset(new FaultInjectionFile(std::move(file), this, fname));
  return s;
}

rocksdb::IOStatus FaultInjectionFs::ReuseWritableFile(
    const std::string& fname, const std::string& old_fname, const rocksdb::FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->ReuseWritableFile(fname, old_fname, file_opts, &file, dbg);
  if (s.ok()) result->reset(new FaultInjectionFile(std::move(file), this, fname));
  return s;
}

FaultInjectionEnv NewFaultInjectionEnv() {
  FaultInjectionEnv out;
  out.fs = std::make_shared<FaultInjectionFs>();
  out.env = rocksdb::NewCompositeEnv(out.fs);
  return out;
}

}  // namespace fieldloop::storage

#include "services/cli/push_command.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "pipeline/record_files.h"
#include "proto/fieldloop/v1/ingest.grpc.pb.h"
#include "services/cli/connect.h"

namespace fieldloop::cli {
namespace {

using fieldloop::v1::IngestAck;
using fieldloop::v1::IngestRequest;

struct Source {
  uint32_t file;
  uint32_t line;
};

struct Counts {
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> duplicate{0};
  std::atomic<uint64_t> rejected{0};
};

void PrintProgress(std::FILE* err, const Counts& c, absl::Time start, bool final_line) {
  const double secs = absl::ToDoubleSeconds(absl::Now() - start);
  const uint64_t acked = c.accepted + c.duplicate + c.rejected;
  std::fprintf(err,
               "\r\033[K%llu sent, %llu acked (%.0f records/s): %llu accepted, %llu duplicate, "
               "%llu rejected%s",
               static_cast<unsigned long long>(c.sent.load()),
               static_cast<unsigned long long>(acked), secs > 0 ? acked / secs : 0.0,
               static_cast<unsigned long long>(c.accepted.load()),
               static_cast<unsigned long long>(c.duplicate.load()),
               static_cast<unsigned long long>(c.rejected.load()), final_line ? "\n" : "");
  std::fflush(err);
}

}  // namespace

int RunPush(const PushOptions& options, std::FILE* out, std::FILE* err) {
  if (options.server.empty()) {
    std::fprintf(err, "fieldloop push: --server HOST:PORT is required\n");
    return kPushUsageOrIo;
  }
  if (options.files.empty()) {
    std::fprintf(err,
                 "fieldloop push: no files given (usage: fieldloop push --server HOST:PORT "
                 "[--initiative NAME] FILE...)\n");
    return kPushUsageOrIo;
  }
  // Read and parse every file first: a usage problem (missing file, bad CSV header) stops
  // before anything is sent.
  std::vector<std::string> contents(options.files.size());
  for (size_t f = 0; f < options.files.size(); ++f) {
    std::ifstream in(options.files[f], std::ios::binary);
    if (!in) {
      std::fprintf(err, "fieldloop push: cannot read %s\n", options.files[f].c_str());
      return kPushUsageOrIo;
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    contents[f] = buf.str();
    // Checks the format, the CSV header and --initiative without parsing the rows.
    absl::Status header = pipeline::CheckRecordFile(contents[f], options.initiative);
    if (!header.ok()) {
      std::fprintf(err, "fieldloop push: %s: %s\n", options.files[f].c_str(),
                   std::string(header.message()).c_str());
      return kPushUsageOrIo;
    }
  }

  auto channel = Connect("push", options.server, options.connect_timeout_s, err, options.transport);
  if (channel == nullptr) return kPushUsageOrIo;
  auto stub = fieldloop::v1::Ingest::NewStub(channel);
  grpc::ClientContext context;
  auto stream = stub->Stream(&context);

  Counts counts;
  absl::Mutex mu;
  std::vector<Source> sources;  // By request index.
  uint64_t malformed = 0;
  std::vector<std::string> problems;  // "file:line: field: reason", in file order.
  std::string file_error;
  const absl::Time start = absl::Now();

  std::thread writer([&] {
    // Writes are coalesced by gRPC (buffer hint) except every 64th and the last one: a
    // buffered write is not flushed by WritesDone, so the last record is held back until
    // it is known to be the last.
    std::optional<IngestRequest> held;
    bool broken = false;
    auto write_held = [&](bool buffer) {
      grpc::WriteOptions wo;
      if (buffer && (counts.sent + 1) % 64 != 0) wo.set_buffer_hint();
      if (!stream->Write(*held, wo)) {
        broken = true;
        return false;
      }
      ++counts.sent;
      return true;
    };
    for (size_t f = 0; f < options.files.size() && !broken; ++f) {
      absl::Status s = pipeline::ParseRecordFile(
          contents[f], options.initiative, [&](pipeline::ParsedRecord& rec) {
            if (!rec.ok) {
              absl::MutexLock lock(&mu);
              ++malformed;
              problems.push_back(
                  absl::StrCat(options.files[f], ":", rec.line, ": ", rec.field, ": ", rec.error));
              return true;
            }
            {
              absl::MutexLock lock(&mu);
              sources.push_back({static_cast<uint32_t>(f), static_cast<uint32_t>(rec.line)});
            }
            if (held.has_value() && !write_held(true)) return false;
            held = std::move(rec.request);
            return true;
          });
      if (!s.ok()) {
        absl::MutexLock lock(&mu);
        file_error = absl::StrCat(options.files[f], ": ", s.message());
        break;
      }
    }
    if (held.has_value() && !broken) write_held(false);
    stream->WritesDone();
  });

  std::atomic<bool> reading{true};
  std::thread progress;
  if (options.progress) {
    progress = std::thread([&] {
      while (reading) {
        PrintProgress(err, counts, start, false);
        for (int i = 0; i < 5 && reading; ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(40));
      }
    });
  }

  IngestAck ack;
  std::vector<std::pair<uint64_t, std::string>> rejections;
  while (stream->Read(&ack)) {
    switch (ack.status()) {
      case fieldloop::v1::ACK_STATUS_ACCEPTED:
        ++counts.accepted;
        break;
      case fieldloop::v1::ACK_STATUS_DUPLICATE:
        ++counts.duplicate;
        break;
      default: {
        ++counts.rejected;
        Source src{0, 0};
        {
          absl::MutexLock lock(&mu);
          if (ack.request_index() < sources.size()) src = sources[ack.request_index()];
        }
        // The server's message reads "<record>: <field>: <rule>"; print the rule once.
        std::string reason = ack.message();
        const std::string marker = ack.field() + ": ";
        const size_t at = reason.rfind(marker);
        if (!ack.field().empty() && at != std::string::npos)
          reason = reason.substr(at + marker.size());
        const std::string record =
            ack.record_id().empty() ? "" : absl::StrCat(" (", ack.record_id(), ")");
        rejections.emplace_back(ack.request_index(),
                                absl::StrCat(options.files[src.file], ":", src.line, ": ",
                                             ack.field(), ": ", reason, record));
      }
    }
  }
  writer.join();
  grpc::Status status = stream->Finish();
  reading = false;
  if (progress.joinable()) progress.join();
  if (options.progress) PrintProgress(err, counts, start, true);

  for (const std::string& p : problems) std::fprintf(err, "%s\n", p.c_str());
  for (const auto& [index, text] : rejections) std::fprintf(err, "%s\n", text.c_str());
  const double secs = absl::ToDoubleSeconds(absl::Now() - start);
  const uint64_t acked = counts.accepted + counts.duplicate + counts.rejected;
  std::fprintf(out,
               "pushed %zu file(s) to %s in %.2fs: %llu records sent, %llu accepted, %llu "
               "duplicate, %llu rejected, %llu malformed lines\n",
               options.files.size(), options.server.c_str(), secs,
               static_cast<unsigned long long>(counts.sent.load()),
               static_cast<unsigned long long>(counts.accepted.load()),
               static_cast<unsigned long long>(counts.duplicate.load()),
               static_cast<unsigned long long>(counts.rejected.load()),
               static_cast<unsigned long long>(malformed));
  if (!file_error.empty()) {
    std::fprintf(err, "fieldloop push: %s\n", file_error.c_str());
    return kPushUsageOrIo;
  }
  if (!status.ok() || acked != counts.sent) {
    std::fprintf(err,
                 "fieldloop push: stream ended early (%s: %s); %llu of %llu records acked; "
                 "resending is safe (stored records come back as duplicates)\n",
                 grpc::StatusCode(status.error_code()) == grpc::StatusCode::UNAVAILABLE
                     ? "UNAVAILABLE"
                     : "error",
                 status.error_message().c_str(), static_cast<unsigned long long>(acked),
                 static_cast<unsigned long long>(counts.sent.load()));
    return kPushUsageOrIo;
  }
  return (counts.rejected > 0 || malformed > 0) ? kPushRejected : kPushOk;
}

}  // namespace fieldloop::cli

// crashloop: kills fieldloopd with SIGKILL at random moments while records stream in, over
// and over on one data directory, then checks that nothing acked was lost and nothing was
// stored twice (docs/operations.md, "Crash loop").
//
// Each cycle starts fieldloopd on the data directory at 127.0.0.1:0, streams feedback
// events with random ids (some of them resends of ids sent before, acked or not) over one or
// two streams, and SIGKILLs the server a random 0..--max_kill_delay_ms after streaming
// started. Every ack received is booked. After the cycles a last server start verifies:
//  1. every id ever acked (ACCEPTED or DUPLICATE) is stored exactly once: resending every id
//     on one stream gives DUPLICATE for it, with the sequence number it was acked with
//     (ACCEPTED there means it was lost);
//  2. no id is stored twice: no id is ever seen ACCEPTED twice, every ack of an id carries
//     the same sequence number, no two ids share one, and the initiative's sequence numbers
//     are exactly 1..(distinct ids sent) once the resend has stored the never-acked ones;
//  3. after Ingest.WaitApplied, the mentions of all themes (Themes.ListThemes, every page)
//     add up to the number of stored feedback events (each text makes one document);
//  4. Board.Materialize with a fixed as_of writes the board and the CSV.
// Prints a summary; exit status 0 when all holds, 1 on any violation (listed), 2 on usage.
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "grpcpp/grpcpp.h"
#include "proto/fieldloop/v1/board.grpc.pb.h"
#include "proto/fieldloop/v1/ingest.grpc.pb.h"
#include "proto/fieldloop/v1/themes.grpc.pb.h"
#include "tests/testing/subprocess.h"

ABSL_FLAG(int, cycles, 5, "Kill-and-restart cycles before the final verification.");
ABSL_FLAG(int, records_per_cycle, 2000,
          "Records written per cycle (over all streams); the kill usually cuts them short.");
ABSL_FLAG(double, resend_fraction, 0.3,
          "Share of each cycle's records that resend an id sent before (acked or not).");
ABSL_FLAG(int, max_kill_delay_ms, 300,
          "The kill comes a uniformly random 0..this many ms after streaming starts.");
ABSL_FLAG(int, max_streams, 2, "Each cycle uses 1..this many concurrent streams.");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the random ids, resends, stream counts and delays.");
ABSL_FLAG(std::string, fieldloopd, "",
          "Path of the server binary. Empty: services/fieldloopd from the runfiles.");
ABSL_FLAG(std::string, work_dir, "",
          "Directory for the data directory (<work_dir>/data) and outputs (<work_dir>/out); "
          "must not hold an earlier run's data. Empty: a fresh directory under $TEST_TMPDIR "
          "or /tmp, removed at the end unless --keep.");
ABSL_FLAG(bool, keep, false, "Keep the fresh work directory (printed) at the end.");
ABSL_FLAG(int, progress_every, 0, "Print a progress line every this many cycles; 0: never.");

namespace fieldloop::crashloop {
namespace {

using fieldloop::v1::IngestAck;
using fieldloop::v1::IngestRequest;
using testing::Subprocess;

constexpr char kInitiative[] = "crash-loop";
constexpr char kAsOf[] = "2026-10-01";

// Texts of real words, without a framing clause (no ": ", " - ", ". "): each is exactly one
// document (pipeline/theme_model.h).
constexpr const char* kTexts[] = {
    "pricing feels too high compared with the competitor discount",
    "security review questionnaire delayed the procurement decision",
    "billing integration keeps failing during customer onboarding",
    "customers asked for better reporting dashboards and exports",
    "mobile app crashes when uploading large attachments",
    "contract renewal terms confuse the finance team",
    "training sessions were too short for new administrators",
    "data migration from spreadsheets needs too much manual effort",
};

// The record of `id`: always the same request for the same id.
IngestRequest RecordOf(const std::string& id) {
  const size_t h = std::hash<std::string>()(id);
  IngestRequest r;
  auto* e = r.mutable_feedback_event();
  e->set_id(id);
  e->set_initiative(kInitiative);
  e->set_source(fieldloop::v1::SOURCE_CALL);
  e->set_rep_id(absl::StrCat("rep-", h % 17));
  e->set_region(h % 2 ? "EMEA" : "NA");
  e->set_segment(h % 3 ? "SMB" : "Enterprise");
  e->mutable_occurred_at()->set_seconds(1782864000 + static_cast<int64_t>(h % (80 * 86400)));
  e->set_text(kTexts[(h / 7) % (sizeof kTexts / sizeof kTexts[0])]);
  return r;
}

// What was learnt about one id.
struct IdState {
  uint64_t sequence = 0;  // From its first ack; 0 while never acked.
  int acked_cycle = -1;   // Cycle of its first ack; -1 while never acked.
  int accepted = 0;       // ACCEPTED acks seen.
};

// The acks of one stream.
struct StreamRun {
  std::vector<std::string> ids;  // Requests written, in order.
  std::vector<IngestAck> acks;
  grpc::Status status;
};

// Writes `run->ids` on one Ingest.Stream to `address` and reads acks until the stream ends.
void RunStream(const std::string& address, StreamRun* run) {
  auto stub = fieldloop::v1::Ingest::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
  auto stream = stub->Stream(&context);
  std::thread writer([&] {
    for (const std::string& id : run->ids) {
      if (!stream->Write(RecordOf(id))) break;
    }
    stream->WritesDone();
  });
  IngestAck ack;
  while (stream->Read(&ack)) run->acks.push_back(ack);
  writer.join();
  run->status = stream->Finish();
}

std::string FieldloopdPath(const char* argv0) {
  if (!absl::GetFlag(FLAGS_fieldloopd).empty()) return absl::GetFlag(FLAGS_fieldloopd);
  if (std::getenv("TEST_SRCDIR") != nullptr) return testing::Runfile("services/fieldloopd");
  const char* runfiles = std::getenv("RUNFILES_DIR");
  return absl::StrCat(runfiles ? runfiles : absl::StrCat(argv0, ".runfiles").c_str(),
                      "/fieldloop/services/fieldloopd");
}

class CrashLoop {
 public:
  CrashLoop(std::string binary, std::string work_dir)
      : binary_(std::move(binary)),
        work_dir_(std::move(work_dir)),
        rng_(absl::GetFlag(FLAGS_seed)) {}

  // Runs the cycles and the verification; returns the process exit status.
  int Run() {
    const auto start = std::chrono::steady_clock::now();
    const int cycles = absl::GetFlag(FLAGS_cycles);
    const int every = absl::GetFlag(FLAGS_progress_every);
    for (int c = 0; c < cycles && violations_.size() < kMaxViolations; ++c) {
      Cycle(c);
      if (every > 0 && (c + 1) % every == 0) {
        const double s = Seconds(start);
        std::printf(
            "crashloop: cycle %d/%d: %lld sent, %lld acked, %zu ids, %zu violations, "
            "%.1f s (%.1f cycles/min)\n",
            c + 1, cycles, static_cast<long long>(sent_), static_cast<long long>(acked_),
            ids_.size(), violations_.size(), s, (c + 1) * 60.0 / s);
        std::fflush(stdout);
      }
    }
    const double loop_seconds = Seconds(start);
    if (violations_.size() < kMaxViolations) Verify();
    PrintSummary(cycles, loop_seconds, Seconds(start));
    if (violations_.empty()) {
      std::printf("crashloop: OK\n");
      return 0;
    }
    std::printf("crashloop: FAILED, %zu violation(s)%s:\n", violations_.size(),
                violations_.size() >= kMaxViolations ? " (stopped at the limit)" : "");
    for (const std::string& v : violations_) std::printf("  %s\n", v.c_str());
    return 1;
  }

 private:
  static constexpr size_t kMaxViolations = 50;

  static double Seconds(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
  }

  void Violation(std::string what) {
    if (violations_.size() < kMaxViolations) violations_.push_back(std::move(what));
  }

  // Starts fieldloopd on the data directory; sets address_. nullptr (a violation booked) when
  // it does not come up.
  std::unique_ptr<Subprocess> Start(const std::string& when) {
    const auto t0 = std::chrono::steady_clock::now();
    auto p = std::make_unique<Subprocess>(std::vector<std::string>{
        binary_, "--listen=127.0.0.1:0", "--data_dir=" + work_dir_ + "/data",
        "--output_root=" + work_dir_ + "/out", "--log_level=warning"});
    std::optional<std::string> line = p->WaitForLine("listening on ", std::chrono::seconds(60));
    if (!line) {
      p->Signal(SIGKILL);
      p->Wait();
      Violation(absl::StrCat(when, ": fieldloopd did not start: ", p->DrainOutput()));
      return nullptr;
    }
    const size_t at = line->find("listening on ") + 13;
    address_ = line->substr(at, line->find(' ', at) - at);
    const double s = Seconds(t0);
    start_seconds_max_ = std::max(start_seconds_max_, s);
    start_seconds_sum_ += s;
    ++starts_;
    return p;
  }

  // A fresh random id, or with --resend_fraction an id sent before.
  std::string NextId() {
    std::uniform_real_distribution<double> coin(0, 1);
    if (!sent_ids_.empty() && coin(rng_) < absl::GetFlag(FLAGS_resend_fraction)) {
      ++resends_;
      return sent_ids_[std::uniform_int_distribution<size_t>(0, sent_ids_.size() - 1)(rng_)];
    }
    while (true) {
      std::string id = absl::StrFormat("fb-%016x", rng_());
      if (ids_.try_emplace(id).second) {
        sent_ids_.push_back(id);
        return id;
      }
    }
  }

  // Books one ack of `id`, received in `cycle` (-1: the final resend).
  void Book(int cycle, const std::string& id, const IngestAck& ack, const std::string& where) {
    IdState& s = ids_[id];
    if (ack.record_id() != id) {
      Violation(absl::StrCat(where, ": ack for '", ack.record_id(), "' where '", id, "' was sent"));
      return;
    }
    if (ack.status() != fieldloop::v1::ACK_STATUS_ACCEPTED &&
        ack.status() != fieldloop::v1::ACK_STATUS_DUPLICATE) {
      Violation(absl::StrCat(where, ": ", id, " not stored: ", ack.ShortDebugString()));
      return;
    }
    const bool accepted = ack.status() == fieldloop::v1::ACK_STATUS_ACCEPTED;
    if (accepted) {
      ++s.accepted;
      if (s.acked_cycle >= 0 && s.acked_cycle != cycle) {
        Violation(absl::StrCat("LOST: ", id, " was acked in cycle ", s.acked_cycle, " (sequence ",
                               s.sequence, ") but ", where, " accepted it again (sequence ",
                               ack.sequence(), ")"));
      } else if (s.accepted > 1) {
        Violation(absl::StrCat("STORED TWICE: ", id, " ACCEPTED ", s.accepted, " times (", where,
                               ", sequence ", ack.sequence(), ")"));
      }
    }
    if (s.acked_cycle < 0) {
      s.acked_cycle = cycle;
      s.sequence = ack.sequence();
    } else if (ack.sequence() != s.sequence) {
      Violation(absl::StrCat(where, ": ", id, " has sequence ", ack.sequence(),
                             " but was acked with ", s.sequence, " before"));
    }
  }

  void Cycle(int cycle) {
    const std::string where = absl::StrCat("cycle ", cycle);
    std::unique_ptr<Subprocess> daemon = Start(where);
    if (!daemon) return;
    const int streams =
        std::uniform_int_distribution<int>(1, std::max(1, absl::GetFlag(FLAGS_max_streams)))(rng_);
    std::vector<StreamRun> runs(streams);
    const int n = absl::GetFlag(FLAGS_records_per_cycle);
    for (int i = 0; i < n; ++i) {
      runs[std::uniform_int_distribution<int>(0, streams - 1)(rng_)].ids.push_back(NextId());
    }
    const int delay_ms =
        std::uniform_int_distribution<int>(0, absl::GetFlag(FLAGS_max_kill_delay_ms))(rng_);
    kill_delays_ms_.push_back(delay_ms);

    std::vector<std::thread> threads;
    for (StreamRun& run : runs) threads.emplace_back(RunStream, address_, &run);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    daemon->Signal(SIGKILL);
    const int status = daemon->Wait();
    for (std::thread& t : threads) t.join();
    if (status != 128 + SIGKILL) {
      Violation(absl::StrCat(where, ": fieldloopd exited with ", status,
                             " before the kill: ", daemon->DrainOutput()));
    }

    int64_t acked_here = 0;
    bool cut_short = false;
    for (size_t r = 0; r < runs.size(); ++r) {
      const StreamRun& run = runs[r];
      sent_ += run.ids.size();
      if (run.acks.size() < run.ids.size()) cut_short = true;
      if (run.acks.size() > run.ids.size()) {
        Violation(absl::StrCat(where, " stream ", r, ": ", run.acks.size(), " acks for ",
                               run.ids.size(), " requests"));
      }
      for (size_t i = 0; i < run.acks.size() && i < run.ids.size(); ++i) {
        if (run.acks[i].request_index() != i) {
          Violation(absl::StrCat(where, " stream ", r, ": ack ", i, " has request_index ",
                                 run.acks[i].request_index()));
        }
        Book(cycle, run.ids[i], run.acks[i], absl::StrCat(where, " stream ", r));
        ++acked_here;
        if (run.acks[i].status() == fieldloop::v1::ACK_STATUS_DUPLICATE) ++duplicate_acks_;
      }
    }
    acked_ += acked_here;
    if (cut_short) ++kills_mid_stream_;
    if (acked_here == 0) ++cycles_without_ack_;
  }

  void Verify() {
    std::unique_ptr<Subprocess> daemon = Start("final start");
    if (!daemon) return;
    auto channel = grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());

    // 1 and 2: resend every id once, on one stream.
    StreamRun resend;
    resend.ids = sent_ids_;
    RunStream(address_, &resend);
    if (!resend.status.ok() || resend.acks.size() != resend.ids.size()) {
      Violation(absl::StrCat("final resend: ", resend.acks.size(), " acks for ", resend.ids.size(),
                             " records, status ", resend.status.error_message()));
    }
    std::vector<std::string> by_sequence(sent_ids_.size() + 1);
    for (size_t i = 0; i < resend.acks.size() && i < resend.ids.size(); ++i) {
      const std::string& id = resend.ids[i];
      const IngestAck& ack = resend.acks[i];
      // An id acked before must come back DUPLICATE (Book reports an ACCEPTED as lost).
      const bool was_acked = ids_[id].acked_cycle >= 0;
      if (!was_acked) {
        (ack.status() == fieldloop::v1::ACK_STATUS_ACCEPTED ? unacked_stored_now_
                                                            : unacked_stored_before_)++;
      }
      Book(-1, id, ack, "final resend");
      const uint64_t seq = ack.sequence();
      if (seq == 0 || seq >= by_sequence.size()) {
        Violation(absl::StrCat("final resend: ", id, " has sequence ", seq, ", outside 1..",
                               sent_ids_.size(), " (more records stored than ids sent)"));
      } else if (!by_sequence[seq].empty() && by_sequence[seq] != id) {
        Violation(
            absl::StrCat("final resend: ", id, " and ", by_sequence[seq], " share sequence ", seq));
      } else {
        by_sequence[seq] = id;
      }
    }

    // 3: every stored feedback event is one mention, once.
    {
      grpc::ClientContext context;
      fieldloop::v1::WaitAppliedRequest request;
      request.set_initiative(kInitiative);
      request.set_timeout_ms(600000);
      fieldloop::v1::WaitAppliedResponse response;
      const grpc::Status s =
          fieldloop::v1::Ingest::NewStub(channel)->WaitApplied(&context, request, &response);
      if (!s.ok()) {
        Violation(absl::StrCat("WaitApplied: ", s.error_message()));
      } else if (response.applied_sequence() != sent_ids_.size()) {
        Violation(absl::StrCat("WaitApplied: applied sequence ", response.applied_sequence(),
                               ", want ", sent_ids_.size(), " (one per distinct id)"));
      }
    }
    auto themes = fieldloop::v1::Themes::NewStub(channel);
    std::string token;
    int64_t total = -1;
    do {
      grpc::ClientContext context;
      fieldloop::v1::ListThemesRequest request;
      request.set_initiative(kInitiative);
      request.set_as_of(kAsOf);
      request.set_page_size(500);
      request.set_page_token(token);
      fieldloop::v1::ListThemesResponse response;
      const grpc::Status s = themes->ListThemes(&context, request, &response);
      if (!s.ok()) {
        Violation(absl::StrCat("ListThemes: ", s.error_message()));
        break;
      }
      total = response.total();
      for (const auto& t : response.themes()) mentions_ += t.mentions();
      themes_ += response.themes_size();
      token = response.next_page_token();
    } while (!token.empty());
    if (total >= 0 && total != themes_) {
      Violation(
          absl::StrCat("ListThemes: ", themes_, " themes over the pages, total says ", total));
    }
    if (mentions_ != static_cast<int64_t>(sent_ids_.size())) {
      Violation(absl::StrCat("themes: ", mentions_, " mentions over ", themes_,
                             " themes, want one per stored feedback event: ", sent_ids_.size()));
    }

    // 4: the board and the plan.
    {
      grpc::ClientContext context;
      fieldloop::v1::MaterializeRequest request;
      request.set_initiative(kInitiative);
      request.set_as_of(kAsOf);
      fieldloop::v1::MaterializeResponse response;
      const grpc::Status s =
          fieldloop::v1::Board::NewStub(channel)->Materialize(&context, request, &response);
      std::error_code ec;
      if (!s.ok()) {
        Violation(absl::StrCat("Materialize: ", s.error_message()));
      } else if (response.stub() || response.plan_path().empty() ||
                 std::filesystem::file_size(response.board_path(), ec) == 0 ||
                 std::filesystem::file_size(response.plan_path(), ec) == 0) {
        Violation(absl::StrCat("Materialize: no board or no CSV: ", response.ShortDebugString()));
      } else if (response.applied_sequence() != sent_ids_.size()) {
        Violation(absl::StrCat("Materialize: applied sequence ", response.applied_sequence(),
                               ", want ", sent_ids_.size()));
      } else {
        board_ = absl::StrCat(response.themes(), " themes, ", response.tasks(), " tasks");
      }
    }
    daemon->Signal(SIGTERM);
    if (const int status = daemon->Wait(); status != 0) {
      Violation(absl::StrCat("final fieldloopd exited with ", status, ": ", daemon->DrainOutput()));
    }
  }

  void PrintSummary(int cycles, double loop_seconds, double total_seconds) {
    std::vector<int> d = kill_delays_ms_;
    std::sort(d.begin(), d.end());
    auto at = [&d](double q) { return d.empty() ? 0 : d[static_cast<size_t>(q * (d.size() - 1))]; };
    int64_t lost = 0;
    for (const std::string& v : violations_) lost += v.rfind("LOST", 0) == 0;
    std::printf("crashloop summary (seed %llu):\n",
                static_cast<unsigned long long>(absl::GetFlag(FLAGS_seed)));
    std::printf("  cycles: %zu of %d (SIGKILL each), %lld cut a stream short\n", d.size(), cycles,
                static_cast<long long>(kills_mid_stream_));
    std::printf("  records sent: %lld (%lld resends of an earlier id), distinct ids: %zu\n",
                static_cast<long long>(sent_), static_cast<long long>(resends_), sent_ids_.size());
    std::printf("  acked before the kills: %lld (%lld duplicate); cycles with no ack: %lld\n",
                static_cast<long long>(acked_), static_cast<long long>(duplicate_acks_),
                static_cast<long long>(cycles_without_ack_));
    std::printf("  final resend: never-acked ids already stored %lld, stored now %lld\n",
                static_cast<long long>(unacked_stored_before_),
                static_cast<long long>(unacked_stored_now_));
    std::printf("  lost: %lld, violations: %zu\n", static_cast<long long>(lost),
                violations_.size());
    std::printf("  themes: %lld, mentions: %lld; board: %s\n", static_cast<long long>(themes_),
                static_cast<long long>(mentions_), board_.empty() ? "-" : board_.c_str());
    std::printf("  kill delay ms: min %d, median %d, p90 %d, max %d\n", at(0), at(0.5), at(0.9),
                at(1));
    std::printf("  fieldloopd start: mean %.0f ms, max %.0f ms over %d starts\n",
                starts_ ? 1000 * start_seconds_sum_ / starts_ : 0.0, 1000 * start_seconds_max_,
                starts_);
    std::printf("  time: %.1f s cycles (%.1f cycles/min), %.1f s in all\n", loop_seconds,
                loop_seconds > 0 ? d.size() * 60.0 / loop_seconds : 0.0, total_seconds);
  }

  const std::string binary_;
  const std::string work_dir_;
  std::mt19937_64 rng_;
  std::string address_;
  absl::flat_hash_map<std::string, IdState> ids_;
  std::vector<std::string> sent_ids_;  // Distinct ids, in order of first sending.
  std::vector<std::string> violations_;
  std::vector<int> kill_delays_ms_;
  int64_t sent_ = 0, acked_ = 0, resends_ = 0, duplicate_acks_ = 0, kills_mid_stream_ = 0;
  int64_t cycles_without_ack_ = 0;  // A write stall (or a kill before the first ack).
  int64_t unacked_stored_before_ = 0, unacked_stored_now_ = 0, themes_ = 0, mentions_ = 0;
  std::string board_;
  int starts_ = 0;
  double start_seconds_sum_ = 0, start_seconds_max_ = 0;
};

}  // namespace
}  // namespace fieldloop::crashloop

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Kills fieldloopd at random moments while records stream in, then verifies that no "
      "acked record was lost and none was stored twice. Exit status: 0 all held, 1 violations.");
  absl::ParseCommandLine(argc, argv);
  std::string work_dir = absl::GetFlag(FLAGS_work_dir);
  const bool fresh = work_dir.empty();
  if (fresh) {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string tmpl = absl::StrCat(base ? base : "/tmp", "/crashloop-XXXXXX");
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::fprintf(stderr, "crashloop: cannot create a directory %s\n", tmpl.c_str());
      return 2;
    }
    work_dir = tmpl;
  } else if (std::filesystem::exists(work_dir + "/data")) {
    std::fprintf(stderr, "crashloop: %s/data exists; give an empty --work_dir\n", work_dir.c_str());
    return 2;
  }
  const std::string binary = fieldloop::crashloop::FieldloopdPath(argv[0]);
  if (!std::filesystem::exists(binary)) {
    std::fprintf(stderr, "crashloop: no fieldloopd at %s (--fieldloopd)\n", binary.c_str());
    return 2;
  }
  std::printf("crashloop: %d cycles of up to %d records, seed %llu, work dir %s\n",
              absl::GetFlag(FLAGS_cycles), absl::GetFlag(FLAGS_records_per_cycle),
              static_cast<unsigned long long>(absl::GetFlag(FLAGS_seed)), work_dir.c_str());
  std::fflush(stdout);
  const int status = fieldloop::crashloop::CrashLoop(binary, work_dir).Run();
  if (fresh && !absl::GetFlag(FLAGS_keep)) {
    std::error_code ignored;
    std::filesystem::remove_all(work_dir, ignored);
  }
  return status;
}

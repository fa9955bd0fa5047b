// Replays the checked-in seed corpus of every fuzz target (tests/fuzz/corpus/<target>/*) and
// a set of generated hostile inputs through the targets, with the normal toolchain: a broken
// invariant abort()s and fails this test. Prints one line per hostile input and target with
// what the parser made of it (docs/hardening.md shows the table).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "pipeline/csv_reader.h"
#include "pipeline/plan_import.h"
#include "pipeline/record_files.h"
#include "pipeline/record_validator.h"
#include "pipeline/text_normalizer.h"
#include "proto/fieldloop/v1/ingest.pb.h"
#include "tests/fuzz/fuzz_targets.h"

namespace fieldloop::fuzz {
namespace {

namespace fs = std::filesystem;
using Target = int (*)(const uint8_t*, size_t);

struct NamedTarget {
  const char* corpus;  // Directory under tests/fuzz/corpus/.
  Target fn;
  // What the parser made of the input, for the report.
  std::function<std::string(const std::string&)> describe;
};

int Feed(Target fn, const std::string& bytes) {
  return fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

std::string DescribeRecordFile(const std::string& in) {
  int ok = 0, bad = 0;
  std::string first_error;
  const absl::Status s = pipeline::ParseRecordFile(in, "q3-push", [&](pipeline::ParsedRecord& r) {
    if (r.ok) {
      ++ok;
    } else {
      ++bad;
      if (first_error.empty()) first_error = r.field + ": " + r.error.substr(0, 60);
    }
    return true;
  });
  std::string out = absl::StrCat(ok, " ok, ", bad, " malformed");
  if (!first_error.empty()) absl::StrAppend(&out, " (", first_error, ")");
  if (!s.ok()) absl::StrAppend(&out, "; file: ", s.message().substr(0, 60));
  return out;
}

std::string DescribeValidator(const std::string& in) {
  const absl::Time now = absl::FromUnixSeconds(1795000000);
  auto verdict = [&](const fieldloop::v1::IngestRequest& r) -> std::string {
    const auto rej = pipeline::Validate(r, r.ByteSizeLong(), {}, now);
    if (!rej) return "accepted";
    return absl::StrCat("rejected ", fieldloop::v1::RejectCode_Name(rej->code), " at '", rej->field,
                        "'");
  };
  fieldloop::v1::IngestRequest binary, json;
  std::string out =
      binary.ParseFromString(in) ? "binary: " + verdict(binary) : std::string("binary: unparsable");
  const auto js = google::protobuf::util::JsonStringToMessage(in, &json);
  absl::StrAppend(&out, "; json: ", js.ok() ? verdict(json) : "unparsable");
  return out;
}

std::string DescribeNormalizer(const std::string& in) {
  pipeline::TextNormalizer n;
  return absl::StrCat(n.Normalize(in).size(), " terms, fold ",
                      pipeline::TextNormalizer::Fold(in).size(), " bytes");
}

std::string DescribePlan(const std::string& in) {
  const absl::StatusOr<pipeline::ParsedPlan> p = pipeline::ParsePlanCsv(in);
  if (!p.ok()) return absl::StrCat("file rejected: ", p.status().message().substr(0, 60));
  return absl::StrCat(p->edits.size(), " edits, ", p->errors.size(), " row errors");
}

std::string DescribeCsv(const std::string& in) {
  const pipeline::CsvTable t = pipeline::SplitCsv(in);
  return absl::StrCat(t.rows.size(), " rows",
                      t.status.ok() ? "" : absl::StrCat("; ", t.status.message()));
}

const std::vector<NamedTarget>& Targets() {
  static const auto* targets = new std::vector<NamedTarget>{
      {"record_file", FuzzRecordFile, DescribeRecordFile},
      {"record_validator", FuzzRecordValidator, DescribeValidator},
      {"text_normalizer", FuzzTextNormalizer, DescribeNormalizer},
      {"plan_import", FuzzPlanImport, DescribePlan},
      {"csv_reader", FuzzCsvReader, DescribeCsv},
  };
  return *targets;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string Repeat(const std::string& s, int n) {
  std::string out;
  out.reserve(s.size() * n);
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// A distinct lower-case word per i ("ba", "ca", ..., base 26 digits after a fixed 'w').
std::string Word(int i) {
  std::string w = "w";
  do {
    w.push_back(static_cast<char>('a' + i % 26));
    i /= 26;
  } while (i > 0);
  return w;
}

// `s` with every byte outside printable ASCII (and '|', which would split a table cell)
// shown as '?', for the report.
std::string Printable(std::string s) {
  for (char& c : s) {
    if (c < 0x20 || c > 0x7e || c == '|') c = '?';
  }
  return s;
}

struct Hostile {
  std::string name;
  std::string bytes;
};

std::vector<Hostile> HostileInputs() {
  const std::string mb(1 << 20, 'x');
  const std::string bad_utf8 =
      "\xC0\x80 \xED\xA0\x80 \xF4\x90\x80\x80 \xFF\xFE \xE2\x82 caf\xC3\xA9 \xF0\x9F\x98";
  std::string words;
  for (int i = 0; i < 1000000; ++i) absl::StrAppend(&words, Word(i), " ");
  std::string plan_rows = "task_key,status,owner,due\n";
  for (int i = 0; i < 100000; ++i) absl::StrAppend(&plan_rows, "k", i, ",open,'=x,2026-12-01\n");
  return {
      {"1 MB single token", mb},
      {"1 MB text in a JSON record",
       absl::StrCat(R"({"feedback_event": {"id": "f1", "initiative": "q3-push", )",
                    R"("source": "SOURCE_CALL", "occurred_at": "2026-04-01T00:00:00Z", "text": ")",
                    mb, "\"}}")},
      {"1 MB unterminated quoted cell", "asset_id,title\n\"" + mb},
      {"10^5 nested JSON arrays",
       R"({"feedback_event": )" + std::string(100000, '[') + std::string(100000, ']') + "}"},
      {"10^5 nested JSON objects",
       Repeat(R"({"feedback_event":)", 100000) + "1" + std::string(100000, '}')},
      {"invalid UTF-8 (overlong, surrogate, >U+10FFFF, truncated)", Repeat(bad_utf8 + "\n", 1000)},
      {"invalid UTF-8 in a JSON record",
       absl::StrCat(R"({"feedback_event": {"id": "f1", "initiative": "q3-push", "text": ")",
                    bad_utf8, "\"}}")},
      {"NUL bytes", std::string(4096, '\0')},
      {"NUL bytes in CSV cells", std::string("task_key,status\nk\0ey,op\0en\n", 26)},
      {"path-like initiative in JSON",
       R"({"feedback_event": {"id": "f1", "initiative": "../../etc", "source": "SOURCE_CALL", )"
       R"("occurred_at": "2026-04-01T00:00:00Z", "text": "pricing is too high"}})"},
      {"10^6 distinct words", words},
      {"10^5 plan rows", plan_rows},
  };
}

TEST(CorpusReplay, EverySeedPassesItsTarget) {
  for (const NamedTarget& t : Targets()) {
    const fs::path dir = fs::path("tests/fuzz/corpus") / t.corpus;
    ASSERT_TRUE(fs::is_directory(dir)) << dir;
    int files = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      ++files;
      SCOPED_TRACE(entry.path().string());
      EXPECT_EQ(Feed(t.fn, ReadFile(entry.path())), 0);
    }
    EXPECT_GE(files, 3) << "seed corpus of " << t.corpus << " is too small";
    std::printf("corpus %-17s %d files\n", t.corpus, files);
  }
}

TEST(CorpusReplay, EveryCorpusFileFeedsEveryTarget) {
  // Cross-feeding: a CSV seed is hostile input for the JSON parser and the other way round.
  for (const NamedTarget& from : Targets()) {
    for (const auto& entry : fs::directory_iterator(fs::path("tests/fuzz/corpus") / from.corpus)) {
      const std::string bytes = ReadFile(entry.path());
      for (const NamedTarget& t : Targets()) EXPECT_EQ(Feed(t.fn, bytes), 0);
    }
  }
}

TEST(CorpusReplay, HostileInputsKeepEveryInvariant) {
  std::printf("| input | target | result | ms |\n| --- | --- | --- | --- |\n");
  for (const Hostile& h : HostileInputs()) {
    for (const NamedTarget& t : Targets()) {
      SCOPED_TRACE(h.name + " -> " + t.corpus);
      const auto start = std::chrono::steady_clock::now();
      EXPECT_EQ(Feed(t.fn, h.bytes), 0);
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      std::printf("| %s | %s | %s | %.0f |\n", h.name.c_str(), t.corpus,
                  Printable(t.describe(h.bytes)).c_str(), ms);
    }
  }
}

TEST(CorpusReplay, PathLikeInitiativeArgumentNeverYieldsAnAcceptedRecord) {
  // ParseRecordFile copies --initiative into CSV rows as given; the validator must stop it
  // before it names a directory.
  const absl::Time now = absl::FromUnixSeconds(1795000000);
  for (const std::string initiative : {"../../etc", "/etc/passwd", "..", "a/b", "Q3-PUSH"}) {
    const std::string csv =
        "asset_id,title,type,owner,last_updated,tags\n"
        "cnt-1,Deck,deck,Dana,2026-05-01,pricing\n";
    EXPECT_TRUE(pipeline::CheckRecordFile(csv, initiative).ok());
    int records = 0;
    ASSERT_TRUE(pipeline::ParseRecordFile(csv, initiative, [&](pipeline::ParsedRecord& r) {
                  ++records;
                  EXPECT_TRUE(r.ok) << r.error;
                  const auto rej = pipeline::Validate(r.request, r.request.ByteSizeLong(), {}, now);
                  EXPECT_TRUE(rej.has_value()) << initiative;
                  if (rej) {
                    EXPECT_EQ(rej->field, "content_asset.initiative");
                  }
                  return true;
                }).ok());
    EXPECT_EQ(records, 1);
    EXPECT_FALSE(pipeline::IsValidInitiative(initiative));
  }
}

}  // namespace
}  // namespace fieldloop::fuzz

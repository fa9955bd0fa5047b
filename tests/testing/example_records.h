// The bundled example initiative (examples/q3-push) as IngestRequests, for tests that need
// realistic records. Needs `data = ["//examples:q3_push"]`.
#ifndef FIELDLOOP_TESTS_TESTING_EXAMPLE_RECORDS_H_
#define FIELDLOOP_TESTS_TESTING_EXAMPLE_RECORDS_H_

#include <fstream>
#include <string>
#include <vector>

#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "pipeline/record_files.h"
#include "proto/fieldloop/v1/ingest.pb.h"
#include "tests/testing/files.h"
#include "tests/testing/subprocess.h"

namespace fieldloop::testing {

// Feedback events and transcripts, then win/loss notes, in file order. Lines that do not
// parse are skipped (the example files have none; record_files tests cover parsing).
inline std::vector<fieldloop::v1::IngestRequest> ExampleRecords() {
  std::vector<fieldloop::v1::IngestRequest> out;
  for (const char* name : {"feedback.jsonl", "win_loss.jsonl"}) {
    std::ifstream in(Runfile(std::string("examples/q3-push/") + name));
    std::string line;
    while (std::getline(in, line)) {
      fieldloop::v1::IngestRequest r;
      if (google::protobuf::util::JsonStringToMessage(line, &r).ok()) out.push_back(r);
    }
  }
  return out;
}

// Every example record: ExampleRecords(), then the content inventory and the onboarding
// metrics (their CSV rows, for initiative q3-push). Rows that do not parse fail the test.
inline std::vector<fieldloop::v1::IngestRequest> AllExampleRecords() {
  std::vector<fieldloop::v1::IngestRequest> out = ExampleRecords();
  for (const char* csv : {"content_inventory.csv", "onboarding_metrics.csv"}) {
    const std::string text = ReadFile(Runfile(std::string("examples/q3-push/") + csv));
    EXPECT_TRUE(pipeline::ParseRecordFile(text, "q3-push", [&](pipeline::ParsedRecord& r) {
                  EXPECT_TRUE(r.ok) << csv;
                  if (r.ok) out.push_back(r.request);
                  return true;
                }).ok());
  }
  return out;
}

}  // namespace fieldloop::testing

#endif  // FIELDLOOP_TESTS_TESTING_EXAMPLE_RECORDS_H_

#include "pipeline/pii_redactor.h"

#include "gtest/gtest.h"

namespace fieldloop::pipeline {
namespace {

TEST(RedactPii, MasksEmailAddresses) {
  EXPECT_EQ(RedactPii("Write to ana.diaz+deals@redwood-dental.co.uk today."),
            "Write to [email] today.");
  EXPECT_EQ(RedactPii("cc: j_smith@acme.com, k@b.io."), "cc: [email], [email].");
  // Not addresses: a handle, a channel, a missing or numeric top-level label.
  EXPECT_EQ(RedactPii("Ask @ana in #deal-desk"), "Ask @ana in #deal-desk");
  EXPECT_EQ(RedactPii("user@localhost and a@b.c1"), "user@localhost and a@b.c1");
}

TEST(RedactPii, MasksPhoneNumbers) {
  EXPECT_EQ(RedactPii("Call +1 (415) 555-0133 after 5."), "Call [phone] after 5.");
  EXPECT_EQ(RedactPii("Mobile 0612 345 678, office 030.1234.5678"),
            "Mobile [phone], office [phone]");
  EXPECT_EQ(RedactPii("Direct line 555-0133."), "Direct line [phone].");
  EXPECT_EQ(RedactPii("ring 4155550133"), "ring [phone]");
  EXPECT_EQ(RedactPii("+4930123456"), "[phone]");
}

TEST(RedactPii, LeavesNumbersThatAreNotPhones) {
  for (const char* kept :
       {"Quote was EUR 110k for 120 seats.", "Closed on 2026-11-25.", "We are 25% above.",
        "Ticket 1234567 is old", "SOC 2 Type II, ISO 27001", "v2.3.1 release", "12345678k",
        "Revenue 12,000,000 this year", "ids 10 20 30 40"}) {
    EXPECT_EQ(RedactPii(kept), kept);
  }
}

}  // namespace
}  // namespace fieldloop::pipeline

#!/usr/bin/env bash
# A few cycles of the crash loop with a fixed seed (arguments in BUILD.bazel); the binary
# finds fieldloopd through TEST_SRCDIR and works under TEST_TMPDIR.
exec "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/crashloop/crashloop" "$@"

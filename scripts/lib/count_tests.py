"""Counts test cases from Bazel's test.xml files and prints "N passed, N failed".

Usage: count_tests.py TESTLOGS_DIR BAZEL_EXIT_CODE TARGET...
Exit status: 0 when every test case passed and Bazel succeeded, 1 otherwise.
"""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET


def main():
    testlogs, bazel_rc = sys.argv[1], int(sys.argv[2])
    patterns = sys.argv[3:]
    query = subprocess.run(
        ["bazel", "query", "--color=no", "tests(%s)" % " + ".join(patterns)],
        capture_output=True, text=True)
    targets = [t for t in query.stdout.split() if t.startswith("//")]
    passed = failed = 0
    for target in targets:
        pkg, name = target[2:].split(":")
        xml_path = os.path.join(testlogs, pkg, name, "test.xml")
        log_path = os.path.join(testlogs, pkg, name, "test.log")
        try:
            root = ET.parse(xml_path).getroot()
        except (OSError, ET.ParseError):
            print("no results from %s (build failure, crash or timeout)" % target)
            failed += 1
            continue
        cases = root.iter("testcase")
        n_target = 0
        for case in cases:
            n_target += 1
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
                print("FAILED: %s %s.%s" % (target, case.get("classname"), case.get("name")))
            elif case.get("status") == "notrun" or case.find("skipped") is not None:
                continue
            else:
                passed += 1
        if n_target == 0:
            # Not a gtest binary (e.g. a shell test): one case, judged by the target's result.
            ok = root.find(".//failure") is None and root.find(".//error") is None
            if ok and os.path.exists(log_path):
                passed += 1
            else:
                failed += 1
                print("FAILED: %s" % target)
        # A stale test.xml from an earlier run must not count: Bazel rewrites it each run it
        # executes or caches; a target that failed to build leaves the old one, so rely on
        # the Bazel exit code below as well.
    if bazel_rc != 0 and failed == 0:
        print("bazel test exited with %d (build failure or flaky target)" % bazel_rc)
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and bazel_rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

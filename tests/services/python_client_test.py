"""A Python client (Debian's python3-grpcio) against a real fieldloopd process.

Proves that a non-C++ client can use the API with nothing but the generated Python modules
(//proto/fieldloop/v1:py_modules): stream records and read their acks, wait for themes,
page through themes, materialize the board, discover the services by reflection, and stop
the server cleanly. Each test starts its own fieldloopd on 127.0.0.1:0 over a fresh data
directory under $TEST_TMPDIR.

Run by python_client_test.sh (Debian's /usr/bin/python3). Writes one JUnit <testcase> per
test to $XML_OUTPUT_FILE, so scripts/test counts each; exits 1 when any failed.
"""

import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import unittest
from xml.etree import ElementTree

RUNFILES = os.path.join(os.environ["TEST_SRCDIR"], os.environ.get("TEST_WORKSPACE", "fieldloop"))
sys.path.insert(0, RUNFILES)  # the generated modules: proto/fieldloop/v1/*_pb2*.py

import grpc  # noqa: E402
from google.protobuf import descriptor_pb2  # noqa: E402
from google.protobuf import descriptor_pool  # noqa: E402
from google.protobuf import json_format  # noqa: E402
from google.protobuf import message_factory  # noqa: E402

from proto.fieldloop.v1 import board_pb2, board_pb2_grpc  # noqa: E402
from proto.fieldloop.v1 import ingest_pb2, ingest_pb2_grpc  # noqa: E402
from proto.fieldloop.v1 import themes_pb2, themes_pb2_grpc  # noqa: E402
from tests.services import reflection_pb2  # noqa: E402

INITIATIVE = "q3-push"
AS_OF = "2026-11-25"
RPC_TIMEOUT_S = 60
PLAN_HEADER = ("task_key,theme_id,theme,asset_id,asset,action,format,owner,due,priority,"
               "status,evidence_count,reason")


def example_records():
    """The example's feedback events, transcripts and win/loss notes, in file order."""
    records = []
    for name in ("feedback.jsonl", "win_loss.jsonl"):
        with open(os.path.join(RUNFILES, "examples/q3-push", name), encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    records.append(json_format.Parse(line, ingest_pb2.IngestRequest()))
    return records


class Daemon:
    """A fieldloopd process on a free loopback port; its output is read by a thread, so the
    pipe never fills, and kept in `lines`."""

    def __init__(self, root):
        self.output_root = os.path.join(root, "out")
        argv = [os.path.join(RUNFILES, "services/fieldloopd"), "--listen=127.0.0.1:0",
                "--data_dir=" + os.path.join(root, "data"), "--output_root=" + self.output_root]
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, errors="replace")
        self.lines = []
        self._new_lines = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.address = self._wait_for_address(timeout_s=30)

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)
            self._new_lines.put(line)
        self._new_lines.put(None)

    def _wait_for_address(self, timeout_s):
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                line = self._new_lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                self.kill()
                raise AssertionError("fieldloopd did not print 'listening on':\n" +
                                     "".join(self.lines))
            match = re.search(r"listening on (\S+)", line)
            if match:
                return match.group(1)

    def stop(self):
        """Sends SIGTERM and returns the exit status (128+signal when killed by one)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            status = self.process.wait()
        self._reader.join(timeout=5)  # the rest of the output
        return 128 - status if status < 0 else status

    def kill(self):
        """Ends the process with SIGKILL unless it has exited."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class PythonClientTest(unittest.TestCase):

    def setUp(self):
        self.daemon = Daemon(tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR")))
        self.addCleanup(self.daemon.kill)
        self.channel = grpc.insecure_channel(self.daemon.address)
        self.addCleanup(self.channel.close)
        grpc.channel_ready_future(self.channel).result(timeout=30)
        self.ingest = ingest_pb2_grpc.IngestStub(self.channel)

    def stream(self, records):
        return list(self.ingest.Stream(iter(records), timeout=RPC_TIMEOUT_S))

    def assert_stops_cleanly(self):
        self.channel.close()
        status = self.daemon.stop()
        self.assertEqual(status, 0, "fieldloopd exit status after SIGTERM; its output:\n" +
                         "".join(self.daemon.lines))

    def test_every_record_is_acked_in_order_and_duplicates_and_bad_records_are_reported(self):
        records = example_records()
        self.assertEqual(len(records), 377)
        acks = self.stream(records)

        self.assertEqual(len(acks), len(records))
        for i, (record, ack) in enumerate(zip(records, acks)):
            kind = record.WhichOneof("record")
            self.assertEqual(ack.request_index, i)
            self.assertEqual(ack.record_id, getattr(record, kind).id)
            self.assertEqual(ack.status, ingest_pb2.ACK_STATUS_ACCEPTED,
                             "%s: %s %s" % (ack.record_id, ack.field, ack.message))
        sequences = [ack.sequence for ack in acks]
        self.assertEqual(sequences, sorted(set(sequences)))

        invalid = ingest_pb2.IngestRequest()
        invalid.CopyFrom(records[0])
        invalid.feedback_event.id = "fb-python-no-text"
        invalid.feedback_event.text = ""
        duplicate, rejected = self.stream([records[0], invalid])

        self.assertEqual(duplicate.status, ingest_pb2.ACK_STATUS_DUPLICATE)
        self.assertEqual(duplicate.sequence, acks[0].sequence)
        self.assertEqual(rejected.status, ingest_pb2.ACK_STATUS_REJECTED)
        self.assertEqual(rejected.code, ingest_pb2.REJECT_CODE_MISSING_FIELD)
        self.assertEqual(rejected.field, "feedback_event.text")
        self.assertEqual(rejected.record_id, "fb-python-no-text")
        self.assertEqual(rejected.sequence, 0)
        self.assertEqual(rejected.request_index, 1)
        self.assert_stops_cleanly()

    def test_themes_are_listed_page_by_page_and_the_board_is_materialized(self):
        acks = self.stream(example_records())
        applied = self.ingest.WaitApplied(
            ingest_pb2.WaitAppliedRequest(initiative=INITIATIVE, timeout_ms=60000),
            timeout=RPC_TIMEOUT_S)
        self.assertGreaterEqual(applied.applied_sequence, max(a.sequence for a in acks))

        themes = themes_pb2_grpc.ThemesStub(self.channel)
        listed, pages, token = [], 0, ""
        while True:
            page = themes.ListThemes(
                themes_pb2.ListThemesRequest(initiative=INITIATIVE, as_of=AS_OF, page_size=5,
                                             page_token=token),
                timeout=RPC_TIMEOUT_S)
            pages += 1
            self.assertLessEqual(len(page.themes), 5)
            listed.extend(page.themes)
            token = page.next_page_token
            if not token:
                break
        self.assertGreater(pages, 1)
        self.assertEqual(len(listed), page.total)
        self.assertEqual(len({t.id for t in listed}), len(listed), "a theme listed twice")

        first = listed[0]
        got = themes.GetTheme(
            themes_pb2.GetThemeRequest(initiative=INITIATIVE, theme_id=first.id, as_of=AS_OF),
            timeout=RPC_TIMEOUT_S)
        self.assertEqual(got.theme.brief.id, first.id)
        self.assertEqual(got.requested_id, first.id)
        self.assertFalse(got.merged)
        self.assertEqual(got.theme.brief.label, first.label)

        board = board_pb2_grpc.BoardStub(self.channel).Materialize(
            board_pb2.MaterializeRequest(initiative=INITIATIVE, as_of=AS_OF),
            timeout=RPC_TIMEOUT_S)
        self.assertEqual(board.as_of, AS_OF)
        self.assertFalse(board.stub)
        self.assertGreater(board.themes, 0)
        self.assertGreater(board.tasks, 0)
        sales = os.path.join(self.daemon.output_root, "specs/projects", INITIATIVE, "sales")
        self.assertEqual(os.path.realpath(board.board_path),
                         os.path.realpath(os.path.join(sales, "enablement_feedback.md")))
        self.assertEqual(os.path.realpath(board.plan_path),
                         os.path.realpath(os.path.join(sales, "content_refresh.csv")))
        self.assertTrue(os.path.getsize(board.board_path) > 0)
        with open(board.plan_path, encoding="utf-8") as plan:
            self.assertEqual(plan.readline().rstrip("\n"), PLAN_HEADER)
        self.assert_stops_cleanly()

    def test_reflection_names_the_services_and_describes_them_well_enough_to_call(self):
        self.stream(example_records()[:1])
        info = self.channel.stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)
        listed, described = info(iter([
            reflection_pb2.ServerReflectionRequest(list_services=""),
            reflection_pb2.ServerReflectionRequest(file_containing_symbol="fieldloop.v1.Board"),
        ]), timeout=RPC_TIMEOUT_S)

        names = {s.name for s in listed.list_services_response.service}
        for name in ("fieldloop.v1.Ingest", "fieldloop.v1.Board", "fieldloop.v1.Themes",
                     "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"):
            self.assertIn(name, names)

        # A generic client: no generated code for Board, only what reflection returned.
        pool = descriptor_pool.DescriptorPool()
        for raw in described.file_descriptor_response.file_descriptor_proto:
            pool.Add(descriptor_pb2.FileDescriptorProto.FromString(raw))
        method = pool.FindServiceByName("fieldloop.v1.Board").FindMethodByName("ListInitiatives")
        factory = message_factory.MessageFactory(pool)
        request_class = factory.GetPrototype(method.input_type)
        response_class = factory.GetPrototype(method.output_type)
        call = self.channel.unary_unary(
            "/fieldloop.v1.Board/ListInitiatives",
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString)
        self.assertEqual(list(call(request_class(), timeout=RPC_TIMEOUT_S).initiatives),
                         [INITIATIVE])
        self.assert_stops_cleanly()


class JUnitResult(unittest.TextTestResult):
    """Also keeps each test's outcome and duration for write_junit_xml."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cases = []  # (test, seconds, outcome tag or None, text)

    def startTest(self, test):
        self._started = time.monotonic()
        super().startTest(test)

    def _record(self, test, tag=None, text=""):
        self.cases.append((test, time.monotonic() - self._started, tag, text))

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, "failure", "".join(traceback.format_exception(*err)))

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, "error", "".join(traceback.format_exception(*err)))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, "skipped", reason)


def write_junit_xml(result, path):
    suite = ElementTree.Element("testsuite", name="python_client_test",
                                tests=str(len(result.cases)),
                                failures=str(len(result.failures)),
                                errors=str(len(result.errors)))
    for test, seconds, tag, text in result.cases:
        case = ElementTree.SubElement(suite, "testcase", classname=type(test).__name__,
                                      name=test._testMethodName, time="%.3f" % seconds)
        if tag:
            ElementTree.SubElement(case, tag, message=text.strip().splitlines()[-1]
                                   if text.strip() else tag).text = text
    root = ElementTree.Element("testsuites")
    root.append(suite)
    ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def main():
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(PythonClientTest)
    result = unittest.TextTestRunner(resultclass=JUnitResult, verbosity=2).run(suite)
    if os.environ.get("XML_OUTPUT_FILE"):
        write_junit_xml(result, os.environ["XML_OUTPUT_FILE"])
    return 0 if result.wasSuccessful() and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())

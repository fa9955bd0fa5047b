#!/usr/bin/env bash
# Runs python_client_test.py with Debian's interpreter: python3-grpcio and python3-protobuf
# install into /usr/lib/python3/dist-packages, which only /usr/bin/python3 reads (a python3
# earlier on PATH, from pyenv or a venv, would not find them). -B: no .pyc in runfiles.
exec /usr/bin/python3 -B "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/services/python_client_test.py" "$@"

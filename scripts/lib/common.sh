# Shared by the scripts in scripts/: installs missing Debian packages and runs Bazel.
# Sourced, not executed.

# Debian 12 packages the build, the tests and the tools need.
FIELDLOOP_PACKAGES=(
  bazel-bootstrap
  g++
  pkg-config
  protobuf-compiler
  protobuf-compiler-grpc
  libprotobuf-dev
  libgrpc++-dev
  libabsl-dev
  libtbb-dev
  librocksdb-dev
  libgtest-dev
  libgmock-dev
  libbenchmark-dev
  libutf8proc-dev
  libstemmer-dev
  libcurl4-openssl-dev
  libssl-dev
  libjemalloc-dev
  openssl
  prometheus-cpp-dev
  python3
  python3-grpcio
  python3-protobuf
  grpc-proto
)

# Installs the packages of FIELDLOOP_PACKAGES that are missing; a quick no-op when all are.
fieldloop_install_deps() {
  local missing=()
  local pkg
  for pkg in "${FIELDLOOP_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    return 0
  fi
  echo "fieldloop: installing missing Debian packages: ${missing[*]}" >&2
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then
      sudo=(sudo)
    else
      echo "fieldloop: need root (or sudo) to install: ${missing[*]}" >&2
      return 1
    fi
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    "${missing[@]}" >&2 || return 1
}

# Bazel with flags that keep its output readable in logs.
fieldloop_bazel() {
  local cmd="$1"
  shift
  local flags=(--color=no --curses=no)
  if [ -n "${CI:-}" ] || [ ! -t 1 ]; then
    flags+=(--show_progress_rate_limit=30)
  fi
  # The linux-sandbox of Debian's Bazel prints a debug trace on stderr; drop its lines only.
  bazel "$cmd" "${flags[@]}" "$@" 2> >(grep --line-buffered -v -E '^[0-9.]+: src/main/tools/linux-sandbox' >&2)
}

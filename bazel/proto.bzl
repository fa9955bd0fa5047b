"""fieldloop_proto_library: .proto -> C++ (and optionally gRPC) cc_library, offline.

Runs Debian's protoc and grpc_cpp_plugin from a genrule; the native proto_library would
need @com_google_protobuf, which cannot be downloaded here.
"""

load("@rules_cc//cc:defs.bzl", "cc_library")

def fieldloop_proto_library(name, srcs, deps = [], grpc_name = None, visibility = None):
    """Generates <name>, a cc_library holding the C++ messages of `srcs`.

    Args:
      name: name of the messages cc_library (depends on protobuf only).
      srcs: .proto files, imported by their path from the workspace root.
      deps: other fieldloop_proto_library targets (messages) the protos import.
      grpc_name: when set, also generate gRPC service stubs (*.grpc.pb.{h,cc}) into a
        cc_library of this name that depends on <name> and gRPC.
      visibility: visibility of the cc_libraries.
    """
    grpc = grpc_name != None
    bases = [s[:-len(".proto")] for s in srcs]
    pkg = native.package_name()
    prefix = pkg + "/" if pkg else ""
    outs = []
    for b in bases:
        outs += [b + ".pb.h", b + ".pb.cc"]
        if grpc:
            outs += [b + ".grpc.pb.h", b + ".grpc.pb.cc"]
    cmd = "protoc -I. --cpp_out=$(GENDIR) "
    if grpc:
        cmd += "--grpc_out=$(GENDIR) --plugin=protoc-gen-grpc=$$(which grpc_cpp_plugin) "
    cmd += " ".join([prefix + s for s in srcs])
    native.genrule(
        name = name + "_gen",
        srcs = srcs + [d + "_srcs" for d in deps],
        outs = outs,
        cmd = cmd,
    )
    native.filegroup(
        name = name + "_srcs",
        srcs = srcs + [d + "_srcs" for d in deps],
        visibility = visibility,
    )
    cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".pb.cc") and not o.endswith(".grpc.pb.cc")],
        hdrs = [o for o in outs if o.endswith(".pb.h") and not o.endswith(".grpc.pb.h")],
        deps = deps + ["@system//:protobuf"],
        visibility = visibility,
    )
    if grpc:
        cc_library(
            name = grpc_name,
            srcs = [o for o in outs if o.endswith(".grpc.pb.cc")],
            hdrs = [o for o in outs if o.endswith(".grpc.pb.h")],
            deps = [":" + name, "@system//:grpc"],
            visibility = visibility,
        )

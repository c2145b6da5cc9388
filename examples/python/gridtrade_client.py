"""A small Python client of the gridtrade gRPC API (gridtrade.v1).

Stubs are generated from the repository's `proto/` with grpcio-tools the first time this is
imported (into `_generated/` beside this file), so the client always matches the server it
ships with. Use it as a library:

    from gridtrade_client import connect, pb
    api = connect("127.0.0.1:50051", token=None)
    print([n.name for n in api.ListNetworks(pb.ListNetworksRequest()).networks])

Studies are long-running operations: `connect_operations` gives the standard
google.longrunning Operations stub (its protos are vendored under `proto/google`).
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTO_ROOT = HERE.parent.parent / "proto"
PROTO = PROTO_ROOT / "gridtrade" / "v1" / "gridtrade.proto"
OUT = HERE / "_generated"


def _generate():
    """Run protoc (from grpcio-tools) on the proto when the stubs are missing or older."""
    stub = OUT / "gridtrade" / "v1" / "gridtrade_pb2.py"
    if stub.exists() and stub.stat().st_mtime >= PROTO.stat().st_mtime:
        return
    from grpc_tools import protoc
    import grpc_tools

    OUT.mkdir(exist_ok=True)
    include = Path(grpc_tools.__file__).parent / "_proto"
    # The API and the Google protos it imports (google.longrunning, google.rpc, google.api).
    google = sorted(str(p) for p in (PROTO_ROOT / "google").rglob("*.proto"))
    code = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"-I{include}",
            f"--python_out={OUT}",
            f"--grpc_python_out={OUT}",
            str(PROTO),
            *google,
        ]
    )
    if code != 0:
        raise RuntimeError(f"protoc failed on {PROTO} (exit {code})")


_generate()
sys.path.insert(0, str(OUT))

import grpc  # noqa: E402
from gridtrade.v1 import gridtrade_pb2 as pb  # noqa: E402,F401
from gridtrade.v1 import gridtrade_pb2_grpc as pb_grpc  # noqa: E402
from google.longrunning import operations_pb2, operations_pb2_grpc  # noqa: E402

# Large enough for a year of series from Solve; SolveStream sends them in 1 MiB chunks.
_MAX_MESSAGE = 64 * 1024 * 1024


def channel(address, token=None, ca_cert=None):
    """A channel to `address` (host:port). `token`: a bearer token for a server with
    --auth-tokens; `ca_cert`: PEM bytes of the CA for a server with TLS."""
    options = [
        ("grpc.max_receive_message_length", _MAX_MESSAGE),
        ("grpc.max_send_message_length", _MAX_MESSAGE),
    ]
    if ca_cert is not None:
        creds = grpc.ssl_channel_credentials(root_certificates=ca_cert)
        if token:
            creds = grpc.composite_channel_credentials(
                creds, grpc.access_token_call_credentials(token)
            )
        return grpc.secure_channel(address, creds, options=options)
    plain = grpc.insecure_channel(address, options=options)
    return grpc.intercept_channel(plain, _BearerToken(token)) if token else plain


def connect(address, token=None, ca_cert=None):
    """A GridTradeService stub for `address` (see `channel`)."""
    return pb_grpc.GridTradeServiceStub(channel(address, token, ca_cert))


def connect_operations(address, token=None, ca_cert=None):
    """The google.longrunning Operations stub for `address`: studies as operations."""
    return operations_pb2_grpc.OperationsStub(channel(address, token, ca_cert))


class _BearerToken(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
):
    """Adds `authorization: Bearer TOKEN` to every call (plain-text channels)."""

    def __init__(self, token):
        self._header = ("authorization", f"Bearer {token}")

    def _details(self, d):
        metadata = list(d.metadata or []) + [self._header]
        return d._replace(metadata=metadata) if hasattr(d, "_replace") else _Details(d, metadata)

    def intercept_unary_unary(self, cont, d, request):
        return cont(self._details(d), request)

    def intercept_unary_stream(self, cont, d, request):
        return cont(self._details(d), request)

    def intercept_stream_unary(self, cont, d, requests):
        return cont(self._details(d), requests)


class _Details(grpc.ClientCallDetails):
    def __init__(self, d, metadata):
        self.method = d.method
        self.timeout = d.timeout
        self.metadata = metadata
        self.credentials = d.credentials
        self.wait_for_ready = getattr(d, "wait_for_ready", None)
        self.compression = getattr(d, "compression", None)


def folder_files(path):
    """The .csv files of a PyPSA folder (or one .m file) as `File` messages."""
    path = Path(path)
    paths = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    return [pb.File(name=p.name, content=p.read_bytes()) for p in paths]


def solve_with_progress(api, request, out=sys.stderr):
    """Solve through SolveStream, printing its phases on one line; returns the reassembled
    SolveResponse (series appended from their chunks)."""
    result = None
    print(f"solving {request.network} v{request.version}:", end="", file=out, flush=True)
    kinds = {
        pb.SERIES_KIND_BUS_PRICES: "bus_prices",
        pb.SERIES_KIND_BRANCH_FLOWS: "branch_flows",
        pb.SERIES_KIND_BRANCH_SHADOW_PRICES: "branch_shadow_prices",
        pb.SERIES_KIND_GENERATOR_OUTPUT: "generator_output",
    }
    for event in api.SolveStream(request):
        which = event.WhichOneof("event")
        if which == "phase":
            name = pb.SolvePhase.Name(event.phase).removeprefix("SOLVE_PHASE_").lower()
            print(f" {name}", end="", file=out, flush=True)
        elif which == "result":
            result = event.result
        elif which == "series":
            getattr(result, kinds[event.series.kind]).extend(event.series.series)
    print(" done", file=out)
    return result


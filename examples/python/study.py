"""Submit a study (a scenario batch) to a server, follow it as a long-running operation and
print its table: the pattern for a planning model that hands gridtrade many cases.

    python examples/python/study.py --server 127.0.0.1:50051 \
        --study networks/carec-interconnectors-study.toml

The scenario files the study names are read beside it and sent with it. Exits non-zero if a
case was not solved or any call fails, so CI (.ci/run) can run it against a real server.
"""

import argparse
import os
import sys
import time
from pathlib import Path

from gridtrade_client import connect, connect_operations, operations_pb2, pb


def scenario_files(study_path, text):
    """The `file = "..."` entries of the study's [[case]] tables, read beside it."""
    import tomllib

    names = [c["file"] for c in tomllib.loads(text).get("case", []) if "file" in c]
    return [pb.File(name=n, content=(study_path.parent / n).read_bytes()) for n in names]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--server", default="127.0.0.1:50051")
    p.add_argument("--token", default=os.environ.get("GRIDTRADE_TOKEN"))
    p.add_argument("--study", default="networks/carec-interconnectors-study.toml")
    a = p.parse_args()

    api = connect(a.server, token=a.token)
    ops = connect_operations(a.server, token=a.token)
    path = Path(a.study)
    text = path.read_text()
    op = api.SubmitStudy(
        pb.SubmitStudyRequest(study_toml=text, files=scenario_files(path, text))
    )
    print(f"submitted {op.name}", file=sys.stderr)

    # Wait a few seconds at a time; the metadata says how far it got.
    while not op.done:
        op = ops.WaitOperation(
            operations_pb2.WaitOperationRequest(name=op.name, timeout={"seconds": 5})
        )
        progress = pb.StudyProgress()
        op.metadata.Unpack(progress)
        finished = progress.optimal + progress.not_solved + progress.failed
        print(f"  {finished}/{progress.cases} cases, {progress.running} running",
              file=sys.stderr)
    if op.HasField("error"):
        sys.exit(f"{op.name}: {op.error.message}")

    result = pb.StudyResult()
    op.response.Unpack(result)
    study_id = op.name.removeprefix("studies/")
    token, rows = "", []
    while True:
        page = api.GetStudyResults(
            pb.GetStudyResultsRequest(study=study_id, page_size=100, page_token=token)
        )
        rows.extend(page.cases)
        token = page.next_page_token
        if not token:
            break
    print(f"{'case':<28} {'status':<10} {'system cost':>16} {'CO2 t':>14} {'trade saving':>16}")
    for r in rows:
        print(f"{r.label:<28} {r.status:<10} {r.system_cost:>16,.0f} {r.co2_t:>14,.0f} "
              f"{r.trade_saving:>16,.0f}")
    if result.progress.optimal != result.progress.cases:
        sys.exit(f"{result.progress.cases - result.progress.optimal} cases not solved")


if __name__ == "__main__":
    main()

"""Solve a PyPSA CSV folder with PyPSA + HiGHS and print what `gridtrade bench-one` prints
(JSON: phases, HiGHS' own time, peak memory, objective), for `gridtrade bench --pypsa`.

    python3 benches/pypsa_bench.py target/bench-networks/synth-50b-5z-168h-s1
    python3 benches/pypsa_bench.py --n1 FOLDER   # N-1: every line an outage

PyPSA's defaults for a linear optimal power flow (Kirchhoff's voltage law by cycles, as it
builds it) and HiGHS' defaults, single run; the caller times the whole process.
"""

import json
import resource
import sys
import time

t0 = time.perf_counter()
import pypsa  # noqa: E402
import logging  # noqa: E402

logging.disable(logging.WARNING)
t_import = time.perf_counter() - t0

n1 = "--n1" in sys.argv[1:]
path = [a for a in sys.argv[1:] if a != "--n1"][0]
t = time.perf_counter()
n = pypsa.Network(path)
read_s = time.perf_counter() - t

if n1:
    # PyPSA's SCLOPF builds and solves in one call (every passive branch an outage, as
    # `gridtrade --contingencies all`); its build time is in solve_s.
    build_s = 0.0
    t = time.perf_counter()
    status, condition = n.optimize.optimize_security_constrained(
        branch_outages=n.lines.index, solver_name="highs"
    )
    solve_s = time.perf_counter() - t
else:
    t = time.perf_counter()
    n.optimize.create_model()
    build_s = time.perf_counter() - t

    t = time.perf_counter()
    status, condition = n.optimize.solve_model(solver_name="highs")
    solve_s = time.perf_counter() - t
highs_s = solve_s
try:
    highs_s = n.model.solver_model.getRunTime()
except Exception:  # noqa: BLE001 - older linopy keeps no solver model
    pass

print(json.dumps({
    "status": "optimal" if condition == "optimal" else str(condition),
    "objective": n.objective if condition == "optimal" else None,
    "buses": len(n.buses),
    "snapshots": len(n.snapshots),
    "columns": int(n.model.nvars),
    "rows": int(n.model.ncons),
    "read_s": read_s + t_import,
    "build_s": build_s,
    "highs_s": highs_s,
    # linopy's solve_model includes writing the problem to HiGHS and reading the solution back.
    "extract_s": solve_s - highs_s,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
}))

"""Shared by the tests/data/pypsa_*/make.py scripts of PyPSA features: write a network as
its user has it (export_to_csv_folder before solving, so the folder holds no values PyPSA
derives), solve it with PyPSA's own n.optimize() (HiGHS) and record PyPSA's answer."""
import json
import os

import pypsa


def export_solve_record(n, here, extra):
    """Export `n` to `here/network`, solve it, and write `here/expected.json`: PyPSA's
    version, objective, every bus's marginal price, and the fields `extra(n)` returns."""
    n.export_to_csv_folder(os.path.join(here, "network"))
    status, condition = n.optimize(solver_name="highs")
    assert status == "ok", (status, condition)
    expected = {
        "pypsa_version": pypsa.__version__,
        "objective": float(n.objective + getattr(n, "objective_constant", 0.0)),
        "marginal_price": {
            b: [float(v) for v in n.buses_t.marginal_price[b]] for b in n.buses.index
        },
    }
    expected.update(extra(n))
    with open(os.path.join(here, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    print(json.dumps(expected)[:1200])


def series(frame, index):
    """`{element: [value per snapshot]}` of a PyPSA time-series frame."""
    return {e: [float(v) for v in frame[e]] for e in index}

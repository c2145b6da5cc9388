"""Solve January (the first 744 snapshots) of networks/carec-plan — the CAREC network with
its planned interconnectors as extendable candidates — with PyPSA's own n.optimize()
(HiGHS), and write expected.json: PyPSA's objective and each candidate's p_nom_opt /
s_nom_opt, for tests/plan.rs.

The month is cut with n.set_snapshots, so PyPSA's horizon is 744/8760 years and the
candidates' overnight costs are annuitised for that share of a year (gridtrade's --snapshots
0..744 charges the same share).

Run from the repository root: pip install pypsa==1.4.0 highspy &&
python3 tests/data/carec_plan_month/make.py
"""
import json
import logging
import os

import pypsa

logging.disable(logging.WARNING)
here = os.path.dirname(os.path.abspath(__file__))
n = pypsa.Network("networks/carec-plan")
n.set_snapshots(n.snapshots[:744])
status, condition = n.optimize(solver_name="highs")
assert status == "ok", (status, condition)
ext_links = n.links.index[n.links.p_nom_extendable]
ext_lines = n.lines.index[n.lines.s_nom_extendable]
expected = {
    "pypsa_version": pypsa.__version__,
    "snapshots": 744,
    "nyears": float(n.nyears),
    "objective": float(n.objective),
    "objective_constant": float(n.objective_constant),
    "p_nom_opt": {k: float(n.links.at[k, "p_nom_opt"]) for k in ext_links},
    "s_nom_opt": {k: float(n.lines.at[k, "s_nom_opt"]) for k in ext_lines},
}
with open(os.path.join(here, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
print(json.dumps(expected))

"""Build a small meshed network in PyPSA, solve it security-constrained (N-1) with PyPSA's own
n.optimize.optimize_security_constrained (HiGHS), every line an outage, and write the folder
(export_to_csv_folder) and PyPSA's answer (expected.json) for tests/contingencies.rs.

Run: pip install pypsa==1.4.0 highspy && python3 tests/data/pypsa_sclopf/make.py
The folder and expected.json are committed; this script only documents how they were made.

The grid: a ring of six 220 kV buses with two chords (meshed: every outage leaves it
connected) and a radial line to a seventh bus (a bridge: its outage islands the bus, PyPSA's
LODF for it is 0, and gridtrade reports and skips it). Cheap generation in the north, load in
the south, so N-1 limits bind where the base case does not.
"""
import json
import os

import pypsa

here = os.path.dirname(os.path.abspath(__file__))
T = 4
n = pypsa.Network()
n.set_snapshots(range(T))
buses = ["A", "B", "C", "D", "E", "F", "G"]
for b in buses:
    n.add("Bus", b, v_nom=220.0)
lines = [
    ("A", "B", 10.0, 500), ("B", "C", 12.0, 400), ("C", "D", 9.0, 350), ("D", "E", 11.0, 400),
    ("E", "F", 8.0, 450), ("F", "A", 14.0, 500), ("A", "D", 20.0, 300), ("B", "E", 16.0, 300),
    ("E", "G", 6.0, 250),
]
for a, b, x, s in lines:
    n.add("Line", f"{a}-{b}", bus0=a, bus1=b, x=x, r=x / 10, s_nom=s)
n.add("Generator", "A coal", bus="A", p_nom=900, marginal_cost=20)
n.add("Generator", "B hydro", bus="B", p_nom=400, marginal_cost=8)
n.add("Generator", "D gas", bus="D", p_nom=600, marginal_cost=55)
n.add("Generator", "E gas", bus="E", p_nom=500, marginal_cost=70)
n.add("Generator", "G peaker", bus="G", p_nom=150, marginal_cost=120)
shape = [0.8, 1.0, 1.1, 0.9]
for b, peak in {"C": 300, "D": 250, "E": 280, "F": 150, "G": 120}.items():
    n.add("Load", f"load {b}", bus=b, p_set=[peak * s for s in shape])
outages = list(n.lines.index)
status, condition = n.optimize.optimize_security_constrained(
    branch_outages=outages, solver_name="highs"
)
assert status == "ok", (status, condition)
folder = os.path.join(here, "network")
n.export_to_csv_folder(folder)
base = pypsa.Network(folder)
base.optimize(solver_name="highs")
expected = {
    "pypsa_version": pypsa.__version__,
    "outages": outages,
    "objective": float(n.objective + getattr(n, "objective_constant", 0.0)),
    "objective_without_contingencies": float(base.objective),
    "marginal_price": {b: [float(v) for v in n.buses_t.marginal_price[b]] for b in n.buses.index},
    "line_p0": {l: [float(v) for v in n.lines_t.p0[l]] for l in n.lines.index},
}
with open(os.path.join(here, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
print(json.dumps(expected)[:600])

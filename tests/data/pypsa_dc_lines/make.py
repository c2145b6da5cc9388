"""Build a network with a meshed DC grid (buses of carrier DC joined by DC lines, as PyPSA
models multi-terminal HVDC) beside an AC grid, tied by converter links; solve it with
PyPSA's own n.optimize() (HiGHS) and write the folder and PyPSA's answer (expected.json)
for tests/pypsa_reference.rs. In PyPSA's linear power flow a DC line's flow follows its
resistance r (Kirchhoff's voltage law with r in place of x), not x.

Run: pip install pypsa==1.4.0 highspy && python3 tests/data/pypsa_dc_lines/make.py
The folder and expected.json are committed; this script only documents how they were made.
"""
import os
import sys

import pypsa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)) + "/..")
from pypsa_make import export_solve_record, series  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
T = 4
n = pypsa.Network()
n.set_snapshots(range(T))
for b in ["A1", "A2", "A3"]:
    n.add("Bus", b, v_nom=380.0, carrier="AC")
for b in ["D1", "D2", "D3"]:
    n.add("Bus", b, v_nom=525.0, carrier="DC")
# AC triangle.
n.add("Line", "A1-A2", bus0="A1", bus1="A2", x=30.0, r=3.0, s_nom=800)
n.add("Line", "A2-A3", bus0="A2", bus1="A3", x=20.0, r=2.0, s_nom=800)
n.add("Line", "A1-A3", bus0="A1", bus1="A3", x=25.0, r=2.5, s_nom=400)
# DC triangle: x is set but must not matter (r decides), one line binds.
n.add("Line", "D1-D2", bus0="D1", bus1="D2", x=1.0, r=4.0, s_nom=1000, carrier="DC")
n.add("Line", "D2-D3", bus0="D2", bus1="D3", x=50.0, r=6.0, s_nom=600, carrier="DC")
n.add("Line", "D1-D3", bus0="D1", bus1="D3", x=5.0, r=12.0, s_nom=350, carrier="DC")
# Converters (lossy links both ways; D1's slightly better, so the dispatch is unique).
for a, d, eff in [("A1", "D1", 0.985), ("A3", "D3", 0.98)]:
    n.add("Link", f"{a}-{d}", bus0=a, bus1=d, p_nom=900, efficiency=eff)
    n.add("Link", f"{d}-{a}", bus0=d, bus1=a, p_nom=900, efficiency=eff)
n.add("Generator", "offshore wind D2", bus="D2", p_nom=1200, marginal_cost=0.5,
      p_max_pu=[0.9, 0.6, 0.3, 0.8])
n.add("Generator", "A1 gas", bus="A1", p_nom=1500, marginal_cost=60)
n.add("Generator", "A2 coal", bus="A2", p_nom=600, marginal_cost=35)
for b, p in {"A1": 500, "A2": 400, "A3": 700}.items():
    n.add("Load", f"load {b}", bus=b, p_set=[p * s for s in [0.8, 1.0, 1.1, 0.9]])
export_solve_record(n, here, lambda n: {
    "line_p0": series(n.lines_t.p0, n.lines.index),
})

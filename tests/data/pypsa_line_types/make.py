"""Build a meshed network whose lines name PyPSA standard line types (with `length` and
`num_parallel`, as PyPSA-Eur and PyPSA-Earth networks come), write the folder as the user
has it (export_to_csv_folder before solving: no x or r in lines.csv, only type, length and
num_parallel), solve it with PyPSA's own n.optimize() (HiGHS), and write PyPSA's answer
(expected.json) for tests/pypsa_reference.rs.

Run: pip install pypsa==1.4.0 highspy && python3 tests/data/pypsa_line_types/make.py
The folder and expected.json are committed; this script only documents how they were made.
"""
import os
import sys

import pypsa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)) + "/..")
from pypsa_make import export_solve_record, series  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
T = 6
n = pypsa.Network()
n.set_snapshots(range(T))
for b in ["A", "B", "C", "D"]:
    n.add("Bus", b, v_nom=380.0)
n.add("Bus", "E", v_nom=220.0)
n.add("Bus", "F", v_nom=220.0)
# A 380 kV ring A-B-C-D with a chord A-C, of three types, two with parallel circuits; and a
# 220 kV pair E-F of three parallel circuits, reached from D by a link (no transformer).
lines = [
    ("A-B", "A", "B", "Al/St 240/40 4-bundle 380.0", 120.0, 1, 1700),
    ("B-C", "B", "C", "Al/St 490/64 4-bundle 380.0", 90.0, 2, 2400),
    ("C-D", "C", "D", "Al/St 240/40 4-bundle 380.0", 150.0, 1, 900),
    ("D-A", "D", "A", "HTLS 4-bundle 380.0", 80.0, 1, 1200),
    ("A-C", "A", "C", "Al/St 240/40 4-bundle 380.0", 200.0, 2, 700),
    ("E-F", "E", "F", "Al/St 240/40 2-bundle 220.0", 60.0, 3, 500),
]
for name, a, b, t, length, par, s in lines:
    n.add("Line", name, bus0=a, bus1=b, type=t, length=length, num_parallel=par, s_nom=s)
n.add("Link", "D-E", bus0="D", bus1="E", p_nom=300, p_min_pu=-1, efficiency=1.0)
n.add("Generator", "A lignite", bus="A", p_nom=2500, marginal_cost=12)
n.add("Generator", "B gas", bus="B", p_nom=800, marginal_cost=48)
n.add("Generator", "E hydro", bus="E", p_nom=300, marginal_cost=5)
n.add("Generator", "C peaker", bus="C", p_nom=1500, marginal_cost=95)
shape = [0.7, 0.8, 1.0, 1.1, 0.9, 0.75]
for b, peak in {"B": 600, "C": 1300, "D": 700, "F": 450}.items():
    n.add("Load", f"load {b}", bus=b, p_set=[peak * s for s in shape])
export_solve_record(n, here, lambda n: {
    "line_x_ohm": {l: float(n.lines.at[l, "x"]) for l in n.lines.index},
    "line_r_ohm": {l: float(n.lines.at[l, "r"]) for l in n.lines.index},
    "line_p0": series(n.lines_t.p0, n.lines.index),
})

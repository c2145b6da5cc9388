"""Build a small meshed network whose line and transformer ratings vary by snapshot
(`lines-s_max_pu.csv`, `transformers-s_max_pu.csv`: dynamic line ratings, a derated
transformer), solve it with PyPSA's own n.optimize() (HiGHS), and write the folder and
PyPSA's answer (expected.json: objective, prices, every branch's p0) for
tests/pypsa_reference.rs. One line is also extendable, so the varying rating bounds the
capacity chosen (s_nom_opt * s_max_pu[t]).

Run: pip install pypsa==1.4.0 highspy && python3 tests/data/pypsa_s_max_pu/make.py
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
for b, v in {"A": 220.0, "B": 220.0, "C": 220.0, "C LV": 110.0}.items():
    n.add("Bus", b, v_nom=v)
n.add("Line", "A-B", bus0="A", bus1="B", x=10.0, r=1.0, s_nom=300,
      s_max_pu=[1.0, 0.9, 0.7, 0.5, 0.8, 1.0])
n.add("Line", "B-C", bus0="B", bus1="C", x=12.0, r=1.2, s_nom=250,
      s_max_pu=[0.6, 0.8, 1.0, 1.0, 0.9, 0.7])
n.add("Line", "A-C", bus0="A", bus1="C", x=15.0, r=1.5, s_nom=100, s_nom_extendable=True,
      capital_cost=40.0, s_max_pu=[0.9, 0.9, 0.6, 0.5, 0.9, 0.9])
n.add("Transformer", "C T", bus0="C", bus1="C LV", x=0.1, r=0.01, s_nom=200,
      s_max_pu=[1.0, 1.0, 0.8, 0.75, 1.0, 1.0])
n.add("Generator", "A coal", bus="A", p_nom=800, marginal_cost=30)
n.add("Generator", "B gas", bus="B", p_nom=300, marginal_cost=70)
n.add("Generator", "C peaker", bus="C", p_nom=400, marginal_cost=120)
n.add("Generator", "C LV diesel", bus="C LV", p_nom=200, marginal_cost=200)
n.add("Load", "B load", bus="B", p_set=[150, 160, 170, 180, 170, 160])
n.add("Load", "C load", bus="C", p_set=[200, 220, 240, 260, 230, 210])
n.add("Load", "C LV load", bus="C LV", p_set=[120, 130, 150, 160, 140, 125])
export_solve_record(n, here, lambda n: {
    "objective_as_pypsa_reports": float(n.objective),
    "s_nom_opt": {l: float(n.lines.at[l, "s_nom_opt"]) for l in n.lines.index},
    "line_p0": series(n.lines_t.p0, n.lines.index),
    "transformer_p0": series(n.transformers_t.p0, n.transformers.index),
})

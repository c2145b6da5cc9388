"""Build a small network whose transmission expansion is limited by PyPSA's global
constraints, solve it with PyPSA's own n.optimize() (HiGHS), and write the folder and
PyPSA's answer (expected.json: objective, prices, every s_nom_opt / p_nom_opt, each
constraint's mu) for tests/pypsa_reference.rs.

The network: cheap hydro in the North, wind in the West, expensive gas at the load in the
South; extendable AC lines (carrier from their buses) of different lengths, an extendable
DC link (carrier DC) and an extendable AC link; a transmission_volume_expansion_limit on
"AC, DC" (MW·km) and a transmission_expansion_cost_limit on "AC" (currency), both `<=`. The
AC link has no carrier of its own: PyPSA gives it its bus0's, AC.

Run: pip install pypsa==1.4.0 highspy && python3 tests/data/pypsa_transmission_limits/make.py
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
for b in ["North", "West", "Centre", "South"]:
    n.add("Bus", b, v_nom=380.0)
for name, b0, b1, x, length, cost, s_nom in [
    ("North-Centre", "North", "Centre", 40.0, 400.0, 120.0, 200),
    ("West-Centre", "West", "Centre", 25.0, 250.0, 80.0, 100),
    ("Centre-South", "Centre", "South", 30.0, 300.0, 100.0, 300),
    ("North-West", "North", "West", 35.0, 350.0, 110.0, 50),
]:
    n.add("Line", name, bus0=b0, bus1=b1, x=x, r=x / 10, s_nom=s_nom, length=length,
          s_nom_extendable=True, s_nom_min=s_nom, capital_cost=cost)
n.add("Link", "North-South DC", bus0="North", bus1="South", carrier="DC", length=800.0,
      p_nom_extendable=True, p_min_pu=-1, capital_cost=200.0)
n.add("Link", "West-South AC link", bus0="West", bus1="South", length=500.0,
      p_nom_extendable=True, p_min_pu=-1, capital_cost=150.0)
n.add("Generator", "North hydro", bus="North", p_nom=900, marginal_cost=5)
n.add("Generator", "West wind", bus="West", p_nom=500, marginal_cost=1,
      p_max_pu=[0.9, 0.7, 0.4, 0.2, 0.5, 0.8])
n.add("Generator", "South gas", bus="South", p_nom=1000, marginal_cost=90)
n.add("Load", "South load", bus="South", p_set=[700, 750, 800, 820, 780, 720])
n.add("Load", "Centre load", bus="Centre", p_set=[150, 160, 170, 170, 165, 155])
n.add("GlobalConstraint", "volume", type="transmission_volume_expansion_limit",
      carrier_attribute="AC, DC", sense="<=", constant=650000.0)
n.add("GlobalConstraint", "ac cost", type="transmission_expansion_cost_limit",
      carrier_attribute="AC", sense="<=", constant=85000.0)


def record(n):
    gc = n.global_constraints
    return {
        "objective_as_pypsa_reports": float(n.objective),
        "objective_constant": float(n.objective_constant),
        "s_nom_opt": {l: float(n.lines.at[l, "s_nom_opt"]) for l in n.lines.index},
        "p_nom_opt": {k: float(n.links.at[k, "p_nom_opt"]) for k in n.links.index},
        "mu": {g: float(gc.at[g, "mu"]) for g in gc.index},
        "line_p0": series(n.lines_t.p0, n.lines.index),
    }


export_solve_record(n, here, record)

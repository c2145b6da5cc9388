"""Build a small network whose capacities PyPSA chooses (capacity expansion), solve it with
PyPSA's own n.optimize() (HiGHS), and write the folder and PyPSA's answer (expected.json:
objective, prices, every element's p_nom_opt / s_nom_opt, flows) for
tests/pypsa_reference.rs.

The network: a meshed 380 kV triangle (North, Centre, South) with a 110 kV bus behind an
extendable transformer, an extendable HVDC link to an island bus (East) and an extendable
battery there. Extendable: wind (capital_cost), solar (overnight_cost annuitised at a
discount rate over a lifetime, plus fom_cost), a line (s_nom_min / s_nom_max), the
transformer, the link (both ways) and the storage unit. Snapshots weigh 3 h each, so the
horizon is 72 h = 72/8760 years, which scales the annuitised overnight cost.

Run: pip install pypsa==1.4.0 highspy && python3 tests/data/pypsa_expansion/make.py
The folder and expected.json are committed; this script only documents how they were made.
"""
import os
import sys

import pypsa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)) + "/..")
from pypsa_make import export_solve_record, series  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
T = 24
n = pypsa.Network()
n.set_snapshots(range(T))
n.snapshot_weightings.loc[:, :] = 3.0
for b, v in {"North": 380.0, "Centre": 380.0, "South": 380.0, "South LV": 110.0,
             "East": 380.0}.items():
    n.add("Bus", b, v_nom=v)
n.add("Line", "North-Centre", bus0="North", bus1="Centre", x=30.0, r=3.0, s_nom=600)
n.add("Line", "Centre-South", bus0="Centre", bus1="South", x=25.0, r=2.5, s_nom=150,
      s_nom_extendable=True, s_nom_min=150, s_nom_max=900, capital_cost=40.0)
n.add("Line", "North-South", bus0="North", bus1="South", x=45.0, r=4.0, s_nom=250,
      s_max_pu=0.8)
n.add("Transformer", "South T", bus0="South", bus1="South LV", x=0.12, r=0.01, s_nom=200,
      s_nom_extendable=True, s_nom_max=700, capital_cost=25.0)
n.add("Link", "North-East HVDC", bus0="North", bus1="East", p_nom=0, p_min_pu=-1,
      efficiency=0.97, p_nom_extendable=True, capital_cost=60.0, marginal_cost=0.5)
wind = [0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4, 0.3, 0.25, 0.2, 0.2,
        0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.9]
solar = [0, 0, 0, 0, 0, 0.05, 0.2, 0.4, 0.6, 0.75, 0.85, 0.9,
         0.9, 0.85, 0.75, 0.6, 0.4, 0.2, 0.05, 0, 0, 0, 0, 0]
# Coal's cost differs from hour to hour (fuel indexation), so that no two hours have the same
# price and the battery's schedule, hence every flow, is unique.
coal_cost = [35 + 0.37 * ((7 * t) % 24) for t in range(T)]
n.add("Generator", "North coal", bus="North", p_nom=900, marginal_cost=coal_cost, p_min_pu=0.2)
n.add("Generator", "South gas", bus="South", p_nom=300, marginal_cost=80)
n.add("Generator", "Centre wind", bus="Centre", p_nom=100, p_max_pu=wind, marginal_cost=1.0,
      p_nom_extendable=True, p_nom_max=800, capital_cost=300.0)
n.add("Generator", "South LV solar", bus="South LV", p_max_pu=solar, marginal_cost=0.5,
      p_nom_extendable=True, overnight_cost=450000.0, discount_rate=0.07, lifetime=25,
      fom_cost=60.0)
n.add("Generator", "East gas", bus="East", p_nom=150, marginal_cost=95)
n.add("StorageUnit", "East battery", bus="East", p_nom_extendable=True, max_hours=4,
      capital_cost=150.0, efficiency_store=0.95, efficiency_dispatch=0.95,
      cyclic_state_of_charge=True, marginal_cost=1.0)
shape = [0.7, 0.65, 0.62, 0.6, 0.62, 0.7, 0.8, 0.9, 0.95, 1.0, 1.0, 0.98,
         0.96, 0.95, 0.95, 0.97, 1.0, 1.05, 1.1, 1.08, 1.0, 0.9, 0.8, 0.75]
for b, p in {"North": 300, "Centre": 250, "South": 350, "South LV": 200, "East": 180}.items():
    n.add("Load", f"load {b}", bus=b, p_set=[p * s for s in shape])


def record(n):
    opt = {}
    for c, attr in [("generators", "p_nom_opt"), ("lines", "s_nom_opt"),
                    ("transformers", "s_nom_opt"), ("links", "p_nom_opt"),
                    ("storage_units", "p_nom_opt")]:
        df = getattr(n, c)
        opt[c] = {e: float(df.at[e, attr]) for e in df.index}
    return {
        "objective_as_pypsa_reports": float(n.objective),
        "objective_constant": float(n.objective_constant),
        "nom_opt": opt,
        "line_p0": series(n.lines_t.p0, n.lines.index),
        "transformer_p0": series(n.transformers_t.p0, n.transformers.index),
        "link_p0": series(n.links_t.p0, n.links.index),
        "generator_p": series(n.generators_t.p, n.generators.index),
    }


export_solve_record(n, here, record)

"""Build a small network with a CO2 cap (a `primary_energy` global constraint on the carriers'
`co2_emissions`), solve it with PyPSA's own n.optimize() (HiGHS), and write the folder and
PyPSA's answer (expected.json: objective, prices, the cap's shadow price `mu`) for
tests/pypsa_reference.rs. Snapshots weigh 2 h each (objective and generators), so the cap
counts each hour's emissions twice.

Run: pip install pypsa==1.4.0 highspy && python3 tests/data/pypsa_co2_cap/make.py
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
n.snapshot_weightings.loc[:, "objective"] = 2.0
n.snapshot_weightings.loc[:, "generators"] = 2.0
n.add("Carrier", "coal", co2_emissions=0.34)
n.add("Carrier", "gas", co2_emissions=0.2)
n.add("Carrier", "wind")
n.add("Bus", "North", v_nom=220.0)
n.add("Bus", "South", v_nom=220.0)
n.add("Line", "North-South", bus0="North", bus1="South", x=20.0, r=2.0, s_nom=500)
n.add("Generator", "North coal", bus="North", carrier="coal", p_nom=800, marginal_cost=15,
      efficiency=0.37)
n.add("Generator", "South gas", bus="South", carrier="gas", p_nom=700, marginal_cost=55,
      efficiency=0.55)
n.add("Generator", "North wind", bus="North", carrier="wind", p_nom=400, marginal_cost=0,
      p_max_pu=[0.2, 0.5, 0.9, 0.7, 0.3, 0.1])
for b, p in {"North": 350, "South": 450}.items():
    n.add("Load", f"load {b}", bus=b, p_set=[p * s for s in [0.8, 0.9, 1.0, 1.1, 1.0, 0.85]])
n.add("GlobalConstraint", "CO2Limit", type="primary_energy", carrier_attribute="co2_emissions",
      sense="<=", constant=3500.0)
export_solve_record(n, here, lambda n: {
    "co2_mu": float(n.global_constraints.at["CO2Limit", "mu"]),
    "generator_p": series(n.generators_t.p, n.generators.index),
})

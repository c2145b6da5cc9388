"""Build a network whose storage units have time-varying `p_max_pu` and `p_min_pu`
(storage_units-p_max_pu.csv, storage_units-p_min_pu.csv: a battery whose discharge is
derated in some hours, a pumped-storage plant that may not pump at night) and a
`state_of_charge_set` (the pumped-storage plant must hold 300 MWh at the end of snapshot 3
and 150 MWh at the end of snapshot 5; free elsewhere, NaN), solve it with
PyPSA's own n.optimize() (HiGHS) and write the folder and PyPSA's answer (expected.json)
for tests/pypsa_reference.rs.

Run: pip install pypsa==1.4.0 highspy && python3 tests/data/pypsa_storage_series/make.py
The folder and expected.json are committed; this script only documents how they were made.
"""
import os
import sys

import pypsa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)) + "/..")
from pypsa_make import export_solve_record, series  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
T = 8
n = pypsa.Network()
n.set_snapshots(range(T))
n.add("Bus", "A", v_nom=220.0)
n.add("Bus", "B", v_nom=220.0)
n.add("Line", "A-B", bus0="A", bus1="B", x=10.0, r=1.0, s_nom=300)
n.add("Generator", "A solar", bus="A", p_nom=500, marginal_cost=0,
      p_max_pu=[0.0, 0.2, 0.7, 1.0, 0.9, 0.4, 0.0, 0.0])
n.add("Generator", "B gas", bus="B", p_nom=600, marginal_cost=60)
n.add("Generator", "B peaker", bus="B", p_nom=300, marginal_cost=140)
n.add("StorageUnit", "A battery", bus="A", p_nom=150, max_hours=3, efficiency_store=0.92,
      efficiency_dispatch=0.92, cyclic_state_of_charge=True,
      p_max_pu=[1.0, 1.0, 0.5, 0.5, 1.0, 0.6, 0.3, 1.0], p_min_pu=-1.0)
n.add("StorageUnit", "B pumped", bus="B", p_nom=200, max_hours=6, efficiency_store=0.85,
      efficiency_dispatch=0.9, cyclic_state_of_charge=True, p_max_pu=1.0,
      p_min_pu=[0.0, 0.0, -1.0, -1.0, -0.5, -1.0, 0.0, 0.0],
      state_of_charge_set=[float("nan")] * 3 + [300.0, float("nan"), 150.0, float("nan"), float("nan")])
for b, p in {"A": 150, "B": 450}.items():
    n.add("Load", f"load {b}", bus=b, p_set=[p * s for s in [0.9, 0.8, 0.9, 1.0, 1.05, 1.2, 1.3, 1.1]])
export_solve_record(n, here, lambda n: {
    "storage_p": series(n.storage_units_t.p, n.storage_units.index),
})

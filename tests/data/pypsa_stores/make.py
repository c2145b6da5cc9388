"""Build a small network with stores (PyPSA's Store: an energy level filled and emptied by
one power variable), solve it with PyPSA's own n.optimize() (HiGHS), and write the folder
and PyPSA's answer (expected.json: objective, prices, each store's p and e, e_nom_opt) for
tests/pypsa_reference.rs.

The network: two AC buses with wind, gas and load; a hydrogen bus with an industrial demand,
an electrolyser and a fuel cell (links) and an extendable hydrogen store (capital_cost per
MWh, e_cyclic); a heat
bus with a heat store of fixed size with a standing loss, an initial level, a time-varying
e_min_pu / e_max_pu and a marginal_cost_storage, fed by a heat pump (link, efficiency 3) and
serving a heat load; and a battery store with marginal_cost on its power. Snapshots weigh
2 h (objective and stores), so the standing loss applies over two hours. The hydrogen and
battery stores carry a small marginal_cost_storage and gas costs differ from hour to hour, so
that no two schedules cost the same: the levels and flows PyPSA gives are the only optimum.

Run: pip install pypsa==1.4.0 highspy && python3 tests/data/pypsa_stores/make.py
The folder and expected.json are committed; this script only documents how they were made.
"""
import os
import sys

import pypsa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)) + "/..")
from pypsa_make import export_solve_record, series  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
T = 12
n = pypsa.Network()
n.set_snapshots(range(T))
n.snapshot_weightings.loc[:, :] = 2.0
n.add("Carrier", "H2")
n.add("Carrier", "heat")
for b, v in {"West": 220.0, "East": 220.0}.items():
    n.add("Bus", b, v_nom=v)
n.add("Bus", "West H2", carrier="H2")
n.add("Bus", "East heat", carrier="heat")
n.add("Line", "West-East", bus0="West", bus1="East", x=20.0, r=2.0, s_nom=400)
wind = [0.9, 0.95, 0.8, 0.6, 0.3, 0.1, 0.05, 0.2, 0.5, 0.8, 0.9, 0.7]
gas_cost = [60 + 0.5 * ((5 * t) % 12) for t in range(T)]
n.add("Generator", "West wind", bus="West", p_nom=600, p_max_pu=wind, marginal_cost=0.2)
n.add("Generator", "East gas", bus="East", p_nom=800, marginal_cost=gas_cost)
n.add("Link", "Electrolyser", bus0="West", bus1="West H2", p_nom=150, efficiency=0.7,
      marginal_cost=0.1)
n.add("Link", "Fuel cell", bus0="West H2", bus1="West", p_nom=100, efficiency=0.5)
n.add("Store", "H2 cavern", bus="West H2", carrier="H2", e_nom_extendable=True,
      e_nom_max=2000, capital_cost=2.0, e_cyclic=True, marginal_cost_storage=0.01)
n.add("Link", "Heat pump", bus0="East", bus1="East heat", p_nom=60, efficiency=3.0)
n.add("Store", "Heat tank", bus="East heat", carrier="heat", e_nom=500, standing_loss=0.02,
      e_initial=200, marginal_cost_storage=0.05,
      e_min_pu=[0.1] * 6 + [0.2] * 6, e_max_pu=[1.0] * 10 + [0.8] * 2)
n.add("Bus", "East battery bus")
n.add("Link", "Battery charger", bus0="East", bus1="East battery bus", p_nom=200,
      efficiency=0.95, p_min_pu=-1)
n.add("Store", "Battery", bus="East battery bus", e_nom=300, e_cyclic=True, marginal_cost_storage=0.02,
      marginal_cost=0.3)
# A storage unit beside the stores: its first snapshot also starts from its initial level
# without the standing loss applied to it (PyPSA 1.4's balance, for both components).
n.add("StorageUnit", "West pumped hydro", bus="West", p_nom=50, max_hours=6,
      state_of_charge_initial=150, standing_loss=0.01, efficiency_store=0.85,
      efficiency_dispatch=0.9, marginal_cost=0.4)
shape = [0.8, 0.75, 0.75, 0.85, 1.0, 1.1, 1.15, 1.1, 1.0, 0.95, 0.9, 0.85]
n.add("Load", "West load", bus="West", p_set=[250 * s for s in shape])
n.add("Load", "East load", bus="East", p_set=[300 * s for s in shape])
n.add("Load", "West H2 demand", bus="West H2", p_set=30.0)
n.add("Load", "East heat load", bus="East heat", p_set=[120 * s for s in shape[::-1]])
export_solve_record(n, here, lambda n: {
    "objective_as_pypsa_reports": float(n.objective),
    "e_nom_opt": {s: float(n.stores.at[s, "e_nom_opt"]) for s in n.stores.index},
    "store_p": series(n.stores_t.p, n.stores.index),
    "store_e": series(n.stores_t.e, n.stores.index),
    "state_of_charge": series(n.storage_units_t.state_of_charge, n.storage_units.index),
    "link_p0": series(n.links_t.p0, n.links.index),
})

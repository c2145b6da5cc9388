"""Build a small network in PyPSA, solve it with PyPSA's own n.optimize() (HiGHS), and write
the folder (export_to_csv_folder) and PyPSA's answer (expected.json) for tests/pypsa_reference.rs.

Run: pip install pypsa highspy && python3 tests/data/pypsa_reference/make.py
The folder and expected.json are committed; this script only documents how they were made.
"""
import json
import math
import os

import pypsa

here = os.path.dirname(os.path.abspath(__file__))
T = 12
n = pypsa.Network()
n.set_snapshots(range(T))
n.snapshot_weightings.loc[:, "objective"] = 2.0  # each snapshot stands for two hours
n.snapshot_weightings.loc[:, "stores"] = 2.0
n.add("Carrier", "coal", co2_emissions=0.34)
n.add("Carrier", "gas", co2_emissions=0.2)
for b, (zone, v) in {"N1": ("N", 220.0), "N2": ("N", 220.0), "S1": ("S", 220.0), "S2": ("S", 220.0), "E": ("E", 110.0)}.items():
    n.add("Bus", b, v_nom=v, zone=zone)
# A meshed AC area (N1, N2, S1, S2) with one binding line, and E reached only by links.
n.add("Line", "N1-N2", bus0="N1", bus1="N2", x=12.0, r=1.0, s_nom=400)
n.add("Line", "N1-S1", bus0="N1", bus1="S1", x=30.0, r=3.0, s_nom=250)
n.add("Line", "N2-S2", bus0="N2", bus1="S2", x=25.0, r=2.0, s_nom=300)
n.add("Line", "S1-S2", bus0="S1", bus1="S2", x=10.0, r=1.0, s_nom=200)
n.add("Link", "S2-E", bus0="S2", bus1="E", p_nom=150, p_min_pu=-1, efficiency=1.0)
n.add("Link", "E-N1 HVDC", bus0="E", bus1="N1", p_nom=100, efficiency=0.97)
n.add("Generator", "N1 coal", bus="N1", carrier="coal", p_nom=600, marginal_cost=20, efficiency=0.38)
n.add("Generator", "N2 gas", bus="N2", carrier="gas", p_nom=300, marginal_cost=45, efficiency=0.5, p_min_pu=0.1)
n.add("Generator", "S2 gas", bus="S2", carrier="gas", p_nom=500, marginal_cost=60, efficiency=0.4)
solar = [max(0.0, math.sin(math.pi * (t - 2) / 8)) if 2 <= t <= 10 else 0.0 for t in range(T)]
n.add("Generator", "S1 solar", bus="S1", carrier="solar", p_nom=350, marginal_cost=0.0, p_max_pu=solar)
wind = [0.3 + 0.2 * math.cos(2 * math.pi * t / T) for t in range(T)]
n.add("Generator", "E wind", bus="E", carrier="wind", p_nom=200, marginal_cost=1.0, p_max_pu=wind)
n.add("Generator", "shed N2", bus="N2", carrier="load_shedding", p_nom=1000, marginal_cost=3000)
shape = [0.7, 0.65, 0.7, 0.8, 0.9, 1.0, 0.95, 0.9, 1.0, 1.1, 0.95, 0.8]
for b, peak in {"N1": 250, "N2": 300, "S1": 200, "S2": 350, "E": 60}.items():
    n.add("Load", f"load {b}", bus=b, p_set=[peak * s for s in shape])
n.add("StorageUnit", "E reservoir", bus="E", carrier="hydro", p_nom=120, max_hours=10,
      p_min_pu=0, efficiency_dispatch=0.9, inflow=[40.0] * T, cyclic_state_of_charge=True)
n.add("StorageUnit", "S1 pumped", bus="S1", carrier="PHS", p_nom=100, max_hours=4,
      efficiency_store=0.87, efficiency_dispatch=0.87, state_of_charge_initial=100)
status, condition = n.optimize(solver_name="highs")
assert status == "ok", (status, condition)
folder = os.path.join(here, "network")
n.export_to_csv_folder(folder)
expected = {
    "pypsa_version": pypsa.__version__,
    "objective": float(n.objective + getattr(n, "objective_constant", 0.0)),
    "marginal_price": {b: [float(v) for v in n.buses_t.marginal_price[b]] for b in n.buses.index},
}
with open(os.path.join(here, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
print(json.dumps(expected)[:400])

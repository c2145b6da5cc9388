"""Build a network of two voltage levels joined by transformers that name PyPSA standard
transformer types (with `num_parallel` and off-neutral `tap_position`, the default T model),
write the folder as the user has it (export_to_csv_folder before solving: type, tap
position and num_parallel, no x, r or s_nom), solve it with PyPSA's own n.optimize() (HiGHS)
and write PyPSA's answer (expected.json) for tests/pypsa_reference.rs.

PyPSA's linear power flow takes a transformer's x (per unit on the type's s_nom) times its
tap ratio; the T model changes only the AC power flow's parameters.

Run: pip install pypsa==1.4.0 highspy && python3 tests/data/pypsa_transformer_types/make.py
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
n.add("Bus", "H1", v_nom=380.0)
n.add("Bus", "H2", v_nom=380.0)
n.add("Bus", "M1", v_nom=110.0)
n.add("Bus", "M2", v_nom=220.0)
n.add("Bus", "M3", v_nom=110.0)
n.add("Line", "H1-H2", bus0="H1", bus1="H2", x=40.0, r=4.0, s_nom=600)
n.add("Line", "M1-M3", bus0="M1", bus1="M3", x=12.0, r=1.5, s_nom=120)
# Two parallel 160 MVA units, tap two steps up; one 100 MVA 220/110 kV unit into M3 from
# M2; and a single 380/110 kV unit H2-M3 at neutral tap, so the 110 kV side is meshed.
n.add("Transformer", "T1", bus0="H1", bus1="M1", type="160 MVA 380/110 kV",
      num_parallel=2, tap_position=2)
n.add("Transformer", "T2", bus0="H2", bus1="M3", type="160 MVA 380/110 kV")
n.add("Transformer", "T3", bus0="M2", bus1="M3", type="100 MVA 220/110 kV", tap_position=-3)
n.add("Link", "H2-M2", bus0="H2", bus1="M2", p_nom=150, p_min_pu=-1, efficiency=1.0)
n.add("Generator", "H1 coal", bus="H1", p_nom=700, marginal_cost=20)
n.add("Generator", "M3 gas", bus="M3", p_nom=200, marginal_cost=70)
n.add("Generator", "M2 hydro", bus="M2", p_nom=80, marginal_cost=3)
for b, p in {"H2": 150, "M1": 120, "M3": 160}.items():
    n.add("Load", f"load {b}", bus=b, p_set=[p * s for s in [0.8, 1.0, 1.2, 0.9]])
export_solve_record(n, here, lambda n: {
    "transformer_x_pu_eff": {t: float(n.transformers.at[t, "x_pu_eff"]) for t in n.transformers.index},
    "transformer_s_nom": {t: float(n.transformers.at[t, "s_nom"]) for t in n.transformers.index},
    "transformer_p0": series(n.transformers_t.p0, n.transformers.index),
})

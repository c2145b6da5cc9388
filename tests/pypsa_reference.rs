//! A network built and solved by PyPSA 1.4 itself (`n.optimize()` with HiGHS), exported with
//! `export_to_csv_folder` (results included, as PyPSA writes them). gridtrade reads the
//! folder and must reproduce PyPSA's objective and every bus price. How the folder and
//! `expected.json` were made: `tests/data/pypsa_reference/make.py`.
//!
//! The network has snapshot weights of 2 h, a meshed AC area with Kirchhoff's law binding,
//! a bidirectional link, a lossy one-way HVDC link, a minimum output, wind and solar series,
//! a cyclic hydro reservoir with inflow and spill, pumped storage with an initial state of
//! charge, and load shedding modelled as a generator (PyPSA's common practice).

mod common;

use common::*;
use gridtrade_engine::solve::SolveOptions;
use std::path::Path;

#[test]
fn pypsa_exported_network_gives_pypsa_objective_and_prices() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pypsa_reference");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let n = read(&dir.join("network"));
    assert_eq!(n.snapshots.len(), 12);
    assert_eq!(n.snapshots.objective, vec![2.0; 12]);
    // In each statement of Kirchhoff's voltage law (angles, cycles, PTDF with lazy limits).
    for kvl in EVERY_KVL {
        let mut opts = SolveOptions::default();
        opts.formulation.kvl = kvl;
        let r = solve_ok(&n, &opts).results.unwrap();
        assert_rel(r.objective, expected["objective"].as_f64().unwrap(), 1e-6);
        let prices = expected["marginal_price"].as_object().unwrap();
        assert_eq!(prices.len(), n.buses.len());
        for (bus, series) in prices {
            let b = n.bus_id(bus).unwrap();
            for (t, want) in series.as_array().unwrap().iter().enumerate() {
                assert_abs(r.bus_price[b][t], want.as_f64().unwrap(), 1e-6);
            }
        }
    }
}

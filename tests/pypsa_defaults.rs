//! PyPSA's attribute defaults: a folder that gives each component only its required fields
//! reads into the values PyPSA 1.4 would use, attribute by attribute, as its own tables say
//! (`crates/engine/data/pypsa-standard-types/attrs-*.csv`, copied from PyPSA 1.4.0's wheel).

mod common;

use common::*;
use gridtrade_engine::network::{CostCurve, Network};
use std::collections::HashMap;
use std::path::Path;

/// `attribute -> default` of PyPSA's table for `component` (e.g. `generators`).
fn pypsa_defaults(component: &str) -> HashMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/engine/data/pypsa-standard-types")
        .join(format!("attrs-{component}.csv"));
    let mut r = csv::Reader::from_path(&path).unwrap();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[0].to_string(), rec[3].to_string())
        })
        .collect()
}

/// A number or boolean default as f64 (`True` 1, `False` 0, `inf`).
fn number(text: &str) -> f64 {
    match text {
        "True" => 1.0,
        "False" => 0.0,
        t => t
            .parse()
            .unwrap_or_else(|_| panic!("`{t}` is not a number")),
    }
}

/// A network of one element per component, each with its required fields only.
fn minimal() -> Network {
    let dir = folder(&[
        ("buses.csv", "name\nA\nB\n"),
        ("generators.csv", "name,bus\ng,A\n"),
        ("loads.csv", "name,bus\nl,A\n"),
        ("links.csv", "name,bus0,bus1\nk,A,B\n"),
        ("lines.csv", "name,bus0,bus1,x\nab,A,B,1\n"),
        (
            "transformers.csv",
            "name,bus0,bus1,x,s_nom\nt,A,B,0.1,100\n",
        ),
        ("storage_units.csv", "name,bus\ns,A\n"),
        ("stores.csv", "name,bus\ne,A\n"),
    ]);
    let (n, f) = gridtrade_engine::io::read(dir.path()).unwrap();
    assert!(!f.has_errors(), "{f}");
    n
}

/// Every attribute gridtrade models, read from a folder that leaves it out, is PyPSA's
/// default (a generator's `p_max_pu` 1, a storage unit's `p_min_pu` −1, a store's
/// `e_max_pu` 1, a line's `s_max_pu` 1, a transformer's `tap_ratio` 1, ...).
#[test]
fn missing_attributes_take_pypsa_defaults() {
    let n = minimal();
    let (g, k, s, e) = (
        &n.generators[0],
        &n.links[0],
        &n.storage_units[0],
        &n.stores[0],
    );
    let marginal = match &g.cost {
        CostCurve::Polynomial {
            marginal_cost,
            marginal_cost_quadratic,
            ..
        } => (marginal_cost.at(0), *marginal_cost_quadratic),
        CostCurve::PiecewiseLinear(_) => unreachable!(),
    };
    let line = n.branches.iter().find(|b| b.name == "ab").unwrap();
    let trafo = n.branches.iter().find(|b| b.name == "t").unwrap();
    let checks: Vec<(&str, &str, f64)> = vec![
        ("buses", "v_nom", n.buses[0].v_nom),
        ("buses", "x", n.buses[0].x),
        ("buses", "y", n.buses[0].y),
        ("generators", "p_nom", g.p_nom),
        ("generators", "p_min_pu", g.p_min_pu.at(0)),
        ("generators", "p_max_pu", g.p_max_pu.at(0)),
        ("generators", "marginal_cost", marginal.0),
        ("generators", "marginal_cost_quadratic", marginal.1),
        ("generators", "efficiency", g.efficiency),
        ("generators", "active", g.in_service as u8 as f64),
        (
            "generators",
            "p_nom_extendable",
            g.expansion.is_some() as u8 as f64,
        ),
        ("loads", "p_set", n.loads[0].p_set.at(0)),
        ("loads", "active", n.loads[0].in_service as u8 as f64),
        ("links", "p_nom", k.p_nom),
        ("links", "p_min_pu", k.p_min_pu.at(0)),
        ("links", "p_max_pu", k.p_max_pu.at(0)),
        ("links", "efficiency", k.efficiency),
        ("links", "marginal_cost", k.marginal_cost),
        (
            "links",
            "p_nom_extendable",
            k.expansion.is_some() as u8 as f64,
        ),
        ("lines", "s_nom", line.s_nom),
        ("lines", "s_max_pu", line.s_max_pu.at(0)),
        ("lines", "r", line.r),
        (
            "lines",
            "s_nom_extendable",
            line.expansion.is_some() as u8 as f64,
        ),
        ("transformers", "tap_ratio", trafo.tap_ratio),
        ("transformers", "phase_shift", trafo.phase_shift),
        ("transformers", "s_max_pu", trafo.s_max_pu.at(0)),
        ("transformers", "r", trafo.r),
        ("storage_units", "p_nom", s.p_nom),
        ("storage_units", "p_min_pu", s.p_min_pu.at(0)),
        ("storage_units", "p_max_pu", s.p_max_pu.at(0)),
        ("storage_units", "max_hours", s.max_hours),
        ("storage_units", "efficiency_store", s.efficiency_store),
        (
            "storage_units",
            "efficiency_dispatch",
            s.efficiency_dispatch,
        ),
        ("storage_units", "standing_loss", s.standing_loss),
        ("storage_units", "inflow", s.inflow.at(0)),
        (
            "storage_units",
            "state_of_charge_initial",
            s.state_of_charge_initial,
        ),
        (
            "storage_units",
            "cyclic_state_of_charge",
            s.cyclic_state_of_charge as u8 as f64,
        ),
        ("storage_units", "marginal_cost", s.marginal_cost),
        ("storage_units", "spill_cost", s.spill_cost),
        (
            "storage_units",
            "marginal_cost_storage",
            s.marginal_cost_storage,
        ),
        (
            "storage_units",
            "p_nom_extendable",
            s.expansion.is_some() as u8 as f64,
        ),
        ("stores", "e_nom", e.e_nom),
        ("stores", "e_min_pu", e.e_min_pu.at(0)),
        ("stores", "e_max_pu", e.e_max_pu.at(0)),
        ("stores", "e_initial", e.e_initial),
        ("stores", "e_cyclic", e.e_cyclic as u8 as f64),
        ("stores", "standing_loss", e.standing_loss),
        ("stores", "marginal_cost", e.marginal_cost),
        ("stores", "marginal_cost_storage", e.marginal_cost_storage),
        (
            "stores",
            "e_nom_extendable",
            e.expansion.is_some() as u8 as f64,
        ),
    ];
    let mut tables: HashMap<&str, HashMap<String, String>> = HashMap::new();
    for (component, attribute, ours) in checks {
        let table = tables
            .entry(component)
            .or_insert_with(|| pypsa_defaults(component));
        let default = table
            .get(attribute)
            .unwrap_or_else(|| panic!("PyPSA has no {component}.{attribute}"));
        assert_eq!(ours, number(default), "{component}.{attribute}");
    }
    assert_eq!(n.buses[0].carrier, pypsa_defaults("buses")["carrier"]);
}

/// The extendable bounds and costs default as PyPSA's: `*_nom_min` 0, `*_nom_max` inf,
/// `capital_cost` 0 (no `overnight_cost`: NaN).
#[test]
fn extendable_bounds_take_pypsa_defaults() {
    let dir = folder(&[
        ("buses.csv", "name\nA\n"),
        ("generators.csv", "name,bus,p_nom_extendable\ng,A,True\n"),
        ("loads.csv", "name,bus,p_set\nl,A,1\n"),
    ]);
    let n = read(dir.path());
    let x = n.generators[0].expansion.unwrap();
    let pypsa = pypsa_defaults("generators");
    assert_eq!(x.nom_min, number(&pypsa["p_nom_min"]));
    assert_eq!(x.nom_max, number(&pypsa["p_nom_max"]));
    assert_eq!(
        x.cost,
        number(&pypsa["capital_cost"]) + number(&pypsa["fom_cost"])
    );
    assert_eq!(pypsa["overnight_cost"], "NaN");
}

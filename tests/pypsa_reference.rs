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
use gridtrade_engine::network::Network;
use gridtrade_engine::solution::Results;
use gridtrade_engine::solve::SolveOptions;
use std::path::Path;

/// PyPSA's answer beside a reference network (`expected.json`).
fn expected_json(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Every bus price of `r` is PyPSA's `marginal_price` (1e-6 currency/MWh).
#[track_caller]
fn assert_prices(n: &Network, r: &Results, expected: &serde_json::Value) {
    let prices = expected["marginal_price"].as_object().unwrap();
    assert_eq!(prices.len(), n.buses.len());
    for (bus, series) in prices {
        let b = n.bus_id(bus).unwrap();
        for (t, want) in series.as_array().unwrap().iter().enumerate() {
            assert_abs(r.bus_price[b][t], want.as_f64().unwrap(), 1e-6);
        }
    }
}

/// Every branch flow PyPSA gives in `p0` (`{branch: [MW per snapshot]}`) is `r`'s (1e-6 MW).
#[track_caller]
fn assert_branch_flows(n: &Network, r: &Results, p0: &serde_json::Value) {
    for (name, series) in p0.as_object().unwrap() {
        let l = n.branches.iter().position(|b| &b.name == name).unwrap();
        for (t, want) in series.as_array().unwrap().iter().enumerate() {
            assert_abs(r.branch_p0[l][t], want.as_f64().unwrap(), 1e-6);
        }
    }
}

#[test]
fn pypsa_exported_network_gives_pypsa_objective_and_prices() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pypsa_reference");
    let expected = expected_json(&dir);
    let n = read(&dir.join("network"));
    assert_eq!(n.snapshots.len(), 12);
    assert_eq!(n.snapshots.objective, vec![2.0; 12]);
    // In each statement of Kirchhoff's voltage law (angles, cycles, PTDF with lazy limits).
    for kvl in EVERY_KVL {
        let mut opts = SolveOptions::default();
        opts.formulation.kvl = kvl;
        let r = solve_ok(&n, &opts).results.unwrap();
        assert_rel(r.objective, expected["objective"].as_f64().unwrap(), 1e-6);
        assert_prices(&n, &r, &expected);
    }
}

/// Lines that name PyPSA standard line types (`type`, `length`, `num_parallel`, no `x` or
/// `r` in the file), as PyPSA-Eur and PyPSA-Earth networks come: gridtrade derives each
/// line's impedance as PyPSA does (`x_per_length · length / num_parallel`) and reproduces
/// PyPSA 1.4's objective, prices and flows (`tests/data/pypsa_line_types/make.py`).
#[test]
fn standard_line_types_give_pypsa_impedances_and_answer() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pypsa_line_types");
    let expected = expected_json(&dir);
    let n = read(&dir.join("network"));
    // PyPSA's x in ohm, e.g. B-C: 0.16 ohm/km (Al/St 490/64 4-bundle) × 90 km / 2 = 7.2.
    for (line, x_ohm) in expected["line_x_ohm"].as_object().unwrap() {
        let l = n.branches.iter().find(|b| &b.name == line).unwrap();
        let v2 = n.buses[l.bus0].v_nom.powi(2);
        assert_rel(l.x * v2, x_ohm.as_f64().unwrap(), 1e-12);
        let r_ohm = expected["line_r_ohm"][line].as_f64().unwrap();
        assert_rel(l.r * v2, r_ohm, 1e-12);
    }
    let r = solve_ok(&n, &SolveOptions::default()).results.unwrap();
    assert_rel(r.objective, expected["objective"].as_f64().unwrap(), 1e-6);
    assert_prices(&n, &r, &expected);
    assert_branch_flows(&n, &r, &expected["line_p0"]);
}

/// A type that is neither standard nor in the folder's `line_types.csv`, a typed line
/// without a length, and a bad per-length value are errors naming file, element and field;
/// the folder's own types are used, and replace a standard type of the same name.
#[test]
fn line_types_bad_or_unknown_are_refused_by_name() {
    let buses = "name,v_nom\nA,220\nB,220\n";
    let dir = folder(&[
        ("buses.csv", buses),
        (
            "lines.csv",
            "name,bus0,bus1,type,length,s_nom\nL1,A,B,No Such Type,10,100\nL2,A,B,Al/St 240/40 2-bundle 220.0,,100\n",
        ),
    ]);
    let (_, f) = gridtrade_engine::io::read(dir.path()).unwrap();
    let text = f.to_string();
    assert!(f.has_errors());
    assert!(
        text.contains("line 'L1'") && text.contains("unknown line type `No Such Type`"),
        "{text}"
    );
    assert!(
        text.contains("line 'L2'") && text.contains("length"),
        "{text}"
    );
    assert!(text.contains("lines.csv"), "{text}");
    // The folder's own type (0.5 ohm/km), and its replacement of a standard one (0.25).
    let dir = folder(&[
        ("buses.csv", buses),
        (
            "line_types.csv",
            "name,r_per_length,x_per_length\nmine,0.05,0.5\nAl/St 240/40 2-bundle 220.0,0.02,0.25\nbad,x,0.1\n",
        ),
        (
            "lines.csv",
            "name,bus0,bus1,type,length,num_parallel,s_nom\nL1,A,B,mine,10,2,100\nL2,A,B,Al/St 240/40 2-bundle 220.0,40,1,100\n",
        ),
    ]);
    let (n, f) = gridtrade_engine::io::read(dir.path()).unwrap();
    let text = f.to_string();
    assert!(
        text.contains("line type 'bad'") && text.contains("r_per_length"),
        "{text}"
    );
    assert_rel(n.branches[0].x * 220.0 * 220.0, 0.5 * 10.0 / 2.0, 1e-12);
    assert_rel(n.branches[1].x * 220.0 * 220.0, 0.25 * 40.0, 1e-12);
}

/// A meshed DC grid (buses of carrier DC, DC lines) beside an AC grid, tied by converter
/// links, built and solved by PyPSA 1.4 (`tests/data/pypsa_dc_lines/make.py`): DC lines
/// carry flow by their resistance r, not x (D2's wind reaches D1 over D1-D2, r = 4, and over
/// D2-D3-D1, r = 6 + 12, in the ratio 18 : 4), so flows, prices and objective are PyPSA's.
#[test]
fn dc_lines_carry_flow_by_resistance_as_pypsa() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pypsa_dc_lines");
    let expected = expected_json(&dir);
    let n = read(&dir.join("network"));
    for kvl in EVERY_KVL {
        let mut opts = SolveOptions::default();
        opts.formulation.kvl = kvl;
        let r = solve_ok(&n, &opts).results.unwrap();
        assert_rel(r.objective, expected["objective"].as_f64().unwrap(), 1e-6);
        assert_prices(&n, &r, &expected);
        assert_branch_flows(&n, &r, &expected["line_p0"]);
    }
    // A line from a DC bus to an AC bus, and a DC line without resistance, are refused.
    let dir = folder(&[
        (
            "buses.csv",
            "name,v_nom,carrier\nA,380,AC\nD,525,DC\nE,525,DC\n",
        ),
        (
            "lines.csv",
            "name,bus0,bus1,x,r,s_nom\nAD,A,D,10,1,100\nDE,D,E,1,0,100\n",
        ),
    ]);
    let (_, f) = gridtrade_engine::io::read(dir.path()).unwrap();
    let text = f.to_string();
    assert!(
        text.contains("line 'AD'") && text.contains("a converter is a link"),
        "{text}"
    );
    assert!(
        text.contains("line 'DE'") && text.contains("resistance"),
        "{text}"
    );
}

/// A CO2 limit (PyPSA's `primary_energy` global constraint on `co2_emissions`) with
/// snapshots of 2 h, built and solved by PyPSA 1.4 (`tests/data/pypsa_co2_cap/make.py`):
/// the limit binds at 3,500 t, gridtrade gives PyPSA's objective, prices and the limit's
/// shadow price `mu` (−72.04 /t, so gas at 0.2 / 0.55 t/MWh prices at 55 + 72.04 · 0.3636 =
/// 81.19 /MWh), and the summary reports the implied CO2 price.
#[test]
fn co2_limit_gives_pypsa_objective_prices_and_shadow_price() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pypsa_co2_cap");
    let expected = expected_json(&dir);
    let n = read(&dir.join("network"));
    let limit = n.co2_constraint.as_ref().unwrap();
    assert_eq!((limit.name.as_str(), limit.limit_t), ("CO2Limit", 3500.0));
    for kvl in EVERY_KVL {
        let mut opts = SolveOptions::default();
        opts.formulation.kvl = kvl;
        let o = solve_ok(&n, &opts);
        let r = o.results.as_ref().unwrap();
        assert_rel(r.objective, expected["objective"].as_f64().unwrap(), 1e-6);
        assert_rel(r.co2_t, 3500.0, 1e-9);
        let mu = expected["co2_mu"].as_f64().unwrap();
        assert_abs(r.co2_limit_mu.unwrap(), mu, 1e-6);
        assert_prices(&n, &r, &expected);
        let s = gridtrade_engine::report::summary(&n, &o, &opts.formulation);
        let c = s.co2_limit.unwrap();
        assert_abs(c.co2_price, -mu, 1e-6);
        assert_eq!(c.sense, "<=");
    }
}

/// Global constraints other than a CO2 limit and the transmission limits are refused by
/// name, never dropped; so are a
/// CO2 limit with storage of an emitting carrier and one whose generator weights differ
/// from the objective's.
#[test]
fn unsupported_global_constraints_are_refused_by_name() {
    let base = [
        ("buses.csv", "name\nA\n"),
        (
            "generators.csv",
            "name,bus,p_nom,marginal_cost,carrier\ng,A,100,10,coal\n",
        ),
        ("carriers.csv", "name,co2_emissions\ncoal,0.34\n"),
        ("loads.csv", "name,bus,p_set\nl,A,50\n"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut files = base.to_vec();
        files.extend_from_slice(extra);
        let dir = folder(&files);
        let (_, f) = gridtrade_engine::io::read(dir.path()).unwrap();
        (f.has_errors(), f.to_string())
    };
    let (bad, text) = with(&[(
        "global_constraints.csv",
        "name,type,sense,constant\nwind,tech_capacity_expansion_limit,<=,100\n",
    )]);
    assert!(bad && text.contains("global constraint 'wind'"), "{text}");
    assert!(text.contains("tech_capacity_expansion_limit"), "{text}");
    let (bad, text) = with(&[
        (
            "global_constraints.csv",
            "name,sense,constant\nco2,<=,100\n",
        ),
        ("snapshots.csv", "snapshot,objective,generators\nnow,1,2\n"),
    ]);
    assert!(bad && text.contains("`generators` weights"), "{text}");
    let (bad, text) = with(&[
        (
            "global_constraints.csv",
            "name,sense,constant\nco2,<=,100\n",
        ),
        ("storage_units.csv", "name,bus,p_nom,carrier\ns,A,10,coal\n"),
    ]);
    assert!(bad && text.contains("storage unit `s`"), "{text}");
    // The limit alone reads clean.
    let (bad, text) = with(&[(
        "global_constraints.csv",
        "name,sense,constant\nco2,<=,100\n",
    )]);
    assert!(!bad, "{text}");
    // 50 MW of coal at 0.34 t/MWh emits 17 t: a limit of 10 t cannot be met, and the
    // diagnosis says load must be shed because the CO2 limit binds.
    let mut files = base.to_vec();
    files.push(("global_constraints.csv", "name,sense,constant\nco2,<=,10\n"));
    let dir = folder(&files);
    let n = read(dir.path());
    let o = gridtrade_engine::solve::solve(&n, &SolveOptions::default()).unwrap();
    assert_eq!(o.status, gridtrade_engine::solution::Status::Infeasible);
    let d = o.diagnosis.expect("a diagnosis");
    assert!(
        d.binding.iter().any(|b| b == "CO2 limit co2 at 10 t"),
        "{d:?}"
    );
}

/// Transformers that name PyPSA standard transformer types (`num_parallel`, off-neutral
/// `tap_position`, no x, r or s_nom in the file), built and solved by PyPSA 1.4
/// (`tests/data/pypsa_transformer_types/make.py`): gridtrade derives PyPSA's rating and
/// effective reactance (x per unit on the type's s_nom, over num_parallel, times the tap
/// ratio 1 + (position − neutral) · step: T1 = sqrt(0.122² − 0.0025²) / 2 / 160 · 1.03 =
/// 3.926e-4 on 1 MVA) and its objective, prices and flows.
#[test]
fn standard_transformer_types_give_pypsa_parameters_and_answer() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pypsa_transformer_types");
    let expected = expected_json(&dir);
    let n = read(&dir.join("network"));
    for (name, x_eff) in expected["transformer_x_pu_eff"].as_object().unwrap() {
        let t = n.branches.iter().find(|b| &b.name == name).unwrap();
        assert_rel(t.x * t.tap_ratio, x_eff.as_f64().unwrap(), 1e-12);
        let s_nom = expected["transformer_s_nom"][name].as_f64().unwrap();
        assert_rel(t.s_max, s_nom, 1e-12);
    }
    for kvl in EVERY_KVL {
        let mut opts = SolveOptions::default();
        opts.formulation.kvl = kvl;
        let r = solve_ok(&n, &opts).results.unwrap();
        assert_rel(r.objective, expected["objective"].as_f64().unwrap(), 1e-6);
        assert_prices(&n, &r, &expected);
        assert_branch_flows(&n, &r, &expected["transformer_p0"]);
    }
    // An unknown type is refused by name.
    let dir = folder(&[
        ("buses.csv", "name,v_nom\nA,380\nB,110\n"),
        (
            "transformers.csv",
            "name,bus0,bus1,type\nT,A,B,999 MVA 1/2 kV\n",
        ),
    ]);
    let (_, f) = gridtrade_engine::io::read(dir.path()).unwrap();
    let text = f.to_string();
    assert!(
        text.contains("transformer 'T'") && text.contains("unknown transformer type"),
        "{text}"
    );
}

/// Storage units with time-varying `p_max_pu` and `p_min_pu` (a battery derated to 30 % in
/// the evening peak, a pumped-storage plant that may not pump at night) and a
/// `state_of_charge_set` (300 MWh after snapshot 3, 150 after 5, NaN elsewhere), built and
/// solved by PyPSA 1.4 (`tests/data/pypsa_storage_series/make.py`): objective and prices
/// are PyPSA's (the derated hour prices at 78.43, set by the battery's 45 MW) and the set
/// levels hold.
#[test]
fn storage_with_time_varying_limits_gives_pypsa_answer() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pypsa_storage_series");
    let expected = expected_json(&dir);
    let n = read(&dir.join("network"));
    let battery = n
        .storage_units
        .iter()
        .find(|s| s.name == "A battery")
        .unwrap();
    assert_eq!(battery.p_max_pu.at(6), 0.3);
    for kvl in EVERY_KVL {
        let mut opts = SolveOptions::default();
        opts.formulation.kvl = kvl;
        let r = solve_ok(&n, &opts).results.unwrap();
        assert_rel(r.objective, expected["objective"].as_f64().unwrap(), 1e-6);
        assert_prices(&n, &r, &expected);
        let s = n
            .storage_units
            .iter()
            .position(|s| s.name == "A battery")
            .unwrap();
        assert!(
            r.su_dispatch[s][6] <= 45.0 + 1e-6,
            "{}",
            r.su_dispatch[s][6]
        );
        let s = n.storage_units.iter().position(|s| s.name == "B pumped");
        let s = s.unwrap();
        assert_abs(r.su_soc[s][3], 300.0, 1e-6);
        assert_abs(r.su_soc[s][5], 150.0, 1e-6);
    }
    let pumped = n.storage_units.iter().find(|s| s.name == "B pumped");
    let pumped = pumped.unwrap();
    assert_eq!(pumped.state_of_charge_set[3], Some(300.0));
    assert_eq!(pumped.state_of_charge_set[4], None);
    // A snapshot where p_min_pu is above p_max_pu is named with its file.
    let dir = folder(&[
        ("buses.csv", "name\nA\n"),
        ("snapshots.csv", "snapshot\nt0\nt1\n"),
        ("storage_units.csv", "name,bus,p_nom\ns,A,10\n"),
        ("storage_units-p_min_pu.csv", "snapshot,s\nt0,-1\nt1,0.5\n"),
        ("storage_units-p_max_pu.csv", "snapshot,s\nt0,1\nt1,0.2\n"),
        (
            "storage_units-state_of_charge_set.csv",
            "snapshot,s\nt0,\nt1,25\n",
        ),
    ]);
    let (n, mut f) = gridtrade_engine::io::read(dir.path()).unwrap();
    gridtrade_engine::validate::check(&n, &Default::default(), &mut f);
    let text = f.to_string();
    assert!(
        text.contains("storage unit 's'") && text.contains("snapshot 't1'"),
        "{text}"
    );
    // 25 MWh is above the unit's 10 MW × 1 h.
    assert!(
        text.contains("state_of_charge_set") && text.contains("25 MWh"),
        "{text}"
    );
}

/// Capacity expansion, built and solved by PyPSA 1.4 (`tests/data/pypsa_expansion/make.py`):
/// extendable wind (capital_cost, p_nom_max binding), solar (overnight_cost annuitised at 7 %
/// over 25 years for a 72 h horizon, plus fom_cost), a line (s_nom_min), a transformer
/// (s_nom_max binding), a two-way HVDC link and a battery. gridtrade chooses PyPSA's
/// capacities (1e-6 MW) and gives its objective (which, as PyPSA's, leaves out the cost of
/// what exists already: `objective_constant`), prices and flows.
#[test]
fn capacity_expansion_gives_pypsa_capacities_objective_and_prices() {
    use gridtrade_engine::formulation::Kvl;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pypsa_expansion");
    let expected = expected_json(&dir);
    let n = read(&dir.join("network"));
    assert_eq!(n.years(), 72.0 / 8760.0);
    let solar = n.generators.iter().find(|g| g.name == "South LV solar");
    let cost = solar.unwrap().expansion.unwrap().cost;
    // 450,000 × 0.07 / (1 − 1.07^−25) × 72/8760 + 60 (PyPSA's periodized_cost).
    assert_rel(cost, 450000.0 * 0.0858105172 * 72.0 / 8760.0 + 60.0, 1e-9);
    let nom_opt = &expected["nom_opt"];
    for kvl in [Kvl::Angles, Kvl::Cycles, Kvl::Auto] {
        let mut opts = SolveOptions::default();
        opts.formulation.kvl = kvl;
        let o = solve_ok(&n, &opts);
        let r = o.results.as_ref().unwrap();
        let want = expected["objective_as_pypsa_reports"].as_f64().unwrap();
        assert_rel(r.objective, want, 1e-6);
        let constant = expected["objective_constant"].as_f64().unwrap();
        assert_rel(
            r.objective + constant,
            expected["objective"].as_f64().unwrap(),
            1e-6,
        );
        assert_prices(&n, r, &expected);
        assert_branch_flows(&n, r, &expected["line_p0"]);
        assert_branch_flows(&n, r, &expected["transformer_p0"]);
        let by_name = |names: Vec<&String>, values: &[f64], component: &str| {
            for (name, v) in names.into_iter().zip(values) {
                assert_abs(*v, nom_opt[component][name].as_f64().unwrap(), 1e-6);
            }
        };
        by_name(
            n.generators.iter().map(|g| &g.name).collect(),
            &r.gen_p_nom_opt,
            "generators",
        );
        by_name(
            n.links.iter().map(|l| &l.name).collect(),
            &r.link_p_nom_opt,
            "links",
        );
        by_name(
            n.storage_units.iter().map(|s| &s.name).collect(),
            &r.su_p_nom_opt,
            "storage_units",
        );
        for (b, v) in n.branches.iter().zip(&r.branch_s_nom_opt) {
            let component = if b.kind_name() == "line" {
                "lines"
            } else {
                "transformers"
            };
            assert_abs(*v, nom_opt[component][&b.name].as_f64().unwrap(), 1e-6);
        }
        for (k, p0) in r.link_p0.iter().enumerate() {
            let want = &expected["link_p0"][&n.links[k].name];
            for (t, w) in want.as_array().unwrap().iter().enumerate() {
                assert_abs(p0[t], w.as_f64().unwrap(), 1e-6);
            }
        }
        // The summary lists each extendable element with what its added capacity costs.
        let s = gridtrade_engine::report::summary(&n, &o, &opts.formulation);
        assert_eq!(s.expansion.len(), 6);
        let wind = s
            .expansion
            .iter()
            .find(|x| x.name == "Centre wind")
            .unwrap();
        assert_eq!((wind.nom, wind.nom_max), (100.0, Some(800.0)));
        assert_rel(wind.investment, 300.0 * (wind.nom_opt - 100.0), 1e-12);
    }
}

/// An extendable line needs its flow column: the PTDF form refuses it by name (and `auto`
/// picks the cycle form, tested above).
#[test]
fn extendable_lines_are_refused_by_the_ptdf_form_by_name() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pypsa_expansion");
    let n = read(&dir.join("network"));
    let mut opts = SolveOptions::default();
    opts.formulation.kvl = gridtrade_engine::formulation::Kvl::Ptdf;
    let err = gridtrade_engine::solve::solve(&n, &opts)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line `Centre-South` has s_nom_extendable"),
        "{err}"
    );
}

/// Bad expansion inputs are errors naming the element and field: bounds the wrong way
/// round, an overnight cost without a discount rate, a modular (integer) capacity.
#[test]
fn bad_expansion_inputs_are_named() {
    let cases = [
        (
            "p_nom_extendable,p_nom_min,p_nom_max\ntrue,50,10",
            "p_nom_min",
        ),
        (
            "p_nom_extendable,overnight_cost,lifetime\ntrue,1000,20",
            "discount_rate",
        ),
        ("p_nom_extendable,p_nom_mod\ntrue,100", "p_nom_mod"),
    ];
    for (columns, field) in cases {
        let (head, row) = columns.split_once('\n').unwrap();
        let gens = format!("name,bus,marginal_cost,{head}\ng,A,10,{row}\n");
        let dir = folder(&[
            ("buses.csv", "name\nA\n"),
            ("generators.csv", gens.as_str()),
            ("loads.csv", "name,bus,p_set\nl,A,50\n"),
        ]);
        let (_, f) = gridtrade_engine::io::read(dir.path()).unwrap();
        let text = f.to_string();
        assert!(f.has_errors(), "{columns}: {text}");
        assert!(
            text.contains("generator 'g'") && text.contains(field),
            "{text}"
        );
    }
}

/// Stores (PyPSA's Store), built and solved by PyPSA 1.4 (`tests/data/pypsa_stores/make.py`):
/// an extendable, cyclic hydrogen store between an electrolyser and a fuel cell, a heat
/// tank with a standing loss over 2 h snapshots, an initial level, time-varying
/// `e_min_pu` / `e_max_pu` and `marginal_cost_storage`, and a cyclic battery store with a
/// cost on its power; beside them a storage unit with a standing loss and an initial level.
/// gridtrade gives PyPSA's objective, prices, `e_nom_opt`, and every store's power and level
/// (and the storage unit's).
#[test]
fn stores_give_pypsa_levels_objective_and_prices() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pypsa_stores");
    let expected = expected_json(&dir);
    let n = read(&dir.join("network"));
    assert_eq!(n.stores.len(), 3);
    let tank = n.stores.iter().find(|s| s.name == "Heat tank").unwrap();
    assert_eq!((tank.e_min_pu.at(6), tank.e_max_pu.at(11)), (0.2, 0.8));
    for kvl in EVERY_KVL {
        let mut opts = SolveOptions::default();
        opts.formulation.kvl = kvl;
        let r = solve_ok(&n, &opts).results.unwrap();
        assert_rel(r.objective, expected["objective"].as_f64().unwrap(), 1e-6);
        assert_prices(&n, &r, &expected);
        for (s, store) in n.stores.iter().enumerate() {
            let want = expected["e_nom_opt"][&store.name].as_f64().unwrap();
            assert_abs(r.store_e_nom_opt[s], want, 1e-6);
            for (table, got) in [("store_p", &r.store_p[s]), ("store_e", &r.store_e[s])] {
                let want = expected[table][&store.name].as_array().unwrap();
                for (t, w) in want.iter().enumerate() {
                    assert_abs(got[t], w.as_f64().unwrap(), 1e-6);
                }
            }
        }
        for (k, link) in n.links.iter().enumerate() {
            let want = expected["link_p0"][&link.name].as_array().unwrap();
            for (t, w) in want.iter().enumerate() {
                assert_abs(r.link_p0[k][t], w.as_f64().unwrap(), 1e-6);
            }
        }
        // 150 MWh − 2 h × 50 MW / 0.9: no standing loss on the initial level (PyPSA 1.4).
        let soc = &expected["state_of_charge"]["West pumped hydro"];
        assert_abs(r.su_soc[0][0], 150.0 - 2.0 * 50.0 / 0.9, 1e-9);
        for (t, w) in soc.as_array().unwrap().iter().enumerate() {
            assert_abs(r.su_soc[0][t], w.as_f64().unwrap(), 1e-6);
        }
    }
}

/// Transmission expansion limits, built and solved by PyPSA 1.4
/// (`tests/data/pypsa_transmission_limits/make.py`): a `transmission_volume_expansion_limit`
/// on AC and DC lines and links (MW·km) and a `transmission_expansion_cost_limit` on AC
/// (currency), both binding. gridtrade gives PyPSA's objective, prices, every capacity and
/// each limit's `mu`; the AC link without a carrier of its own counts as AC (its bus0's).
#[test]
fn transmission_limits_give_pypsa_capacities_and_shadow_prices() {
    use gridtrade_engine::formulation::Kvl;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pypsa_transmission_limits");
    let expected = expected_json(&dir);
    let n = read(&dir.join("network"));
    assert_eq!(n.transmission_limits.len(), 2);
    // Volume: 4 lines and 2 links (AC and DC); cost: the 4 lines and the AC link.
    let counted: Vec<usize> = n
        .transmission_limits
        .iter()
        .map(|l| l.terms.len())
        .collect();
    assert_eq!(counted, vec![6, 5]);
    for kvl in [Kvl::Angles, Kvl::Cycles, Kvl::Auto] {
        let mut opts = SolveOptions::default();
        opts.formulation.kvl = kvl;
        let o = solve_ok(&n, &opts);
        let r = o.results.as_ref().unwrap();
        let want = expected["objective_as_pypsa_reports"].as_f64().unwrap();
        assert_rel(r.objective, want, 1e-6);
        assert_prices(&n, r, &expected);
        for (b, v) in n.branches.iter().zip(&r.branch_s_nom_opt) {
            assert_abs(*v, expected["s_nom_opt"][&b.name].as_f64().unwrap(), 1e-6);
        }
        for (l, v) in n.links.iter().zip(&r.link_p_nom_opt) {
            assert_abs(*v, expected["p_nom_opt"][&l.name].as_f64().unwrap(), 1e-6);
        }
        for (limit, mu) in n.transmission_limits.iter().zip(&r.transmission_limit_mu) {
            assert_abs(
                mu.unwrap(),
                expected["mu"][&limit.name].as_f64().unwrap(),
                1e-6,
            );
        }
        let s = gridtrade_engine::report::summary(&n, &o, &opts.formulation);
        let volume = &s.transmission_limits[0];
        assert_eq!(
            (volume.measure.as_str(), volume.sense.as_str()),
            ("volume", "<=")
        );
        assert_rel(volume.value, 650000.0, 1e-9);
    }
}

/// Ratings that vary by snapshot (`lines-s_max_pu.csv`, `transformers-s_max_pu.csv`: dynamic
/// line ratings, a derated transformer), one of them on an extendable line, built and
/// solved by PyPSA 1.4 (`tests/data/pypsa_s_max_pu/make.py`): gridtrade gives its
/// objective, prices, the capacity chosen and every branch flow, in each statement of
/// Kirchhoff's law that applies (the extendable line rules out PTDF); without the
/// extendable line, PTDF's lazy limits use each snapshot's rating too.
#[test]
fn time_varying_ratings_give_pypsa_answer() {
    use gridtrade_engine::formulation::Kvl;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pypsa_s_max_pu");
    let expected = expected_json(&dir);
    let n = read(&dir.join("network"));
    let ab = n.branches.iter().find(|b| b.name == "A-B").unwrap();
    assert_eq!((ab.rating(3), ab.s_max), (150.0, 300.0));
    for kvl in [Kvl::Angles, Kvl::Cycles, Kvl::Auto] {
        let mut opts = SolveOptions::default();
        opts.formulation.kvl = kvl;
        let r = solve_ok(&n, &opts).results.unwrap();
        let want = expected["objective_as_pypsa_reports"].as_f64().unwrap();
        assert_rel(r.objective, want, 1e-6);
        assert_prices(&n, &r, &expected);
        assert_branch_flows(&n, &r, &expected["line_p0"]);
        assert_branch_flows(&n, &r, &expected["transformer_p0"]);
        let ac = n.branches.iter().position(|b| b.name == "A-C").unwrap();
        let want = expected["s_nom_opt"]["A-C"].as_f64().unwrap();
        assert_abs(r.branch_s_nom_opt[ac], want, 1e-6);
    }
    // The same network with A-C fixed at PyPSA's choice solves alike in every form, PTDF's
    // lazy limits included (the objective then leaves out A-C's cost).
    let mut fixed = n.clone();
    let ac = fixed.branches.iter().position(|b| b.name == "A-C").unwrap();
    let built = expected["s_nom_opt"]["A-C"].as_f64().unwrap();
    fixed.branches[ac].expansion = None;
    fixed.branches[ac].s_nom = built;
    fixed.branches[ac].update_rating();
    let capex = 40.0 * (built - 100.0);
    for kvl in EVERY_KVL {
        let mut opts = SolveOptions::default();
        opts.formulation.kvl = kvl;
        let r = solve_ok(&fixed, &opts).results.unwrap();
        let want = expected["objective_as_pypsa_reports"].as_f64().unwrap() - capex;
        assert_rel(r.objective, want, 1e-6);
        assert_branch_flows(&fixed, &r, &expected["line_p0"]);
    }
}

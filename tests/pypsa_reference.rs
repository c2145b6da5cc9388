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

/// Lines that name PyPSA standard line types (`type`, `length`, `num_parallel`, no `x` or
/// `r` in the file), as PyPSA-Eur and PyPSA-Earth networks come: gridtrade derives each
/// line's impedance as PyPSA does (`x_per_length · length / num_parallel`) and reproduces
/// PyPSA 1.4's objective, prices and flows (`tests/data/pypsa_line_types/make.py`).
#[test]
fn standard_line_types_give_pypsa_impedances_and_answer() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pypsa_line_types");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
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
    for (bus, series) in expected["marginal_price"].as_object().unwrap() {
        let b = n.bus_id(bus).unwrap();
        for (t, want) in series.as_array().unwrap().iter().enumerate() {
            assert_abs(r.bus_price[b][t], want.as_f64().unwrap(), 1e-6);
        }
    }
    for (line, series) in expected["line_p0"].as_object().unwrap() {
        let l = n.branches.iter().position(|b| &b.name == line).unwrap();
        for (t, want) in series.as_array().unwrap().iter().enumerate() {
            assert_abs(r.branch_p0[l][t], want.as_f64().unwrap(), 1e-6);
        }
    }
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
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let n = read(&dir.join("network"));
    for kvl in EVERY_KVL {
        let mut opts = SolveOptions::default();
        opts.formulation.kvl = kvl;
        let r = solve_ok(&n, &opts).results.unwrap();
        assert_rel(r.objective, expected["objective"].as_f64().unwrap(), 1e-6);
        for (bus, series) in expected["marginal_price"].as_object().unwrap() {
            let b = n.bus_id(bus).unwrap();
            for (t, want) in series.as_array().unwrap().iter().enumerate() {
                assert_abs(r.bus_price[b][t], want.as_f64().unwrap(), 1e-6);
            }
        }
        for (line, series) in expected["line_p0"].as_object().unwrap() {
            let l = n.branches.iter().position(|b| &b.name == line).unwrap();
            for (t, want) in series.as_array().unwrap().iter().enumerate() {
                assert_abs(r.branch_p0[l][t], want.as_f64().unwrap(), 1e-6);
            }
        }
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

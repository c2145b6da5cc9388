//! Fuzzing that stays (proptest over bytes): the MATPOWER reader, the PyPSA folder reader and
//! the scenario parser take arbitrary bytes, and random edits of valid inputs (which reach
//! deeper than noise), without a panic; whatever they accept is validated and solved to an
//! answer without a non-finite number.
//!
//! CI runs the default number of cases per property (below, about a minute in all on two
//! cores); `FUZZ_CASES=100000 cargo test --release --test fuzz` runs longer. A failure is
//! shrunk by proptest and stored in `tests/fuzz.proptest-regressions`, which is replayed
//! first on every later run.

mod common;

use gridtrade_engine::formulation::FormulationOptions;
use gridtrade_engine::solve::{self, SolveOptions};
use gridtrade_engine::Network;
use gridtrade_studies::scenario::Scenario;
use proptest::prelude::*;

/// Cases per property: `FUZZ_CASES`, else 10000.
fn config() -> ProptestConfig {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10000);
    ProptestConfig {
        cases,
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    }
}

/// An edit of a byte string: at a position (taken modulo its length), delete `len` bytes,
/// insert bytes, or overwrite with them.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    Overwrite(usize, Vec<u8>),
}

/// Bytes that matter to the two formats: separators, brackets, quotes, signs, exponents,
/// line ends, BOM and NUL, digits, and the words the readers look for.
fn token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 1..8),
        prop::sample::select(vec![
            ",",
            ";",
            "[",
            "]",
            "\n",
            "\r\n",
            "\"",
            "'",
            "%",
            "=",
            "-",
            "+",
            "e",
            "E",
            ".",
            "0",
            "9",
            "1e308",
            "-1e308",
            "nan",
            "inf",
            "-inf",
            "1e-320",
            "\u{feff}",
            "\0",
            "\t",
            " ",
            "mpc.gen = [",
            "mpc.bus = [",
            "];",
            "function mpc = x",
            "Алматы",
            "⚡",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Edit::Delete(at, len)),
        (any::<usize>(), token()).prop_map(|(at, b)| Edit::Insert(at, b)),
        (any::<usize>(), token()).prop_map(|(at, b)| Edit::Overwrite(at, b)),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len().max(1);
        match e {
            Edit::Delete(at, n) => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                bytes.drain(at.min(end)..end);
            }
            Edit::Insert(at, b) => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, b.iter().copied());
            }
            Edit::Overwrite(at, b) => {
                let at = at % len;
                for (i, &x) in b.iter().enumerate() {
                    if let Some(slot) = bytes.get_mut(at + i) {
                        *slot = x;
                    }
                }
            }
        }
    }
    bytes
}

/// Validate and solve what a reader accepted: a refusal is fine, a panic is not, and an
/// answer has no non-finite number (prices of buses out of service aside).
fn solve_if_valid(n: &Network) {
    let opts = SolveOptions {
        formulation: FormulationOptions {
            voll: Some(1000.0),
            pwl_segments: Some(5),
            ..Default::default()
        },
        time_limit: Some(10.0),
        ..Default::default()
    };
    if let Ok(out) = solve::solve(n, &opts) {
        if let Some(r) = out.results {
            assert!(r.objective.is_finite(), "objective {}", r.objective);
            for (b, prices) in r.bus_price.iter().enumerate() {
                if n.buses[b].in_service {
                    assert!(prices.iter().all(|p| p.is_finite()), "{prices:?}");
                }
            }
            for row in r.gen_p.iter().chain(&r.branch_p0).chain(&r.link_p0) {
                assert!(row.iter().all(|v| v.is_finite()), "{row:?}");
            }
        }
    }
}

fn read_matpower(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    if let Ok((n, findings)) = gridtrade_engine::io::matpower::parse("case.m", &text) {
        if !findings.has_errors() {
            solve_if_valid(&n);
        }
    }
}

/// The PyPSA template of the hostile corpus, small: three buses, a line, a link, a
/// generator with a time series, a load and a storage unit.
const PYPSA: &[(&str, &str)] = &[
    ("snapshots.csv", "snapshot,objective\nh1,1\nh2,2\n"),
    (
        "buses.csv",
        "name,v_nom,zone\nA,220,Z1\nB,220,Z1\nC,110,Z2\n",
    ),
    ("lines.csv", "name,bus0,bus1,x,r,s_nom\nAB,A,B,10,1,100\n"),
    (
        "links.csv",
        "name,bus0,bus1,p_nom,p_min_pu,efficiency\nBC,B,C,50,-1,1\n",
    ),
    (
        "generators.csv",
        "name,bus,p_nom,marginal_cost,marginal_cost_quadratic\ng,A,200,10,0.01\nw,C,40,0,0\n",
    ),
    ("generators-p_max_pu.csv", "snapshot,w\nh1,0.3\nh2,0.8\n"),
    ("loads.csv", "name,bus,p_set\nl,B,80\nm,C,30\n"),
    (
        "storage_units.csv",
        "name,bus,p_nom,max_hours,inflow\ns,C,20,4,2\n",
    ),
];

fn read_pypsa(file: usize, bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    for (i, (name, text)) in PYPSA.iter().enumerate() {
        let content = if i == file { bytes } else { text.as_bytes() };
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    if let Ok((n, findings)) = gridtrade_engine::io::read(dir.path()) {
        if !findings.has_errors() {
            solve_if_valid(&n);
        }
    }
}

fn template_network() -> Network {
    let dir = common::folder(PYPSA);
    common::read(dir.path())
}

fn scenario(text: &str, base: &Network) {
    if let Ok(s) = Scenario::parse(text, "scenario.toml") {
        let mut n = base.clone();
        if s.apply(&mut n, "scenario.toml").is_ok() {
            solve_if_valid(&n);
        }
    }
}

fn case5() -> Vec<u8> {
    std::fs::read(common::case("pglib_opf_case5_pjm.m")).unwrap()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn matpower_reader_takes_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        read_matpower(&bytes);
    }

    #[test]
    fn matpower_reader_takes_any_edit_of_a_valid_case(edits in prop::collection::vec(edit(), 1..6)) {
        read_matpower(&apply(case5(), &edits));
    }

    #[test]
    fn pypsa_reader_takes_any_bytes_in_any_file(file in 0..PYPSA.len(), bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        read_pypsa(file, &bytes);
    }

    #[test]
    fn pypsa_reader_takes_any_edit_of_a_valid_folder(file in 0..PYPSA.len(), edits in prop::collection::vec(edit(), 1..5)) {
        read_pypsa(file, &apply(PYPSA[file].1.as_bytes().to_vec(), &edits));
    }

    #[test]
    fn scenario_parser_takes_any_text(text in "\\PC{0,300}") {
        scenario(&text, &template_network());
    }

    #[test]
    fn scenario_parser_takes_any_edit_of_a_valid_scenario(edits in prop::collection::vec(edit(), 1..5)) {
        let valid = "name = \"x\"\nswitch_off = [\"AB\"]\nco2_price = 30\n[demand_scale]\nZ1 = 1.1\n[inflow_scale]\ns = 0.5\n[capacity]\nBC = 80\n";
        let bytes = apply(valid.as_bytes().to_vec(), &edits);
        scenario(&String::from_utf8_lossy(&bytes), &template_network());
    }
}

#[test]
fn the_templates_are_valid_so_edits_start_from_an_accepted_input() {
    let n = template_network();
    solve_if_valid(&n);
    let (m, findings) =
        gridtrade_engine::io::matpower::parse("case.m", &String::from_utf8(case5()).unwrap())
            .unwrap();
    assert!(!findings.has_errors());
    assert_eq!(m.buses.len(), 5);
}

//! Inputs that used to crash or stall gridtrade (issue 12): each now gets a clear error
//! naming the file, line, element and field — or, where the input is legitimate (an
//! unlimited capacity), a solve with finite numbers only.

mod common;

use common::*;
use gridtrade_engine::network::Edit;
use gridtrade_engine::solve::{self, SolveOptions};
use gridtrade_engine::Findings;

/// Findings of reading `text` as a MATPOWER case.
fn matpower_findings(text: &str) -> Findings {
    let dir = folder(&[("hostile.m", text)]);
    let (_, f) = gridtrade_engine::io::read(&dir.path().join("hostile.m")).unwrap();
    f
}

/// A one-bus MATPOWER case whose only generator has the gencost row `gencost`.
fn case_with_gencost(gencost: &str) -> String {
    format!(
        "function mpc = hostile\nmpc.baseMVA = 100;\nmpc.bus = [\n\t1\t3\t50\t0\t0\t0\t1\t1\t0\t230\t1\t1.1\t0.9;\n];\n\
         mpc.gen = [\n\t1\t0\t0\t0\t0\t1\t100\t1\t100\t0;\n];\n\
         mpc.branch = [\n];\n\
         mpc.gencost = [\n\t{gencost};\n];\n"
    )
}

#[test]
fn a_huge_or_fractional_ncost_is_an_error_not_a_panic() {
    for (ncost, shown) in [("1e300", "1e300"), ("2.5", "2.5"), ("-1", "-1")] {
        let f = matpower_findings(&case_with_gencost(&format!("2\t0\t0\t{ncost}\t10\t0")));
        let text = f.to_string();
        assert!(
            f.errors()
                .any(|e| e.to_string().contains("`NCOST`") && e.to_string().contains("line 12")),
            "NCOST {shown}: {text}"
        );
    }
    // The same row with a sound NCOST reads clean.
    let f = matpower_findings(&case_with_gencost("2\t0\t0\t2\t10\t0"));
    assert!(!f.has_errors(), "{f}");
}

#[test]
fn command_line_usage_errors_exit_1_and_help_exits_0() {
    let out = gridtrade()
        .args(["solve", "--no-such-option", "x"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a typo is bad input, not 'infeasible'"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-such-option"));
    let out = gridtrade().args(["solve", "--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--pwl-segments"));
}

#[test]
fn pwl_segments_beyond_the_maximum_are_refused_before_anything_is_built() {
    let case = case_with_gencost("2\t0\t0\t3\t0.01\t10\t0");
    let dir = folder(&[("q.m", &case)]);
    let out = gridtrade()
        .arg("solve")
        .arg(dir.path().join("q.m"))
        .args(["--pwl-segments", "4000000000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--pwl-segments") && err.contains("4000000000"),
        "{err}"
    );
    // Within the range the quadratic cost is solved: 50 MW at 10 + 0.01·50 (chords of
    // 100 MW / 4 segments pass through (50, 525)).
    let v = json_of(
        &mut gridtrade().arg("solve").arg(dir.path().join("q.m")).args([
            "--pwl-segments",
            "4",
            "--json",
        ]),
    );
    assert_abs(v["objective"].as_f64().unwrap(), 525.0, 1e-6);
}

/// A PyPSA folder of two buses joined by a line, with `generators.csv` as given.
fn two_buses(generators: &str, snapshots: &str) -> tempfile::TempDir {
    folder(&[
        ("snapshots.csv", snapshots),
        ("buses.csv", "name,v_nom,zone\nA,1,X\nB,1,Y\n"),
        ("carriers.csv", "name,co2_emissions\ncoal,0.34\n"),
        ("generators.csv", generators),
        ("lines.csv", "name,bus0,bus1,x,s_nom\nl1,A,B,0.1,50\n"),
        ("loads.csv", "name,bus,p_set\nd1,B,60\n"),
    ])
}

const TWO_HOURS: &str = ",snapshot\n0,2025-01-01 00:00:00\n1,2025-01-01 01:00:00\n";

#[test]
fn a_vanishing_generator_efficiency_is_an_error() {
    let dir = two_buses(
        "name,bus,carrier,p_nom,marginal_cost,efficiency\ng1,A,coal,100,10,1e-320\ng2,B,coal,100,20,0.4\n",
        TWO_HOURS,
    );
    let out = gridtrade()
        .arg("solve")
        .arg(dir.path())
        .args(["--co2-price", "30"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("generators.csv line 2") && err.contains("g1") && err.contains("`efficiency`"),
        "{err}"
    );
}

#[test]
fn a_zero_objective_weight_is_an_error_not_a_nan_price() {
    let dir = two_buses(
        "name,bus,p_nom,marginal_cost\ng1,A,100,10\ng2,B,100,20\n",
        ",snapshot,objective\n0,2025-01-01 00:00:00,1\n1,2025-01-01 01:00:00,0\n",
    );
    let (_, f) = gridtrade_engine::io::read(dir.path()).unwrap();
    assert!(
        f.errors().any(|e| {
            let e = e.to_string();
            e.contains("snapshots.csv line 3")
                && e.contains("`objective`")
                && e.contains("weight 0")
        }),
        "{f}"
    );
}

#[test]
fn an_unlimited_capacity_with_a_zero_factor_solves_with_finite_numbers() {
    // g1 is unlimited (p_nom inf, as PyPSA allows) with p_min_pu 0: its lower bound is 0,
    // not inf × 0 = NaN. The 50 MW line limits what it sends to the load at B; g2 gives the
    // other 10 MW at 20.
    let dir = two_buses(
        "name,bus,p_nom,p_min_pu,marginal_cost\ng1,A,inf,0,10\ng2,B,100,0,20\n",
        TWO_HOURS,
    );
    let n = read(dir.path());
    let out = solve::solve(&n, &SolveOptions::default()).unwrap();
    let r = out.results.expect("optimal");
    assert_abs(r.objective, 2.0 * (50.0 * 10.0 + 10.0 * 20.0), 1e-6);
    for series in [
        &r.gen_p,
        &r.gen_curtailment,
        &r.bus_price,
        &r.branch_p0,
        &r.branch_mu,
    ] {
        assert!(series.iter().flatten().all(|v| v.is_finite()), "{series:?}");
    }
    assert_abs(r.bus_price[0][0], 10.0, 1e-9);
    assert_abs(r.bus_price[1][0], 20.0, 1e-9);
}

#[test]
fn edits_take_inf_only_for_capacities_and_store_it_readably() {
    let dir = two_buses(
        "name,bus,p_nom,marginal_cost\ng1,A,100,10\ng2,B,100,20\n",
        TWO_HOURS,
    );
    let mut n = read(dir.path());
    let set = |attribute: &str, value: f64| Edit::SetAttribute {
        element: if attribute == "s_nom" { "l1" } else { "g1" }.into(),
        attribute: attribute.into(),
        value,
    };
    for (attribute, value) in [
        ("s_nom", f64::NAN),
        ("s_nom", f64::NEG_INFINITY),
        ("p_nom", f64::NAN),
        ("marginal_cost", f64::INFINITY),
        ("p_max_pu", f64::NAN),
    ] {
        let err = n.apply(&[set(attribute, value)]).unwrap_err();
        assert!(err.contains(attribute), "{attribute} = {value}: {err}");
    }
    let add = |p_nom: f64, p_min_pu: f64, efficiency: f64| Edit::AddLink {
        name: "AB".into(),
        bus0: "A".into(),
        bus1: "B".into(),
        p_nom,
        p_min_pu,
        efficiency,
    };
    for (edit, field) in [
        (add(f64::NAN, 0.0, 1.0), "p_nom"),
        (add(-5.0, 0.0, 1.0), "p_nom"),
        (add(100.0, f64::NAN, 1.0), "p_min_pu"),
        (add(100.0, 0.0, f64::NAN), "efficiency"),
        (add(100.0, 0.0, 2.0), "efficiency"),
    ] {
        let err = n.apply(&[edit]).unwrap_err();
        assert!(err.contains(field), "{err}");
    }
    // inf for a line's rating is accepted, survives JSON (as the string "inf") and
    // unblocks the line: all 60 MW come from g1 at 10.
    let unlimited = set("s_nom", f64::INFINITY);
    let json = serde_json::to_string(&unlimited).unwrap();
    assert!(json.contains("\"inf\""), "{json}");
    let back: Edit = serde_json::from_str(&json).unwrap();
    assert_eq!(back, unlimited);
    n.apply(&[back]).unwrap();
    let r = solve::solve(&n, &SolveOptions::default())
        .unwrap()
        .results
        .unwrap();
    assert_abs(r.objective, 2.0 * 60.0 * 10.0, 1e-6);
}

#[test]
fn a_multibyte_character_in_a_snapshot_name_does_not_break_the_trade_report() {
    // Byte 4 is '-' and 'é' takes bytes 6 and 7: the first seven bytes end inside it (the
    // report used to slice there and panic); not a YYYY-MM date.
    let dir = two_buses(
        "name,bus,p_nom,marginal_cost\ng1,A,100,10\ng2,B,100,20\n",
        ",snapshot\n0,2025-0é h0\n1,2025-0é h1\n",
    );
    let v = json_of(&mut gridtrade().arg("trade").arg(dir.path()).arg("--json"));
    let months = &v["study"]["report"]["monthly_net_position"];
    assert_eq!(months[0][0], "period 1", "{months}");
}

#[test]
fn a_quadratic_cost_on_an_unlimited_generator_is_an_error_not_infinite_chords() {
    let dir = two_buses(
        "name,bus,p_nom,marginal_cost,marginal_cost_quadratic\ng1,A,inf,10,0.01\ng2,B,100,20,0\n",
        TWO_HOURS,
    );
    let out = gridtrade()
        .arg("solve")
        .arg(dir.path())
        .args(["--pwl-segments", "4"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("generators.csv line 2") && err.contains("g1") && err.contains("`p_nom`"),
        "{err}"
    );
}

/// A time limit that is not a positive number of seconds is a usage error naming the
/// option, not a solve without a limit (NaN used to pass silently).
#[test]
fn a_time_limit_that_is_not_a_positive_number_is_refused() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/example");
    for bad in ["nan", "inf", "0", "-5", "1e308"] {
        let out = gridtrade()
            .arg("solve")
            .arg(&example)
            .arg(format!("--time-limit={bad}"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "--time-limit={bad}: {err}");
        assert!(err.contains("--time-limit"), "--time-limit={bad}: {err}");
    }
}

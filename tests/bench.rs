//! `gridtrade synth` and `gridtrade bench`: the generator writes what the readers take, and
//! a bench record carries the published answer of the case it ran.

mod common;

use common::*;

#[test]
fn bench_records_the_reference_objective_and_flags_regressions() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("records.jsonl");
    let run = |extra: &[&str]| {
        gridtrade()
            .args(["bench", "--case", "pglib-case2869", "--out"])
            .arg(&out)
            .args(extra)
            .output()
            .unwrap()
    };
    let o = run(&[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    let r: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    // PGLib case2869 DC-OPF, MATPOWER convention (tests/data/REFERENCES.md): 2386235.3295.
    assert_rel(r["objective"].as_f64().unwrap(), 2386235.3295, 1e-8);
    assert_eq!(r["case"], "pglib-case2869");
    assert_eq!(r["buses"], 2869);
    for field in [
        "read_s",
        "build_s",
        "highs_s",
        "extract_s",
        "wall_s",
        "peak_rss_mb",
    ] {
        assert!(r[field].as_f64().unwrap() > 0.0, "{field}: {}", r[field]);
    }
    assert!(r["wall_s"].as_f64().unwrap() >= r["highs_s"].as_f64().unwrap());

    // Against a baseline that took much less memory, or had another objective, it fails
    // (exit 3). (Wall time has an absolute slack of 0.25 s, more than this whole run; the
    // unit test in crates/bench/src/run.rs covers it.)
    let peak = r["peak_rss_mb"].as_f64().unwrap();
    assert!(peak > 21.0, "peak {peak} MB is within the 20 MB slack");
    let mut small = r.clone();
    small["peak_rss_mb"] = serde_json::json!(0.001);
    let base = dir.path().join("small.jsonl");
    std::fs::write(&base, format!("{small}\n")).unwrap();
    let o = run(&[
        "--baseline",
        base.to_str().unwrap(),
        "--max-slowdown",
        "0.1",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("peak memory"));
    let mut other = r.clone();
    other["objective"] = serde_json::json!(2386000.0);
    std::fs::write(&base, format!("{other}\n")).unwrap();
    let o = run(&["--baseline", base.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("objective"));
    // Against its own record it passes.
    let o = run(&["--baseline", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let o = gridtrade()
        .args(["bench", "--case", "nope"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--list"));
}

#[test]
fn synth_writes_a_network_that_validates_and_solves() {
    let dir = tempfile::tempdir().unwrap();
    let o = gridtrade()
        .args(["synth", "--buses", "40", "--hours", "24", "--seed", "7"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let n = read(dir.path());
    assert_eq!(
        (n.buses.len(), n.snapshots.len(), n.zones().len()),
        (40, 24, 4)
    );
    let out = solve_ok(&n, &Default::default());
    let r = out.results.unwrap();
    // No load is shed: every zone's own plant and its neighbours cover its peak.
    assert!(r.shed_mwh < 1e-6, "{} MWh shed", r.shed_mwh);
    assert!(r.objective > 0.0);
}

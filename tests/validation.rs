//! Every validation error names the file and line, the element and the field.

mod common;

use common::*;
use gridtrade_engine::validate::{self, CheckOptions};
use gridtrade_engine::Findings;

/// A valid two-bus network; each test breaks one file.
fn base() -> Vec<(&'static str, String)> {
    vec![
        (
            "snapshots.csv",
            ",snapshot\n0,2025-01-01 00:00:00\n1,2025-01-01 01:00:00\n".into(),
        ),
        ("buses.csv", "name,v_nom,zone\nA,1,X\nB,1,Y\n".into()),
        (
            "generators.csv",
            "name,bus,p_nom,marginal_cost\ng1,A,100,10\ng2,B,100,20\n".into(),
        ),
        (
            "lines.csv",
            "name,bus0,bus1,x,s_nom\nl1,A,B,0.1,50\n".into(),
        ),
        ("loads.csv", "name,bus,p_set\nd1,B,60\n".into()),
    ]
}

/// Findings of reading and checking the base network with `file` replaced by `text`.
fn findings_with(file: &'static str, text: &str) -> Findings {
    let mut files = base();
    match files.iter_mut().find(|(f, _)| *f == file) {
        Some(slot) => slot.1 = text.to_string(),
        None => files.push((file, text.to_string())),
    }
    let refs: Vec<(&str, &str)> = files.iter().map(|(f, t)| (*f, t.as_str())).collect();
    let dir = folder(&refs);
    let (n, mut f) = gridtrade_engine::io::read(dir.path()).unwrap();
    validate::check(&n, &CheckOptions::default(), &mut f);
    f
}

/// Assert one error mentions all of `parts`.
#[track_caller]
fn assert_error(f: &Findings, parts: &[&str]) {
    let hit = f
        .errors()
        .any(|e| parts.iter().all(|p| e.to_string().contains(p)));
    assert!(hit, "no error with {parts:?} in:\n{f}");
}

#[test]
fn the_base_network_is_clean() {
    let f = findings_with("buses.csv", "name,v_nom,zone\nA,1,X\nB,1,Y\n");
    assert!(!f.has_errors(), "{f}");
}

#[test]
fn unknown_bus_reference_names_file_line_element_and_field() {
    let f = findings_with("lines.csv", "name,bus0,bus1,x,s_nom\nl1,A,Nowhere,0.1,50\n");
    assert_error(
        &f,
        &[
            "lines.csv line 2",
            "line 'l1'",
            "`bus1`",
            "unknown bus `Nowhere`",
        ],
    );
}

#[test]
fn duplicate_names_are_errors() {
    let f = findings_with(
        "generators.csv",
        "name,bus,p_nom,marginal_cost\ng1,A,100,10\ng1,B,100,20\n",
    );
    assert_error(
        &f,
        &[
            "generators.csv line 3",
            "generator 'g1'",
            "`name`",
            "duplicate",
        ],
    );
    let f = findings_with("buses.csv", "name,v_nom,zone\nA,1,X\nB,1,Y\nA,1,X\n");
    assert_error(&f, &["buses.csv line 4", "bus 'A'", "duplicate bus name"]);
}

#[test]
fn nan_and_infinite_values_are_errors_where_a_finite_number_is_needed() {
    let f = findings_with(
        "generators.csv",
        "name,bus,p_nom,marginal_cost\ng1,A,nan,10\ng2,B,100,inf\n",
    );
    assert_error(
        &f,
        &["generators.csv line 2", "generator 'g1'", "`p_nom`", "NaN"],
    );
    assert_error(
        &f,
        &[
            "generators.csv line 3",
            "generator 'g2'",
            "`marginal_cost`",
            "must be finite",
        ],
    );
    let f = findings_with("loads.csv", "name,bus,p_set\nd1,B,sixty\n");
    assert_error(
        &f,
        &[
            "loads.csv line 2",
            "load 'd1'",
            "`p_set`",
            "`sixty` is not a number",
        ],
    );
}

#[test]
fn infinite_capacity_means_unlimited_and_is_allowed() {
    let f = findings_with("lines.csv", "name,bus0,bus1,x,s_nom\nl1,A,B,0.1,inf\n");
    assert!(!f.has_errors(), "{f}");
}

#[test]
fn negative_capacities_are_errors() {
    let f = findings_with(
        "generators.csv",
        "name,bus,p_nom,marginal_cost\ng1,A,-5,10\ng2,B,100,20\n",
    );
    assert_error(
        &f,
        &[
            "generators.csv line 2",
            "generator 'g1'",
            "`p_nom`",
            "negative capacity",
        ],
    );
    let f = findings_with("lines.csv", "name,bus0,bus1,x,s_nom\nl1,A,B,0.1,-50\n");
    assert_error(
        &f,
        &[
            "lines.csv line 2",
            "line 'l1'",
            "`s_nom`",
            "negative capacity",
        ],
    );
    let f = findings_with("links.csv", "name,bus0,bus1,p_nom\nk1,A,B,-1\n");
    assert_error(
        &f,
        &[
            "links.csv line 2",
            "link 'k1'",
            "`p_nom`",
            "negative capacity",
        ],
    );
    let f = findings_with("storage_units.csv", "name,bus,p_nom\ns1,A,-3\n");
    assert_error(
        &f,
        &[
            "storage_units.csv line 2",
            "storage unit 's1'",
            "`p_nom`",
            "negative capacity",
        ],
    );
}

#[test]
fn zero_or_negative_reactance_on_ac_lines_is_an_error() {
    for x in ["0", "-0.1"] {
        let f = findings_with(
            "lines.csv",
            &format!("name,bus0,bus1,x,s_nom\nl1,A,B,{x},50\n"),
        );
        assert_error(&f, &["lines.csv line 2", "line 'l1'", "`x`", "reactance"]);
    }
}

#[test]
fn p_min_pu_above_p_max_pu_is_an_error_static_or_hourly() {
    let f = findings_with(
        "generators.csv",
        "name,bus,p_nom,marginal_cost,p_min_pu,p_max_pu\ng1,A,100,10,0.8,0.5\ng2,B,100,20,0,1\n",
    );
    assert_error(
        &f,
        &[
            "generators.csv line 2",
            "generator 'g1'",
            "`p_min_pu`",
            "above p_max_pu",
        ],
    );
    let f = findings_with("generators-p_max_pu.csv", ",g2\n0,1.0\n1,-0.5\n");
    assert_error(
        &f,
        &[
            "generator 'g2'",
            "`p_min_pu`",
            "p_max_pu = -0.5 (snapshot '2025-01-01 01:00:00', from generators-p_max_pu.csv)",
        ],
    );
}

#[test]
fn time_series_of_the_wrong_length_is_an_error() {
    let f = findings_with("loads-p_set.csv", ",d1\n0,60\n1,60\n2,60\n");
    assert_error(&f, &["loads-p_set.csv", "`p_set`", "3 rows", "2 snapshots"]);
}

#[test]
fn time_series_with_an_unknown_column_is_an_error() {
    let f = findings_with(
        "generators-p_max_pu.csv",
        ",g1,ghost\n0,1.0,1.0\n1,1.0,1.0\n",
    );
    assert_error(
        &f,
        &[
            "generators-p_max_pu.csv",
            "column 'ghost'",
            "`p_max_pu`",
            "no generators element",
        ],
    );
}

#[test]
fn time_series_with_a_bad_cell_names_the_line() {
    let f = findings_with("loads-p_set.csv", ",d1\n0,60\n1,nan\n");
    assert_error(&f, &["loads-p_set.csv line 3", "loads 'd1'", "`p_set`"]);
}

#[test]
fn a_zone_with_load_and_no_way_to_supply_it_is_an_error() {
    // Take the line out of service: zone Y has load at B and no generator can reach it...
    let f = findings_with(
        "generators.csv",
        "name,bus,p_nom,marginal_cost\ng1,A,100,10\n",
    );
    assert!(!f.has_errors(), "reachable through the line: {f}");
    let f = findings_with(
        "lines.csv",
        "name,bus0,bus1,x,s_nom,active\nl1,A,B,0.1,50,False\n",
    );
    // ...but B has its own generator g2; remove it as well.
    assert!(!f.has_errors(), "{f}");
    let mut files = base();
    files[2].1 = "name,bus,p_nom,marginal_cost\ng1,A,100,10\n".into();
    files[3].1 = "name,bus0,bus1,x,s_nom,active\nl1,A,B,0.1,50,False\n".into();
    let refs: Vec<(&str, &str)> = files.iter().map(|(f, t)| (*f, t.as_str())).collect();
    let dir = folder(&refs);
    let (n, mut f) = gridtrade_engine::io::read(dir.path()).unwrap();
    validate::check(&n, &CheckOptions::default(), &mut f);
    assert_error(
        &f,
        &[
            "buses.csv line 3",
            "zone 'Y'",
            "`bus`",
            "no generator or storage unit can reach",
            "B",
        ],
    );
    // With a value of lost load the same network is solvable: the load is shed (a warning).
    let mut f = Findings::default();
    validate::check(
        &n,
        &CheckOptions {
            voll: Some(1000.0),
            ..Default::default()
        },
        &mut f,
    );
    assert!(!f.has_errors(), "{f}");
    assert!(f.warnings().any(|w| w.message.contains("shed")));
}

#[test]
fn one_way_link_does_not_supply_against_its_direction() {
    let mut files = base();
    files[2].1 = "name,bus,p_nom,marginal_cost\ng1,A,100,10\n".into();
    files[3].1 = "name,bus0,bus1,x,s_nom\n".into();
    files.push(("links.csv", "name,bus0,bus1,p_nom\nk1,B,A,100\n".into()));
    let refs: Vec<(&str, &str)> = files.iter().map(|(f, t)| (*f, t.as_str())).collect();
    let dir = folder(&refs);
    let (n, mut f) = gridtrade_engine::io::read(dir.path()).unwrap();
    validate::check(&n, &CheckOptions::default(), &mut f);
    assert_error(&f, &["zone 'Y'", "no generator or storage unit can reach"]);
}

#[test]
fn validate_command_lists_every_problem_and_solve_refuses() {
    let dir = folder(&[
        ("buses.csv", "name,v_nom,zone\nA,1,X\nB,1,Y\n"),
        (
            "generators.csv",
            "name,bus,p_nom,marginal_cost\ng1,A,-1,10\ng2,Q,100,20\n",
        ),
        ("lines.csv", "name,bus0,bus1,x,s_nom\nl1,A,B,0,50\n"),
        ("loads.csv", "name,bus,p_set\nd1,B,60\n"),
    ]);
    let out = gridtrade()
        .arg("validate")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("generator 'g1', field `p_nom`: -1: negative capacity"),
        "{text}"
    );
    assert!(
        text.contains("generator 'g2', field `bus`: unknown bus `Q`"),
        "{text}"
    );
    assert!(text.contains("line 'l1', field `x`"), "{text}");
    // g1 has no capacity, so zone Y cannot be supplied either: a fourth error.
    assert!(text.contains("zone `Y` has load"), "{text}");
    assert!(text.contains("4 error(s)"), "{text}");

    let out = gridtrade().arg("solve").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown bus `Q`"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn matpower_errors_name_the_file_line_and_field() {
    let text = "function mpc = bad\nmpc.baseMVA = 100;\nmpc.bus = [\n\t1\t3\t0\t0\t0\t0\t1\t1\t0\t230\t1\t1.1\t0.9;\n];\n\
                mpc.gen = [\n\t1\t0\t0\t0\t0\t1\t100\t1\t100\t0;\n];\n\
                mpc.branch = [\n\t1\t7\t0\t0.1\t0\t0\t0\t0\t0\t0\t1\t-30\t30;\n];\n\
                mpc.gencost = [\n\t2\t0\t0\t3\t0\t10\t0;\n];\n";
    let dir = folder(&[("bad.m", text)]);
    let (_, f) = gridtrade_engine::io::read(&dir.path().join("bad.m")).unwrap();
    assert_error(
        &f,
        &["bad.m line 10", "branch1", "`T_BUS`", "unknown bus 7"],
    );
}

#[test]
fn missing_path_and_wrong_format_are_clear_errors() {
    let out = gridtrade()
        .args(["solve", "/nonexistent/net"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file or folder"));
    let dir = folder(&[("x.txt", "hello")]);
    let out = gridtrade()
        .arg("solve")
        .arg(dir.path().join("x.txt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a PyPSA CSV folder or a MATPOWER"));
}

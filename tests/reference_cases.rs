//! DC-OPF against published answers: every figure and its source is in
//! `tests/data/REFERENCES.md`.

mod common;

use common::*;
use gridtrade_engine::formulation::{DcConvention, Kvl, NetworkModel};
use gridtrade_engine::solution::Status;
use gridtrade_engine::solve::{self, SolveOptions};

/// PGLib-OPF v23.07 DC objectives ($/h): BASELINE.md gives 4 significant digits computed
/// with PowerModels `DCPPowerModel`; the 1e-6 figures are the independent HiGHS
/// re-computations in both conventions (the MATPOWER column matches PyPSA 1.4's own solve).
const PGLIB: &[(&str, f64, f64)] = &[
    // (case, PowerModels convention, MATPOWER convention)
    ("pglib_opf_case5_pjm.m", 17479.8969, 17479.8969),
    ("pglib_opf_case14_ieee.m", 2051.5263, 2051.5263),
    ("pglib_opf_case30_ieee.m", 7472.8147, 7504.4405),
    ("pglib_opf_case118_ieee.m", 93100.7299, 93132.6793),
    ("pglib_opf_case300_ieee.m", 517851.0752, 517585.5349),
    ("pglib_opf_case1354_pegase.m", 1218182.0361, 1218096.8558),
    ("pglib_opf_case2869_pegase.m", 2386379.3687, 2386235.3295),
];

/// The objective in each statement of Kirchhoff's voltage law (angles, cycles, ptdf).
fn pglib_objectives(case_file: &str, convention: DcConvention) -> Vec<(Kvl, f64)> {
    let n = read(&case(case_file));
    EVERY_KVL
        .iter()
        .map(|&kvl| {
            let o = solve_ok(&n, &options_kvl(NetworkModel::Dc, convention, kvl));
            (kvl, o.results.unwrap().objective)
        })
        .collect()
}

#[test]
fn pglib_dc_objectives_match_powermodels_convention_to_1e6() {
    for &(case_file, powermodels, _) in PGLIB {
        for (kvl, obj) in pglib_objectives(case_file, DcConvention::Powermodels) {
            assert!(
                (obj / powermodels - 1.0).abs() < 1e-6,
                "{case_file} {kvl}: {obj}"
            );
        }
    }
}

#[test]
fn pglib_dc_objectives_match_matpower_convention_to_1e6() {
    for &(case_file, _, matpower) in PGLIB {
        for (kvl, obj) in pglib_objectives(case_file, DcConvention::Matpower) {
            assert!(
                (obj / matpower - 1.0).abs() < 1e-6,
                "{case_file} {kvl}: {obj}"
            );
        }
    }
}

#[test]
fn pglib_case5_dispatch_and_lmps_match_the_reference() {
    // tests/data/REFERENCES.md: Pg = [40, 170, 323.4948, 0, 466.5052] MW;
    // LMP by bus 1..5 = [16.9774, 26.3845, 30.0, 39.9427, 10.0] $/MWh (both conventions).
    for (conv, kvl) in [DcConvention::Matpower, DcConvention::Powermodels]
        .into_iter()
        .flat_map(|c| EVERY_KVL.map(|k| (c, k)))
    {
        let n = read(&case("pglib_opf_case5_pjm.m"));
        let r = solve_ok(&n, &options_kvl(NetworkModel::Dc, conv, kvl))
            .results
            .unwrap();
        for (p, want) in r.gen_p.iter().zip([40.0, 170.0, 323.4948, 0.0, 466.5052]) {
            assert_abs(p[0], want, 1e-4);
        }
        for (lmp, want) in r
            .bus_price
            .iter()
            .zip([16.9774, 26.3845, 30.0, 39.9427, 10.0])
        {
            assert_abs(lmp[0], want, 1e-4);
        }
    }
}

/// MATPOWER's own DC-OPF test (lib/t/t_opf_dc_*.m, solution soln9_dcopf.mat) on the
/// version 1 case t_case9_opf with piecewise-linear costs.
#[test]
fn matpower_t_case9_opf_matches_soln9_dcopf() {
    for kvl in EVERY_KVL {
        t_case9_opf_in(kvl);
    }
}

fn t_case9_opf_in(kvl: Kvl) {
    let n = read(&case("matpower_t_case9_opf.m"));
    assert_eq!(
        n.buses.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(),
        ["1", "2", "30", "4", "5", "6", "7", "8", "9"]
    );
    let r = solve_ok(
        &n,
        &options_kvl(NetworkModel::Dc, DcConvention::Matpower, kvl),
    )
    .results
    .unwrap();
    // f = 6392.90171 $/h; MATPOWER's test tolerance on f is 1e-3.
    assert_abs(r.objective, 6392.90171, 1e-3);
    for (p, want) in r.gen_p.iter().zip([89.99995, 95.34845, 129.6516]) {
        assert_abs(p[0], want, 1e-3);
    }
    let lmp = [
        19.65978, 24.035, 15.0, 19.65978, 18.02352, 15.0, 25.31555, 24.035, 21.17155,
    ];
    for (price, want) in r.bus_price.iter().zip(lmp) {
        assert_abs(price[0], want, 1e-4);
    }
    // Branch 6-7 (row 5) binds at its 40 MW rating with MU_SF = 12.10832 $/MWh.
    let b67 = n.branches.iter().position(|b| b.name == "branch5").unwrap();
    assert_eq!(
        (
            n.buses[n.branches[b67].bus0].name.as_str(),
            n.buses[n.branches[b67].bus1].name.as_str()
        ),
        ("6", "7")
    );
    assert_abs(r.branch_p0[b67][0], 40.0, 1e-6);
    assert_abs(r.branch_mu[b67][0], 12.10832, 1e-4);
    // The shadow price equals the price difference it sustains, weighted by the PTDF; here
    // every other branch is slack, so all other shadow prices are zero.
    for (l, mu) in r.branch_mu.iter().enumerate() {
        if l != b67 {
            assert_abs(mu[0], 0.0, 1e-7);
        }
    }
}

#[test]
fn pglib_case14_sad_with_angle_limits_is_reported_infeasible() {
    let n = read(&case("pglib_opf_case14_ieee__sad.m"));
    let mut opts = options(NetworkModel::Dc, DcConvention::Powermodels);
    opts.formulation.angle_limits = true;
    let o = solve::solve(&n, &opts).unwrap();
    assert_eq!(o.status, Status::Infeasible);
    assert!(o.results.is_none(), "no numbers for an infeasible problem");
    let d = o.diagnosis.expect("a diagnosis");
    assert!(!d.shed.is_empty(), "{d:?}");
    assert!(
        d.binding.iter().any(|b| b.contains("angle-difference")),
        "{d:?}"
    );
    // Without the angle limits the same case solves.
    let opts = options(NetworkModel::Dc, DcConvention::Powermodels);
    solve_ok(&n, &opts);
}

#[test]
fn cli_exit_code_is_2_for_the_infeasible_sad_case_and_names_the_shedding() {
    let out = gridtrade()
        .args(["solve", "--angle-limits"])
        .arg(case("pglib_opf_case14_ieee__sad.m"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("infeasible"), "{stderr}");
    assert!(stderr.contains("load must be shed"), "{stderr}");
    assert!(stderr.contains("angle-difference"), "{stderr}");
}

/// MATPOWER 7.1 `rundcopf` on quadratic-cost cases; an n-segment piecewise-linear
/// approximation (chords) approaches the optimum from above.
#[test]
fn quadratic_costs_need_pwl_and_converge_from_above() {
    let n = read(&case("matpower_case9.m"));
    let mut opts = options(NetworkModel::Dc, DcConvention::Matpower);
    match solve::solve(&n, &opts) {
        Err(gridtrade_engine::Error::Invalid(f)) => {
            let msg = f.to_string();
            assert!(
                msg.contains("generator 'gen1'") && msg.contains("marginal_cost_quadratic"),
                "{msg}"
            );
            assert!(msg.contains("--pwl-segments"), "{msg}");
        }
        other => panic!(
            "expected a refusal, got {other:?}",
            other = other.map(|o| o.status)
        ),
    }
    let exact = 5216.0266;
    let mut last = f64::INFINITY;
    for segments in [10, 100, 1000] {
        opts.formulation.pwl_segments = Some(segments);
        let obj = solve_ok(&n, &opts).results.unwrap().objective;
        assert!(
            obj >= exact - 1e-6 && obj <= last,
            "{segments} segments: {obj}"
        );
        last = obj;
    }
    assert_rel(last, exact, 1e-5);

    let n = read(&case("matpower_case14.m"));
    opts.formulation.pwl_segments = Some(1000);
    let r = solve_ok(&n, &opts).results.unwrap();
    assert_rel(r.objective, 7642.5918, 1e-5);
    for (p, want) in r.gen_p.iter().zip([220.9677, 38.0323, 0.0, 0.0, 0.0]) {
        assert_abs(p[0], want, 0.2);
    }
    for price in &r.bus_price {
        assert_abs(price[0], 39.0162, 0.05);
    }
}

#[test]
fn out_of_service_branch_changes_the_answer_and_back() {
    let mut n = read(&case("pglib_opf_case5_pjm.m"));
    let opts = SolveOptions::default();
    let base = solve_ok(&n, &opts).results.unwrap().objective;
    assert!(n.set_in_service("branch6", false)); // 4-5, the 240 MW line
    let without = solve_ok(&n, &opts).results.unwrap();
    assert!(without.objective > base + 1.0);
    assert!(without.branch_p0[5][0] == 0.0);
    assert!(n.set_in_service("branch6", true));
    assert_rel(solve_ok(&n, &opts).results.unwrap().objective, base, 1e-12);
}

#[test]
fn kvl_by_cycles_and_by_angles_give_the_same_optimum_and_prices() {
    // case300 has phase-shifting transformers and a series capacitor; case2869 is meshed.
    for file in ["pglib_opf_case300_ieee.m", "pglib_opf_case2869_pegase.m"] {
        let n = read(&case(file));
        for convention in [DcConvention::Matpower, DcConvention::Powermodels] {
            let mut angles = options(NetworkModel::Dc, convention);
            angles.formulation.kvl = Kvl::Angles;
            let mut cycles = angles.clone();
            cycles.formulation.kvl = Kvl::Cycles;
            let a = solve_ok(&n, &angles);
            let c = solve_ok(&n, &cycles);
            // Fewer columns (no angles) and fewer rows (cycles instead of Ohm's law).
            assert!(c.size.columns < a.size.columns && c.size.rows < a.size.rows);
            let (ra, rc) = (a.results.unwrap(), c.results.unwrap());
            assert_rel(rc.objective, ra.objective, 1e-9);
            for (pa, pc) in ra.bus_price.iter().zip(&rc.bus_price) {
                assert_abs(pc[0], pa[0], 1e-6 * pa[0].abs().max(1.0));
            }
        }
    }
}

/// The PTDF form with lazy limits against the angle form: the same optimum (1e-9), bus
/// prices (1e-6 relative), branch flows (1e-5 MW) and shadow prices of the ratings (1e-5),
/// on case300 (phase shifters, a series capacitor) and case2869 in both conventions; it adds
/// a limit row only for branches a round overloaded, far fewer than the branches.
#[test]
fn ptdf_with_lazy_limits_gives_the_angle_form_optimum_flows_and_prices() {
    for file in ["pglib_opf_case300_ieee.m", "pglib_opf_case2869_pegase.m"] {
        let n = read(&case(file));
        for convention in [DcConvention::Matpower, DcConvention::Powermodels] {
            let a = solve_ok(&n, &options_kvl(NetworkModel::Dc, convention, Kvl::Angles));
            let p = solve_ok(&n, &options_kvl(NetworkModel::Dc, convention, Kvl::Ptdf));
            assert!(
                p.size.rounds >= 2,
                "{file}: a binding limit needs a second round"
            );
            assert!(
                p.size.limit_rows > 0 && p.size.limit_rows < n.branches.len() / 4,
                "{file}: {} limit rows for {} branches",
                p.size.limit_rows,
                n.branches.len()
            );
            let (ra, rp) = (a.results.unwrap(), p.results.unwrap());
            assert_rel(rp.objective, ra.objective, 1e-9);
            for (b, (pa, pp)) in ra.bus_price.iter().zip(&rp.bus_price).enumerate() {
                let tol = 1e-6 * pa[0].abs().max(1.0);
                assert!(
                    (pp[0] - pa[0]).abs() < tol,
                    "{file} bus {b}: {} vs {}",
                    pp[0],
                    pa[0]
                );
            }
            for (what, a, p) in [
                ("branch", &ra.branch_p0, &rp.branch_p0),
                ("mu", &ra.branch_mu, &rp.branch_mu),
            ] {
                for (l, (xa, xp)) in a.iter().zip(p).enumerate() {
                    assert!(
                        (xp[0] - xa[0]).abs() < 1e-5,
                        "{file} {what} {l}: {} vs {}",
                        xp[0],
                        xa[0]
                    );
                }
            }
        }
    }
}

//! The cycle basis Kirchhoff's voltage law is written over (`topology::cycle_basis`): a
//! basis (closed, independent, as many cycles as the graph has), short on a meshed grid,
//! and the cycles closed inside countries a basis of the grid without its cross-border
//! branches (what lets autarky be cut warm out of the coupled LP).

use gridtrade_engine::formulation::{self, FormulationOptions};
use gridtrade_engine::network::Network;
use gridtrade_engine::topology;

/// Connected parts of the buses over the branches `keep` (isolated buses count).
fn parts(n: &Network, keep: &[usize]) -> usize {
    let mut part: Vec<usize> = (0..n.buses.len()).collect();
    fn root(p: &mut [usize], mut a: usize) -> usize {
        while p[a] != a {
            p[a] = p[p[a]];
            a = p[a];
        }
        a
    }
    for &l in keep {
        let (a, b) = (n.branches[l].bus0, n.branches[l].bus1);
        let (ra, rb) = (root(&mut part, a), root(&mut part, b));
        part[ra] = rb;
    }
    (0..n.buses.len())
        .filter(|&b| root(&mut part, b) == b)
        .count()
}

/// Every cycle is closed, the cycles are independent over GF(2), and there are
/// `branches - buses + connected parts` of them; the cycles closed inside countries
/// hold no cross-border branch and are as many as the grid without cross-border
/// branches has independent cycles.
fn check_basis(n: &Network) -> Vec<Vec<(usize, f64)>> {
    let cycles = FormulationOptions {
        kvl: gridtrade_engine::formulation::Kvl::Cycles,
        ..Default::default()
    };
    let m = formulation::build(n, &cycles).unwrap();
    let is_modelled: Vec<bool> = m.branch_p0.iter().map(|c| !c.is_empty()).collect();
    let cycles = topology::cycle_basis(n, &is_modelled);
    for c in &cycles {
        let mut net = vec![0.0; n.buses.len()];
        for &(l, s) in c {
            net[n.branches[l].bus0] -= s;
            net[n.branches[l].bus1] += s;
        }
        assert!(net.iter().all(|&x| x == 0.0), "cycle {c:?} is not closed");
    }
    let modelled: Vec<usize> = (0..n.branches.len())
        .filter(|&l| !m.branch_p0[l].is_empty())
        .collect();
    assert_eq!(
        cycles.len() + n.buses.len(),
        modelled.len() + parts(n, &modelled)
    );
    assert_eq!(
        topology::independent_cycles(n, modelled.iter().copied()),
        cycles.len()
    );
    let inner: Vec<usize> = modelled
        .iter()
        .copied()
        .filter(|&l| !n.branch_crosses_border(l))
        .collect();
    let inside: Vec<_> = cycles
        .iter()
        .filter(|c| !n.branch_crosses_border(c[0].0))
        .collect();
    assert!(inside
        .iter()
        .all(|c| c.iter().all(|&(l, _)| !n.branch_crosses_border(l))));
    assert_eq!(inside.len() + n.buses.len(), inner.len() + parts(n, &inner));
    // GF(2) elimination over branch sets.
    let words = n.branches.len().div_ceil(64);
    let mut pivots: Vec<(usize, Vec<u64>)> = Vec::new();
    for c in &cycles {
        let mut v = vec![0u64; words];
        for &(l, _) in c {
            v[l / 64] ^= 1 << (l % 64);
        }
        for (bit, p) in &pivots {
            if v[bit / 64] >> (bit % 64) & 1 == 1 {
                v.iter_mut().zip(p).for_each(|(a, b)| *a ^= b);
            }
        }
        let bit = (0..n.branches.len())
            .find(|&b| v[b / 64] >> (b % 64) & 1 == 1)
            .expect("the cycles are independent");
        pivots.push((bit, v));
    }
    cycles
}

#[test]
fn cycle_basis_of_case300_is_a_basis() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/cases/pglib_opf_case300_ieee.m"
    );
    let (n, _) = gridtrade_engine::io::read(std::path::Path::new(path)).unwrap();
    assert!(!check_basis(&n).is_empty());
}

#[test]
fn cycle_basis_of_a_meshed_grid_is_short() {
    let dir = tempfile::tempdir().unwrap();
    gridtrade_bench::synth::write(&gridtrade_bench::synth::Spec::new(200, 2), dir.path()).unwrap();
    let (n, _) = gridtrade_engine::io::read(dir.path()).unwrap();
    let cycles = check_basis(&n);
    assert!(cycles.iter().any(|c| n.branch_crosses_border(c[0].0)));
    let mean = cycles.iter().map(Vec::len).sum::<usize>() as f64 / cycles.len() as f64;
    // The fundamental cycles of one breadth-first tree averaged 6.9 branches here.
    assert!(mean < 4.5, "mean cycle length {mean}");
}

/// An outage of one AC branch solved warm in the main case's HiGHS instance (flow fixed at
/// 0, the Kirchhoff rows that hold it freed) gives the optimum of the network built without
/// it — where the cycles left are a basis of the rest (a chord of one cycle); where they are
/// not (a tree branch of several cycles), `Model::cut` refuses and the outage is solved on
/// its own, with the same answer. Both kinds are met.
#[test]
fn outages_cut_warm_or_solved_on_their_own_give_the_optimum_without_them() {
    use gridtrade_engine::network::Outage;
    use gridtrade_engine::solve::{self, SolveOptions};
    let dir = tempfile::tempdir().unwrap();
    gridtrade_bench::synth::write(&gridtrade_bench::synth::Spec::new(60, 4), dir.path()).unwrap();
    let (n, _) = gridtrade_engine::io::read(dir.path()).unwrap();
    // The cycle form: the PTDF form is never cut warm (its outages are built anew).
    let mut opts = SolveOptions::default();
    opts.formulation.kvl = gridtrade_engine::formulation::Kvl::Cycles;
    let model = formulation::build(&n, &opts.formulation).unwrap();
    let (mut warm, mut cold) = (0, 0);
    for l in (0..n.branches.len()).step_by(5).take(16) {
        let outage = Outage {
            branches: vec![l],
            links: vec![],
        };
        match model.cut(&n, &outage) {
            Some(_) => warm += 1,
            None => cold += 1,
        }
        let cases =
            solve::solve_cases(&n, &opts, &Default::default(), Some(&outage), None).unwrap();
        let alone = solve::solve(&n.without(&outage), &opts).unwrap();
        let out = cases.outage.expect("the main case is optimal");
        assert_eq!(out.status, alone.status, "branch {l}");
        if let (Some(a), Some(b)) = (&out.results, &alone.results) {
            let tol = 1e-9 * b.objective.abs().max(1.0);
            assert!(
                (a.objective - b.objective).abs() <= tol,
                "branch {l}: {} warm against {} alone",
                a.objective,
                b.objective
            );
            assert!(
                a.branch_p0[l].iter().all(|&p| p == 0.0),
                "branch {l} carries nothing"
            );
        }
    }
    assert!(
        warm > 0 && cold > 0,
        "{warm} cut warm, {cold} solved on their own"
    );
}

/// Shift factors of a triangle of equal lines, worked by hand: 1 MW in at bus B, out at the
/// slack A, splits 2/3 over B→A and 1/3 over B→C→A.
#[test]
fn shift_factors_of_a_triangle_are_the_hand_computed_ones() {
    use gridtrade_engine::network::{Branch, Bus, Snapshots};
    let mut n = Network::new("triangle", Snapshots::hourly(1));
    for b in ["A", "B", "C"] {
        n.add_bus(Bus::new(b, "Z", "ZZ"));
    }
    for (name, f, t) in [("AB", 0, 1), ("BC", 1, 2), ("AC", 0, 2)] {
        n.add_branch(Branch::line(name, f, t, 0.1, 100.0));
    }
    let b: Vec<f64> = n
        .branches
        .iter()
        .map(|br| formulation::DcConvention::Matpower.susceptance(br))
        .collect();
    let sf = topology::ptdf::ShiftFactors::new(&n, &b, &[0.0; 3]).unwrap();
    assert_eq!(sf.slack_of(2), 0);
    let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12);
    // Rows: AB, BC, AC; columns: buses A (slack), B, C.
    assert!(
        close(&sf.row(0), &[0.0, -2.0 / 3.0, -1.0 / 3.0]),
        "{:?}",
        sf.row(0)
    );
    assert!(
        close(&sf.row(1), &[0.0, 1.0 / 3.0, -1.0 / 3.0]),
        "{:?}",
        sf.row(1)
    );
    assert!(
        close(&sf.row(2), &[0.0, -1.0 / 3.0, -2.0 / 3.0]),
        "{:?}",
        sf.row(2)
    );
    assert!(close(&sf.flows(&[-3.0, 3.0, 0.0]), &[-2.0, 1.0, -1.0]));
}

/// On reference cases solved with angles, in both DC conventions (phase shifters included
/// in MATPOWER's): the shift factors give back every branch flow of the optimum from the
/// bus injections it implies, and a PTDF row times the injections is that flow (without
/// phase shifts, where the row alone is the whole flow).
#[test]
fn shift_factors_reproduce_the_dc_flows_of_reference_cases() {
    use gridtrade_engine::formulation::{DcConvention, Kvl, NetworkModel};
    use gridtrade_engine::solve::{self, SolveOptions};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cases");
    for case in [
        "pglib_opf_case118_ieee.m",
        "pglib_opf_case300_ieee.m",
        "pglib_opf_case1354_pegase.m",
    ] {
        let (n, _) = gridtrade_engine::io::read(&root.join(case)).unwrap();
        for convention in [DcConvention::Matpower, DcConvention::Powermodels] {
            let opts = SolveOptions {
                formulation: FormulationOptions {
                    model: NetworkModel::Dc,
                    dc_convention: convention,
                    kvl: Kvl::Angles,
                    ..Default::default()
                },
                ..Default::default()
            };
            let r = solve::solve(&n, &opts).unwrap().results.unwrap();
            let flow: Vec<f64> = r.branch_p0.iter().map(|f| f[0]).collect();
            let mut p = vec![0.0; n.buses.len()];
            for (br, f) in n.branches.iter().zip(&flow) {
                p[br.bus0] += f;
                p[br.bus1] -= f;
            }
            let (b, phi) = convention.branch_parameters(&n);
            let sf = topology::ptdf::ShiftFactors::new(&n, &b, &phi).unwrap();
            let scale = flow.iter().fold(1.0f64, |m, f| m.max(f.abs()));
            let worst = sf
                .flows(&p)
                .iter()
                .zip(&flow)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(
                worst < 1e-6 * scale,
                "{case} {convention}: flows differ by {worst} MW"
            );
            if phi.iter().all(|x| *x == 0.0) {
                for l in (0..n.branches.len()).step_by(37) {
                    let via_row: f64 = sf.row(l).iter().zip(&p).map(|(a, b)| a * b).sum();
                    assert!(
                        (via_row - flow[l]).abs() < 1e-6 * scale,
                        "{case} {convention} branch {l}: {via_row} vs {}",
                        flow[l]
                    );
                }
            }
        }
    }
}

/// A branch is a bridge exactly when switching it out splits a synchronous area (a double
/// circuit never is), and for every other outage the LODF gives the flows the shift factors
/// of the network without it give, from the same injections (DC flows are exact: 1e-6).
#[test]
fn bridges_split_areas_and_lodfs_give_the_flows_after_an_outage() {
    use gridtrade_engine::formulation::DcConvention;
    use gridtrade_engine::topology::ptdf::{lodf_from_rows, ShiftFactors};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cases");
    for case in ["pglib_opf_case118_ieee.m", "pglib_opf_case300_ieee.m"] {
        let (n, _) = gridtrade_engine::io::read(&root.join(case)).unwrap();
        let bridges = topology::bridges(&n);
        let areas = topology::synchronous_areas(&n).len();
        for l in 0..n.branches.len() {
            let mut without = n.clone();
            without.branches[l].in_service = false;
            let split = topology::synchronous_areas(&without).len() > areas;
            assert_eq!(bridges.contains(&l), split, "{case} branch {l}");
        }
        assert!(!bridges.is_empty(), "{case} has radial branches");
        let b: Vec<f64> = n
            .branches
            .iter()
            .map(|br| DcConvention::Matpower.susceptance(br))
            .collect();
        let no_shift = vec![0.0; n.branches.len()];
        let sf = ShiftFactors::new(&n, &b, &no_shift).unwrap();
        // Injections: every bus but the slack of its area sends 1 + (index mod 7) MW.
        let mut p: Vec<f64> = (0..n.buses.len()).map(|i| 1.0 + (i % 7) as f64).collect();
        for bus in 0..n.buses.len() {
            let slack = sf.slack_of(bus);
            if slack != bus {
                p[slack] -= p[bus];
            }
        }
        let before = sf.flows(&p);
        for outage in (0..n.branches.len()).step_by(11) {
            let row_o = sf.row(outage);
            let (f, t) = (n.branches[outage].bus0, n.branches[outage].bus1);
            let is_bridge = lodf_from_rows(&row_o, &row_o, f, t).is_none();
            assert_eq!(
                is_bridge,
                bridges.contains(&outage),
                "{case} branch {outage}"
            );
            if is_bridge {
                continue;
            }
            let mut without = n.clone();
            without.branches[outage].in_service = false;
            let after = ShiftFactors::new(&without, &b, &no_shift)
                .unwrap()
                .flows(&p);
            for m in (0..n.branches.len()).step_by(5) {
                let lodf = sf.lodf(m, outage).unwrap();
                let predicted = if m == outage {
                    0.0
                } else {
                    before[m] + lodf * before[outage]
                };
                let scale = before.iter().fold(1.0f64, |a, x| a.max(x.abs()));
                assert!(
                    (predicted - after[m]).abs() < 1e-6 * scale,
                    "{case} outage {outage}, branch {m}: {predicted} vs {}",
                    after[m]
                );
            }
        }
    }
}

//! The seasonal start (`solve::seasonal`): HiGHS starts from a basis assembled from a coarse
//! solve and blocks of the horizon, and reaches the same optimum as from scratch — the
//! same objective and the same prices — in the transport model of the CAREC network and in
//! the dc model's cycle form with storage. Its speed is measured in benches/ (README,
//! "Seasonal start"), not here.

mod common;

use common::*;
use gridtrade_engine::formulation::{FormulationOptions, Kvl, NetworkModel};
use gridtrade_engine::network::Network;
use gridtrade_engine::solve::{self, SolveOptions, Start};
use std::path::Path;

fn opts(formulation: FormulationOptions, start: Start) -> SolveOptions {
    SolveOptions {
        formulation,
        start,
        ..Default::default()
    }
}

/// Solve `n` cold and with the default start; the default must have used the seasonal
/// start, and both must reach an optimum of the same LP: the same objective (1e-9), and
/// prices that are duals of their own dispatch (below). Where the LP has several optima —
/// storage indifferent between hours of one price — the two starts may end at different
/// ones: on the CAREC January 10 of 17,856 hourly prices differ, in pairs swapped between
/// hours; the synthetic week's are all equal.
fn same_optimum_both_ways(n: &Network, f: FormulationOptions) {
    let cold = solve_ok(n, &opts(f.clone(), Start::Cold));
    let warm = solve_ok(n, &opts(f, Start::Auto));
    assert!(!cold.size.seasonal_start);
    assert!(
        warm.size.seasonal_start,
        "the default start is seasonal here"
    );
    let (c, w) = (
        cold.results.as_ref().unwrap(),
        warm.results.as_ref().unwrap(),
    );
    assert_rel(w.objective, c.objective, 1e-9);
    for r in [c, w] {
        assert!(prices_are_duals_of_the_dispatch(n, r) > 100);
    }
}

/// Complementary slackness: a generator strictly between its bounds is marginal, so the
/// price at its bus is its marginal cost (currency/MWh, 1e-6 relative). The number of
/// such (generator, snapshot) pairs checked.
fn prices_are_duals_of_the_dispatch(n: &Network, r: &gridtrade_engine::solution::Results) -> usize {
    use gridtrade_engine::network::CostCurve;
    let mut checked = 0;
    for (g, gen) in n.generators.iter().enumerate() {
        let CostCurve::Polynomial {
            marginal_cost,
            marginal_cost_quadratic: 0.0,
            ..
        } = &gen.cost
        else {
            continue;
        };
        for t in 0..n.snapshots.len() {
            let (lo, hi) = (
                gen.p_nom * gen.p_min_pu.at(t),
                gen.p_nom * gen.p_max_pu.at(t),
            );
            let p = r.gen_p[g][t];
            let slack = 1e-6 * gen.p_nom.max(1.0);
            if p > lo + slack && p < hi - slack {
                let mc = marginal_cost.at(t);
                assert_abs(r.bus_price[gen.bus][t], mc, 1e-6 * mc.abs().max(1.0));
                checked += 1;
            }
        }
    }
    checked
}

#[test]
fn carec_month_from_the_seasonal_start_has_the_cold_optimum() {
    let mut n = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/carec"));
    solve::select_snapshots(&mut n, 0..744).unwrap();
    let transport = FormulationOptions {
        model: NetworkModel::Transport,
        ..Default::default()
    };
    same_optimum_both_ways(&n, transport);
    // The default (dc model; links only, so the PTDF form's balances): the main job's LP.
    same_optimum_both_ways(&n, FormulationOptions::default());
}

#[test]
fn every_dc_form_with_batteries_from_the_seasonal_start_has_the_cold_optimum() {
    let n = synthetic(50, 168);
    assert!(!n.storage_units.is_empty());
    for kvl in [Kvl::Cycles, Kvl::Angles, Kvl::Ptdf] {
        let dc = FormulationOptions {
            kvl,
            ..Default::default()
        };
        same_optimum_both_ways(&n, dc);
    }
}

#[test]
fn the_seasonal_start_is_not_used_where_it_does_not_apply() {
    let n = synthetic(50, 168);
    // Cold when asked.
    let cold = solve_ok(&n, &opts(FormulationOptions::default(), Start::Cold));
    assert!(!cold.size.seasonal_start);
    // Under two blocks (72 snapshots each): from scratch.
    let mut short = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/carec"));
    solve::select_snapshots(&mut short, 0..120).unwrap();
    let transport = FormulationOptions {
        model: NetworkModel::Transport,
        ..Default::default()
    };
    let o = solve_ok(&short, &opts(transport, Start::Auto));
    assert!(!o.size.seasonal_start);
}

#[test]
fn aggregated_snapshots_average_the_series_and_add_the_weights() {
    let n = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/example"));
    assert_eq!(n.snapshots.len(), 24);
    let coarse = n.aggregate_snapshots(5);
    assert_eq!(coarse.snapshots.len(), 5);
    assert_eq!(coarse.snapshots.objective, vec![5.0, 5.0, 5.0, 5.0, 4.0]);
    assert_eq!(coarse.snapshots.stores, vec![5.0, 5.0, 5.0, 5.0, 4.0]);
    assert_eq!(coarse.snapshots.names[1], n.snapshots.names[5]);
    for t in 0..5 {
        let hours = 5 * t..(5 * t + 5).min(24);
        let k = hours.len() as f64;
        let mean: Vec<f64> = (0..n.buses.len())
            .map(|b| hours.clone().map(|h| n.bus_load(h)[b]).sum::<f64>() / k)
            .collect();
        for (b, load) in coarse.bus_load(t).iter().enumerate() {
            assert_abs(*load, mean[b], 1e-9);
        }
    }
}

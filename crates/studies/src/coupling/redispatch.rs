//! Redispatch: what the physical grid needs to carry a zonal market's result.
//!
//! The market's dispatch is put on the grid: in each snapshot the bus injections
//! (generation, storage, shed load, links, minus load) give the physical flows through
//! the nodal shift factors. Where a branch is over its rating, the transmission operator
//! redispatches at cost (cost-based redispatch, as in Germany's Redispatch 2.0): it raises
//! units behind the congestion and lowers units in front of it, hour by hour, with storage
//! and links kept at their market schedule. Per snapshot t with an overload:
//!
//! ```text
//! minimise   sum_g c[g,t] (up[g] - down[g]) + eps (up[g] + down[g])
//! subject to sum_{b in area} dinj[b] = 0                      (each synchronous area)
//!            -s_max[l] <= F[l,t] + sum_b PTDF[l,b] dinj[b] <= s_max[l]   (every AC branch)
//!            0 <= up[g] <= p_max[g,t] - p[g,t],  0 <= down[g] <= p[g,t] - p_min[g,t]
//! ```
//!
//! with `dinj[b]` the change of bus b's injection (its units' up minus down; load shed at
//! the value of lost load where `--voll` is set, and shedding generators, are units like
//! any other), `c` the unit's marginal cost with its CO2 price, and `eps` = 0.001
//! currency/MWh to prefer the smaller of equally cheap redispatches. Branch limits enter
//! lazily (the overloaded ones first, then any the redispatch overloads). Generators with
//! quadratic or piecewise-linear costs keep their market output. The cost reported is
//! `sum_t w_t sum_g c[g,t] (up - down)` (the operator pays the units raised their cost and
//! is paid back the cost saved by those lowered); the volume is `sum_t w_t sum_g up[g]`,
//! MWh (equal to the volume lowered).

use super::OnTheGrid;
use gridtrade_engine::formulation::ptdf::LIMIT_TOLERANCE;
use gridtrade_engine::formulation::{linear_marginal_cost, FormulationOptions};
use gridtrade_engine::network::{per_unit_limit, Network};
use gridtrade_engine::solution::Results;
use gridtrade_engine::topology::ptdf::ShiftFactors;
use highs::{HighsModelStatus, RowProblem, Sense};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Tie-break cost per MWh moved, currency/MWh.
const EPSILON: f64 = 1e-3;

/// The redispatch a zonal market's result needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Redispatch {
    /// Snapshots in which the market's dispatch overloads some branch.
    pub hours_overloaded: usize,
    /// Σ_t w_t Σ_l (|F| − rating)⁺ before redispatch, MWh.
    pub overload_mwh: f64,
    /// Cost of the redispatch, currency (≥ 0 in an optimal market with the same costs).
    pub cost: f64,
    /// Energy raised (= lowered), MWh.
    pub volume_mwh: f64,
    /// Snapshots where no redispatch removes the overloads (the units cannot move enough).
    pub infeasible_hours: usize,
    /// Largest overload left after the redispatch, MW (0 where it succeeded everywhere).
    pub residual_overload_mw: f64,
    /// The branch overloaded most often before redispatch, and how often.
    pub most_overloaded: Option<(String, usize)>,
}

/// A unit that can move: its bus, cost (currency/MWh) and room up and down, MW.
struct Unit {
    bus: usize,
    cost: f64,
    up: f64,
    down: f64,
}

/// The redispatch the market result `r` of `n` needs on the physical grid.
pub fn redispatch(
    n: &Network,
    r: &Results,
    o: &FormulationOptions,
    grid: &OnTheGrid,
) -> Redispatch {
    let shift = &grid.shift;
    let limited: Vec<usize> = (0..n.branches.len())
        .filter(|&l| n.branch_live(l) && n.branches[l].s_max.is_finite())
        .collect();
    let mut rows: HashMap<usize, Vec<f64>> = HashMap::new();
    let mut out = Redispatch::default();
    let mut times_over: HashMap<usize, usize> = HashMap::new();
    for t in 0..n.snapshots.len() {
        let w = n.snapshots.objective[t];
        let flows = &grid.flows[t];
        let over = overloads(n, &limited, flows);
        if over.is_empty() {
            continue;
        }
        out.hours_overloaded += 1;
        for &(l, excess) in &over {
            out.overload_mwh += w * excess;
            *times_over.entry(l).or_default() += 1;
        }
        let units = units(n, r, o, t);
        match solve_hour(n, shift, &limited, flows, &units, &over, &mut rows) {
            Some((moves, residual)) => {
                for (u, m) in units.iter().zip(&moves) {
                    out.cost += w * u.cost * m;
                    out.volume_mwh += w * m.max(0.0);
                }
                out.residual_overload_mw = out.residual_overload_mw.max(residual);
            }
            None => {
                out.infeasible_hours += 1;
                let worst = over.iter().map(|o| o.1).fold(0.0, f64::max);
                out.residual_overload_mw = out.residual_overload_mw.max(worst);
            }
        }
    }
    out.most_overloaded = times_over
        .into_iter()
        .max_by_key(|&(l, k)| (k, std::cmp::Reverse(l)))
        .map(|(l, k)| (n.branches[l].name.clone(), k));
    out
}

/// The branches over their ratings, with the excess, MW.
fn overloads(n: &Network, limited: &[usize], flows: &[f64]) -> Vec<(usize, f64)> {
    limited
        .iter()
        .filter_map(|&l| {
            let s = n.branches[l].s_max;
            let excess = flows[l].abs() - s;
            (excess > LIMIT_TOLERANCE * s.max(1.0)).then_some((l, excess))
        })
        .collect()
}

/// The units that can move in snapshot t: generators with a linear cost, and load shed at
/// the value of lost load.
fn units(n: &Network, r: &Results, o: &FormulationOptions, t: usize) -> Vec<Unit> {
    let mut units = Vec::new();
    for (g, gen) in n.generators.iter().enumerate() {
        if !gen.in_service || !n.buses[gen.bus].in_service {
            continue;
        }
        let Some(cost) = linear_marginal_cost(n, g, o, t) else {
            continue;
        };
        let p = r.gen_p[g][t];
        let hi = per_unit_limit(gen.p_nom, gen.p_max_pu.at(t));
        let lo = per_unit_limit(gen.p_nom, gen.p_min_pu.at(t));
        units.push(Unit {
            bus: gen.bus,
            cost,
            up: (hi - p).max(0.0),
            down: (p - lo).max(0.0),
        });
    }
    if let Some(voll) = o.voll {
        let load = n.bus_load(t);
        for (bus, d) in load.iter().enumerate() {
            let shed = r.bus_shed[bus][t];
            if *d > 0.0 {
                units.push(Unit {
                    bus,
                    cost: voll,
                    up: (d - shed).max(0.0),
                    down: shed.max(0.0),
                });
            }
        }
    }
    units
}

/// The cheapest moves (up − down per unit, MW) that clear every overload of the snapshot,
/// and the largest overload left (MW, within tolerance: 0); `None` when none exists.
fn solve_hour(
    n: &Network,
    shift: &ShiftFactors,
    limited: &[usize],
    flows: &[f64],
    units: &[Unit],
    first: &[(usize, f64)],
    rows: &mut HashMap<usize, Vec<f64>>,
) -> Option<(Vec<f64>, f64)> {
    let mut binding: Vec<usize> = first.iter().map(|o| o.0).collect();
    for _round in 0..50 {
        for &l in &binding {
            rows.entry(l).or_insert_with(|| shift.row(l));
        }
        let moves = lp(n, shift, flows, units, &binding, rows)?;
        let mut dinj = vec![0.0; n.buses.len()];
        for (u, m) in units.iter().zip(&moves) {
            dinj[u.bus] += m;
        }
        let after: Vec<f64> = flows
            .iter()
            .zip(shift.flows_without_shifts(&dinj))
            .map(|(f, d)| f + d)
            .collect();
        let left = overloads(n, limited, &after);
        let new: Vec<usize> = left
            .iter()
            .map(|o| o.0)
            .filter(|l| !binding.contains(l))
            .collect();
        if new.is_empty() {
            let residual = left.iter().map(|o| o.1).fold(0.0, f64::max);
            return Some((moves, residual));
        }
        binding.extend(new);
    }
    None
}

/// The LP of one snapshot over the branches `binding`; the moves, or `None` if infeasible.
fn lp(
    n: &Network,
    shift: &ShiftFactors,
    flows: &[f64],
    units: &[Unit],
    binding: &[usize],
    rows: &HashMap<usize, Vec<f64>>,
) -> Option<Vec<f64>> {
    let mut p = RowProblem::default();
    let cols: Vec<_> = units
        .iter()
        .map(|u| {
            (
                p.add_column(u.cost + EPSILON, 0.0..=u.up),
                p.add_column(-u.cost + EPSILON, 0.0..=u.down),
            )
        })
        .collect();
    // In area order, so the LP (and the vertex HiGHS ends at) is the same in every run.
    let mut areas: BTreeMap<usize, Vec<(highs::Col, f64)>> = BTreeMap::new();
    for (u, &(up, down)) in units.iter().zip(&cols) {
        let a = areas.entry(shift.area_of(u.bus)).or_default();
        a.push((up, 1.0));
        a.push((down, -1.0));
    }
    for terms in areas.values() {
        p.add_row(0.0..=0.0, terms);
    }
    for &l in binding {
        let row = &rows[&l];
        let s = n.branches[l].s_max;
        let terms: Vec<(highs::Col, f64)> = units
            .iter()
            .zip(&cols)
            .flat_map(|(u, &(up, down))| [(up, row[u.bus]), (down, -row[u.bus])])
            .filter(|(_, v)| *v != 0.0)
            .collect();
        p.add_row((-s - flows[l])..=(s - flows[l]), &terms);
    }
    let mut model = p.optimise(Sense::Minimise);
    model.make_quiet();
    let solved = model.solve();
    if solved.status() != HighsModelStatus::Optimal {
        return None;
    }
    let x = solved.get_solution().columns().to_vec();
    Some((0..units.len()).map(|i| x[2 * i] - x[2 * i + 1]).collect())
}

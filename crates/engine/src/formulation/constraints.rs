//! Constraint families. Each function adds one family of rows and records the row indices
//! whose duals the results need.

use super::lp::Terms;
use super::variables::branch_modelled;
use super::{FormulationOptions, KvlRows, Model};
use crate::network::{per_unit_limit, CostCurve, Network, Sense};
use crate::topology;

/// Nodal balance at every node n and snapshot t (its dual is `w_t` times the price):
///
/// ```text
/// sum_{g at n} p + sum_{s at n} (p_dispatch - p_store) + shed - dump
///   - sum_{branches from n} p0 + sum_{branches to n} p0
///   - sum_{links from n} p0 + sum_{links to n} efficiency * p0  =  sum_{loads at n} p_set
/// ```
pub fn constraint_power_balance(m: &mut Model, n: &Network) {
    for t in 0..m.snapshots {
        let (lhs, rhs) = node_injections(m, n, t);
        for (i, (e, r)) in lhs.into_iter().zip(rhs).enumerate() {
            let row = m.lp.row_eq(e, r);
            m.balance_rows[i].push(row);
        }
    }
}

/// The two sides of the balance of every balance node in snapshot t: the power injected
/// (generators, storage dispatch minus store, shed minus dump, branch and link flows, as LP
/// terms) and the load to be met, MW. In the PTDF form the nodes are the buses and there
/// are no branch flows: this is each bus's injection into the grid.
pub(super) fn node_injections(m: &Model, n: &Network, t: usize) -> (Vec<Terms>, Vec<f64>) {
    let nodes = m.node_names.len();
    let mut lhs: Vec<Terms> = (0..nodes).map(|_| Terms::default()).collect();
    let mut rhs = vec![0.0; nodes];
    let node = |b: usize| m.balance_node[b];
    for (g, gen) in n.generators.iter().enumerate() {
        if let Some(c) = m.gen_p[g].get(t) {
            lhs[node(gen.bus)].add_mul(1.0, c);
        }
    }
    for (s, su) in n.storage_units.iter().enumerate() {
        if let (Some(d), Some(st)) = (m.su_dispatch[s].get(t), m.su_store[s].get(t)) {
            lhs[node(su.bus)].add_mul(1.0, d);
            lhs[node(su.bus)].add_mul(-1.0, st);
        }
    }
    for (s, st) in n.stores.iter().enumerate() {
        if let Some(p) = m.store_p[s].get(t) {
            lhs[node(st.bus)].add_mul(1.0, p);
        }
    }
    for b in 0..n.buses.len() {
        if let Some(c) = m.shed[b].get(t) {
            lhs[node(b)].add_mul(1.0, c);
        }
        if let Some(c) = m.dump[b].get(t) {
            lhs[node(b)].add_mul(-1.0, c);
        }
    }
    for (z, np) in m.net_position.iter().enumerate() {
        lhs[z].add_mul(-1.0, np[t]);
    }
    for (l, br) in n.branches.iter().enumerate() {
        if let Some(c) = m.branch_p0[l].get(t) {
            lhs[node(br.bus0)].add_mul(-1.0, c);
            lhs[node(br.bus1)].add_mul(1.0, c);
        }
    }
    for (k, link) in n.links.iter().enumerate() {
        if let Some(c) = m.link_p0[k].get(t) {
            lhs[node(link.bus0)].add_mul(-1.0, c);
            lhs[node(link.bus1)].add_mul(link.efficiency, c);
        }
    }
    for load in n.loads.iter().filter(|l| l.in_service) {
        if n.buses[load.bus].in_service {
            rhs[node(load.bus)] += load.p_set.at(t);
        }
    }
    (lhs, rhs)
}

/// Kirchhoff's voltage law through angles (angle form):
/// `p0[l,t] - b * (theta[bus0,t] - theta[bus1,t]) = -b * phase_shift` (MATPOWER convention;
/// PowerModels ignores the shift).
pub fn constraint_ohms_law(m: &mut Model, n: &Network, o: &FormulationOptions) {
    for (l, br) in n.branches.iter().enumerate() {
        if m.branch_p0[l].is_empty() {
            continue;
        }
        let b = o.dc_convention.susceptance(br);
        let shift = o.dc_convention.phase_shift(br);
        let mut rows = Vec::with_capacity(m.snapshots);
        for t in 0..m.snapshots {
            let mut e = Terms::with_capacity(3);
            e.add_mul(1.0, m.branch_p0[l][t]);
            e.add_mul(-b, m.angle[br.bus0][t]);
            e.add_mul(b, m.angle[br.bus1][t]);
            rows.push(m.lp.row_eq(e, -b * shift));
        }
        m.kirchhoff_rows += rows.len();
        m.kvl_rows.push(KvlRows {
            branches: vec![l],
            rows,
        });
    }
}

/// Kirchhoff's voltage law without angles (`--kvl cycles`): for every cycle `C` of a
/// cycle basis of the modelled AC branches and every snapshot,
/// `sum_{e in C} s_e p0[e,t] / b_e = - sum_{e in C} s_e shift_e`, where `s_e = ±1` says
/// whether the cycle runs along the branch (bus0 to bus1) or against it. The basis is one of
/// short cycles, those closed inside countries first (see [`topology::cycle_basis`]).
pub fn constraint_kvl_cycles(m: &mut Model, n: &Network, o: &FormulationOptions) {
    let modelled: Vec<bool> = m.branch_p0.iter().map(|c| !c.is_empty()).collect();
    for cycle in topology::cycle_basis(n, &modelled) {
        // Σ ±x_l p_l with x_l = 1/b_l in p.u.; each row is divided by its largest |x_l| so
        // that its coefficients are at most 1. Unscaled, the reactances of a 220 kV grid
        // (~1e-4 p.u.) sit far below the other rows' coefficients and HiGHS needs ~25 %
        // more time (benches/README.md).
        let coef: Vec<(usize, f64)> = cycle
            .iter()
            .map(|&(l, s)| (l, s / o.dc_convention.susceptance(&n.branches[l])))
            .collect();
        let scale = 1.0 / coef.iter().map(|&(_, c)| c.abs()).fold(0.0, f64::max);
        let rhs: f64 = cycle
            .iter()
            .map(|&(l, s)| -s * o.dc_convention.phase_shift(&n.branches[l]))
            .sum::<f64>()
            * scale;
        let rows: Vec<usize> = (0..m.snapshots)
            .map(|t| {
                let mut e = Terms::with_capacity(coef.len());
                for &(l, c) in &coef {
                    e.add_mul(c * scale, m.branch_p0[l][t]);
                }
                m.lp.row_eq(e, rhs)
            })
            .collect();
        m.kirchhoff_rows += rows.len();
        m.kvl_rows.push(KvlRows {
            branches: cycle.iter().map(|&(l, _)| l).collect(),
            rows,
        });
    }
}

/// `angle_min <= theta[bus0,t] - theta[bus1,t] <= angle_max` where a branch has limits
/// (angle form, when `--angle-limits` asks for them).
pub fn constraint_angle_difference(m: &mut Model, n: &Network) {
    for (l, br) in n.branches.iter().enumerate() {
        if !branch_modelled(m, n, l) || (br.angle_min.is_none() && br.angle_max.is_none()) {
            continue;
        }
        for t in 0..m.snapshots {
            let diff = || {
                let mut e = Terms::with_capacity(2);
                e.add_mul(1.0, m.angle[br.bus0][t]);
                e.add_mul(-1.0, m.angle[br.bus1][t]);
                e
            };
            let lo = br.angle_min.map(|a| m.lp.row_ge(diff(), a));
            let hi = br.angle_max.map(|a| m.lp.row_le(diff(), a));
            m.angle_rows[l].push((lo.unwrap_or(usize::MAX), hi.unwrap_or(usize::MAX)));
        }
    }
}

/// The points `(MW, currency/h)` of a generator's piecewise-linear cost in snapshot t: given
/// (MATPOWER model 1) or `segments` chords of a quadratic between its output bounds.
fn cost_points(n: &Network, g: usize, t: usize, segments: usize) -> Vec<(f64, f64)> {
    let gen = &n.generators[g];
    match &gen.cost {
        CostCurve::PiecewiseLinear(points) => points.clone(),
        CostCurve::Polynomial {
            marginal_cost,
            marginal_cost_quadratic: q,
            constant,
        } => {
            let f = |p: f64| q * p * p + marginal_cost.at(t) * p + constant;
            let lo = per_unit_limit(gen.p_nom, gen.p_min_pu.at(t));
            let hi = per_unit_limit(gen.p_nom, gen.p_max_pu.at(t));
            if hi - lo <= 0.0 {
                // Output is fixed: the tangent at that point is exact there.
                let slope = 2.0 * q * lo + marginal_cost.at(t);
                return vec![(lo, f(lo)), (lo + 1.0, f(lo) + slope)];
            }
            (0..=segments)
                .map(|i| {
                    let p = lo + (hi - lo) * i as f64 / segments as f64;
                    (p, f(p))
                })
                .collect()
        }
    }
}

/// Piecewise-linear cost as the epigraph of its segments (MATPOWER's constrained cost
/// variables): `c[g,t] >= f_k + m_k * (p[g,t] - x_k)` for each segment k with slope `m_k`.
pub fn constraint_generator_cost(m: &mut Model, n: &Network, o: &FormulationOptions) {
    let segments = o.pwl_segments.unwrap_or(1).max(1);
    for g in 0..n.generators.len() {
        if m.gen_cost[g].is_empty() {
            continue;
        }
        for t in 0..m.snapshots {
            let points = cost_points(n, g, t, segments);
            for w in points.windows(2) {
                let ((x0, f0), (x1, f1)) = (w[0], w[1]);
                let slope = (f1 - f0) / (x1 - x0);
                let mut e = Terms::with_capacity(2);
                e.add_mul(1.0, m.gen_cost[g][t]);
                e.add_mul(-slope, m.gen_p[g][t]);
                m.lp.row_ge(e, f0 - slope * x0);
            }
        }
    }
}

/// State of charge of each storage unit (hours per snapshot `h_t`):
///
/// ```text
/// soc[t] = (1 - standing_loss)^h_t * soc[t-1]
///        + h_t * (efficiency_store * p_store[t] - p_dispatch[t] / efficiency_dispatch
///                 + inflow[t] - spill[t])
/// ```
///
/// with `soc[-1] = soc[T-1]` when cyclic; otherwise the first snapshot starts from
/// `state_of_charge_initial` without a standing loss on it (PyPSA 1.4's balance). The row is
/// written with the inflow on the right, so its dual is the value of one more MWh stored
/// (negative when water is worth something).
pub fn constraint_storage_balance(m: &mut Model, n: &Network) {
    let nt = m.snapshots;
    for (s, su) in n.storage_units.iter().enumerate() {
        if m.su_soc[s].is_empty() {
            continue;
        }
        for t in 0..nt {
            let h = n.snapshots.stores[t];
            let keep = (1.0 - su.standing_loss).powf(h);
            let mut e = Terms::with_capacity(5);
            let mut rhs = h * su.inflow.at(t);
            e.add_mul(1.0, m.su_soc[s][t]);
            if t > 0 {
                e.add_mul(-keep, m.su_soc[s][t - 1]);
            } else if su.cyclic_state_of_charge {
                e.add_mul(-keep, m.su_soc[s][nt - 1]);
            } else {
                rhs += su.state_of_charge_initial; // no standing loss on it, as PyPSA 1.4
            }
            e.add_mul(-h * su.efficiency_store, m.su_store[s][t]);
            e.add_mul(h / su.efficiency_dispatch, m.su_dispatch[s][t]);
            if let Some(spill) = m.su_spill[s][t] {
                e.add_mul(h, spill);
            }
            let row = m.lp.row_eq(e, rhs);
            m.su_rows[s].push(row);
        }
    }
}

/// Level of each store (hours per snapshot `h_t`):
///
/// ```text
/// e[t] = (1 - standing_loss)^h_t * e[t-1] - h_t * p[t]
/// ```
///
/// with `e[-1] = e[T-1]` when cyclic; otherwise the first snapshot starts from `e_initial`
/// without a standing loss on it (PyPSA 1.4's store balance).
pub fn constraint_store_balance(m: &mut Model, n: &Network) {
    let nt = m.snapshots;
    for (s, st) in n.stores.iter().enumerate() {
        if m.store_e[s].is_empty() {
            continue;
        }
        for t in 0..nt {
            let h = n.snapshots.stores[t];
            let keep = (1.0 - st.standing_loss).powf(h);
            let mut e = Terms::with_capacity(3);
            let mut rhs = 0.0;
            e.add_mul(1.0, m.store_e[s][t]);
            if t > 0 {
                e.add_mul(-keep, m.store_e[s][t - 1]);
            } else if st.e_cyclic {
                e.add_mul(-keep, m.store_e[s][nt - 1]);
            } else {
                rhs += st.e_initial; // no standing loss on it, as PyPSA 1.4
            }
            e.add_mul(h, m.store_p[s][t]);
            let row = m.lp.row_eq(e, rhs);
            m.store_rows[s].push(row);
        }
    }
}

/// The network's CO2 limit over the horizon (PyPSA's `primary_energy` global constraint),
/// with w_t the snapshot weights (h) and e_g = co2(carrier) / efficiency (t/MWh):
///
/// ```text
/// Σ_t w_t Σ_g e_g · p[g,t]   (<=, ==, >=)   limit_t
/// ```
///
/// Its dual is the CO2 price the limit implies (currency/t, `Results::co2_limit_mu`).
pub fn constraint_co2_limit(m: &mut Model, n: &Network) {
    let Some(limit) = &n.co2_constraint else {
        return;
    };
    let mut e = Terms::with_capacity(n.generators.len() * m.snapshots);
    for g in 0..n.generators.len() {
        if m.gen_co2[g] == 0.0 {
            continue;
        }
        for (t, &p) in m.gen_p[g].iter().enumerate() {
            e.add_mul(n.snapshots.objective[t] * m.gen_co2[g], p);
        }
    }
    let row = match limit.sense {
        Sense::AtMost => m.lp.row_le(e, limit.limit_t),
        Sense::Equal => m.lp.row_eq(e, limit.limit_t),
        Sense::AtLeast => m.lp.row_ge(e, limit.limit_t),
    };
    m.co2_row = Some(row);
}

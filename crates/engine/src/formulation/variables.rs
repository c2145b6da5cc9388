//! Variable families. Each function adds one family's columns with their bounds and their
//! objective coefficients (cost per MWh times the snapshot's objective weight `w_t`).

use super::expansion::free_if_extendable;
use super::{FormulationOptions, Model};
use crate::network::{per_unit_limit, CostCurve, Network};

/// Marginal CO2 cost of a generator, currency/MWh: `co2_price * co2_emissions / efficiency`.
fn co2_cost(n: &Network, g: usize, o: &FormulationOptions) -> f64 {
    o.co2_price * n.co2_intensity(g)
}

/// What one more MWh of generator g costs in snapshot t, currency/MWh (its marginal cost
/// plus the CO2 price through its intensity), as the objective charges it; `None` for a
/// quadratic or piecewise-linear cost, whose marginal cost depends on the output.
pub fn linear_marginal_cost(
    n: &Network,
    g: usize,
    o: &FormulationOptions,
    t: usize,
) -> Option<f64> {
    match &n.generators[g].cost {
        CostCurve::Polynomial {
            marginal_cost,
            marginal_cost_quadratic,
            ..
        } if *marginal_cost_quadratic == 0.0 => Some(marginal_cost.at(t) + co2_cost(n, g, o)),
        _ => None,
    }
}

/// `p_nom * p_min_pu[t] <= p[g,t] <= p_nom * p_max_pu[t]` (free when extendable: bounded by
/// its capacity in [`super::expansion::constraint_capacity`]), cost `w_t * (marginal_cost[t] +
/// co2 cost) * p` (for polynomial costs; piecewise-linear costs go through `c[g,t]`).
/// A polynomial's constant term is added to the objective constant for every snapshot.
pub fn variable_generator_power(m: &mut Model, n: &Network, o: &FormulationOptions) {
    for (g, gen) in n.generators.iter().enumerate() {
        m.gen_co2[g] = n.co2_intensity(g);
        if !gen.in_service || !n.buses[gen.bus].in_service {
            continue;
        }
        let co2 = co2_cost(n, g, o);
        m.gen_p[g] = (0..m.snapshots)
            .map(|t| {
                let w = n.snapshots.objective[t];
                let (lo, hi) = free_if_extendable(
                    &gen.expansion,
                    per_unit_limit(gen.p_nom, gen.p_min_pu.at(t)),
                    per_unit_limit(gen.p_nom, gen.p_max_pu.at(t)),
                );
                let cost = match &gen.cost {
                    CostCurve::Polynomial {
                        marginal_cost,
                        marginal_cost_quadratic,
                        constant,
                    } => {
                        if *marginal_cost_quadratic == 0.0 {
                            m.lp.constant += w * constant;
                            marginal_cost.at(t) + co2
                        } else {
                            co2 // the approximation of the whole curve is in c[g,t]
                        }
                    }
                    CostCurve::PiecewiseLinear(_) => co2,
                };
                m.lp.col(lo, hi, w * cost)
            })
            .collect();
    }
}

/// `c[g,t]`, currency/h, the cost of a generator with a piecewise-linear (or piecewise-linear
/// approximated quadratic) cost curve; objective coefficient `w_t`. Bounded below by each
/// segment in [`super::constraints::constraint_generator_cost`].
pub fn variable_generator_cost(m: &mut Model, n: &Network, o: &FormulationOptions) {
    for (g, gen) in n.generators.iter().enumerate() {
        if m.gen_p[g].is_empty() {
            continue;
        }
        let piecewise = match &gen.cost {
            CostCurve::PiecewiseLinear(_) => true,
            CostCurve::Polynomial {
                marginal_cost_quadratic,
                ..
            } => *marginal_cost_quadratic != 0.0 && o.pwl_segments.is_some(),
        };
        if piecewise {
            m.gen_cost[g] = (0..m.snapshots)
                .map(|t| {
                    m.lp.col(f64::NEG_INFINITY, f64::INFINITY, n.snapshots.objective[t])
                })
                .collect();
        }
    }
}

/// Whether a branch carries a flow variable in this model: in service and, in
/// `copperplate`, between two zones.
pub(super) fn branch_modelled(m: &Model, n: &Network, l: usize) -> bool {
    let br = &n.branches[l];
    n.branch_live(l) && m.balance_node[br.bus0] != m.balance_node[br.bus1]
}

/// `-s_max[t] <= p0[l,t] <= s_max[t]`, MW (the branch's rating in snapshot t) (unlimited when the rating is infinite; free when
/// extendable, bounded by its capacity in [`super::expansion::constraint_capacity`]).
pub fn variable_branch_flow(m: &mut Model, n: &Network) {
    for (l, br) in n.branches.iter().enumerate() {
        if !branch_modelled(m, n, l) {
            continue;
        }
        m.branch_p0[l] = (0..m.snapshots)
            .map(|t| {
                let s = br.rating(t);
                let (lo, hi) = free_if_extendable(&br.expansion, -s, s);
                m.lp.col(lo, hi, 0.0)
            })
            .collect();
    }
}

/// `theta[b,t]`, radians, free, for buses with a modelled AC branch (angle form); one
/// reference bus per synchronous area is fixed at 0.
pub fn variable_bus_angle(m: &mut Model, n: &Network) {
    let mut needs = vec![false; n.buses.len()];
    for (l, br) in n.branches.iter().enumerate() {
        if !m.branch_p0[l].is_empty() {
            needs[br.bus0] = true;
            needs[br.bus1] = true;
        }
    }
    for area in crate::topology::synchronous_areas(n) {
        let mut reference = true;
        for b in area.into_iter().filter(|&b| needs[b]) {
            let (lo, hi) = if reference {
                (0.0, 0.0)
            } else {
                (f64::NEG_INFINITY, f64::INFINITY)
            };
            reference = false;
            m.angle[b] = (0..m.snapshots).map(|_| m.lp.col(lo, hi, 0.0)).collect();
        }
    }
}

/// `p_nom * p_min_pu[t] <= p0[k,t] <= p_nom * p_max_pu[t]`, MW (free when extendable),
/// cost `w_t * marginal_cost`.
pub fn variable_link_flow(m: &mut Model, n: &Network) {
    for (k, link) in n.links.iter().enumerate() {
        let b0 = m.balance_node[link.bus0];
        let b1 = m.balance_node[link.bus1];
        if !link.in_service
            || !n.buses[link.bus0].in_service
            || !n.buses[link.bus1].in_service
            || b0 == b1
        {
            continue;
        }
        m.link_p0[k] = (0..m.snapshots)
            .map(|t| {
                let (lo, hi) = free_if_extendable(
                    &link.expansion,
                    per_unit_limit(link.p_nom, link.p_min_pu.at(t)),
                    per_unit_limit(link.p_nom, link.p_max_pu.at(t)),
                );
                m.lp.col(lo, hi, n.snapshots.objective[t] * link.marginal_cost)
            })
            .collect();
    }
}

/// Storage units: `0 <= p_dispatch <= p_nom * p_max_pu` (cost `w_t * marginal_cost`; the
/// state of charge costs `w_t * marginal_cost_storage`),
/// `0 <= p_store <= -p_nom * p_min_pu`, `0 <= soc <= p_nom * max_hours` (`soc = level`
/// where `state_of_charge_set` fixes it), and
/// `0 <= spill <= inflow[t]` where the inflow is positive (cost `w_t * spill_cost`).
pub fn variable_storage(m: &mut Model, n: &Network) {
    for (s, su) in n.storage_units.iter().enumerate() {
        if !su.in_service || !n.buses[su.bus].in_service {
            continue;
        }
        let w = &n.snapshots.objective;
        let upper = |limit: f64| free_if_extendable(&su.expansion, 0.0, limit).1;
        let e_nom = upper(per_unit_limit(su.p_nom, su.max_hours));
        for t in 0..m.snapshots {
            let d = m.lp.col(
                0.0,
                upper(per_unit_limit(su.p_nom, su.p_max_pu.at(t).max(0.0))),
                w[t] * su.marginal_cost,
            );
            let st = m.lp.col(
                0.0,
                upper(per_unit_limit(su.p_nom, -su.p_min_pu.at(t)).max(0.0)),
                0.0,
            );
            let hold = w[t] * su.marginal_cost_storage;
            let soc = match su.state_of_charge_set.get(t).copied().flatten() {
                Some(level) => m.lp.col(level, level, hold),
                None => m.lp.col(0.0, e_nom, hold),
            };
            let inflow = su.inflow.at(t);
            let spill = (inflow > 0.0).then(|| m.lp.col(0.0, inflow, w[t] * su.spill_cost));
            m.su_dispatch[s].push(d);
            m.su_store[s].push(st);
            m.su_soc[s].push(soc);
            m.su_spill[s].push(spill);
        }
    }
}

/// Stores: `p[s,t]` free (MW into the bus, cost `w_t * marginal_cost`) and
/// `e_nom * e_min_pu[t] <= e[s,t] <= e_nom * e_max_pu[t]` (MWh, cost `w_t *
/// marginal_cost_storage`; bounded by rows of its capacity when extendable).
pub fn variable_store(m: &mut Model, n: &Network) {
    for (s, st) in n.stores.iter().enumerate() {
        if !st.in_service || !n.buses[st.bus].in_service {
            continue;
        }
        for t in 0..m.snapshots {
            let w = n.snapshots.objective[t];
            let p =
                m.lp.col(f64::NEG_INFINITY, f64::INFINITY, w * st.marginal_cost);
            let (lo, hi) = free_if_extendable(
                &st.expansion,
                per_unit_limit(st.e_nom, st.e_min_pu.at(t)),
                per_unit_limit(st.e_nom, st.e_max_pu.at(t)),
            );
            let e = m.lp.col(lo, hi, w * st.marginal_cost_storage);
            m.store_p[s].push(p);
            m.store_e[s].push(e);
        }
    }
}

/// `0 <= shed[b,t] <= max(load[b,t], 0)` at buses with positive load in some snapshot, cost
/// `w_t * voll`, when a value of lost load is given (or, in diagnosis, at the slack penalty).
pub fn variable_load_shedding(m: &mut Model, n: &Network, o: &FormulationOptions) {
    let Some(price) = o.slack_penalty.or(o.voll) else {
        return;
    };
    let loads: Vec<Vec<f64>> = (0..m.snapshots).map(|t| n.bus_load(t)).collect();
    for b in 0..n.buses.len() {
        if n.buses[b].in_service && loads.iter().any(|l| l[b] > 0.0) {
            m.shed[b] = (0..m.snapshots)
                .map(|t| {
                    let w = n.snapshots.objective[t];
                    m.lp.col(0.0, loads[t][b].max(0.0), w * price)
                })
                .collect();
        }
    }
}

/// `dump[b,t] >= 0`: surplus generation thrown away at the slack penalty (diagnosis only:
/// it shows where minimum outputs or inflows cannot be absorbed).
pub fn variable_surplus(m: &mut Model, n: &Network, o: &FormulationOptions) {
    let Some(price) = o.slack_penalty else {
        return;
    };
    for b in 0..n.buses.len() {
        if n.buses[b].in_service {
            m.dump[b] = (0..m.snapshots)
                .map(|t| {
                    m.lp.col(0.0, f64::INFINITY, n.snapshots.objective[t] * price)
                })
                .collect();
        }
    }
}

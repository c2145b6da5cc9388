//! Capacity expansion (PyPSA's `p_nom_extendable` / `s_nom_extendable`): one capacity
//! column per extendable element that the model holds, and the rows that bound the
//! element's flows by it instead of its fixed capacity.
//!
//! With `P` the capacity chosen (MW) and `c` its periodized cost (currency/MW over the
//! horizon), the objective gains `c * P - c * p_nom`: what exists already (`p_nom`,
//! `s_nom`) is paid for, as in PyPSA's objective (its `objective_constant` is subtracted).

use super::lp::{Col, Terms};
use super::Model;
use crate::network::{EdgeRef, Expansion, Network, Sense};

/// `nom_min <= P[e] <= nom_max`, MW (MWh for stores), cost `cost * P`, for every
/// extendable generator, branch, link, storage unit and store that has columns in the
/// model; the constant `-cost * p_nom` keeps the existing capacity out of the objective.
pub fn variable_capacity(m: &mut Model, n: &Network) {
    let gens = n.generators.iter().map(|g| (g.expansion, g.p_nom));
    m.gen_p_nom = capacity_columns(m, gens, |m, e| !m.gen_p[e].is_empty());
    let branches = n.branches.iter().map(|b| (b.expansion, b.s_nom));
    m.branch_s_nom = capacity_columns(m, branches, |m, e| !m.branch_p0[e].is_empty());
    let links = n.links.iter().map(|l| (l.expansion, l.p_nom));
    m.link_p_nom = capacity_columns(m, links, |m, e| !m.link_p0[e].is_empty());
    let units = n.storage_units.iter().map(|s| (s.expansion, s.p_nom));
    m.su_p_nom = capacity_columns(m, units, |m, e| !m.su_dispatch[e].is_empty());
    let stores = n.stores.iter().map(|s| (s.expansion, s.e_nom));
    m.store_e_nom = capacity_columns(m, stores, |m, e| !m.store_e[e].is_empty());
}

/// A capacity column for each element with an expansion that `modelled` says the model
/// holds; `None` for the others.
fn capacity_columns(
    m: &mut Model,
    elements: impl Iterator<Item = (Option<Expansion>, f64)>,
    modelled: impl Fn(&Model, usize) -> bool,
) -> Vec<Option<Col>> {
    let elements: Vec<_> = elements.collect();
    let mut columns = Vec::with_capacity(elements.len());
    for (e, (expansion, existing)) in elements.into_iter().enumerate() {
        let column = expansion.filter(|_| modelled(m, e)).map(|x| {
            if x.cost != 0.0 && existing.is_finite() {
                m.lp.constant -= x.cost * existing;
            }
            m.lp.col(x.nom_min, x.nom_max, x.cost)
        });
        columns.push(column);
    }
    columns
}

/// `flow - hi * P <= 0` and `flow - lo * P >= 0`: returns the rows (upper, lower).
fn bound_by_capacity(m: &mut Model, flow: Col, capacity: Col, lo: f64, hi: f64) -> (usize, usize) {
    let side = |pu: f64| {
        let mut e = Terms::with_capacity(2);
        e.add_mul(1.0, flow);
        e.add_mul(-pu, capacity);
        e
    };
    let upper = m.lp.row_le(side(hi), 0.0);
    let lower = m.lp.row_ge(side(lo), 0.0);
    (upper, lower)
}

/// The rows that bound each extendable element by its capacity column:
///
/// ```text
/// generators:  p_nom_opt * p_min_pu[t] <= p[g,t]  <= p_nom_opt * p_max_pu[t]
/// branches:   -s_nom_opt * s_max_pu[t] <= p0[l,t] <= s_nom_opt * s_max_pu[t]
/// links:       p_nom_opt * p_min_pu[t] <= p0[k,t] <= p_nom_opt * p_max_pu[t]
/// storage:     p_dispatch <= p_nom_opt * p_max_pu[t],  p_store <= -p_nom_opt * p_min_pu[t],
///              soc <= p_nom_opt * max_hours
/// stores:      e_nom_opt * e_min_pu[t] <= e[s,t]  <= e_nom_opt * e_max_pu[t]
/// ```
pub fn constraint_capacity(m: &mut Model, n: &Network) {
    for (g, gen) in n.generators.iter().enumerate() {
        let Some(cap) = m.gen_p_nom[g] else { continue };
        for t in 0..m.snapshots {
            let p = m.gen_p[g][t];
            bound_by_capacity(m, p, cap, gen.p_min_pu.at(t), gen.p_max_pu.at(t));
        }
    }
    for (l, br) in n.branches.iter().enumerate() {
        let Some(cap) = m.branch_s_nom[l] else {
            continue;
        };
        m.branch_capacity_rows[l] = (0..m.snapshots)
            .map(|t| {
                let p0 = m.branch_p0[l][t];
                let pu = br.s_max_pu.at(t);
                bound_by_capacity(m, p0, cap, -pu, pu)
            })
            .collect();
    }
    for (k, link) in n.links.iter().enumerate() {
        let Some(cap) = m.link_p_nom[k] else { continue };
        m.link_capacity_rows[k] = (0..m.snapshots)
            .map(|t| {
                let p0 = m.link_p0[k][t];
                bound_by_capacity(m, p0, cap, link.p_min_pu.at(t), link.p_max_pu.at(t))
            })
            .collect();
    }
    constraint_storage_capacity(m, n);
    for (s, st) in n.stores.iter().enumerate() {
        let Some(cap) = m.store_e_nom[s] else {
            continue;
        };
        for t in 0..m.snapshots {
            let e = m.store_e[s][t];
            bound_by_capacity(m, e, cap, st.e_min_pu.at(t), st.e_max_pu.at(t));
        }
    }
}

/// Each transmission limit of the network (PyPSA's transmission expansion global
/// constraints), over the capacity columns of the lines and links it counts:
///
/// ```text
/// Σ_l coefficient_l · s_nom_opt[l] + Σ_k coefficient_k · p_nom_opt[k]   (<=, ==, >=)   constant
/// ```
///
/// A limit that holds no column (nothing extendable of its carriers) gets no row, as in
/// PyPSA.
pub fn constraint_transmission_limit(m: &mut Model, n: &Network) {
    for limit in &n.transmission_limits {
        let mut e = Terms::with_capacity(limit.terms.len());
        for &(edge, coefficient) in &limit.terms {
            let column = match edge {
                EdgeRef::Branch(l) => m.branch_s_nom[l],
                EdgeRef::Link(k) => m.link_p_nom[k],
            };
            if let Some(c) = column {
                e.add_mul(coefficient, c);
            }
        }
        let row = (!e.is_empty()).then(|| match limit.sense {
            Sense::AtMost => m.lp.row_le(e, limit.constant),
            Sense::Equal => m.lp.row_eq(e, limit.constant),
            Sense::AtLeast => m.lp.row_ge(e, limit.constant),
        });
        m.transmission_limit_rows.push(row);
    }
}

/// A storage unit's dispatch, store and state of charge bounded by its capacity column.
fn constraint_storage_capacity(m: &mut Model, n: &Network) {
    for (s, su) in n.storage_units.iter().enumerate() {
        let Some(cap) = m.su_p_nom[s] else { continue };
        for t in 0..m.snapshots {
            let at_most = |m: &mut Model, x: Col, pu: f64| {
                let mut e = Terms::with_capacity(2);
                e.add_mul(1.0, x);
                e.add_mul(-pu, cap);
                m.lp.row_le(e, 0.0);
            };
            at_most(m, m.su_dispatch[s][t], su.p_max_pu.at(t).max(0.0));
            at_most(m, m.su_store[s][t], (-su.p_min_pu.at(t)).max(0.0));
            at_most(m, m.su_soc[s][t], su.max_hours);
        }
    }
}

/// The bounds of a flow column whose element is extendable: its capacity rows bound it.
pub(super) fn free_if_extendable(expansion: &Option<Expansion>, lo: f64, hi: f64) -> (f64, f64) {
    if expansion.is_some() {
        (f64::NEG_INFINITY, f64::INFINITY)
    } else {
        (lo, hi)
    }
}

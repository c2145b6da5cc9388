//! Constraint families. Each function adds one family of rows and records the row indices
//! whose duals the results need.

use super::variables::branch_modelled;
use super::{DcConvention, FormulationOptions, Model, NetworkModel};
use crate::network::{Branch, CostCurve, Network};
use good_lp::Expression;

/// Nodal balance at every node n and snapshot t (its dual is `w_t` times the price):
///
/// ```text
/// sum_{g at n} p + sum_{s at n} (p_dispatch - p_store) + shed - dump
///   - sum_{branches from n} p0 + sum_{branches to n} p0
///   - sum_{links from n} p0 + sum_{links to n} efficiency * p0  =  sum_{loads at n} p_set
/// ```
pub fn constraint_power_balance(m: &mut Model, n: &Network) {
    let nodes = m.node_names.len();
    for t in 0..m.snapshots {
        let mut lhs: Vec<Expression> = (0..nodes).map(|_| Expression::default()).collect();
        let mut rhs = vec![0.0; nodes];
        let node = |b: usize| m.balance_node[b];
        for (g, gen) in n.generators.iter().enumerate() {
            if let Some(c) = m.gen_p[g].get(t) {
                lhs[node(gen.bus)].add_mul(1.0, c.var);
            }
        }
        for (s, su) in n.storage_units.iter().enumerate() {
            if let (Some(d), Some(st)) = (m.su_dispatch[s].get(t), m.su_store[s].get(t)) {
                lhs[node(su.bus)].add_mul(1.0, d.var);
                lhs[node(su.bus)].add_mul(-1.0, st.var);
            }
        }
        for b in 0..n.buses.len() {
            if let Some(c) = m.shed[b].get(t) {
                lhs[node(b)].add_mul(1.0, c.var);
            }
            if let Some(c) = m.dump[b].get(t) {
                lhs[node(b)].add_mul(-1.0, c.var);
            }
        }
        for (l, br) in n.branches.iter().enumerate() {
            if let Some(c) = m.branch_p0[l].get(t) {
                lhs[node(br.bus0)].add_mul(-1.0, c.var);
                lhs[node(br.bus1)].add_mul(1.0, c.var);
            }
        }
        for (k, link) in n.links.iter().enumerate() {
            if let Some(c) = m.link_p0[k].get(t) {
                lhs[node(link.bus0)].add_mul(-1.0, c.var);
                lhs[node(link.bus1)].add_mul(link.efficiency, c.var);
            }
        }
        for load in n.loads.iter().filter(|l| l.in_service) {
            if n.buses[load.bus].in_service {
                rhs[node(load.bus)] += load.p_set.at(t);
            }
        }
        for (i, (e, r)) in lhs.into_iter().zip(rhs).enumerate() {
            let row = m.lp.row_eq(e, r);
            m.balance_rows[i].push(row);
        }
    }
}

/// Branch susceptance in MW/rad for the chosen convention.
pub fn susceptance(br: &Branch, convention: DcConvention) -> f64 {
    match convention {
        DcConvention::Matpower => 1.0 / (br.x * br.tap_ratio),
        DcConvention::Powermodels => br.x / (br.r * br.r + br.x * br.x),
    }
}

/// Kirchhoff's voltage law through angles (`dc` model only):
/// `p0[l,t] - b * (theta[bus0,t] - theta[bus1,t]) = -b * phase_shift` (MATPOWER convention;
/// PowerModels ignores the shift).
pub fn constraint_ohms_law(m: &mut Model, n: &Network, o: &FormulationOptions) {
    if !o.uses_angles() {
        return;
    }
    for (l, br) in n.branches.iter().enumerate() {
        if m.branch_p0[l].is_empty() {
            continue;
        }
        let b = susceptance(br, o.dc_convention);
        let shift = dc_shift(br, o.dc_convention);
        for t in 0..m.snapshots {
            let mut e = Expression::with_capacity(3);
            e.add_mul(1.0, m.branch_p0[l][t].var);
            e.add_mul(-b, m.angle[br.bus0][t].var);
            e.add_mul(b, m.angle[br.bus1][t].var);
            let row = m.lp.row_eq(e, -b * shift);
            m.kirchhoff_rows += 1;
            if n.branch_crosses_border(l) {
                m.cross_border_rows.push(row);
            }
        }
    }
}

/// Phase shift of a branch in the dc model, radians (0 in the PowerModels convention).
fn dc_shift(br: &Branch, convention: DcConvention) -> f64 {
    match convention {
        DcConvention::Matpower => br.phase_shift.to_radians(),
        DcConvention::Powermodels => 0.0,
    }
}

/// Kirchhoff's voltage law without angles (`--kvl cycles`): for every cycle `C` of a
/// cycle basis of the modelled AC branches and every snapshot,
/// `sum_{e in C} s_e p0[e,t] / b_e = - sum_{e in C} s_e shift_e`, where `s_e = ±1` says
/// whether the cycle runs along the branch (bus0 to bus1) or against it. The basis is one of
/// short cycles, those closed inside countries first (see [`cycle_basis`]).
pub fn constraint_kvl_cycles(m: &mut Model, n: &Network, o: &FormulationOptions) {
    if o.model != NetworkModel::Dc || o.uses_angles() {
        return;
    }
    for cycle in cycle_basis(m, n) {
        let crosses = n.branch_crosses_border(cycle[0].0);
        // Σ ±x_l p_l with x_l = 1/b_l in p.u.; each row is divided by its largest |x_l| so
        // that its coefficients are at most 1. Unscaled, the reactances of a 220 kV grid
        // (~1e-4 p.u.) sit far below the other rows' coefficients and HiGHS needs ~25 %
        // more time (benches/README.md).
        let coef: Vec<(usize, f64)> = cycle
            .iter()
            .map(|&(l, s)| (l, s / susceptance(&n.branches[l], o.dc_convention)))
            .collect();
        let scale = 1.0 / coef.iter().map(|&(_, c)| c.abs()).fold(0.0, f64::max);
        let rhs: f64 = cycle
            .iter()
            .map(|&(l, s)| -s * dc_shift(&n.branches[l], o.dc_convention))
            .sum::<f64>()
            * scale;
        for t in 0..m.snapshots {
            let mut e = Expression::with_capacity(coef.len());
            for &(l, c) in &coef {
                e.add_mul(c * scale, m.branch_p0[l][t].var);
            }
            let row = m.lp.row_eq(e, rhs);
            m.kirchhoff_rows += 1;
            if crosses {
                m.cross_border_rows.push(row);
            }
        }
    }
}

/// A basis of short cycles of the modelled AC branches: `(branch, ±1)` along each cycle,
/// the first branch being the one that closes the cycle.
///
/// A breadth-first spanning forest of the branches inside countries, joined across borders
/// by as few cross-border branches as it takes, leaves one branch per independent cycle
/// outside the trees (a chord). Chords inside countries come first, in the order of their
/// fundamental cycles' lengths, then cross-border chords; each chord closes the shortest
/// path between its ends over the tree branches and the chords taken before it. Each cycle
/// holds one branch no earlier cycle holds, so the cycles are independent, and there are as
/// many as the graph has independent cycles: a basis. On a meshed grid they are much
/// shorter than the fundamental cycles of one tree (4.2 instead of 6.9 branches on the
/// 200-bus synthetic grid), which gives HiGHS a sparser LP. No cycle closed inside a
/// country holds a cross-border branch, so the cycles closed inside countries are a basis
/// of the grid without its cross-border branches (the autarky grid).
fn cycle_basis(m: &Model, n: &Network) -> Vec<Vec<(usize, f64)>> {
    use std::collections::VecDeque;
    let nb = n.buses.len();
    let modelled = |l: usize| !m.branch_p0[l].is_empty();
    let inner = |l: usize| modelled(l) && !n.branch_crosses_border(l);
    let crossing = |l: usize| modelled(l) && n.branch_crosses_border(l);
    let ends = |l: usize| (n.branches[l].bus0, n.branches[l].bus1);
    let mut adjacent: Vec<Vec<(usize, usize)>> = vec![Vec::new(); nb];
    for l in (0..n.branches.len()).filter(|&l| inner(l)) {
        let (a, b) = ends(l);
        adjacent[a].push((l, b));
        adjacent[b].push((l, a));
    }
    // Breadth-first trees inside countries: depths, the tree of each bus, tree branches.
    let mut depth = vec![usize::MAX; nb];
    let mut tree: Vec<usize> = (0..nb).collect();
    let mut in_tree = vec![false; n.branches.len()];
    let mut forest: Vec<Vec<(usize, usize)>> = vec![Vec::new(); nb];
    let join = |forest: &mut Vec<Vec<(usize, usize)>>, l: usize| {
        let (a, b) = ends(l);
        forest[a].push((l, b));
        forest[b].push((l, a));
    };
    for root in 0..nb {
        if depth[root] != usize::MAX || adjacent[root].is_empty() {
            continue;
        }
        depth[root] = 0;
        let mut queue = VecDeque::from([root]);
        while let Some(a) = queue.pop_front() {
            for &(l, b) in &adjacent[a] {
                if depth[b] == usize::MAX {
                    depth[b] = depth[a] + 1;
                    tree[b] = root;
                    in_tree[l] = true;
                    join(&mut forest, l);
                    queue.push_back(b);
                }
            }
        }
    }
    // Cross-border branches that join two trees (union-find over the trees) are tree
    // branches too, added to the forest after the inner chords.
    fn find(parent: &mut [usize], mut a: usize) -> usize {
        while parent[a] != a {
            parent[a] = parent[parent[a]];
            a = parent[a];
        }
        a
    }
    let mut bridges = Vec::new();
    for l in (0..n.branches.len()).filter(|&l| crossing(l)) {
        let (a, b) = ends(l);
        let (ra, rb) = (find(&mut tree, a), find(&mut tree, b));
        if ra != rb {
            tree[ra] = rb;
            in_tree[l] = true;
            bridges.push(l);
        }
    }
    let mut chords: Vec<usize> = (0..n.branches.len())
        .filter(|&l| inner(l) && !in_tree[l])
        .collect();
    chords.sort_by_key(|&l| (depth[ends(l).0] + depth[ends(l).1], l));
    let inner_chords = chords.len();
    chords.extend((0..n.branches.len()).filter(|&l| crossing(l) && !in_tree[l]));

    // Walking from `a` over branch l: +1 along it (bus0 to bus1), -1 against it.
    let sign = |l: usize, a: usize| if n.branches[l].bus0 == a { 1.0 } else { -1.0 };
    // Breadth-first search state, reused: `seen[b] == stamp` marks buses reached in the
    // current search, `via[b]` the branch and bus it was reached from.
    let mut seen = vec![0usize; nb];
    let mut via = vec![(usize::MAX, usize::MAX); nb];
    let mut queue = VecDeque::new();
    let mut cycles = Vec::with_capacity(chords.len());
    for (i, &l) in chords.iter().enumerate() {
        if i == inner_chords {
            for &b in &bridges {
                join(&mut forest, b);
            }
        }
        let stamp = i + 1;
        let (to, from) = ends(l);
        // Shortest path from bus1 back to bus0 over the forest and the chords so far.
        queue.clear();
        queue.push_back(from);
        seen[from] = stamp;
        while let Some(a) = queue.pop_front() {
            if a == to {
                break;
            }
            for &(e, b) in &forest[a] {
                if seen[b] != stamp {
                    seen[b] = stamp;
                    via[b] = (e, a);
                    queue.push_back(b);
                }
            }
        }
        // bus0 -> bus1 over l, then from bus1 along the path to bus0.
        let mut path = Vec::new();
        let mut b = to;
        while b != from {
            let (e, a) = via[b];
            path.push((e, sign(e, a)));
            b = a;
        }
        let mut cycle = vec![(l, 1.0)];
        cycle.extend(path.into_iter().rev());
        cycles.push(cycle);
        join(&mut forest, l);
    }
    cycles
}

/// `angle_min <= theta[bus0,t] - theta[bus1,t] <= angle_max` where a branch has limits and
/// `--angle-limits` asks for them (`dc` model only).
pub fn constraint_angle_difference(m: &mut Model, n: &Network, o: &FormulationOptions) {
    if !o.angle_limits || o.model != NetworkModel::Dc {
        return;
    }
    for (l, br) in n.branches.iter().enumerate() {
        if !branch_modelled(m, n, l) || (br.angle_min.is_none() && br.angle_max.is_none()) {
            continue;
        }
        for t in 0..m.snapshots {
            let diff = || {
                let mut e = Expression::with_capacity(2);
                e.add_mul(1.0, m.angle[br.bus0][t].var);
                e.add_mul(-1.0, m.angle[br.bus1][t].var);
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
            let lo = gen.p_nom * gen.p_min_pu.at(t);
            let hi = gen.p_nom * gen.p_max_pu.at(t);
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
                let mut e = Expression::with_capacity(2);
                e.add_mul(1.0, m.gen_cost[g][t].var);
                e.add_mul(-slope, m.gen_p[g][t].var);
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
/// with `soc[-1] = soc[T-1]` when cyclic and `state_of_charge_initial` otherwise. The row is
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
            let mut e = Expression::with_capacity(5);
            let mut rhs = h * su.inflow.at(t);
            e.add_mul(1.0, m.su_soc[s][t].var);
            if t > 0 {
                e.add_mul(-keep, m.su_soc[s][t - 1].var);
            } else if su.cyclic_state_of_charge {
                e.add_mul(-keep, m.su_soc[s][nt - 1].var);
            } else {
                rhs += keep * su.state_of_charge_initial;
            }
            e.add_mul(-h * su.efficiency_store, m.su_store[s][t].var);
            e.add_mul(h / su.efficiency_dispatch, m.su_dispatch[s][t].var);
            if let Some(spill) = m.su_spill[s][t] {
                e.add_mul(h, spill.var);
            }
            let row = m.lp.row_eq(e, rhs);
            m.su_rows[s].push(row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let m = crate::formulation::build(n, &FormulationOptions::default());
        let cycles = cycle_basis(&m, n);
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
        let (n, _) = crate::io::read(std::path::Path::new(path)).unwrap();
        assert!(!check_basis(&n).is_empty());
    }

    #[test]
    fn cycle_basis_of_a_meshed_grid_is_short() {
        let dir = tempfile::tempdir().unwrap();
        crate::synth::write(&crate::synth::Spec::new(200, 2), dir.path()).unwrap();
        let (n, _) = crate::io::read(dir.path()).unwrap();
        let cycles = check_basis(&n);
        assert!(cycles.iter().any(|c| n.branch_crosses_border(c[0].0)));
        let mean = cycles.iter().map(Vec::len).sum::<usize>() as f64 / cycles.len() as f64;
        // The fundamental cycles of one breadth-first tree averaged 6.9 branches here.
        assert!(mean < 4.5, "mean cycle length {mean}");
    }
}

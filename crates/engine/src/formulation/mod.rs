//! The dispatch LP over all snapshots: what to build ([`build`]) and one small function per
//! family of variables ([`variables`]) and constraints ([`constraints`]).
//!
//! Sign conventions: power in MW, positive into a bus from generators and storage
//! discharge; branch flow `p0` positive from `bus0` to `bus1`; link flow `p0` taken from
//! `bus0`, `efficiency * p0` delivered to `bus1`. The objective is in currency, summed over
//! snapshots with their objective weights (hours).

mod constraints;
pub mod lp;
mod options;
mod variables;

use crate::network::{Network, Outage};
use crate::topology;
pub use lp::{Change, Coefficients, Col, Lp};
pub use options::{Choice, DcConvention, FormulationOptions, Kvl, NetworkModel};

/// Per element and snapshot, the LP columns; an empty vector for an element that has none
/// (out of service, or not modelled in this network model).
pub type Family = Vec<Vec<Col>>;

/// The built LP and where each quantity lives in it.
pub struct Model {
    pub lp: Lp,
    pub snapshots: usize,
    /// Generator output `p[g][t]`, MW.
    pub gen_p: Family,
    /// Generator cost `c[g][t]`, currency/h, for piecewise-linear costs.
    pub gen_cost: Family,
    /// AC branch flow `p0[l][t]`, MW.
    pub branch_p0: Family,
    /// Link flow `p0[k][t]` at bus0, MW.
    pub link_p0: Family,
    /// Bus voltage angle `theta[b][t]`, radians (`dc` model, buses with branches).
    pub angle: Family,
    pub su_dispatch: Family,
    pub su_store: Family,
    /// State of charge at the end of snapshot t, MWh.
    pub su_soc: Family,
    /// Spilled inflow, MW (`None` where the inflow is zero).
    pub su_spill: Vec<Vec<Option<Col>>>,
    /// Load shed `shed[b][t]`, MW (with a value of lost load or in diagnosis).
    pub shed: Family,
    /// Surplus dumped `dump[b][t]`, MW (diagnosis only).
    pub dump: Family,
    /// The balance node of each bus (the bus itself, or its zone in `copperplate`).
    pub balance_node: Vec<usize>,
    /// Names of the balance nodes.
    pub node_names: Vec<String>,
    /// Balance row of node n in snapshot t: `balance_rows[n][t]`.
    pub balance_rows: Vec<Vec<usize>>,
    /// State-of-charge balance row `[s][t]`.
    pub su_rows: Vec<Vec<usize>>,
    /// Angle-difference rows `(lower, upper)` per branch and snapshot.
    pub angle_rows: Vec<Vec<(usize, usize)>>,
    /// CO2 emitted per MWh of each generator's output, t/MWh.
    pub gen_co2: Vec<f64>,
    /// Kirchhoff's-voltage-law rows by what they hold (see [`KvlRows`]), in build order.
    pub kvl_rows: Vec<KvlRows>,
    /// How Kirchhoff's voltage law is stated; `None` without it (transport, copperplate).
    pub kvl: Option<Kvl>,
    /// Rows of Kirchhoff's voltage law (Ohm's law with angles, or cycles): 0 for a
    /// transport or copperplate model and for a network of links.
    pub kirchhoff_rows: usize,
}

/// The rows of one Kirchhoff's-voltage-law constraint over the snapshots: a cycle's
/// (cycles) or one branch's Ohm's law (angles).
#[derive(Debug, Clone)]
pub struct KvlRows {
    /// The AC branches the constraint holds.
    pub branches: Vec<usize>,
    /// Its row in each snapshot.
    pub rows: Vec<usize>,
}

impl Model {
    /// The change that turns this LP into the LP of `n.without(outage)`: the flows of the
    /// outage's in-service branches and links fixed at 0, the Kirchhoff rows and
    /// angle-difference limits that hold its branches freed. `None` when that is not the
    /// same optimum: with cycles, when the cycles left are not a basis of the grid without
    /// the outage (the basis closes cycles inside countries first, so an outage of
    /// cross-border branches always qualifies); then build that network's LP anew.
    pub fn cut(&self, n: &Network, outage: &Outage) -> Option<Change> {
        let mut out = vec![false; n.branches.len()];
        outage.branches.iter().for_each(|&l| out[l] = true);
        let (freed, kept): (Vec<&KvlRows>, Vec<&KvlRows>) = self
            .kvl_rows
            .iter()
            .partition(|k| k.branches.iter().any(|&l| out[l]));
        if self.kvl == Some(Kvl::Cycles) {
            let rest = (0..n.branches.len()).filter(|&l| !out[l] && !self.branch_p0[l].is_empty());
            if kept.len() != topology::independent_cycles(n, rest) {
                return None;
            }
        }
        let free = |r: usize| (r, f64::NEG_INFINITY, f64::INFINITY);
        let zero = |c: &Col| (c.index, 0.0, 0.0);
        let mut cut = Change {
            row_bounds: freed
                .iter()
                .flat_map(|k| k.rows.iter().map(|&r| free(r)))
                .collect(),
            ..Default::default()
        };
        for &l in &outage.branches {
            cut.col_bounds.extend(self.branch_p0[l].iter().map(zero));
            // Angle-difference limits of a branch go with it.
            let limits = self.angle_rows[l].iter().flat_map(|&(lo, hi)| [lo, hi]);
            cut.row_bounds
                .extend(limits.filter(|&r| r != usize::MAX).map(free));
        }
        for &k in &outage.links {
            cut.col_bounds.extend(self.link_p0[k].iter().map(zero));
        }
        Some(cut)
    }
}

/// An upper bound on the LP's columns over `snapshots` snapshots, counted before building
/// (a server refuses an LP beyond its limit without spending the memory): per snapshot a
/// generator has at most 2 (output, piecewise-linear cost), a branch and a link 1, a bus 3
/// (angle, load shed, surplus), a storage unit 4 (dispatch, store, state of charge, spill).
/// Saturates instead of overflowing.
pub fn column_bound(n: &Network, snapshots: usize) -> u64 {
    let per_snapshot = [
        (n.generators.len(), 2u64),
        (n.branches.len(), 1),
        (n.links.len(), 1),
        (n.buses.len(), 3),
        (n.storage_units.len(), 4),
    ]
    .iter()
    .fold(0u64, |sum, &(count, cols)| {
        sum.saturating_add((count as u64).saturating_mul(cols))
    });
    per_snapshot.saturating_mul(snapshots as u64)
}

/// Build the dispatch problem: the recipe, read top to bottom like the math.
pub fn build(n: &Network, o: &FormulationOptions) -> Model {
    let mut m = Model::empty(n, o);
    variables::variable_generator_power(&mut m, n, o);
    variables::variable_generator_cost(&mut m, n, o);
    variables::variable_branch_flow(&mut m, n, o);
    variables::variable_bus_angle(&mut m, n, o);
    variables::variable_link_flow(&mut m, n, o);
    variables::variable_storage(&mut m, n);
    variables::variable_load_shedding(&mut m, n, o);
    variables::variable_surplus(&mut m, n, o);

    constraints::constraint_power_balance(&mut m, n);
    constraints::constraint_generator_cost(&mut m, n, o);
    constraints::constraint_ohms_law(&mut m, n, o);
    constraints::constraint_kvl_cycles(&mut m, n, o);
    constraints::constraint_angle_difference(&mut m, n, o);
    constraints::constraint_storage_balance(&mut m, n);
    m
}

impl Model {
    fn empty(n: &Network, o: &FormulationOptions) -> Model {
        let (balance_node, node_names) = balance_nodes(n, o.model);
        let none = |len: usize| vec![Vec::new(); len];
        Model {
            lp: Lp::default(),
            snapshots: n.snapshots.len(),
            gen_p: none(n.generators.len()),
            gen_cost: none(n.generators.len()),
            branch_p0: none(n.branches.len()),
            link_p0: none(n.links.len()),
            angle: none(n.buses.len()),
            su_dispatch: none(n.storage_units.len()),
            su_store: none(n.storage_units.len()),
            su_soc: none(n.storage_units.len()),
            su_spill: vec![Vec::new(); n.storage_units.len()],
            shed: none(n.buses.len()),
            dump: none(n.buses.len()),
            balance_rows: vec![Vec::new(); node_names.len()],
            balance_node,
            node_names,
            su_rows: vec![Vec::new(); n.storage_units.len()],
            angle_rows: vec![Vec::new(); n.branches.len()],
            kirchhoff_rows: 0,
            gen_co2: vec![0.0; n.generators.len()],
            kvl_rows: Vec::new(),
            kvl: None,
        }
    }
}

/// Each bus is its own balance node, except in `copperplate` where a zone is one node.
fn balance_nodes(n: &Network, model: NetworkModel) -> (Vec<usize>, Vec<String>) {
    match model {
        NetworkModel::Copperplate => {
            let (zones, node) = n.zone_of_buses();
            (node, zones)
        }
        _ => (
            (0..n.buses.len()).collect(),
            n.buses.iter().map(|b| b.name.clone()).collect(),
        ),
    }
}

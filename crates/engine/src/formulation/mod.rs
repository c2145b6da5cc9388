//! The dispatch LP over all snapshots: what to build ([`build`]) and one small function per
//! family of variables ([`variables`]) and constraints ([`constraints`]).
//!
//! Sign conventions: power in MW, positive into a bus from generators and storage
//! discharge; branch flow `p0` positive from `bus0` to `bus1`; link flow `p0` taken from
//! `bus0`, `efficiency * p0` delivered to `bus1`. The objective is in currency, summed over
//! snapshots with their objective weights (hours).

mod constraints;
mod expansion;
pub mod flow_based;
pub mod lp;
mod options;
pub mod ptdf;
mod variables;
pub use variables::linear_marginal_cost;

use crate::error::Error;
use crate::network::{Network, Outage};
use crate::topology;
pub use flow_based::{Cnec, FlowBasedForm, FlowDomain};
pub use lp::{Change, Coefficients, Col, Lp};
pub use options::{
    Choice, Contingencies, DcConvention, FormulationOptions, Kvl, NetworkModel, Outages,
};
pub use ptdf::PtdfForm;
use serde::Serialize;

/// The formulation built for a network, chosen once ([`choose`]) and matched once
/// ([`build`]): the network model and, for `dc`, how Kirchhoff's voltage law is stated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Form {
    /// Every branch and link a controllable flow within its rating.
    Transport,
    /// One balance per zone; flows between zones controllable.
    Copperplate,
    /// Linear power flow with bus voltage angles (Ohm's law per branch).
    Angles,
    /// Linear power flow with Kirchhoff's voltage law around a cycle basis.
    Cycles,
    /// Linear power flow by shift factors, line limits added lazily.
    Ptdf,
    /// Flow-based market coupling: zones as copper plates with net positions within a
    /// flow-based domain ([`flow_based`]).
    FlowBased,
}

impl std::fmt::Display for Form {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Form::Transport => "transport",
            Form::Copperplate => "copperplate",
            Form::Angles => "angles",
            Form::Cycles => "cycles",
            Form::Ptdf => "ptdf",
            Form::FlowBased => "flow-based",
        })
    }
}

/// Under `--kvl auto`, the cycle form is chosen when the grid adds at most this share to the
/// LP: its branch flows and Kirchhoff rows per snapshot against the other columns per
/// snapshot (generators, links, storage, buses).
pub const SMALL_GRID_SHARE: f64 = 0.1;

/// The formulation for `n` under `o`: the model asked for; for `dc`, angles whenever
/// angle-difference limits are enforced, else the `--kvl` asked for. `auto` is the PTDF form,
/// except where no N-1 is asked and the grid is a small part of the LP
/// ([`SMALL_GRID_SHARE`]) or a branch's rating is extendable (its flow needs a column):
/// there the cycle form. PTDF was faster on every meshed grid we have (PGLib case118
/// to case2869: 2–18× less HiGHS time; synthetic 50–2000 buses × 24–168 h: 10–280×; with
/// 30–60 % of lines tightly rated, 5–15×; a synthetic 20-bus year: 2.9 s against 12.8 s;
/// benches/README.md, "PTDF and lazy limits"), where the grid is most of the LP and the
/// form saves its flow columns and Kirchhoff rows. On the CAREC network (12 lines and 6
/// cycles among 410 columns per snapshot: 4 %), whose corridors are at their limits in most
/// hours, the cycle form costs little and saves the lazy rounds (8 solves adding 58k limit
/// rows, each from the last basis rather than the seasonal start): the year 35 s against
/// 131 s, a quarter 3.9 s against 19.6 s, January 1.0 s against 2.2 s ("Kirchhoff's laws
/// on the CAREC network"). Without AC branches the forms are the same LP.
pub fn choose(n: &Network, o: &FormulationOptions) -> Form {
    if o.flow_domain.is_some() {
        return Form::FlowBased;
    }
    match o.model {
        NetworkModel::Transport => Form::Transport,
        NetworkModel::Copperplate => Form::Copperplate,
        NetworkModel::Dc if o.angle_limits => Form::Angles,
        NetworkModel::Dc => match o.kvl {
            Kvl::Angles => Form::Angles,
            Kvl::Cycles => Form::Cycles,
            Kvl::Auto if o.contingencies.is_none() && (small_grid(n) || extendable_grid(n)) => {
                Form::Cycles
            }
            Kvl::Ptdf | Kvl::Auto => Form::Ptdf,
        },
    }
}

/// Whether some AC branch's rating is extendable (its flow needs a column, which the PTDF
/// form does not have).
fn extendable_grid(n: &Network) -> bool {
    n.branches.iter().any(|b| b.expansion.is_some())
}

/// Whether the grid's branch flows and Kirchhoff rows (live branches plus independent
/// cycles) are at most [`SMALL_GRID_SHARE`] of the LP's other columns per snapshot.
fn small_grid(n: &Network) -> bool {
    let live: Vec<usize> = (0..n.branches.len())
        .filter(|&l| n.branch_live(l))
        .collect();
    let grid = live.len() + topology::independent_cycles(n, live.iter().copied());
    let others = column_bound(n, 1).saturating_sub(n.branches.len() as u64);
    grid as f64 <= SMALL_GRID_SHARE * others as f64
}

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
    /// Store power `p[s][t]`, MW, positive into the bus.
    pub store_p: Family,
    /// Store level at the end of snapshot t, MWh.
    pub store_e: Family,
    /// Store level balance row `[s][t]`.
    pub store_rows: Vec<Vec<usize>>,
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
    /// The row of the network's CO2 limit ([`constraints::constraint_co2_limit`]), if any.
    pub co2_row: Option<usize>,
    /// The row of each of the network's transmission limits, in order (`None`: it holds no
    /// column, so no row).
    pub transmission_limit_rows: Vec<Option<usize>>,
    /// Kirchhoff's-voltage-law rows by what they hold (see [`KvlRows`]), in build order.
    pub kvl_rows: Vec<KvlRows>,
    /// The formulation built.
    pub form: Form,
    /// Rows of Kirchhoff's voltage law (Ohm's law with angles, or cycles): 0 for a
    /// transport or copperplate model, the PTDF form and a network of links.
    pub kirchhoff_rows: usize,
    /// The shift factors, area balances and line-limit rows of the PTDF form.
    pub ptdf: Option<PtdfForm>,
    /// The capacity chosen of each extendable generator, MW (`None` where fixed).
    pub gen_p_nom: Vec<Option<Col>>,
    /// The rating chosen of each extendable AC branch, MW.
    pub branch_s_nom: Vec<Option<Col>>,
    /// The capacity chosen of each extendable link, MW.
    pub link_p_nom: Vec<Option<Col>>,
    /// The power capacity chosen of each extendable storage unit, MW.
    pub su_p_nom: Vec<Option<Col>>,
    /// The energy capacity chosen of each extendable store, MWh.
    pub store_e_nom: Vec<Option<Col>>,
    /// Rows `(upper, lower)` bounding an extendable branch's flow by its rating `[l][t]`.
    pub branch_capacity_rows: Vec<Vec<(usize, usize)>>,
    /// Rows `(upper, lower)` bounding an extendable link's flow by its capacity `[k][t]`.
    pub link_capacity_rows: Vec<Vec<(usize, usize)>>,
    /// Net position of each market zone `[z][t]`, MW (flow-based form).
    pub net_position: Family,
    /// The domain, net-position sums and CNEC rows of the flow-based form.
    pub flow_based: Option<FlowBasedForm>,
    /// Columns of the LP once it has been moved out to HiGHS (`lp` is then empty).
    pub columns_handed_over: usize,
    /// Rows of the LP once it has been moved out to HiGHS.
    pub rows_handed_over: usize,
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
        if self.form == Form::Ptdf {
            return None; // other shift factors: built anew
        }
        if self.form == Form::Cycles {
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
/// (angle, load shed, surplus), a storage unit 4 (dispatch, store, state of charge, spill),
/// a store 2 (power, level); plus one capacity column per extendable element. Saturates
/// instead of overflowing.
pub fn column_bound(n: &Network, snapshots: usize) -> u64 {
    let per_snapshot = [
        (n.generators.len(), 2u64),
        (n.branches.len(), 1),
        (n.links.len(), 1),
        (n.buses.len(), 3),
        (n.storage_units.len(), 4),
        (n.stores.len(), 2),
    ]
    .iter()
    .fold(0u64, |sum, &(count, cols)| {
        sum.saturating_add((count as u64).saturating_mul(cols))
    });
    let capacities = [
        n.generators
            .iter()
            .filter(|g| g.expansion.is_some())
            .count(),
        n.branches.iter().filter(|b| b.expansion.is_some()).count(),
        n.links.iter().filter(|l| l.expansion.is_some()).count(),
        n.storage_units
            .iter()
            .filter(|s| s.expansion.is_some())
            .count(),
        n.stores.iter().filter(|s| s.expansion.is_some()).count(),
    ];
    per_snapshot
        .saturating_mul(snapshots as u64)
        .saturating_add(capacities.iter().sum::<usize>() as u64)
}

/// Build the dispatch problem: the recipe, read top to bottom like the math. The network
/// families depend on the formulation, chosen once by [`choose`] and matched here.
///
/// The PTDF form's factorisation can fail (a susceptance matrix that cannot be factorised);
/// that is an error, as is an error of the network itself.
pub fn build(n: &Network, o: &FormulationOptions) -> Result<Model, Error> {
    let form = choose(n, o);
    check_expansion(n, form)?;
    let mut m = Model::empty(n, form);
    variables::variable_generator_power(&mut m, n, o);
    variables::variable_generator_cost(&mut m, n, o);
    if form == Form::FlowBased {
        let domain = o
            .flow_domain
            .clone()
            .expect("the flow-based form has a domain");
        m.flow_based = Some(FlowBasedForm::new(n, o.dc_convention, domain)?);
        flow_based::variable_net_position(&mut m);
    } else if form != Form::Ptdf {
        variables::variable_branch_flow(&mut m, n);
    }
    if form == Form::Angles {
        variables::variable_bus_angle(&mut m, n);
    }
    variables::variable_link_flow(&mut m, n);
    variables::variable_storage(&mut m, n);
    variables::variable_store(&mut m, n);
    variables::variable_load_shedding(&mut m, n, o);
    variables::variable_surplus(&mut m, n, o);
    expansion::variable_capacity(&mut m, n);

    if form == Form::Ptdf {
        m.ptdf = Some(PtdfForm::new(n, o.dc_convention, o.contingencies.as_ref())?);
        ptdf::constraint_area_balance(&mut m, n);
    } else {
        constraints::constraint_power_balance(&mut m, n);
    }
    constraints::constraint_generator_cost(&mut m, n, o);
    match form {
        Form::Angles => {
            constraints::constraint_ohms_law(&mut m, n, o);
            if o.angle_limits {
                constraints::constraint_angle_difference(&mut m, n);
            }
        }
        Form::Cycles => constraints::constraint_kvl_cycles(&mut m, n, o),
        Form::FlowBased => {
            flow_based::constraint_net_position_sum(&mut m);
            flow_based::constraint_cnec(&mut m);
        }
        // PTDF: line limits are added while solving (`ptdf::constraint_branch_limit`).
        Form::Ptdf | Form::Transport | Form::Copperplate => {}
    }
    constraints::constraint_storage_balance(&mut m, n);
    constraints::constraint_store_balance(&mut m, n);
    expansion::constraint_capacity(&mut m, n);
    expansion::constraint_transmission_limit(&mut m, n);
    constraints::constraint_co2_limit(&mut m, n);
    if let Some(p) = m.ptdf.as_mut() {
        p.rows_in_lp = m.lp.num_rows(); // limit rows go after every row built
    }
    Ok(m)
}

/// Extendable lines and transformers need flow columns: the PTDF and flow-based forms
/// (and N-1, which is stated in the PTDF form) take fixed ratings.
fn check_expansion(n: &Network, form: Form) -> Result<(), Error> {
    let Some(br) = n.branches.iter().find(|b| b.expansion.is_some()) else {
        return Ok(());
    };
    let option = match form {
        Form::Ptdf => "--kvl",
        Form::FlowBased => "--coupling",
        _ => return Ok(()),
    };
    Err(Error::option(
        option,
        format!(
            "{} `{}` has s_nom_extendable: an extendable rating is stated on the branch's flow, which the {form} form does not have (N-1 and flow-based coupling take fixed ratings); use --kvl cycles or angles",
            br.kind_name(),
            br.name
        ),
    ))
}

impl Model {
    fn empty(n: &Network, form: Form) -> Model {
        let (balance_node, node_names) = balance_nodes(n, form);
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
            co2_row: None,
            transmission_limit_rows: Vec::new(),
            kvl_rows: Vec::new(),
            form,
            ptdf: None,
            gen_p_nom: vec![None; n.generators.len()],
            branch_s_nom: vec![None; n.branches.len()],
            link_p_nom: vec![None; n.links.len()],
            su_p_nom: vec![None; n.storage_units.len()],
            store_e_nom: vec![None; n.stores.len()],
            store_p: none(n.stores.len()),
            store_e: none(n.stores.len()),
            store_rows: vec![Vec::new(); n.stores.len()],
            branch_capacity_rows: vec![Vec::new(); n.branches.len()],
            link_capacity_rows: vec![Vec::new(); n.links.len()],
            net_position: Vec::new(),
            flow_based: None,
            columns_handed_over: 0,
            rows_handed_over: 0,
        }
    }
}

/// Each bus is its own balance node, except in `copperplate` and the flow-based form where a
/// zone is one node.
fn balance_nodes(n: &Network, form: Form) -> (Vec<usize>, Vec<String>) {
    match form {
        Form::Copperplate | Form::FlowBased => {
            let (zones, node) = n.zone_of_buses();
            (node, zones)
        }
        _ => (
            (0..n.buses.len()).collect(),
            n.buses.iter().map(|b| b.name.clone()).collect(),
        ),
    }
}

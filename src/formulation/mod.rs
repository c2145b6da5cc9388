//! The dispatch LP over all snapshots: what to build ([`build`]) and one small function per
//! family of variables ([`variables`]) and constraints ([`constraints`]).
//!
//! Sign conventions: power in MW, positive into a bus from generators and storage
//! discharge; branch flow `p0` positive from `bus0` to `bus1`; link flow `p0` taken from
//! `bus0`, `efficiency * p0` delivered to `bus1`. The objective is in currency, summed over
//! snapshots with their objective weights (hours).

mod constraints;
pub mod lp;
mod variables;

use crate::network::Network;
pub use lp::{Change, Coefficients, Col, Lp};
use serde::Serialize;

/// How the network between buses is modelled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum NetworkModel {
    /// Linear (DC) power flow: Kirchhoff's laws on AC branches; links are controllable.
    #[default]
    Dc,
    /// Every branch and link is a controllable flow within its rating (NTC market coupling).
    Transport,
    /// Each zone is one node; branches and links between zones are controllable flows and
    /// the network inside a zone is ignored.
    Copperplate,
}

/// Which branch susceptance the `dc` model uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DcConvention {
    /// MATPOWER (`makeBdc`) and PyPSA: `b = 1 / (x * tap)`, phase shift as a fixed
    /// injection pair.
    #[default]
    Matpower,
    /// PowerModels `DCPPowerModel` (PGLib BASELINE): `b = x / (r^2 + x^2)`; taps and phase
    /// shifts are ignored.
    Powermodels,
}

/// How the `dc` model states Kirchhoff's voltage law.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Kvl {
    /// Bus voltage angles: `p0 = b (theta0 - theta1 - shift)` per branch (as MATPOWER and
    /// PowerModels); used whenever angle-difference limits are asked for.
    Angles,
    /// No angles: for each cycle of a basis of short cycles (see
    /// `constraints::constraint_kvl_cycles`), `sum ±p0/b = -sum ±shift` (as PyPSA). Fewer
    /// columns and rows, the same optimum and prices; HiGHS solves it faster (200-bus
    /// week: 23 s against 49 s).
    #[default]
    Cycles,
}

/// What to build.
#[derive(Debug, Clone, Serialize)]
pub struct FormulationOptions {
    pub model: NetworkModel,
    pub dc_convention: DcConvention,
    /// Enforce branch angle-difference limits (`dc` model only; implies angles).
    pub angle_limits: bool,
    /// Kirchhoff's voltage law by angles or by cycles (`dc` model).
    pub kvl: Kvl,
    /// Value of lost load, currency/MWh: when set, load can be shed at this cost.
    pub voll: Option<f64>,
    /// CO2 price, currency per tonne, added to generators' marginal costs as
    /// `co2_price * co2_emissions(carrier) / efficiency`.
    pub co2_price: f64,
    /// Approximate quadratic costs by this many linear segments between p_min and p_max.
    pub pwl_segments: Option<usize>,
    /// For infeasibility diagnosis: let every bus shed load and dump surplus at this penalty.
    pub slack_penalty: Option<f64>,
}

impl Default for FormulationOptions {
    fn default() -> Self {
        FormulationOptions {
            model: NetworkModel::Dc,
            dc_convention: DcConvention::Matpower,
            angle_limits: false,
            kvl: Kvl::Cycles,
            voll: None,
            co2_price: 0.0,
            pwl_segments: None,
            slack_penalty: None,
        }
    }
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
    /// Kirchhoff's-voltage-law rows that hold a cross-border branch: Ohm's law of the
    /// branch (angles), or the cycles a cross-border branch closes (cycles; the basis puts
    /// them last so that no other cycle holds one). Freed, with every cross-border flow
    /// fixed at 0, they turn this LP into the autarky LP (see [`Model::autarky`]).
    pub cross_border_rows: Vec<usize>,
    /// Rows of Kirchhoff's voltage law (Ohm's law with angles, or cycles): 0 for a
    /// transport or copperplate model and for a network of links.
    pub kirchhoff_rows: usize,
}

impl Model {
    /// The change that turns this LP into the autarky LP of `n`: every in-service
    /// cross-border branch and link fixed at 0 and the rows that hold them freed — the same
    /// optimum as building the network with them out of service.
    pub fn autarky(&self, n: &Network) -> Change {
        let free = |r: usize| (r, f64::NEG_INFINITY, f64::INFINITY);
        let zero = |c: &Col| (c.index, 0.0, 0.0);
        let mut cut = Change {
            row_bounds: self.cross_border_rows.iter().map(|&r| free(r)).collect(),
            ..Default::default()
        };
        for l in (0..n.branches.len()).filter(|&l| n.branch_crosses_border(l)) {
            cut.col_bounds.extend(self.branch_p0[l].iter().map(zero));
            // Angle-difference limits of a cross-border branch go with it.
            let limits = self.angle_rows[l].iter().flat_map(|&(lo, hi)| [lo, hi]);
            cut.row_bounds
                .extend(limits.filter(|&r| r != usize::MAX).map(free));
        }
        for k in (0..n.links.len()).filter(|&k| n.link_crosses_border(k)) {
            cut.col_bounds.extend(self.link_p0[k].iter().map(zero));
        }
        cut
    }
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

impl FormulationOptions {
    /// Whether the `dc` model is built with bus angles (else with cycles).
    pub fn uses_angles(&self) -> bool {
        self.model == NetworkModel::Dc && (self.kvl == Kvl::Angles || self.angle_limits)
    }
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
            cross_border_rows: Vec::new(),
        }
    }
}

/// Each bus is its own balance node, except in `copperplate` where a zone is one node.
fn balance_nodes(n: &Network, model: NetworkModel) -> (Vec<usize>, Vec<String>) {
    match model {
        NetworkModel::Copperplate => {
            let zones = n.zones();
            let node = n
                .buses
                .iter()
                .map(|b| zones.iter().position(|z| *z == b.zone).unwrap_or(0))
                .collect();
            (node, zones)
        }
        _ => (
            (0..n.buses.len()).collect(),
            n.buses.iter().map(|b| b.name.clone()).collect(),
        ),
    }
}

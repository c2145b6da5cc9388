//! The network: buses grouped into zones, AC branches and controllable links as edges of a
//! graph, and the generators, loads and storage units attached to buses.
//!
//! Units throughout: power in MW, energy in MWh, reactance in per unit on a 1 MVA base
//! (so that a flow in MW is `angle difference [rad] / x`), money in the network's currency
//! (a PyPSA folder's `marginal_cost` unit; $ for MATPOWER cases).
//!
//! Elements are never removed: each has an `in_service` flag, so switching an interconnector
//! out and back in keeps every index (and the graph's edge indices) stable.

mod edit;
mod series;

use petgraph::graph::{EdgeIndex, NodeIndex, UnGraph};
use std::collections::HashMap;
use std::fmt;

pub use edit::Edit;
pub use series::Series;

impl Bus {
    /// A bus in service at 1 kV and (0, 0), in `zone` of `country`, read from nowhere (for
    /// networks built in code).
    pub fn new(name: &str, zone: &str, country: &str) -> Bus {
        Bus {
            name: name.into(),
            zone: zone.into(),
            country: country.into(),
            v_nom: 1.0,
            carrier: "AC".into(),
            x: 0.0,
            y: 0.0,
            in_service: true,
            origin: Origin::default(),
        }
    }
}

/// A limit in MW from a capacity and a per-unit factor, `nom * pu`, with `inf * 0 = 0`: an
/// unlimited capacity (`inf`, as PyPSA allows) with a factor 0 is a limit of 0, never NaN.
pub fn per_unit_limit(nom: f64, pu: f64) -> f64 {
    if nom == 0.0 || pu == 0.0 {
        0.0
    } else {
        nom * pu
    }
}

/// Where an element was read from, so messages can point at it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// File name (for a PyPSA folder, relative to the folder).
    pub file: String,
    /// 1-based line in that file (0 when unknown, e.g. for elements added by an edit).
    pub line: usize,
}

impl Origin {
    pub fn new(file: impl Into<String>, line: usize) -> Self {
        Origin {
            file: file.into(),
            line,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{} line {}", self.file, self.line)
        } else {
            write!(f, "{}", self.file)
        }
    }
}

/// A bus: a node of the graph.
#[derive(Debug, Clone)]
pub struct Bus {
    pub name: String,
    /// Zone (bidding zone or operator area) this bus belongs to.
    pub zone: String,
    /// Country (ISO 3166 alpha-2 where known; the zone when not given).
    pub country: String,
    /// Nominal voltage, kV (sets the per-unit base of PyPSA lines).
    pub v_nom: f64,
    /// Energy carrier (PyPSA's bus `carrier`): `AC`, `DC`, or another energy such as `H2`
    /// or `heat`, whose buses links convert to and from.
    pub carrier: String,
    /// Coordinates (longitude/x, latitude/y), for maps only.
    pub x: f64,
    pub y: f64,
    pub in_service: bool,
    pub origin: Origin,
}

/// Whether an AC branch is a line or a transformer (they share the DC power flow model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BranchKind {
    Line,
    Transformer,
}

/// An AC line or transformer: its flow obeys Kirchhoff's laws in the `dc` model.
///
/// Flow `p0` is measured at `bus0`, positive from `bus0` to `bus1`, in MW.
#[derive(Debug, Clone)]
pub struct Branch {
    pub name: String,
    pub kind: BranchKind,
    pub bus0: usize,
    pub bus1: usize,
    /// Series reactance, per unit on a 1 MVA base (> 0).
    pub x: f64,
    /// Series resistance, per unit on a 1 MVA base (only used by the PowerModels convention).
    pub r: f64,
    /// Thermal rating, MW (`f64::INFINITY` for unlimited: MATPOWER `rateA = 0`):
    /// `s_nom * s_max_pu` of a PyPSA line or transformer; where `s_max_pu` varies by
    /// snapshot, the largest (the rating of snapshot t is [`Branch::rating`]).
    pub s_max: f64,
    /// Nominal rating, MW (PyPSA's `s_nom`; MATPOWER's `rateA`, infinite where 0).
    pub s_nom: f64,
    /// Share of `s_nom` that may flow (PyPSA's `s_max_pu`, which may vary by snapshot, e.g.
    /// dynamic line ratings; 1 for MATPOWER).
    pub s_max_pu: Series,
    /// The rating the optimisation may choose (`s_nom_extendable`); the impedance stays
    /// as given, as in PyPSA.
    pub expansion: Option<Expansion>,
    /// Off-nominal tap ratio (1 for lines).
    pub tap_ratio: f64,
    /// Phase shift, degrees (0 for lines).
    pub phase_shift: f64,
    /// Angle-difference limits `theta0 - theta1`, radians; `None` where unlimited.
    pub angle_min: Option<f64>,
    pub angle_max: Option<f64>,
    pub in_service: bool,
    pub edge: EdgeIndex,
    pub origin: Origin,
}

impl Branch {
    /// An in-service line from `bus0` to `bus1` of reactance `x` (per unit on 1 MVA) and
    /// rating `s_max` (MW), without resistance, tap or phase shift (for networks built in
    /// code; [`Network::add_branch`] places it in the graph).
    pub fn line(name: &str, bus0: usize, bus1: usize, x: f64, s_max: f64) -> Branch {
        Branch {
            name: name.into(),
            kind: BranchKind::Line,
            bus0,
            bus1,
            x,
            r: 0.0,
            s_max,
            s_nom: s_max,
            s_max_pu: Series::Static(1.0),
            expansion: None,
            tap_ratio: 1.0,
            phase_shift: 0.0,
            angle_min: None,
            angle_max: None,
            in_service: true,
            edge: EdgeIndex::new(0),
            origin: Origin::default(),
        }
    }

    /// The rating in snapshot t, MW: `s_max`, or `s_nom * s_max_pu[t]` where `s_max_pu`
    /// varies by snapshot.
    pub fn rating(&self, t: usize) -> f64 {
        if self.s_max_pu.is_hourly() {
            per_unit_limit(self.s_nom, self.s_max_pu.at(t))
        } else {
            self.s_max
        }
    }

    /// Set `s_max` from `s_nom` and `s_max_pu` (its largest value where it varies).
    pub fn update_rating(&mut self) {
        self.s_max = per_unit_limit(self.s_nom, self.s_max_pu.max());
    }

    /// `line` or `transformer`, for messages.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            BranchKind::Line => "line",
            BranchKind::Transformer => "transformer",
        }
    }
}

/// Elements taken out of service together (a study's cut, a contingency), by index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outage {
    pub branches: Vec<usize>,
    pub links: Vec<usize>,
}

/// A controllable link (HVDC line, NTC corridor): takes `p0` from `bus0` and delivers
/// `efficiency * p0` to `bus1`.
#[derive(Debug, Clone)]
pub struct Link {
    pub name: String,
    pub bus0: usize,
    pub bus1: usize,
    /// Capacity, MW.
    pub p_nom: f64,
    /// Per-unit bounds of `p0`: `p_nom * p_min_pu <= p0 <= p_nom * p_max_pu`;
    /// `p_min_pu = -1` makes the link work both ways.
    pub p_min_pu: Series,
    pub p_max_pu: Series,
    /// Share of `p0` that arrives at `bus1` (1 = lossless).
    pub efficiency: f64,
    /// Cost of flow `p0`, currency/MWh.
    pub marginal_cost: f64,
    /// The capacity the optimisation may choose (`p_nom_extendable`).
    pub expansion: Option<Expansion>,
    pub in_service: bool,
    pub edge: EdgeIndex,
    pub origin: Origin,
}

/// The cost of a generator's output.
#[derive(Debug, Clone, PartialEq)]
pub enum CostCurve {
    /// `marginal_cost * p + marginal_cost_quadratic * p^2 + constant`, per hour.
    Polynomial {
        /// currency/MWh (may vary by snapshot).
        marginal_cost: Series,
        /// currency/MW^2h; not linear: needs `--pwl-segments` to be solved.
        marginal_cost_quadratic: f64,
        /// currency/h while the generator is in service (MATPOWER's c0).
        constant: f64,
    },
    /// Convex piecewise-linear cost through points `(MW, currency/h)` (MATPOWER gencost model 1).
    PiecewiseLinear(Vec<(f64, f64)>),
}

impl CostCurve {
    pub fn linear(marginal_cost: f64) -> Self {
        CostCurve::Polynomial {
            marginal_cost: Series::Static(marginal_cost),
            marginal_cost_quadratic: 0.0,
            constant: 0.0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Generator {
    pub name: String,
    pub bus: usize,
    pub carrier: String,
    /// Capacity, MW.
    pub p_nom: f64,
    /// Per-unit bounds of output: `p_nom * p_min_pu[t] <= p[t] <= p_nom * p_max_pu[t]`.
    pub p_min_pu: Series,
    pub p_max_pu: Series,
    pub cost: CostCurve,
    /// Electrical output per unit of fuel (thermal), used with the carrier's CO2 intensity.
    pub efficiency: f64,
    /// The capacity the optimisation may choose (`p_nom_extendable`).
    pub expansion: Option<Expansion>,
    pub in_service: bool,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Load {
    pub name: String,
    pub bus: usize,
    /// Demand, MW (negative values inject).
    pub p_set: Series,
    pub in_service: bool,
    pub origin: Origin,
}

/// A storage unit (battery, pumped hydro, or a hydro reservoir with inflow and spill).
#[derive(Debug, Clone)]
pub struct StorageUnit {
    pub name: String,
    pub bus: usize,
    pub carrier: String,
    /// Power capacity, MW.
    pub p_nom: f64,
    /// Per-unit limits of net output `p_dispatch - p_store` (they may vary by snapshot):
    /// `p_min_pu = -1` allows charging at full power; 0 means no pumping.
    pub p_min_pu: Series,
    pub p_max_pu: Series,
    /// Energy capacity = `p_nom * max_hours`, MWh.
    pub max_hours: f64,
    pub efficiency_store: f64,
    pub efficiency_dispatch: f64,
    /// Share of the state of charge lost per hour.
    pub standing_loss: f64,
    /// Natural inflow, MW (spillable).
    pub inflow: Series,
    /// State of charge before the first snapshot, MWh (ignored when cyclic).
    pub state_of_charge_initial: f64,
    /// State of charge fixed at the end of snapshot t, MWh, where set (PyPSA's
    /// `state_of_charge_set`; empty or None: free).
    pub state_of_charge_set: Vec<Option<f64>>,
    /// The state of charge after the last snapshot equals the one before the first.
    pub cyclic_state_of_charge: bool,
    /// Cost of dispatch, currency/MWh.
    pub marginal_cost: f64,
    /// Cost of spilled inflow, currency/MWh.
    pub spill_cost: f64,
    /// Cost of holding energy, currency/MWh per hour (PyPSA's `marginal_cost_storage`, on
    /// the state of charge).
    pub marginal_cost_storage: f64,
    /// The power capacity the optimisation may choose (`p_nom_extendable`; the energy
    /// capacity follows as `p_nom_opt * max_hours`).
    pub expansion: Option<Expansion>,
    pub in_service: bool,
    pub origin: Origin,
}

/// A store of energy (PyPSA's Store: hydrogen, heat, a battery's energy part): a level `e`
/// (MWh) at a bus, emptied into the bus and filled from it by one power `p` (MW, positive
/// into the bus) without conversion losses, only a standing loss:
/// `e[t] = (1 - standing_loss)^h_t * e[t-1] - h_t * p[t]`.
#[derive(Debug, Clone)]
pub struct Store {
    pub name: String,
    pub bus: usize,
    pub carrier: String,
    /// Energy capacity, MWh.
    pub e_nom: f64,
    /// Per-unit bounds of the level: `e_nom * e_min_pu[t] <= e[t] <= e_nom * e_max_pu[t]`.
    pub e_min_pu: Series,
    pub e_max_pu: Series,
    /// Level before the first snapshot, MWh (ignored when cyclic).
    pub e_initial: f64,
    /// The level after the last snapshot equals the one before the first.
    pub e_cyclic: bool,
    /// Share of the level lost per hour.
    pub standing_loss: f64,
    /// Cost of `p`, currency/MWh (a gain when `p` is negative: filling the store).
    pub marginal_cost: f64,
    /// Cost of holding energy, currency/MWh per hour (PyPSA's `marginal_cost_storage`).
    pub marginal_cost_storage: f64,
    /// The energy capacity the optimisation may choose (`e_nom_extendable`), MWh.
    pub expansion: Option<Expansion>,
    pub in_service: bool,
    pub origin: Origin,
}

/// A capacity chosen by the optimisation (PyPSA's `p_nom_extendable` / `s_nom_extendable`):
/// the capacity becomes a variable `nom_min <= nom_opt <= nom_max` (MW) that costs `cost`
/// per MW over the horizon. The element's fixed capacity (`p_nom`, `s_nom`) is what exists
/// already: as in PyPSA, the objective counts `cost * (nom_opt - p_nom)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Expansion {
    /// MW (may be 0).
    pub nom_min: f64,
    /// MW (may be infinite).
    pub nom_max: f64,
    /// currency/MW over the modelled horizon (PyPSA's periodized cost: `capital_cost`, or
    /// `overnight_cost` annuitised over `lifetime` at `discount_rate` times the horizon in
    /// years, plus `fom_cost`).
    pub cost: f64,
}

impl Expansion {
    /// The largest capacity an element may have, MW: `nom_max` when extendable, else its
    /// fixed capacity `nom`.
    pub fn largest(expansion: &Option<Expansion>, nom: f64) -> f64 {
        expansion.map_or(nom, |x| x.nom_max)
    }
}

/// How [`Network::fix_candidate`] fixes a capacity-expansion candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixed {
    Built,
    NotBuilt,
}

/// An energy carrier (fuel), with its CO2 intensity.
#[derive(Debug, Clone)]
pub struct Carrier {
    pub name: String,
    /// t CO2 per MWh of primary energy (PyPSA's `co2_emissions`).
    pub co2_emissions: f64,
}

/// Snapshots (the horizon) with their weights.
#[derive(Debug, Clone, Default)]
pub struct Snapshots {
    pub names: Vec<String>,
    /// Weight of each snapshot in the objective (hours it stands for).
    pub objective: Vec<f64>,
    /// Hours per snapshot in the storage balance.
    pub stores: Vec<f64>,
}

impl Snapshots {
    /// `n` hourly snapshots named `0..n` with weight 1.
    pub fn hourly(n: usize) -> Self {
        Snapshots {
            names: (0..n).map(|t| t.to_string()).collect(),
            objective: vec![1.0; n],
            stores: vec![1.0; n],
        }
    }
    pub fn len(&self) -> usize {
        self.names.len()
    }
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Which file format a network was read from (some checks differ: MATPOWER allows
/// negative branch reactance for series compensation, PyPSA lines do not).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SourceFormat {
    #[default]
    Built,
    PyPsa,
    Matpower,
}

/// Whether `name` designates the element named `element`: the same name, or `element` is
/// `name:<suffix>` (the CAREC network's `<id>:rev` reverse link of interconnector `<id>`).
pub fn designates(name: &str, element: &str) -> bool {
    element == name
        || element
            .strip_prefix(name)
            .is_some_and(|rest| rest.starts_with(':'))
}

/// What an edge of the graph is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeRef {
    Branch(usize),
    Link(usize),
}

/// Which way a constraint bounds its expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sense {
    AtMost,
    Equal,
    AtLeast,
}

impl Sense {
    /// As PyPSA writes it: `<=`, `==` or `>=`.
    pub fn symbol(self) -> &'static str {
        match self {
            Sense::AtMost => "<=",
            Sense::Equal => "==",
            Sense::AtLeast => ">=",
        }
    }
}

/// A limit on the CO2 emitted over the horizon (PyPSA's `primary_energy` global constraint
/// on the carriers' `co2_emissions`): Σ_t w_t Σ_g p_g,t · co2(carrier of g) / efficiency_g
/// `sense` `limit_t`, in t, with w the snapshots' objective weights (h).
#[derive(Debug, Clone)]
pub struct Co2Constraint {
    pub name: String,
    pub sense: Sense,
    /// t CO2 over the horizon.
    pub limit_t: f64,
    pub origin: Origin,
}

/// What a [`TransmissionLimit`] weighs the capacity built by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransmissionMeasure {
    /// Length, km: the limit is on MW·km (PyPSA's `transmission_volume_expansion_limit`).
    Volume,
    /// Annuitised investment cost per MW (without fixed O&M), currency/MW: the limit is on
    /// currency (PyPSA's `transmission_expansion_cost_limit`).
    Cost,
}

/// A limit on the transmission the optimisation builds, as PyPSA states it: Σ over the
/// extendable lines and links of the listed carriers of `coefficient × capacity chosen`
/// (`s_nom_opt`, `p_nom_opt`, MW) `sense` `constant`. Transformers are not counted.
#[derive(Debug, Clone)]
pub struct TransmissionLimit {
    pub name: String,
    pub measure: TransmissionMeasure,
    /// The carriers it counts (`AC`, `DC`, ...).
    pub carriers: Vec<String>,
    pub sense: Sense,
    /// MW·km or currency.
    pub constant: f64,
    /// Each counted element with its coefficient (km, or currency/MW).
    pub terms: Vec<(EdgeRef, f64)>,
    pub origin: Origin,
}

/// A whole network. Build it with the `add_*` methods, which keep the graph in step.
#[derive(Debug, Clone, Default)]
pub struct Network {
    pub name: String,
    pub format: SourceFormat,
    /// Shared between versions and scenarios of a network (a year's names and weights are
    /// half a megabyte); changed through `Arc::make_mut`.
    pub snapshots: std::sync::Arc<Snapshots>,
    pub buses: Vec<Bus>,
    pub branches: Vec<Branch>,
    pub links: Vec<Link>,
    pub generators: Vec<Generator>,
    pub loads: Vec<Load>,
    pub storage_units: Vec<StorageUnit>,
    pub stores: Vec<Store>,
    pub carriers: Vec<Carrier>,
    /// A limit on the CO2 emitted over the horizon, if the network has one.
    pub co2_constraint: Option<Co2Constraint>,
    /// Limits on the transmission built (PyPSA's transmission expansion global constraints).
    pub transmission_limits: Vec<TransmissionLimit>,
    /// Nodes are buses (weight: bus index); edges are branches and links.
    graph: UnGraph<usize, EdgeRef>,
    bus_index: HashMap<String, usize>,
}

impl Network {
    pub fn new(name: impl Into<String>, snapshots: Snapshots) -> Self {
        Network {
            name: name.into(),
            snapshots: std::sync::Arc::new(snapshots),
            ..Default::default()
        }
    }

    /// The graph: node `i` is bus `i`; each edge names the branch or link it stands for.
    pub fn graph(&self) -> &UnGraph<usize, EdgeRef> {
        &self.graph
    }

    pub fn bus_id(&self, name: &str) -> Option<usize> {
        self.bus_index.get(name).copied()
    }

    /// Add a bus; returns its index, or `None` when the name is taken.
    pub fn add_bus(&mut self, bus: Bus) -> Option<usize> {
        if self.bus_index.contains_key(&bus.name) {
            return None;
        }
        let id = self.buses.len();
        let node = self.graph.add_node(id);
        debug_assert_eq!(node.index(), id);
        self.bus_index.insert(bus.name.clone(), id);
        self.buses.push(bus);
        Some(id)
    }

    /// Add an AC line or transformer (its `edge` field is set here).
    pub fn add_branch(&mut self, mut branch: Branch) -> usize {
        let id = self.branches.len();
        branch.edge = self.graph.add_edge(
            NodeIndex::new(branch.bus0),
            NodeIndex::new(branch.bus1),
            EdgeRef::Branch(id),
        );
        self.branches.push(branch);
        id
    }

    /// Add a link (its `edge` field is set here).
    pub fn add_link(&mut self, mut link: Link) -> usize {
        let id = self.links.len();
        link.edge = self.graph.add_edge(
            NodeIndex::new(link.bus0),
            NodeIndex::new(link.bus1),
            EdgeRef::Link(id),
        );
        self.links.push(link);
        id
    }

    /// The horizon in years: the snapshots' objective weights over 8,760 h (PyPSA's
    /// `nyears`).
    pub fn years(&self) -> f64 {
        self.snapshots.objective.iter().sum::<f64>() / 8760.0
    }

    /// Whether some element's capacity is chosen by the optimisation.
    pub fn has_expansion(&self) -> bool {
        self.extendable_element().is_some()
    }

    /// The name of the first element (in component order) whose capacity is extendable.
    pub fn extendable_element(&self) -> Option<&str> {
        fn first<T>(v: &[T], pick: impl Fn(&T) -> (bool, &str)) -> Option<&str> {
            v.iter().map(pick).find(|(x, _)| *x).map(|(_, name)| name)
        }
        first(&self.generators, |e| (e.expansion.is_some(), &e.name))
            .or_else(|| first(&self.branches, |e| (e.expansion.is_some(), &e.name)))
            .or_else(|| first(&self.links, |e| (e.expansion.is_some(), &e.name)))
            .or_else(|| first(&self.storage_units, |e| (e.expansion.is_some(), &e.name)))
            .or_else(|| first(&self.stores, |e| (e.expansion.is_some(), &e.name)))
    }

    pub fn carrier(&self, name: &str) -> Option<&Carrier> {
        self.carriers.iter().find(|c| c.name == name)
    }

    /// Zones in order of first appearance among the buses.
    pub fn zones(&self) -> Vec<String> {
        let mut seen = Vec::<String>::new();
        for b in &self.buses {
            if !seen.contains(&b.zone) {
                seen.push(b.zone.clone());
            }
        }
        seen
    }

    /// The zones (as [`Network::zones`]) and the position of each bus's zone among them.
    pub fn zone_of_buses(&self) -> (Vec<String>, Vec<usize>) {
        let zones = self.zones();
        let of_bus = self
            .buses
            .iter()
            .map(|b| zones.iter().position(|z| *z == b.zone).unwrap_or(0))
            .collect();
        (zones, of_bus)
    }

    /// CO2 emitted per MWh of generator `g`'s output, t/MWh: its carrier's `co2_emissions`
    /// (per MWh of fuel) over its efficiency (PyPSA's rule); 0 for a carrier not listed.
    pub fn co2_intensity(&self, g: usize) -> f64 {
        let gen = &self.generators[g];
        self.carrier(&gen.carrier)
            .map(|c| c.co2_emissions / gen.efficiency)
            .unwrap_or(0.0)
    }

    /// Total demand at each bus in snapshot `t`, MW (in-service loads only).
    pub fn bus_load(&self, t: usize) -> Vec<f64> {
        let mut load = vec![0.0; self.buses.len()];
        for l in self.loads.iter().filter(|l| l.in_service) {
            load[l.bus] += l.p_set.at(t);
        }
        load
    }

    /// Keep only the snapshots in `range` (positions, half-open). Storage units that are not
    /// cyclic start the window from their `state_of_charge_initial`. Capacity costs shrink to
    /// the window's share of the horizon's hours.
    pub fn restrict_snapshots(&mut self, range: std::ops::Range<usize>) {
        let hours = |w: &[f64]| w.iter().sum::<f64>();
        let all = hours(&self.snapshots.objective);
        let kept = hours(&self.snapshots.objective[range.clone()]);
        if all > 0.0 {
            self.scale_capacity_costs(kept / all);
        }
        let s = std::sync::Arc::make_mut(&mut self.snapshots);
        s.names = s.names[range.clone()].to_vec();
        s.objective = s.objective[range.clone()].to_vec();
        s.stores = s.stores[range.clone()].to_vec();
        for l in &mut self.links {
            l.p_min_pu.restrict(range.clone());
            l.p_max_pu.restrict(range.clone());
        }
        for g in &mut self.generators {
            g.p_min_pu.restrict(range.clone());
            g.p_max_pu.restrict(range.clone());
            if let CostCurve::Polynomial { marginal_cost, .. } = &mut g.cost {
                marginal_cost.restrict(range.clone());
            }
        }
        for l in &mut self.loads {
            l.p_set.restrict(range.clone());
        }
        for s in &mut self.storage_units {
            s.inflow.restrict(range.clone());
            s.p_min_pu.restrict(range.clone());
            s.p_max_pu.restrict(range.clone());
            if !s.state_of_charge_set.is_empty() {
                s.state_of_charge_set = s.state_of_charge_set[range.clone()].to_vec();
            }
        }
        for s in &mut self.stores {
            s.e_min_pu.restrict(range.clone());
            s.e_max_pu.restrict(range.clone());
        }
        for b in self.branches.iter_mut().filter(|b| b.s_max_pu.is_hourly()) {
            b.s_max_pu.restrict(range.clone());
            b.update_rating();
        }
    }

    /// Fix every extendable element that `name` designates (see [`designates`]) so the
    /// optimisation no longer chooses its capacity: [`Fixed::Built`] at its largest capacity
    /// (`nom_max`, which must be finite; its cost still counts), [`Fixed::NotBuilt`] at the
    /// capacity it has (`p_nom`, `s_nom`, `e_nom`), and out of service where that is 0 (a line
    /// without a rating would still hold its ends' angles together). Returns how many
    /// elements were fixed, or why one cannot be built.
    pub fn fix_candidate(&mut self, name: &str, fixed: Fixed) -> Result<usize, String> {
        let mut count = 0;
        macro_rules! fix {
            ($elements:expr, $nom:ident) => {
                for e in $elements.iter_mut().filter(|e| designates(name, &e.name)) {
                    let Some(x) = e.expansion.as_mut() else {
                        continue;
                    };
                    count += 1;
                    match fixed {
                        Fixed::Built if !x.nom_max.is_finite() => {
                            return Err(format!(
                                "`{}` has no finite maximum capacity to build",
                                e.name
                            ));
                        }
                        Fixed::Built => x.nom_min = x.nom_max,
                        Fixed::NotBuilt => {
                            e.expansion = None;
                            e.in_service &= e.$nom != 0.0;
                        }
                    }
                }
            };
        }
        fix!(self.generators, p_nom);
        fix!(self.branches, s_nom);
        fix!(self.links, p_nom);
        fix!(self.storage_units, p_nom);
        fix!(self.stores, e_nom);
        Ok(count)
    }

    /// Multiply every extendable element's capacity cost by `share` (and the costs a
    /// transmission cost limit weighs by): a part of the horizon bears its share of the cost
    /// over the whole (by objective weight), so that a month of a year pays a month of the
    /// annual cost.
    fn scale_capacity_costs(&mut self, share: f64) {
        let costs = self
            .generators
            .iter_mut()
            .filter_map(|g| g.expansion.as_mut())
            .chain(
                self.branches
                    .iter_mut()
                    .filter_map(|b| b.expansion.as_mut()),
            )
            .chain(self.links.iter_mut().filter_map(|l| l.expansion.as_mut()))
            .chain(
                self.storage_units
                    .iter_mut()
                    .filter_map(|s| s.expansion.as_mut()),
            )
            .chain(self.stores.iter_mut().filter_map(|s| s.expansion.as_mut()));
        for x in costs {
            x.cost *= share;
        }
        let cost_limits = self
            .transmission_limits
            .iter_mut()
            .filter(|l| l.measure == TransmissionMeasure::Cost);
        for limit in cost_limits {
            limit.terms.iter_mut().for_each(|(_, c)| *c *= share);
        }
    }

    /// This network on a coarser clock: each run of `hours` snapshots (the last may be
    /// shorter) becomes one snapshot named after its first, standing for the sum of their
    /// objective and storage weights, with every time series averaged over the run (a
    /// plain mean, exact for snapshots of equal weight). For a cheap first look at a long
    /// horizon, e.g. storage levels of a year solved by day.
    pub fn aggregate_snapshots(&self, hours: usize) -> Network {
        let hours = hours.max(1);
        let mut n = self.clone();
        let s = std::sync::Arc::make_mut(&mut n.snapshots);
        s.names = s.names.iter().step_by(hours).cloned().collect();
        s.objective = s.objective.chunks(hours).map(|c| c.iter().sum()).collect();
        s.stores = s.stores.chunks(hours).map(|c| c.iter().sum()).collect();
        for l in &mut n.links {
            l.p_min_pu.aggregate(hours);
            l.p_max_pu.aggregate(hours);
        }
        for g in &mut n.generators {
            g.p_min_pu.aggregate(hours);
            g.p_max_pu.aggregate(hours);
            if let CostCurve::Polynomial { marginal_cost, .. } = &mut g.cost {
                marginal_cost.aggregate(hours);
            }
        }
        for l in &mut n.loads {
            l.p_set.aggregate(hours);
        }
        for s in &mut n.storage_units {
            s.inflow.aggregate(hours);
            s.p_min_pu.aggregate(hours);
            s.p_max_pu.aggregate(hours);
            // A run ends where its last snapshot ends: its set level is the run's.
            s.state_of_charge_set = s
                .state_of_charge_set
                .chunks(hours)
                .map(|c| c.last().copied().flatten())
                .collect();
        }
        for s in &mut n.stores {
            s.e_min_pu.aggregate(hours);
            s.e_max_pu.aggregate(hours);
        }
        for b in n.branches.iter_mut().filter(|b| b.s_max_pu.is_hourly()) {
            b.s_max_pu.aggregate(hours);
            b.update_rating();
        }
        n
    }

    /// This network with the elements of `outage` out of service.
    pub fn without(&self, outage: &Outage) -> Network {
        let mut rest = self.clone();
        for &l in &outage.branches {
            rest.branches[l].in_service = false;
        }
        for &k in &outage.links {
            rest.links[k].in_service = false;
        }
        rest
    }

    /// Whether branch `l` is in service between two buses in service (the branches the
    /// topology and the dc model see).
    pub fn branch_live(&self, l: usize) -> bool {
        let b = &self.branches[l];
        b.in_service && self.buses[b.bus0].in_service && self.buses[b.bus1].in_service
    }

    /// Whether branch `l` joins buses of two countries.
    pub fn branch_crosses_border(&self, l: usize) -> bool {
        let b = &self.branches[l];
        self.buses[b.bus0].country != self.buses[b.bus1].country
    }

    /// Whether link `k` joins buses of two countries.
    pub fn link_crosses_border(&self, k: usize) -> bool {
        let l = &self.links[k];
        self.buses[l.bus0].country != self.buses[l.bus1].country
    }

    /// Switch a branch, link, generator, load, storage unit or store in or out of service by name.
    /// Returns false when no element has that name.
    pub fn set_in_service(&mut self, name: &str, in_service: bool) -> bool {
        self.switch(|e| e == name, in_service)
    }

    /// Switch every element that `name` designates (see [`designates`]): an interconnector
    /// id switches both of its one-way links. Returns false when there is none.
    pub fn set_in_service_group(&mut self, name: &str, in_service: bool) -> bool {
        self.switch(|e| designates(name, e), in_service)
    }

    fn switch(&mut self, pick: impl Fn(&str) -> bool, in_service: bool) -> bool {
        let mut found = false;
        macro_rules! switch {
            ($v:expr) => {
                for e in $v.iter_mut().filter(|e| pick(&e.name)) {
                    e.in_service = in_service;
                    found = true;
                }
            };
        }
        switch!(self.branches);
        switch!(self.links);
        switch!(self.generators);
        switch!(self.loads);
        switch!(self.storage_units);
        switch!(self.stores);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bus(name: &str) -> Bus {
        Bus {
            name: name.into(),
            zone: "Z".into(),
            country: "Z".into(),
            v_nom: 1.0,
            carrier: "AC".into(),
            x: 0.0,
            y: 0.0,
            in_service: true,
            origin: Origin::default(),
        }
    }

    fn line(name: &str, b0: usize, b1: usize) -> Branch {
        Branch::line(name, b0, b1, 0.1, 100.0)
    }

    #[test]
    fn switching_a_line_out_splits_the_synchronous_area_and_keeps_indices() {
        let mut n = Network::new("t", Snapshots::hourly(1));
        for b in ["a", "b", "c"] {
            n.add_bus(bus(b)).unwrap();
        }
        n.add_branch(line("ab", 0, 1));
        n.add_branch(line("bc", 1, 2));
        assert_eq!(crate::topology::synchronous_areas(&n).len(), 1);
        assert!(n.set_in_service("bc", false));
        assert_eq!(
            crate::topology::synchronous_areas(&n),
            vec![vec![0, 1], vec![2]]
        );
        assert_eq!(n.graph()[n.branches[1].edge], EdgeRef::Branch(1));
        assert!(n.set_in_service("bc", true));
        assert_eq!(crate::topology::synchronous_areas(&n).len(), 1);
        assert!(!n.set_in_service("nope", true));
    }

    #[test]
    fn duplicate_bus_names_are_refused() {
        let mut n = Network::new("t", Snapshots::hourly(1));
        assert_eq!(n.add_bus(bus("a")), Some(0));
        assert_eq!(n.add_bus(bus("a")), None);
    }
}

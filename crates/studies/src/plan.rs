//! Which candidate pays: a capacity-expansion study of a network whose candidates are its
//! extendable elements (PyPSA's `*_nom_extendable`; `networks/carec-plan` has the planned
//! CAREC interconnectors).
//!
//! Two solves: the network **without** its candidates (each fixed at the capacity it has,
//! out of service where that is 0) and the **plan** (capacities chosen). Per candidate: the
//! capacity built, what it costs over the horizon (its periodized cost per MW × MW built),
//! its congestion rent in the plan (price at the receiving end × received − price at the
//! sending end × sent, summed over the snapshots), and with `leave_one_out` the system cost
//! it saves (the plan re-solved with it fixed out, minus the plan). By LP duality a candidate
//! built between its bounds earns exactly its cost; one at its maximum earns more (it pays,
//! and more of it would too); one not built would earn less.
//!
//! Per country: the change of its net cost (production cost + import bill − export revenue −
//! half the congestion rent of its cross-border elements, [`crate::trade`]) from without to
//! the plan, less half the cost of each candidate that ends in it (all of it for a candidate
//! inside the country). Money in the network's currency over the solved horizon.

use crate::scenario::Scenario;
use crate::study::{why_not, NoReport};
use crate::trade::{self, TradeReport};
use gridtrade_engine::error::Error;
use gridtrade_engine::formulation::FormulationOptions;
use gridtrade_engine::network::{Expansion, Fixed, Network};
use gridtrade_engine::solution::{Results, Status};
use gridtrade_engine::solve::{self, SolveOptions};
use gridtrade_engine::solver::Control;
use serde::{Deserialize, Serialize};

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct PlanRequest {
    /// Applied to the network first (its `build` / `exclude` fix candidates in or out).
    pub scenario: Option<(Scenario, String)>,
    pub options: FormulationOptions,
    pub time_limit: Option<f64>,
    /// Re-solve the plan once per candidate built, with it fixed out, for its own saving.
    pub leave_one_out: bool,
}

/// A candidate in the plan.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CandidateReport {
    /// `generator`, `line`, `transformer`, `link`, `storage_unit` or `store`.
    pub component: String,
    pub name: String,
    /// Zones at its ends (the same zone twice for a plant or storage).
    pub zone0: String,
    pub zone1: String,
    /// Capacity it had and its largest, MW (MWh for a store); `nom_max` null if unlimited.
    pub nom: f64,
    pub nom_max: Option<f64>,
    /// Capacity built, MW.
    pub built: f64,
    /// Its cost over the horizon, currency: periodized cost per MW × (built − nom).
    pub cost: f64,
    /// Periodized cost per MW over the horizon, currency/MW.
    pub cost_per_mw: f64,
    /// Congestion rent over the horizon, currency (0 for plants and storage).
    pub congestion_rent: f64,
    /// Energy carried (either way, at the sending end) or produced, MWh.
    pub energy_mwh: f64,
    /// Whether it pays for itself: built, and its rent covers its cost (1e-6).
    pub pays: bool,
    /// With `leave_one_out`: the plan's system cost with it fixed out minus the plan's.
    pub saving: Option<f64>,
}

/// A country's gain from the plan.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CountryPlanGain {
    pub country: String,
    /// Its net cost without the candidates and with the plan (before candidate costs),
    /// currency.
    pub net_cost_without: f64,
    pub net_cost_plan: f64,
    /// Its share of the candidates' cost, currency.
    pub candidate_cost_share: f64,
    /// net_cost_without − net_cost_plan − candidate_cost_share.
    pub gain: f64,
    /// CO2 emitted without and with the plan, t.
    pub co2_without_t: f64,
    pub co2_plan_t: f64,
}

/// The plan's report.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PlanReport {
    pub snapshots: usize,
    /// System cost (the objective: operation, plus the candidates' cost in the plan),
    /// currency, without the candidates and with the plan; `saving` = without − plan.
    pub system_cost_without: f64,
    pub system_cost_plan: f64,
    pub saving: f64,
    pub co2_without_t: f64,
    pub co2_plan_t: f64,
    pub shed_without_mwh: f64,
    pub shed_plan_mwh: f64,
    /// The CO2 limit of the plan (a scenario's `co2_cap` or the network's) and the CO2
    /// price it implies there; absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub co2_limit: Option<gridtrade_engine::report::Co2LimitSummary>,
    pub candidates: Vec<CandidateReport>,
    pub countries: Vec<CountryPlanGain>,
}

/// Run the plan of `n` (whose extendable elements are the candidates).
pub fn run(
    n: &Network,
    req: &PlanRequest,
    control: &Control,
) -> Result<Result<PlanReport, NoReport>, Error> {
    let mut plan = n.clone();
    if let Some((s, origin)) = &req.scenario {
        s.apply(&mut plan, origin)?;
    }
    let mut o = req.options.clone();
    if let Some(p) = req.scenario.as_ref().and_then(|(s, _)| s.co2_price) {
        o.co2_price = p;
    }
    let names = candidate_names(&plan);
    if names.is_empty() {
        return Err(Error::option(
            "plan",
            "the network has no extendable element: nothing to plan (give candidates p_nom_extendable or s_nom_extendable)",
        ));
    }
    let without = fixed_out(&plan, &names);
    let opts = SolveOptions {
        formulation: o.clone(),
        time_limit: req.time_limit,
        ..Default::default()
    };
    let solve_case = |net: &Network, what: &str| -> Result<Result<Results, NoReport>, Error> {
        let out = solve::solve_with(net, &opts, control)?;
        Ok(match (out.status, out.results) {
            (Status::Optimal, Some(r)) => Ok(r),
            (status, _) => Err(match why_not(status, out.diagnosis) {
                NoReport::NotSolved(m) => NoReport::NotSolved(format!("{what}: {m}")),
                cancelled => cancelled,
            }),
        })
    };
    let r_without = match solve_case(&without, "without the candidates")? {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let r_plan = match solve_case(&plan, "the plan")? {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let mut report = report(&plan, &without, &r_plan, &r_without, &o);
    if req.leave_one_out {
        for c in report.candidates.iter_mut().filter(|c| c.built > c.nom) {
            let alone = fixed_out(&plan, std::slice::from_ref(&c.name));
            match solve_case(&alone, &format!("the plan without {}", c.name))? {
                Ok(r) => c.saving = Some(r.objective - r_plan.objective),
                Err(e) => return Ok(Err(e)),
            }
        }
    }
    Ok(Ok(report))
}

/// The names of the candidates (extendable elements) of `n`, in network order.
fn candidate_names(n: &Network) -> Vec<String> {
    expansions(n).into_iter().map(|e| e.name).collect()
}

/// `n` with the candidates `names` fixed out.
fn fixed_out(n: &Network, names: &[String]) -> Network {
    let mut m = n.clone();
    for name in names {
        m.fix_candidate(name, Fixed::NotBuilt)
            .expect("fixing out cannot fail");
    }
    m
}

/// Which family of the results an extendable element's values are in.
#[derive(Debug, Clone, Copy)]
enum Family {
    Generator,
    Branch,
    Link,
    StorageUnit,
    Store,
}

/// An extendable element of a network, as the report needs it.
struct Extendable {
    family: Family,
    /// Its index in its family.
    index: usize,
    component: &'static str,
    name: String,
    bus0: usize,
    bus1: usize,
    /// The capacity it has, MW (MWh for a store).
    nom: f64,
    expansion: Expansion,
}

impl Extendable {
    /// Its capacity after the optimisation, MW.
    fn built(&self, r: &Results) -> f64 {
        let i = self.index;
        match self.family {
            Family::Generator => r.gen_p_nom_opt[i],
            Family::Branch => r.branch_s_nom_opt[i],
            Family::Link => r.link_p_nom_opt[i],
            Family::StorageUnit => r.su_p_nom_opt[i],
            Family::Store => r.store_e_nom_opt[i],
        }
    }

    /// The power it takes at bus0 and gives at bus1 in snapshot t, MW (a plant or storage:
    /// nothing taken, its net output given).
    fn flow(&self, r: &Results, t: usize) -> (f64, f64) {
        let i = self.index;
        match self.family {
            Family::Generator => (0.0, r.gen_p[i][t]),
            Family::Branch => (r.branch_p0[i][t], r.branch_p0[i][t]),
            Family::Link => (r.link_p0[i][t], r.link_p1[i][t]),
            Family::StorageUnit => (0.0, r.su_p[i][t]),
            Family::Store => (0.0, r.store_p[i][t]),
        }
    }
}

/// Every extendable element of `n`, in network order.
fn expansions(n: &Network) -> Vec<Extendable> {
    let mut out = Vec::new();
    let mut add =
        |family, index, component, name: &str, ends: (usize, usize), nom, x: &Option<Expansion>| {
            if let Some(x) = x {
                out.push(Extendable {
                    family,
                    index,
                    component,
                    name: name.to_string(),
                    bus0: ends.0,
                    bus1: ends.1,
                    nom,
                    expansion: *x,
                });
            }
        };
    for (i, g) in n.generators.iter().enumerate() {
        add(
            Family::Generator,
            i,
            "generator",
            &g.name,
            (g.bus, g.bus),
            g.p_nom,
            &g.expansion,
        );
    }
    for (i, b) in n.branches.iter().enumerate() {
        add(
            Family::Branch,
            i,
            b.kind_name(),
            &b.name,
            (b.bus0, b.bus1),
            b.s_nom,
            &b.expansion,
        );
    }
    for (i, l) in n.links.iter().enumerate() {
        add(
            Family::Link,
            i,
            "link",
            &l.name,
            (l.bus0, l.bus1),
            l.p_nom,
            &l.expansion,
        );
    }
    for (i, s) in n.storage_units.iter().enumerate() {
        add(
            Family::StorageUnit,
            i,
            "storage_unit",
            &s.name,
            (s.bus, s.bus),
            s.p_nom,
            &s.expansion,
        );
    }
    for (i, s) in n.stores.iter().enumerate() {
        add(
            Family::Store,
            i,
            "store",
            &s.name,
            (s.bus, s.bus),
            s.e_nom,
            &s.expansion,
        );
    }
    out
}

/// The report from the two solves.
fn report(
    plan: &Network,
    without: &Network,
    r_plan: &Results,
    r_without: &Results,
    o: &FormulationOptions,
) -> PlanReport {
    let candidates: Vec<CandidateReport> = expansions(plan)
        .iter()
        .map(|e| candidate_report(plan, r_plan, e))
        .collect();
    let t_plan = trade::analyse(plan, r_plan, o);
    let t_without = trade::analyse(without, r_without, o);
    PlanReport {
        snapshots: plan.snapshots.len(),
        system_cost_without: r_without.objective,
        system_cost_plan: r_plan.objective,
        saving: r_without.objective - r_plan.objective,
        co2_without_t: r_without.co2_t,
        co2_plan_t: r_plan.co2_t,
        shed_without_mwh: r_without.shed_mwh,
        shed_plan_mwh: r_plan.shed_mwh,
        co2_limit: gridtrade_engine::report::co2_limit_summary(plan, Some(r_plan)),
        countries: country_gains(plan, &t_without, &t_plan, &candidates),
        candidates,
    }
}

/// One candidate's figures in the plan.
fn candidate_report(n: &Network, r: &Results, e: &Extendable) -> CandidateReport {
    let w = &n.snapshots.objective;
    let price = |b: usize, t: usize| r.bus_price[b][t];
    let (mut rent, mut energy) = (0.0, 0.0);
    for t in 0..n.snapshots.len() {
        let (sent, received) = e.flow(r, t);
        if e.bus0 != e.bus1 {
            rent += w[t] * (price(e.bus1, t) * received - price(e.bus0, t) * sent);
            energy += w[t] * sent.abs();
        } else {
            energy += w[t] * received.max(0.0);
        }
    }
    let built = e.built(r);
    let cost = e.expansion.cost * (built - e.nom);
    let max = e.expansion.nom_max;
    CandidateReport {
        component: e.component.into(),
        name: e.name.clone(),
        zone0: n.buses[e.bus0].zone.clone(),
        zone1: n.buses[e.bus1].zone.clone(),
        nom: e.nom,
        nom_max: max.is_finite().then_some(max),
        built,
        cost,
        cost_per_mw: e.expansion.cost,
        congestion_rent: rent,
        energy_mwh: energy,
        pays: built > e.nom + 1e-6 && rent >= cost * (1.0 - 1e-6),
        saving: None,
    }
}

/// Each country's gain: its net cost without the candidates minus with the plan, less its
/// share of the candidates' cost (half of each that ends in it, all of one inside it).
fn country_gains(
    n: &Network,
    without: &TradeReport,
    plan: &TradeReport,
    candidates: &[CandidateReport],
) -> Vec<CountryPlanGain> {
    let country_of_zone = |z: &str| {
        n.buses
            .iter()
            .find(|b| b.zone == z)
            .map_or(String::new(), |b| b.country.clone())
    };
    plan.countries
        .iter()
        .map(|c| {
            let before = without.countries.iter().find(|w| w.country == c.country);
            let share: f64 = candidates
                .iter()
                .map(|k| {
                    let ends = [country_of_zone(&k.zone0), country_of_zone(&k.zone1)];
                    k.cost * ends.iter().filter(|e| **e == c.country).count() as f64 / 2.0
                })
                .sum();
            let net_cost_without = before.map_or(0.0, |b| b.net_cost);
            CountryPlanGain {
                country: c.country.clone(),
                net_cost_without,
                net_cost_plan: c.net_cost,
                candidate_cost_share: share,
                gain: net_cost_without - c.net_cost - share,
                co2_without_t: before.map_or(0.0, |b| b.co2_t),
                co2_plan_t: c.co2_t,
            }
        })
        .collect()
}

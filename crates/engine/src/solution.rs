//! Results of a solve, read back from HiGHS by the column and row indices the formulation
//! recorded.
//!
//! Units and signs:
//! - prices: currency/MWh, the balance dual divided by the snapshot's objective weight;
//!   positive when more load would raise the cost.
//! - branch and link flows `p0`: MW at bus0, positive from bus0 to bus1; link `p1` is the
//!   power delivered at bus1 (`efficiency * p0`).
//! - shadow prices of branches and links: currency/MWh, ≥ 0, nonzero only where a rating
//!   binds: the cost saved per MW of extra capacity (the reduced cost of the flow at its
//!   bound, divided by the snapshot weight).
//! - storage water value: currency/MWh stored, ≥ 0 in normal operation (minus the dual of
//!   the state-of-charge balance).

use crate::formulation::{Col, Family, FlowBasedForm, Model, PtdfForm};
use crate::network::{per_unit_limit, CostCurve, Network};
use serde::Serialize;
use std::collections::BTreeMap;

/// Carrier name of generators that stand for load shedding (PyPSA practice).
pub const LOAD_SHEDDING: &str = "load_shedding";

/// How a solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Optimal,
    Infeasible,
    Unbounded,
    /// The time limit was reached; values are the best feasible point found, if any.
    TimeLimit,
    /// Stopped on request (a cancelled call); no values.
    Cancelled,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Optimal => "optimal",
            Status::Infeasible => "infeasible",
            Status::Unbounded => "unbounded",
            Status::TimeLimit => "time_limit",
            Status::Cancelled => "cancelled",
        }
    }
}

/// Seconds spent in each phase.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Timings {
    pub read_s: f64,
    pub build_s: f64,
    pub solve_s: f64,
    pub extract_s: f64,
}

/// Values per element and snapshot: `[element][t]`.
pub type Table = Vec<Vec<f64>>;

/// The solved dispatch.
#[derive(Debug, Clone, Default)]
pub struct Results {
    /// Objective, currency (including constant cost terms).
    pub objective: f64,
    /// Price at each bus, currency/MWh (NaN for buses out of service).
    pub bus_price: Table,
    /// Load shed at each bus, MW.
    pub bus_shed: Table,
    pub gen_p: Table,
    /// Cost of each generator's output, currency/h, exactly as the objective counts it:
    /// fuel (the piecewise-linear approximation where the LP used one) and CO2, with a
    /// linear cost's constant term; 0 for a generator out of service.
    pub gen_cost: Table,
    /// Available output not used, MW (`p_nom * p_max_pu[t] - p`), for generators with a
    /// time-varying availability (wind, solar, run-of-river).
    pub gen_curtailment: Table,
    pub branch_p0: Table,
    pub branch_mu: Table,
    pub link_p0: Table,
    pub link_p1: Table,
    pub link_mu: Table,
    /// Storage net output `p_dispatch - p_store`, MW.
    pub su_p: Table,
    pub su_dispatch: Table,
    pub su_store: Table,
    pub su_soc: Table,
    pub su_spill: Table,
    pub su_water_value: Table,
    /// Store power, MW, positive into the bus (PyPSA's `stores_t.p`).
    pub store_p: Table,
    /// Store level at the end of each snapshot, MWh (`stores_t.e`).
    pub store_e: Table,
    /// N-1: each post-contingency limit that bound in some snapshot.
    pub contingency_limits: Vec<ContingencyLimit>,
    /// N-1: outages skipped because they split a synchronous area (branch indices).
    pub islanding_outages: Vec<usize>,
    /// Flow-based market: net position of each zone (in the domain's zone order) into the
    /// AC grid, MW `[z][t]`; empty otherwise.
    pub net_position: Table,
    /// Flow-based market: shadow price of each CNEC's margin, currency/MWh ≥ 0 `[k][t]`
    /// (either direction); empty otherwise.
    pub cnec_mu: Table,
    /// CO2 emitted over the horizon (weighted by snapshot weights), t.
    pub co2_t: f64,
    /// The dual of the network's CO2 limit, currency/t, with PyPSA's sign (`mu` of its
    /// global constraint: ≤ 0 for a binding `<=` limit); the CO2 price the limit implies is
    /// its negative. None without a limit.
    pub co2_limit_mu: Option<f64>,
    /// The dual of each of the network's transmission limits, in order, with PyPSA's sign
    /// (its global constraint's `mu`: currency per MW·km or per currency of the limit; ≤ 0
    /// for a binding `<=`); None for a limit that held no column.
    pub transmission_limit_mu: Vec<Option<f64>>,
    /// Energy not served over the horizon (weighted), MWh: load shed by `--voll` plus the
    /// output of generators with carrier `load_shedding`.
    pub shed_mwh: f64,
    /// Capacity after the optimisation (PyPSA's `p_nom_opt`), MW: the chosen capacity of
    /// an extendable generator, the fixed `p_nom` of the others.
    pub gen_p_nom_opt: Vec<f64>,
    /// Rating after the optimisation (`s_nom_opt`), MW, of each AC branch.
    pub branch_s_nom_opt: Vec<f64>,
    /// Capacity after the optimisation (`p_nom_opt`), MW, of each link.
    pub link_p_nom_opt: Vec<f64>,
    /// Power capacity after the optimisation (`p_nom_opt`), MW, of each storage unit.
    pub su_p_nom_opt: Vec<f64>,
    /// Energy capacity after the optimisation (`e_nom_opt`), MWh, of each store.
    pub store_e_nom_opt: Vec<f64>,
}

/// A post-contingency limit that bound: branch `monitored` at its limit after the outage of
/// branch `outage` (indices into the network's branches).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContingencyLimit {
    pub outage: usize,
    pub monitored: usize,
    /// Shadow price of the limit in each snapshot, currency/MWh, ≥ 0 (0 where it did not
    /// bind).
    pub mu: Vec<f64>,
}

impl Results {
    /// The results of snapshots `range` only (positions within the solved horizon); the
    /// objective and totals are those of the whole solve.
    pub fn restrict(&self, range: std::ops::Range<usize>) -> Results {
        let cut = |t: &Table| -> Table { t.iter().map(|v| v[range.clone()].to_vec()).collect() };
        Results {
            objective: self.objective,
            bus_price: cut(&self.bus_price),
            bus_shed: cut(&self.bus_shed),
            gen_p: cut(&self.gen_p),
            gen_cost: cut(&self.gen_cost),
            gen_curtailment: cut(&self.gen_curtailment),
            branch_p0: cut(&self.branch_p0),
            branch_mu: cut(&self.branch_mu),
            link_p0: cut(&self.link_p0),
            link_p1: cut(&self.link_p1),
            link_mu: cut(&self.link_mu),
            su_p: cut(&self.su_p),
            su_dispatch: cut(&self.su_dispatch),
            su_store: cut(&self.su_store),
            su_soc: cut(&self.su_soc),
            su_spill: cut(&self.su_spill),
            su_water_value: cut(&self.su_water_value),
            store_p: cut(&self.store_p),
            store_e: cut(&self.store_e),
            contingency_limits: self
                .contingency_limits
                .iter()
                .map(|c| ContingencyLimit {
                    mu: c.mu[range.clone()].to_vec(),
                    ..c.clone()
                })
                .filter(|c| c.mu.iter().any(|&v| v > 0.0))
                .collect(),
            islanding_outages: self.islanding_outages.clone(),
            net_position: cut(&self.net_position),
            cnec_mu: cut(&self.cnec_mu),
            co2_t: self.co2_t,
            co2_limit_mu: self.co2_limit_mu,
            transmission_limit_mu: self.transmission_limit_mu.clone(),
            shed_mwh: self.shed_mwh,
            gen_p_nom_opt: self.gen_p_nom_opt.clone(),
            branch_s_nom_opt: self.branch_s_nom_opt.clone(),
            link_p_nom_opt: self.link_p_nom_opt.clone(),
            su_p_nom_opt: self.su_p_nom_opt.clone(),
            store_e_nom_opt: self.store_e_nom_opt.clone(),
        }
    }
}

/// Read every quantity of `m` from HiGHS' solution.
pub fn extract(n: &Network, m: &Model, costs: &[f64], sol: &highs::Solution) -> Results {
    let read = Reader {
        x: sol.columns(),
        dual_col: sol.dual_columns(),
        dual_row: sol.dual_rows(),
        w: &n.snapshots.objective,
        nt: m.snapshots,
    };
    let x = read.x;
    let objective = x.iter().zip(costs).map(|(v, c)| v * c).sum::<f64>() + m.lp.constant;
    let gen_p_nom_opt = read.capacities(&m.gen_p_nom, n.generators.iter().map(|g| g.p_nom));
    let gen_p = read.values(&m.gen_p, n.generators.len());
    let link_p0 = read.values(&m.link_p0, n.links.len());
    let link_p1 = link_p0
        .iter()
        .zip(&n.links)
        .map(|(p0, l)| p0.iter().map(|p| p * l.efficiency).collect())
        .collect();
    let su_dispatch = read.values(&m.su_dispatch, n.storage_units.len());
    let su_store = read.values(&m.su_store, n.storage_units.len());
    let su_p = su_dispatch
        .iter()
        .zip(&su_store)
        .map(|(d, s)| d.iter().zip(s).map(|(d, s)| d - s).collect())
        .collect();
    let bus_shed = read.values(&m.shed, n.buses.len());
    let (contingency_limits, islanding_outages) = match &m.ptdf {
        Some(p) => (read.contingency_shadow(p), p.islanding_outages().to_vec()),
        None => (Vec::new(), Vec::new()),
    };
    let (bus_price, branch_p0, branch_mu) = match &m.ptdf {
        Some(p) => (
            read.ptdf_bus_prices(n, p),
            p.flows(m, n, x),
            read.limit_shadow(n, p),
        ),
        None => (
            read.bus_prices(n, m),
            read.values(&m.branch_p0, n.branches.len()),
            read.capacity_shadow(
                read.shadow(&m.branch_p0, &|l, t| -n.branches[l].rating(t)),
                &m.branch_capacity_rows,
            ),
        ),
    };
    let link_mu = read.shadow(&m.link_p0, &|k, t| {
        per_unit_limit(n.links[k].p_nom, n.links[k].p_min_pu.at(t))
    });
    let mut results = Results {
        objective,
        bus_price,
        shed_mwh: read.shed_mwh(n, &bus_shed, &gen_p),
        co2_t: read.co2_t(m, &gen_p),
        co2_limit_mu: m.co2_row.map(|row| positive_zero(read.dual_row[row])),
        transmission_limit_mu: m
            .transmission_limit_rows
            .iter()
            .map(|row| row.map(|row| positive_zero(read.dual_row[row])))
            .collect(),
        bus_shed,
        gen_curtailment: read.curtailment(n, m, &gen_p, &gen_p_nom_opt),
        gen_cost: read.generator_costs(n, m, costs),
        gen_p,
        branch_p0,
        branch_mu,
        link_p0,
        link_p1,
        link_mu: read.capacity_shadow(link_mu, &m.link_capacity_rows),
        su_p,
        su_dispatch,
        su_store,
        su_soc: read.values(&m.su_soc, n.storage_units.len()),
        su_spill: read.spill(m),
        su_water_value: read.water_values(m),
        store_p: read.values(&m.store_p, n.stores.len()),
        store_e: read.values(&m.store_e, n.stores.len()),
        contingency_limits,
        islanding_outages,
        gen_p_nom_opt,
        branch_s_nom_opt: read.capacities(&m.branch_s_nom, n.branches.iter().map(|b| b.s_nom)),
        link_p_nom_opt: read.capacities(&m.link_p_nom, n.links.iter().map(|l| l.p_nom)),
        su_p_nom_opt: read.capacities(&m.su_p_nom, n.storage_units.iter().map(|s| s.p_nom)),
        store_e_nom_opt: read.capacities(&m.store_e_nom, n.stores.iter().map(|s| s.e_nom)),
        ..Default::default()
    };
    if let Some(fb) = &m.flow_based {
        read.flow_based(n, m, fb, &mut results);
    }
    results
}

impl Reader<'_> {
    /// Flow-based form: the zones' net positions, the CNECs' shadow prices (the base-case
    /// ones also as their branch's), and as branch flows the physical flows of the market's
    /// dispatch (the nodal shift factors times the bus injections; they may exceed the
    /// ratings: the market saw the grid only through the domain).
    fn flow_based(&self, n: &Network, m: &Model, fb: &FlowBasedForm, r: &mut Results) {
        r.net_position = self.values(&m.net_position, m.net_position.len());
        r.cnec_mu = fb
            .cnec_rows
            .iter()
            .map(|rows| {
                rows.iter()
                    .enumerate()
                    .map(|(t, &row)| positive_zero(self.dual_row[row].abs() / self.w[t]))
                    .collect()
            })
            .collect();
        for (c, mu) in fb.domain.cnecs.iter().zip(&r.cnec_mu) {
            if c.outage.is_none() {
                r.branch_mu[c.monitored].clone_from(mu);
            }
        }
        for t in 0..self.nt {
            let inj = crate::formulation::flow_based::bus_injections(n, r, t);
            for (l, f) in fb.shift.flows(&inj).into_iter().enumerate() {
                r.branch_p0[l][t] = if n.branch_live(l) { f } else { 0.0 };
            }
        }
    }
}

/// HiGHS' solution and the snapshot weights, read by the formulation's indices.
struct Reader<'a> {
    /// Column values.
    x: &'a [f64],
    dual_col: &'a [f64],
    dual_row: &'a [f64],
    /// Objective weight of each snapshot, h.
    w: &'a [f64],
    nt: usize,
}

impl Reader<'_> {
    /// The values of a family of columns, `[element][t]`; zeros for an element without
    /// columns.
    fn values(&self, fam: &Family, len: usize) -> Table {
        fam.iter()
            .take(len)
            .map(|cols| {
                if cols.is_empty() {
                    vec![0.0; self.nt]
                } else {
                    cols.iter().map(|c| self.x[c.index]).collect()
                }
            })
            .collect()
    }

    /// Shadow prices of the ratings of a family of flows, currency/MWh. The shadow price of
    /// a rating is the reduced cost of the flow at that bound: negative at the upper limit,
    /// positive at a (reverse) lower limit. A one-way link idle at zero is not at a
    /// capacity limit and has no shadow price.
    fn shadow(&self, fam: &Family, lower_limit: &dyn Fn(usize, usize) -> f64) -> Table {
        fam.iter()
            .enumerate()
            .map(|(e, cols)| {
                if cols.is_empty() {
                    return vec![0.0; self.nt];
                }
                cols.iter()
                    .enumerate()
                    .map(|(t, c)| {
                        let d = self.dual_col[c.index];
                        let mu = if d < 0.0 || lower_limit(e, t) < 0.0 {
                            d.abs()
                        } else {
                            0.0
                        };
                        positive_zero(mu / self.w[t])
                    })
                    .collect()
            })
            .collect()
    }

    /// Each element's capacity after the optimisation, MW: its capacity column's value where
    /// it has one, else its fixed capacity.
    fn capacities(&self, cols: &[Option<Col>], fixed: impl Iterator<Item = f64>) -> Vec<f64> {
        cols.iter()
            .zip(fixed)
            .map(|(c, fixed)| c.map_or(fixed, |c| self.x[c.index]))
            .collect()
    }

    /// Shadow prices of extendable ratings, currency/MWh ≥ 0: the magnitude of the dual of
    /// the binding capacity row (upper or lower) over the snapshot weight, in place of the
    /// flow bounds' (which such a flow does not have).
    fn capacity_shadow(&self, mut mu: Table, rows: &[Vec<(usize, usize)>]) -> Table {
        for (e, rows) in rows.iter().enumerate() {
            for (t, &(upper, lower)) in rows.iter().enumerate() {
                let d = self.dual_row[upper].abs() + self.dual_row[lower].abs();
                mu[e][t] = positive_zero(d / self.w[t]);
            }
        }
        mu
    }

    /// Price at each bus, currency/MWh: its balance node's dual over the snapshot weight;
    /// NaN at a bus out of service.
    fn bus_prices(&self, n: &Network, m: &Model) -> Table {
        (0..n.buses.len())
            .map(|b| {
                let node = m.balance_node[b];
                (0..self.nt)
                    .map(|t| {
                        if n.buses[b].in_service {
                            positive_zero(self.dual_row[m.balance_rows[node][t]] / self.w[t])
                        } else {
                            f64::NAN
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// PTDF form: price at each bus, currency/MWh, its area's balance dual plus the shift
    /// factors times the duals of the limit rows, over the snapshot weight; NaN at a bus out
    /// of service.
    fn ptdf_bus_prices(&self, n: &Network, p: &PtdfForm) -> Table {
        let mut table = vec![vec![f64::NAN; self.nt]; n.buses.len()];
        for t in 0..self.nt {
            let duals = p.bus_duals(t, n.buses.len(), self.dual_row);
            for (b, d) in duals.into_iter().enumerate() {
                if n.buses[b].in_service {
                    table[b][t] = positive_zero(d / self.w[t]);
                }
            }
        }
        table
    }

    /// PTDF form: shadow price of each branch's rating, currency/MWh, ≥ 0: the magnitude
    /// of its limit row's dual over the snapshot weight (0 where no row was needed).
    fn limit_shadow(&self, n: &Network, p: &PtdfForm) -> Table {
        let mut table = vec![vec![0.0; self.nt]; n.branches.len()];
        for (limit, r) in p.limit_rows.iter().filter(|(l, _)| l.outage.is_none()) {
            table[limit.monitored][limit.t] =
                positive_zero(self.dual_row[r.row].abs() / self.w[limit.t]);
        }
        table
    }

    /// PTDF form with N-1: the post-contingency limits whose rows have a nonzero dual, with
    /// their shadow price per snapshot (currency/MWh, ≥ 0), by outage then monitored branch.
    fn contingency_shadow(&self, p: &PtdfForm) -> Vec<ContingencyLimit> {
        let mut by_pair: BTreeMap<(usize, usize), Vec<f64>> = BTreeMap::new();
        for (limit, r) in &p.limit_rows {
            let (Some(outage), mu) = (limit.outage, self.dual_row[r.row].abs()) else {
                continue;
            };
            if mu > 0.0 {
                by_pair
                    .entry((outage, limit.monitored))
                    .or_insert_with(|| vec![0.0; self.nt])[limit.t] = mu / self.w[limit.t];
            }
        }
        by_pair
            .into_iter()
            .map(|((outage, monitored), mu)| ContingencyLimit {
                outage,
                monitored,
                mu,
            })
            .collect()
    }

    /// Each generator's cost per snapshot, currency/h: its columns' objective terms over the
    /// snapshot's weight, plus the constant term of a linear cost (which the objective
    /// carries as a constant).
    fn generator_costs(&self, n: &Network, m: &Model, costs: &[f64]) -> Table {
        let term = |c: &crate::formulation::Col| costs[c.index] * self.x[c.index];
        n.generators
            .iter()
            .enumerate()
            .map(|(g, gen)| {
                if m.gen_p[g].is_empty() {
                    return vec![0.0; self.nt];
                }
                let constant = match &gen.cost {
                    CostCurve::Polynomial {
                        marginal_cost_quadratic,
                        constant,
                        ..
                    } if *marginal_cost_quadratic == 0.0 => *constant,
                    _ => 0.0,
                };
                (0..self.nt)
                    .map(|t| {
                        let cost = term(&m.gen_p[g][t]) + m.gen_cost[g].get(t).map_or(0.0, term);
                        cost / self.w[t] + constant
                    })
                    .collect()
            })
            .collect()
    }

    /// Available output not used, MW (of the capacity after the optimisation), for
    /// generators with an hourly availability.
    fn curtailment(&self, n: &Network, m: &Model, gen_p: &Table, p_nom_opt: &[f64]) -> Table {
        n.generators
            .iter()
            .zip(gen_p)
            .zip(&m.gen_p)
            .zip(p_nom_opt)
            .map(|(((g, p), cols), &p_nom)| {
                (0..self.nt)
                    .map(|t| {
                        let available = per_unit_limit(p_nom, g.p_max_pu.at(t));
                        // An unlimited generator has nothing to curtail.
                        if g.p_max_pu.is_hourly() && !cols.is_empty() && available.is_finite() {
                            (available - p[t]).max(0.0)
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// Spilled inflow of each storage unit, MW (0 where it has no spill column).
    fn spill(&self, m: &Model) -> Table {
        m.su_spill
            .iter()
            .map(|cols| {
                (0..self.nt)
                    .map(|t| {
                        cols.get(t)
                            .copied()
                            .flatten()
                            .map_or(0.0, |c| self.x[c.index])
                    })
                    .collect()
            })
            .collect()
    }

    /// Water value of each storage unit, currency/MWh stored: minus the dual of its
    /// state-of-charge balance.
    fn water_values(&self, m: &Model) -> Table {
        m.su_rows
            .iter()
            .map(|rows| {
                if rows.is_empty() {
                    vec![0.0; self.nt]
                } else {
                    rows.iter()
                        .map(|&r| positive_zero(-self.dual_row[r]))
                        .collect()
                }
            })
            .collect()
    }

    /// Energy not served, MWh: load shed by the engine (--voll) plus generators of carrier
    /// `load_shedding`, the way PyPSA networks usually model it.
    fn shed_mwh(&self, n: &Network, bus_shed: &Table, gen_p: &Table) -> f64 {
        let weighted = |s: &Vec<f64>| s.iter().zip(self.w).map(|(v, w)| v * w).sum::<f64>();
        bus_shed.iter().map(weighted).sum::<f64>()
            + n.generators
                .iter()
                .zip(gen_p)
                .filter(|(g, _)| g.carrier == LOAD_SHEDDING)
                .map(|(_, p)| weighted(p))
                .sum::<f64>()
    }

    /// CO2 emitted, t.
    fn co2_t(&self, m: &Model, gen_p: &Table) -> f64 {
        gen_p
            .iter()
            .zip(&m.gen_co2)
            .map(|(p, e)| e * p.iter().zip(self.w).map(|(v, w)| v * w).sum::<f64>())
            .sum()
    }
}

/// Turn `-0.0` into `0.0` so it prints as `0`.
fn positive_zero(v: f64) -> f64 {
    if v == 0.0 {
        0.0
    } else {
        v
    }
}

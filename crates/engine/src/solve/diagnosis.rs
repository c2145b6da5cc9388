//! Why a problem has no solution: solve it again with slack at every bus (shed load and
//! dumped surplus at a high penalty) and report where the slack was needed and which limits
//! bind.

use super::{hand_over, highs_options, run_model, SolveOptions};
use crate::error::Error;
use crate::formulation::{self, Model};
use crate::network::{per_unit_limit, Network};
use crate::solution::{extract, Results, Status};
use crate::solver::Control;
use serde::Serialize;

/// Penalty on slack (shed load, dumped surplus) when diagnosing an infeasible problem,
/// currency/MWh: high enough that slack is used only where nothing else can balance.
const DIAGNOSIS_PENALTY: f64 = 1e5;

/// Why a problem has no solution, found by solving it again with slack at every bus.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Diagnosis {
    /// One paragraph for a person.
    pub summary: String,
    /// `(bus, zone, snapshot, MW)` of load that had to be shed.
    pub shed: Vec<(String, String, String, f64)>,
    /// `(bus, zone, snapshot, MW)` of generation (minimum outputs, inflows) that could not be
    /// absorbed.
    pub surplus: Vec<(String, String, String, f64)>,
    /// Limits binding in the relaxed solution, e.g. `branch12 at its 40 MW rating`.
    pub binding: Vec<String>,
}

/// Solve again with slack at every bus (shed load and dumped surplus at a high penalty) and
/// report where the slack was needed and which limits bind.
pub fn diagnose(n: &Network, opts: &SolveOptions) -> Result<Diagnosis, Error> {
    diagnose_with(n, opts, &Control::default())
}

pub(super) fn diagnose_with(
    n: &Network,
    opts: &SolveOptions,
    control: &Control,
) -> Result<Diagnosis, Error> {
    let mut relaxed = opts.formulation.clone();
    relaxed.slack_penalty = Some(DIAGNOSIS_PENALTY);
    let mut model = formulation::build(n, &relaxed)?;
    let (highs, costs) = hand_over(&mut model, control)?;
    let options = highs_options(&model, &opts.highs_options);
    let (status, solution, _) = run_model(n, &mut model, highs, opts, &options, &[], control)?
        .pop()
        .ok_or_else(|| Error::Solver("HiGHS ran no case".into()))?;
    let Some(sol) = solution.filter(|_| status == Status::Optimal) else {
        return Ok(Diagnosis {
            summary: format!(
                "the problem stays {} even when every bus may shed load and dump surplus: \
                 the conflict is in storage (state of charge, inflows) or angle-difference limits",
                status.as_str()
            ),
            ..Default::default()
        });
    };
    let r = extract(n, &model, &costs, &sol);
    let mut d = Diagnosis::default();
    slack_used(n, &model, sol.columns(), &mut d);
    binding_branches(n, &model, &r, sol.dual_rows(), &mut d);
    binding_links(n, &model, &r, &mut d);
    binding_co2_limit(n, &r, &mut d);
    d.summary = summarize(&d);
    Ok(d)
}

/// Tolerance on slack (MW), duals and limits in a diagnosis.
const TOL: f64 = 1e-6;

/// Load shed and surplus dumped at each bus and snapshot, from the relaxed solution `x`.
fn slack_used(n: &Network, model: &Model, x: &[f64], d: &mut Diagnosis) {
    let snap = |t: usize| n.snapshots.names[t].clone();
    for (b, bus) in n.buses.iter().enumerate() {
        for t in 0..model.snapshots {
            if let Some(c) = model.shed[b].get(t) {
                if x[c.index] > TOL {
                    d.shed
                        .push((bus.name.clone(), bus.zone.clone(), snap(t), x[c.index]));
                }
            }
            if let Some(c) = model.dump[b].get(t) {
                if x[c.index] > TOL {
                    d.surplus
                        .push((bus.name.clone(), bus.zone.clone(), snap(t), x[c.index]));
                }
            }
        }
    }
}

/// AC branches at their rating or at an angle-difference limit in the relaxed solution.
fn binding_branches(n: &Network, model: &Model, r: &Results, duals: &[f64], d: &mut Diagnosis) {
    let snap = |t: usize| n.snapshots.names[t].clone();
    for (l, br) in n.branches.iter().enumerate() {
        for t in 0..model.snapshots {
            let Some(&p) = r.branch_p0[l].get(t) else {
                continue;
            };
            let modelled = match &model.ptdf {
                Some(form) => form.limit_rows.contains_key(&formulation::ptdf::Limit {
                    t,
                    monitored: l,
                    outage: None,
                }),
                None => !model.branch_p0[l].is_empty(),
            };
            if !modelled {
                continue;
            }
            let s = br.rating(t);
            if s.is_finite() && p.abs() >= s - 1e-6 * s.max(1.0) {
                d.binding.push(format!(
                    "{} {} at its {} MW rating in snapshot {}",
                    br.kind_name(),
                    br.name,
                    s,
                    snap(t)
                ));
            }
            if let Some(&(lo, hi)) = model.angle_rows[l].get(t) {
                for (row, which) in [(lo, "minimum"), (hi, "maximum")] {
                    if row != usize::MAX && duals[row].abs() > TOL {
                        d.binding.push(format!(
                            "{} {} at its angle-difference {which} in snapshot {}",
                            br.kind_name(),
                            br.name,
                            snap(t)
                        ));
                    }
                }
            }
        }
    }
}

/// Links at a limit of their flow in the relaxed solution.
/// The CO2 limit, when it binds in the relaxed solution (so shedding load is what meets it).
fn binding_co2_limit(n: &Network, r: &Results, d: &mut Diagnosis) {
    if let (Some(limit), Some(mu)) = (&n.co2_constraint, r.co2_limit_mu) {
        if mu.abs() > TOL {
            d.binding
                .push(format!("CO2 limit {} at {} t", limit.name, limit.limit_t));
        }
    }
}

fn binding_links(n: &Network, model: &Model, r: &Results, d: &mut Diagnosis) {
    for (k, link) in n.links.iter().enumerate() {
        for t in 0..model.snapshots {
            if model.link_p0[k].is_empty() {
                continue;
            }
            let p = r.link_p0[k][t];
            let hi = per_unit_limit(link.p_nom, link.p_max_pu.at(t));
            let lo = per_unit_limit(link.p_nom, link.p_min_pu.at(t));
            let at = |limit: f64| limit != 0.0 && (p - limit).abs() <= TOL * limit.abs().max(1.0);
            if at(hi) || at(lo) {
                d.binding.push(format!(
                    "link {} at its limit ({p:.3} MW) in snapshot {}",
                    link.name, n.snapshots.names[t]
                ));
            }
        }
    }
}

fn summarize(d: &Diagnosis) -> String {
    let mut parts = Vec::new();
    let list = |v: &[(String, String, String, f64)]| {
        let total: f64 = v.iter().map(|s| s.3).sum();
        let shown: Vec<String> = v
            .iter()
            .take(8)
            .map(|(b, z, t, mw)| format!("bus {b} (zone {z}) {mw:.3} MW in snapshot {t}"))
            .collect();
        let more = if v.len() > 8 {
            format!(" and {} more", v.len() - 8)
        } else {
            String::new()
        };
        (total, shown.join("; ") + &more)
    };
    if !d.shed.is_empty() {
        let (total, s) = list(&d.shed);
        parts.push(format!("load must be shed ({total:.3} MW in all): {s}"));
    }
    if !d.surplus.is_empty() {
        let (total, s) = list(&d.surplus);
        parts.push(format!(
            "generation that cannot be absorbed ({total:.3} MW in all): {s}"
        ));
    }
    if !d.binding.is_empty() {
        let more = if d.binding.len() > 8 {
            format!(" and {} more", d.binding.len() - 8)
        } else {
            String::new()
        };
        parts.push(format!(
            "binding limits: {}{more}",
            d.binding
                .iter()
                .take(8)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if parts.is_empty() {
        "the relaxed problem needed no slack: the problem may be numerically difficult".into()
    } else {
        format!("infeasible: {}", parts.join(". "))
    }
}

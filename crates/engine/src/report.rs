//! What a solve reports: the JSON summary (`--json`) and the table for a person.

use crate::formulation::FormulationOptions;
use crate::network::{EdgeRef, Expansion, Network, TransmissionMeasure};
use crate::solution::{Results, Timings};
use crate::solve::{Diagnosis, LpSize, Outcome};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

#[derive(Serialize)]
pub struct Summary<'a> {
    pub network: &'a str,
    pub status: &'static str,
    /// Total cost over the horizon, currency; null when there is no solution.
    pub objective: Option<f64>,
    pub options: &'a FormulationOptions,
    pub snapshots: &'a [String],
    pub timings: Timings,
    pub size: LpSize,
    /// CO2 emitted, t.
    pub co2_t: Option<f64>,
    /// The network's CO2 limit and what it costs, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub co2_limit: Option<Co2LimitSummary>,
    /// Energy not served, MWh.
    pub load_shed_mwh: Option<f64>,
    pub zones: Vec<ZoneSummary>,
    pub buses: Vec<BusSummary<'a>>,
    pub branches: Vec<BranchSummary<'a>>,
    pub generators: Vec<GeneratorSummary<'a>>,
    pub storage_units: Vec<StorageSummary<'a>>,
    pub diagnosis: Option<&'a Diagnosis>,
    pub warnings: Vec<String>,
    /// N-1 (`--contingencies`): binding post-contingency limits and skipped outages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security: Option<SecuritySummary>,
    /// The capacities the optimisation chose (extendable elements), in network order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expansion: Vec<ExpansionSummary>,
    /// The network's transmission limits with what was built against them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transmission_limits: Vec<TransmissionLimitSummary>,
}

/// A transmission limit in a solve's summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransmissionLimitSummary {
    pub name: String,
    /// `volume` (MW·km) or `cost` (currency).
    pub measure: String,
    /// `<=`, `==` or `>=`.
    pub sense: String,
    pub constant: f64,
    /// What the capacities chosen add up to, in the limit's unit.
    pub value: f64,
    /// The limit's dual with PyPSA's sign (its global constraint's `mu`); null when the
    /// limit held no extendable element.
    pub mu: Option<f64>,
}

/// Each transmission limit of `n` with the value and dual `r` gives it.
pub fn transmission_limit_summary(n: &Network, r: &Results) -> Vec<TransmissionLimitSummary> {
    n.transmission_limits
        .iter()
        .zip(&r.transmission_limit_mu)
        .map(|(limit, mu)| TransmissionLimitSummary {
            name: limit.name.clone(),
            measure: match limit.measure {
                TransmissionMeasure::Volume => "volume",
                TransmissionMeasure::Cost => "cost",
            }
            .into(),
            sense: limit.sense.symbol().into(),
            constant: limit.constant,
            value: limit
                .terms
                .iter()
                .map(|&(edge, coefficient)| {
                    coefficient
                        * match edge {
                            EdgeRef::Branch(l) => r.branch_s_nom_opt[l],
                            EdgeRef::Link(k) => r.link_p_nom_opt[k],
                        }
                })
                .sum(),
            mu: *mu,
        })
        .collect()
}

/// An element whose capacity the optimisation chose (PyPSA's `*_nom_extendable`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExpansionSummary {
    /// `generator`, `line`, `transformer`, `link`, `storage_unit` or `store` (whose
    /// capacities are MWh).
    pub component: String,
    pub name: String,
    /// Capacity that existed before, MW (`p_nom` / `s_nom`).
    pub nom: f64,
    /// Capacity chosen, MW (`p_nom_opt` / `s_nom_opt`).
    pub nom_opt: f64,
    /// Bounds of the choice, MW; `nom_max` null when unlimited.
    pub nom_min: f64,
    pub nom_max: Option<f64>,
    /// Periodized cost, currency/MW over the horizon.
    pub cost_per_mw: f64,
    /// What the capacity added costs, currency: `cost_per_mw * (nom_opt - nom)`; the
    /// objective counts it.
    pub investment: f64,
}

/// Every extendable element with the capacity `r` chose for it.
pub fn expansion_summary(n: &Network, r: &Results) -> Vec<ExpansionSummary> {
    let mut out = Vec::new();
    let mut add = |component: &str, name: &str, x: &Option<Expansion>, nom: f64, opt: f64| {
        let Some(x) = x else { return };
        out.push(ExpansionSummary {
            component: component.into(),
            name: name.into(),
            nom,
            nom_opt: opt,
            nom_min: x.nom_min,
            nom_max: x.nom_max.is_finite().then_some(x.nom_max),
            cost_per_mw: x.cost,
            investment: x.cost * (opt - nom),
        });
    };
    for (g, opt) in n.generators.iter().zip(&r.gen_p_nom_opt) {
        add("generator", &g.name, &g.expansion, g.p_nom, *opt);
    }
    for (b, opt) in n.branches.iter().zip(&r.branch_s_nom_opt) {
        add(b.kind_name(), &b.name, &b.expansion, b.s_nom, *opt);
    }
    for (l, opt) in n.links.iter().zip(&r.link_p_nom_opt) {
        add("link", &l.name, &l.expansion, l.p_nom, *opt);
    }
    for (su, opt) in n.storage_units.iter().zip(&r.su_p_nom_opt) {
        add("storage_unit", &su.name, &su.expansion, su.p_nom, *opt);
    }
    for (st, opt) in n.stores.iter().zip(&r.store_e_nom_opt) {
        add("store", &st.name, &st.expansion, st.e_nom, *opt);
    }
    out
}

/// A CO2 limit in a solve's summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Co2LimitSummary {
    pub name: String,
    /// `<=`, `==` or `>=`.
    pub sense: String,
    /// t CO2 over the horizon.
    pub limit_t: f64,
    /// The limit's dual with PyPSA's sign (its global constraint's `mu`), currency/t.
    pub mu: f64,
    /// The CO2 price the limit implies, currency/t: −mu (≥ 0 for a binding `<=` limit).
    pub co2_price: f64,
}

/// What N-1 security cost: the post-contingency limits that bound and the outages skipped
/// (in `solve`'s summary and in the trade report).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecuritySummary {
    /// Outages skipped because they split a synchronous area (names).
    pub islanding_outages: Vec<String>,
    /// Most costly first (snapshots binding × mean shadow price).
    pub binding: Vec<BindingContingency>,
}

/// A post-contingency limit that bound: after the outage of `outage`, branch `monitored`
/// at its limit in `snapshots_binding` snapshots, with its shadow prices.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BindingContingency {
    pub outage: String,
    pub monitored: String,
    pub snapshots_binding: usize,
    /// Mean shadow price over the snapshots it binds, currency/MWh (≥ 0).
    pub mean_shadow_price: f64,
    /// Shadow price in each snapshot, currency/MWh (0 where it did not bind).
    pub shadow_price: Vec<f64>,
}

/// The N-1 part of a report of `n` solved as `r`, when contingencies were asked for.
pub fn security_summary(
    n: &Network,
    r: &crate::solution::Results,
    opts: &FormulationOptions,
) -> Option<SecuritySummary> {
    opts.contingencies.as_ref()?;
    let mut binding: Vec<BindingContingency> = r
        .contingency_limits
        .iter()
        .map(|c| {
            let hours: Vec<f64> = c.mu.iter().copied().filter(|&v| v > 0.0).collect();
            BindingContingency {
                outage: n.branches[c.outage].name.clone(),
                monitored: n.branches[c.monitored].name.clone(),
                snapshots_binding: hours.len(),
                mean_shadow_price: hours.iter().sum::<f64>() / hours.len().max(1) as f64,
                shadow_price: c.mu.clone(),
            }
        })
        .filter(|b| b.snapshots_binding > 0)
        .collect();
    binding.sort_by(|a, b| {
        (b.snapshots_binding as f64 * b.mean_shadow_price)
            .total_cmp(&(a.snapshots_binding as f64 * a.mean_shadow_price))
    });
    Some(SecuritySummary {
        islanding_outages: r
            .islanding_outages
            .iter()
            .map(|&k| n.branches[k].name.clone())
            .collect(),
        binding,
    })
}

#[derive(Serialize)]
pub struct ZoneSummary {
    pub name: String,
    #[serde(flatten)]
    pub prices: PriceStatistics,
    /// Demand, MWh (weighted by snapshot weights).
    pub load_mwh: f64,
    /// Generation plus net storage output, MWh.
    pub generation_mwh: f64,
}

#[derive(Serialize)]
pub struct BusSummary<'a> {
    pub name: &'a str,
    pub zone: &'a str,
    /// currency/MWh per snapshot.
    pub price: &'a [f64],
}

#[derive(Serialize)]
pub struct BranchSummary<'a> {
    pub name: &'a str,
    /// `line`, `transformer` or `link`.
    pub kind: &'static str,
    pub bus0: &'a str,
    pub bus1: &'a str,
    /// MW at bus0 per snapshot, positive from bus0 to bus1.
    pub flow: &'a [f64],
    /// currency/MWh per snapshot, ≥ 0; nonzero where the rating binds.
    pub shadow_price: &'a [f64],
}

#[derive(Serialize)]
pub struct GeneratorSummary<'a> {
    pub name: &'a str,
    pub bus: &'a str,
    pub carrier: &'a str,
    /// MW per snapshot.
    pub p: &'a [f64],
}

#[derive(Serialize)]
pub struct StorageSummary<'a> {
    pub name: &'a str,
    pub bus: &'a str,
    /// Net output (dispatch - store), MW per snapshot.
    pub p: &'a [f64],
    /// MWh at the end of each snapshot.
    pub state_of_charge: &'a [f64],
    pub spill: &'a [f64],
    /// currency/MWh stored.
    pub water_value: &'a [f64],
}

/// Build the summary of a solve.
/// The network's CO2 limit with the dual the solve gave it, if both exist.
pub fn co2_limit_summary(n: &Network, r: Option<&Results>) -> Option<Co2LimitSummary> {
    let (limit, mu) = (n.co2_constraint.as_ref()?, r?.co2_limit_mu?);
    Some(Co2LimitSummary {
        name: limit.name.clone(),
        sense: limit.sense.symbol().into(),
        limit_t: limit.limit_t,
        mu,
        co2_price: if mu == 0.0 { 0.0 } else { -mu },
    })
}

pub fn summary<'a>(n: &'a Network, o: &'a Outcome, opts: &'a FormulationOptions) -> Summary<'a> {
    let r = o.results.as_ref();
    let mut s = Summary {
        network: &n.name,
        status: o.status.as_str(),
        objective: r.map(|r| r.objective),
        options: opts,
        snapshots: &n.snapshots.names,
        timings: o.timings,
        size: o.size,
        co2_t: r.map(|r| r.co2_t),
        co2_limit: co2_limit_summary(n, r),
        load_shed_mwh: r.map(|r| r.shed_mwh),
        zones: Vec::new(),
        buses: Vec::new(),
        branches: Vec::new(),
        generators: Vec::new(),
        storage_units: Vec::new(),
        diagnosis: o.diagnosis.as_ref(),
        warnings: o.warnings.0.iter().map(|w| w.to_string()).collect(),
        security: None,
        expansion: Vec::new(),
        transmission_limits: Vec::new(),
    };
    let Some(r) = r else { return s };
    s.security = security_summary(n, r, opts);
    s.expansion = expansion_summary(n, r);
    s.transmission_limits = transmission_limit_summary(n, r);
    s.zones = zone_summaries(n, r);
    s.buses = n
        .buses
        .iter()
        .zip(&r.bus_price)
        .map(|(b, p)| BusSummary {
            name: &b.name,
            zone: &b.zone,
            price: p,
        })
        .collect();
    for (i, br) in n.branches.iter().enumerate() {
        s.branches.push(BranchSummary {
            name: &br.name,
            kind: br.kind_name(),
            bus0: &n.buses[br.bus0].name,
            bus1: &n.buses[br.bus1].name,
            flow: &r.branch_p0[i],
            shadow_price: &r.branch_mu[i],
        });
    }
    for (i, l) in n.links.iter().enumerate() {
        s.branches.push(BranchSummary {
            name: &l.name,
            kind: "link",
            bus0: &n.buses[l.bus0].name,
            bus1: &n.buses[l.bus1].name,
            flow: &r.link_p0[i],
            shadow_price: &r.link_mu[i],
        });
    }
    s.generators = n
        .generators
        .iter()
        .zip(&r.gen_p)
        .map(|(g, p)| GeneratorSummary {
            name: &g.name,
            bus: &n.buses[g.bus].name,
            carrier: &g.carrier,
            p,
        })
        .collect();
    s.storage_units = n
        .storage_units
        .iter()
        .enumerate()
        .map(|(i, su)| StorageSummary {
            name: &su.name,
            bus: &n.buses[su.bus].name,
            p: &r.su_p[i],
            state_of_charge: &r.su_soc[i],
            spill: &r.su_spill[i],
            water_value: &r.su_water_value[i],
        })
        .collect();
    s
}

/// A zone's price in each snapshot, currency/MWh: the load-weighted mean of its buses'
/// prices (their plain mean where the zone has no load in that snapshot; NaN where no bus of
/// the zone has a price). `of_bus[b]` is bus `b`'s zone among `zones`, `loads[t][b]` its
/// load in MW.
pub fn zone_hourly_prices(
    r: &crate::solution::Results,
    of_bus: &[usize],
    zones: usize,
    loads: &[Vec<f64>],
) -> Vec<Vec<f64>> {
    let mut prices = vec![vec![f64::NAN; loads.len()]; zones];
    for (t, load) in loads.iter().enumerate() {
        let mut weighted = vec![(0.0, 0.0); zones];
        let mut plain = vec![(0.0, 0usize); zones];
        for (b, &z) in of_bus.iter().enumerate() {
            let p = r.bus_price[b][t];
            if p.is_nan() {
                continue;
            }
            weighted[z].0 += p * load[b].max(0.0);
            weighted[z].1 += load[b].max(0.0);
            plain[z].0 += p;
            plain[z].1 += 1;
        }
        for z in 0..zones {
            if weighted[z].1 > 0.0 {
                prices[z][t] = weighted[z].0 / weighted[z].1;
            } else if plain[z].1 > 0 {
                prices[z][t] = plain[z].0 / plain[z].1 as f64;
            }
        }
    }
    prices
}

/// A zone's prices over the horizon, currency/MWh. The same four numbers, with the same
/// meaning, in `solve`'s summary, the trade report and both gRPC answers; absent (null,
/// "-", an unset optional field) where the zone has no price or no load, never NaN.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct PriceStatistics {
    /// Mean of the zone's hourly prices ([`zone_hourly_prices`]) over the snapshots that
    /// have one, unweighted.
    pub mean_price: Option<f64>,
    /// What consumers pay per MWh they take: sum of price x load x weight over the zone's
    /// priced buses and snapshots, divided by that load x weight. Absent without load.
    pub load_weighted_price: Option<f64>,
    /// Lowest and highest hourly price of the zone.
    pub min_price: Option<f64>,
    pub max_price: Option<f64>,
}

impl PriceStatistics {
    /// From the zone's hourly prices, what its consumers paid (currency) and the energy
    /// they took at priced buses (MWh, weighted).
    pub fn of(hourly: &[f64], payments: f64, priced_load_mwh: f64) -> PriceStatistics {
        let priced: Vec<f64> = hourly.iter().copied().filter(|p| !p.is_nan()).collect();
        let some = !priced.is_empty();
        PriceStatistics {
            mean_price: some.then(|| priced.iter().sum::<f64>() / priced.len() as f64),
            load_weighted_price: (priced_load_mwh > 0.0).then(|| payments / priced_load_mwh),
            min_price: some.then(|| priced.iter().copied().fold(f64::INFINITY, f64::min)),
            max_price: some.then(|| priced.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        }
    }
}

fn zone_summaries(n: &Network, r: &crate::solution::Results) -> Vec<ZoneSummary> {
    let w = &n.snapshots.objective;
    let loads: Vec<Vec<f64>> = (0..n.snapshots.len()).map(|t| n.bus_load(t)).collect();
    let (names, of_bus) = n.zone_of_buses();
    let hourly = zone_hourly_prices(r, &of_bus, names.len(), &loads);
    let energy_mwh = |p: &[f64]| p.iter().zip(w).map(|(p, w)| p * w).sum::<f64>();
    let mut payments = vec![(0.0, 0.0); names.len()];
    for (b, &z) in of_bus.iter().enumerate() {
        for (t, &p) in r.bus_price[b].iter().enumerate() {
            if !p.is_nan() {
                let e = loads[t][b].max(0.0) * w[t];
                payments[z].0 += p * e;
                payments[z].1 += e;
            }
        }
    }
    let mut generation_mwh = vec![0.0; names.len()];
    for (g, p) in n.generators.iter().zip(&r.gen_p) {
        generation_mwh[of_bus[g.bus]] += energy_mwh(p);
    }
    for (s, p) in n.storage_units.iter().zip(&r.su_p) {
        generation_mwh[of_bus[s.bus]] += energy_mwh(p);
    }
    for (s, p) in n.stores.iter().zip(&r.store_p) {
        generation_mwh[of_bus[s.bus]] += energy_mwh(p);
    }
    names
        .into_iter()
        .enumerate()
        .map(|(z, name)| ZoneSummary {
            name,
            prices: PriceStatistics::of(&hourly[z], payments[z].0, payments[z].1),
            load_mwh: payments[z].1,
            generation_mwh: generation_mwh[z] + 0.0,
        })
        .collect()
}

/// The summary as a table for a terminal.
pub fn text(s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "network    {}", s.network);
    let _ = writeln!(out, "status     {}", s.status);
    if let Some(obj) = s.objective {
        let _ = writeln!(out, "objective  {obj:.6}");
    }
    let _ = writeln!(
        out,
        "snapshots  {} ({} .. {})",
        s.snapshots.len(),
        s.snapshots.first().map(String::as_str).unwrap_or(""),
        s.snapshots.last().map(String::as_str).unwrap_or("")
    );
    let form = s.size.form.map_or(String::new(), |f| format!(" ({f})"));
    let lazy = if s.size.form == Some(crate::formulation::Form::Ptdf) {
        format!(
            " + {} line-limit rows added in {} solves",
            s.size.limit_rows, s.size.rounds
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "LP         {} columns, {} rows{lazy}{form}",
        s.size.columns, s.size.rows
    );
    let t = &s.timings;
    let _ = writeln!(
        out,
        "time       read {:.3} s, build {:.3} s, solve {:.3} s, extract {:.3} s",
        t.read_s, t.build_s, t.solve_s, t.extract_s
    );
    if let (Some(co2), Some(shed)) = (s.co2_t, s.load_shed_mwh) {
        let _ = writeln!(out, "CO2        {co2:.1} t");
        if let Some(c) = &s.co2_limit {
            let _ = writeln!(
                out,
                "CO2 limit  {} {} {:.1} t: implied CO2 price {:.4}/t (mu {:.4})",
                c.name, c.sense, c.limit_t, c.co2_price, c.mu
            );
        }
        let _ = writeln!(out, "load shed  {shed:.3} MWh");
    }
    if !s.zones.is_empty() {
        let _ = writeln!(
            out,
            "\n{:<16} {:>10} {:>13} {:>10} {:>10} {:>14} {:>14}",
            "zone", "mean price", "load-weighted", "min", "max", "load MWh", "gen MWh"
        );
        for z in &s.zones {
            let f = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "{:<16} {:>10} {:>13} {:>10} {:>10} {:>14.1} {:>14.1}",
                z.name,
                f(z.prices.mean_price),
                f(z.prices.load_weighted_price),
                f(z.prices.min_price),
                f(z.prices.max_price),
                z.load_mwh,
                z.generation_mwh
            );
        }
    }
    let mut congested: Vec<(&BranchSummary, usize, f64)> = s
        .branches
        .iter()
        .map(|b| {
            let hours = b.shadow_price.iter().filter(|m| **m > 1e-9).count();
            let avg = if hours > 0 {
                b.shadow_price.iter().sum::<f64>() / hours as f64
            } else {
                0.0
            };
            (b, hours, avg)
        })
        .filter(|(_, h, _)| *h > 0)
        .collect();
    congested.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.total_cmp(&a.2)));
    if !congested.is_empty() {
        let _ = writeln!(
            out,
            "\ncongested branches (snapshots at the limit, mean shadow price when binding):"
        );
        for (b, hours, avg) in congested.iter().take(15) {
            let _ = writeln!(
                out,
                "  {:<12} {:<24} {:>5} snapshots  {:>10.4}/MWh",
                b.kind,
                format!("{} ({}-{})", b.name, b.bus0, b.bus1),
                hours,
                avg
            );
        }
        if congested.len() > 15 {
            let _ = writeln!(out, "  ... and {} more", congested.len() - 15);
        }
    }
    if let Some(sec) = &s.security {
        write_security(&mut out, sec);
    }
    if !s.expansion.is_empty() {
        write_expansion(&mut out, &s.expansion);
    }
    for l in &s.transmission_limits {
        let mu = l.mu.map_or("-".to_string(), |m| format!("{m:.6}"));
        let _ = writeln!(
            out,
            "transmission limit {} ({}): {:.3} {} {:.3}, mu {mu}",
            l.name, l.measure, l.value, l.sense, l.constant
        );
    }
    out
}

/// The capacity-expansion section of the text summary.
fn write_expansion(out: &mut String, expansion: &[ExpansionSummary]) {
    let _ = writeln!(
        out,
        "
capacity expansion (MW; cost per MW over the horizon; investment = cost x added):"
    );
    let _ = writeln!(
        out,
        "  {:<14} {:<28} {:>10} {:>10} {:>12} {:>14}",
        "component", "name", "existing", "optimal", "cost/MW", "investment"
    );
    for x in expansion {
        let _ = writeln!(
            out,
            "  {:<14} {:<28} {:>10.2} {:>10.2} {:>12.2} {:>14.2}",
            x.component, x.name, x.nom, x.nom_opt, x.cost_per_mw, x.investment
        );
    }
}

/// The N-1 section of the text summary (and of the trade report).
pub fn write_security(out: &mut String, sec: &SecuritySummary) {
    let _ = writeln!(
        out,
        "\nN-1: {} post-contingency limits binding (outage -> monitored branch, snapshots, mean shadow price):",
        sec.binding.len()
    );
    for b in sec.binding.iter().take(15) {
        let _ = writeln!(
            out,
            "  {:<40} {:>5} snapshots  {:>10.4}/MWh",
            format!("{} -> {}", b.outage, b.monitored),
            b.snapshots_binding,
            b.mean_shadow_price
        );
    }
    if sec.binding.len() > 15 {
        let _ = writeln!(out, "  ... and {} more", sec.binding.len() - 15);
    }
    if !sec.islanding_outages.is_empty() {
        let _ = writeln!(
            out,
            "  outages skipped (they island part of the grid): {}",
            sec.islanding_outages.join(", ")
        );
    }
}

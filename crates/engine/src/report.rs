//! What a solve reports: the JSON summary (`--json`) and the table for a person.

use crate::formulation::FormulationOptions;
use crate::network::Network;
use crate::solution::Timings;
use crate::solve::{Diagnosis, LpSize, Outcome};
use serde::Serialize;
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
    /// Energy not served, MWh.
    pub load_shed_mwh: Option<f64>,
    pub zones: Vec<ZoneSummary>,
    pub buses: Vec<BusSummary<'a>>,
    pub branches: Vec<BranchSummary<'a>>,
    pub generators: Vec<GeneratorSummary<'a>>,
    pub storage_units: Vec<StorageSummary<'a>>,
    pub diagnosis: Option<&'a Diagnosis>,
    pub warnings: Vec<String>,
}

#[derive(Serialize)]
pub struct ZoneSummary {
    pub name: String,
    /// Load-weighted average price over buses and snapshots, currency/MWh.
    pub average_price: Option<f64>,
    pub min_price: Option<f64>,
    pub max_price: Option<f64>,
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
        load_shed_mwh: r.map(|r| r.shed_mwh),
        zones: Vec::new(),
        buses: Vec::new(),
        branches: Vec::new(),
        generators: Vec::new(),
        storage_units: Vec::new(),
        diagnosis: o.diagnosis.as_ref(),
        warnings: o.warnings.0.iter().map(|w| w.to_string()).collect(),
    };
    let Some(r) = r else { return s };
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

fn zone_summaries(n: &Network, r: &crate::solution::Results) -> Vec<ZoneSummary> {
    let w = &n.snapshots.objective;
    let loads: Vec<Vec<f64>> = (0..n.snapshots.len()).map(|t| n.bus_load(t)).collect();
    n.zones()
        .into_iter()
        .map(|zone| {
            let buses: Vec<usize> = (0..n.buses.len())
                .filter(|&b| n.buses[b].zone == zone)
                .collect();
            let (mut cost, mut energy, mut min, mut max) =
                (0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY);
            let mut plain = (0.0, 0usize);
            for &b in &buses {
                for (t, &p) in r.bus_price[b].iter().enumerate() {
                    if p.is_nan() {
                        continue;
                    }
                    let e = loads[t][b].max(0.0) * w[t];
                    cost += p * e;
                    energy += e;
                    min = min.min(p);
                    max = max.max(p);
                    plain.0 += p;
                    plain.1 += 1;
                }
            }
            let generation_mwh = n
                .generators
                .iter()
                .zip(&r.gen_p)
                .filter(|(g, _)| n.buses[g.bus].zone == zone)
                .map(|(_, p)| p.iter().zip(w).map(|(p, w)| p * w).sum::<f64>())
                .sum::<f64>()
                + n.storage_units
                    .iter()
                    .zip(&r.su_p)
                    .filter(|(s, _)| n.buses[s.bus].zone == zone)
                    .map(|(_, p)| p.iter().zip(w).map(|(p, w)| p * w).sum::<f64>())
                    .sum::<f64>()
                + 0.0;
            let average = if energy > 0.0 {
                Some(cost / energy)
            } else if plain.1 > 0 {
                Some(plain.0 / plain.1 as f64)
            } else {
                None
            };
            ZoneSummary {
                name: zone,
                average_price: average,
                min_price: min.is_finite().then_some(min),
                max_price: max.is_finite().then_some(max),
                load_mwh: energy,
                generation_mwh,
            }
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
    let _ = writeln!(
        out,
        "LP         {} columns, {} rows",
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
        let _ = writeln!(out, "load shed  {shed:.3} MWh");
    }
    if !s.zones.is_empty() {
        let _ = writeln!(
            out,
            "\n{:<16} {:>12} {:>10} {:>10} {:>14} {:>14}",
            "zone", "avg price", "min", "max", "load MWh", "gen MWh"
        );
        for z in &s.zones {
            let f = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "{:<16} {:>12} {:>10} {:>10} {:>14.1} {:>14.1}",
                z.name,
                f(z.average_price),
                f(z.min_price),
                f(z.max_price),
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
    out
}

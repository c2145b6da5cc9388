//! Market coupling three ways — NTC, flow-based, nodal — on one network, and what the
//! physical grid makes of the zonal results.
//!
//! - **NTC**: each zone a copper plate; every element between two zones a controllable
//!   flow within its rating (`--model copperplate`). On a network whose zones are single
//!   buses (`networks/carec`) that is the transport model.
//! - **Flow-based**: each zone a copper plate with a net position; the AC grid enters only
//!   through the critical network elements of a flow-based domain ([`domain`]), cleared by
//!   the engine's flow-based form (`gridtrade_engine::formulation::flow_based`).
//! - **Nodal**: the linear power flow on every AC branch (`--model dc`): locational prices.
//!
//! The zonal results are then checked on the physical grid: the flows their dispatch would
//! cause (nodal shift factors times bus injections) and the redispatch that removes the
//! overloads at least cost ([`redispatch`]).
//!
//! **The domain** (documented choices, as in the CWE/Core methodology):
//! - *Generation shift keys*: within a zone, pro rata to the installed capacity of its
//!   dispatchable units (generators whose availability is not a time series, load
//!   shedding excluded, and storage units), static over the horizon; a zone without any
//!   spreads its keys evenly over its buses.
//! - *Zonal PTDF* of element k for zone z: `zPTDF[k,z] = sum_{b in z} PTDF[k,b] GSK[b]`
//!   (relative to the area's slack; as net positions sum to zero in each area, the slack
//!   does not matter).
//! - *Critical network elements*: every AC branch between two zones, and a branch inside a
//!   zone whose largest zone-to-zone PTDF (max_z − min_z over its area) reaches
//!   [`FlowBasedOptions::internal_threshold`] (5 %, the Core threshold). With
//!   `--contingencies`, each of them also after each outage (post-contingency zPTDF
//!   `zPTDF_m + LODF[m,c] zPTDF_c`, rating times `--contingency-rating`); outages that
//!   island are skipped.
//! - *Reference flow* `F0[k,t] = F_base[k,t] − sum_z zPTDF[k,z] NP_base[z,t]`: the flow of
//!   the base case (the nodal dispatch) that its net positions do not explain — the loop
//!   flow of dispatch inside zones, which the zonal market cannot see. Zero on a network of
//!   single-bus zones.
//! - *Margins*: `RAM = (1 − FRM) F_max ∓ F0`, floored at 0 (so zero net positions always
//!   clear), FRM a share of the rating ([`FlowBasedOptions::frm`], 10 % by default).

pub mod loops;
pub mod redispatch;

use gridtrade_engine::error::Error;
use gridtrade_engine::formulation::{
    flow_based::bus_injections, Cnec, Contingencies, DcConvention, FlowDomain, Outages,
};
use gridtrade_engine::network::{Network, Series};
use gridtrade_engine::solution::Results;
use gridtrade_engine::topology::{self, ptdf::ShiftFactors};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// How the market is cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Coupling {
    Ntc,
    FlowBased,
    Nodal,
}

impl Coupling {
    pub const NAMES: &'static str = "ntc, flow-based or nodal";

    pub fn name(self) -> &'static str {
        match self {
            Coupling::Ntc => "ntc",
            Coupling::FlowBased => "flow-based",
            Coupling::Nodal => "nodal",
        }
    }
}

impl std::str::FromStr for Coupling {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ntc" => Ok(Coupling::Ntc),
            "flow-based" => Ok(Coupling::FlowBased),
            "nodal" => Ok(Coupling::Nodal),
            other => Err(format!("'{other}' is not a coupling ({})", Coupling::NAMES)),
        }
    }
}

/// The choices of the flow-based domain.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowBasedOptions {
    /// Flow reliability margin, a share of each element's rating (0.1 = 10 %).
    pub frm: f64,
    /// An element inside a zone is critical when its largest zone-to-zone PTDF reaches this.
    pub internal_threshold: f64,
    /// Post-contingency elements after these outages (N-1), if any.
    pub contingencies: Option<Contingencies>,
    pub convention: DcConvention,
}

impl Default for FlowBasedOptions {
    fn default() -> Self {
        FlowBasedOptions {
            frm: 0.1,
            internal_threshold: 0.05,
            contingencies: None,
            convention: DcConvention::Matpower,
        }
    }
}

/// Generation shift keys: for each bus, its share of its zone's dispatchable capacity.
pub fn shift_keys(n: &Network) -> Vec<f64> {
    let (zones, zone_of) = n.zone_of_buses();
    let mut capacity = vec![0.0; n.buses.len()];
    for g in n.generators.iter().filter(|g| g.in_service) {
        let dispatchable = matches!(g.p_max_pu, Series::Static(_)) && g.carrier != "load_shedding";
        if dispatchable {
            capacity[g.bus] += g.p_nom;
        }
    }
    for s in n.storage_units.iter().filter(|s| s.in_service) {
        capacity[s.bus] += s.p_nom;
    }
    let mut total = vec![0.0; zones.len()];
    let mut buses = vec![0usize; zones.len()];
    for (b, &z) in zone_of.iter().enumerate() {
        total[z] += capacity[b];
        buses[z] += 1;
    }
    (0..n.buses.len())
        .map(|b| {
            let z = zone_of[b];
            if total[z] > 0.0 {
                capacity[b] / total[z]
            } else {
                1.0 / buses[z] as f64
            }
        })
        .collect()
}

/// Zonal PTDF of a nodal PTDF row: `sum_{b in z} PTDF[b] GSK[b]` per zone.
fn zonal(row: &[f64], gsk: &[f64], zone_of: &[usize], zones: usize) -> Vec<f64> {
    let mut z = vec![0.0; zones];
    for (b, (&f, &k)) in row.iter().zip(gsk).enumerate() {
        z[zone_of[b]] += f * k;
    }
    z
}

/// Each zone's net position into the AC grid in the results, MW `[z][t]`: the sum of its
/// buses' injections (generation, storage, shed load and link flows, minus load).
pub fn net_positions(n: &Network, r: &Results) -> Vec<Vec<f64>> {
    let (zones, zone_of) = n.zone_of_buses();
    let mut np = vec![vec![0.0; n.snapshots.len()]; zones.len()];
    for t in 0..n.snapshots.len() {
        for (b, v) in bus_injections(n, r, t).into_iter().enumerate() {
            np[zone_of[b]][t] += v;
        }
    }
    np
}

/// A market's dispatch put on the physical grid: the shift factors, the flows the bus
/// injections cause on every branch (MW, `flows[t][l]`) and each zone's net position into
/// the AC grid (MW, `net_position[z][t]`). Made once per result for the redispatch and the
/// loop flows.
pub struct OnTheGrid {
    pub shift: ShiftFactors,
    pub flows: Vec<Vec<f64>>,
    pub net_position: Vec<Vec<f64>>,
}

impl OnTheGrid {
    pub fn of(n: &Network, r: &Results, convention: DcConvention) -> Result<OnTheGrid, Error> {
        let (b, phi) = convention.branch_parameters(n);
        let shift = ShiftFactors::new(n, &b, &phi)?;
        let flows = (0..n.snapshots.len())
            .map(|t| shift.flows(&bus_injections(n, r, t)))
            .collect();
        Ok(OnTheGrid {
            shift,
            flows,
            net_position: net_positions(n, r),
        })
    }
}

/// The flow-based domain of `n` around the base case `base` (the nodal dispatch of `n`).
pub fn domain(n: &Network, base: &Results, o: &FlowBasedOptions) -> Result<FlowDomain, Error> {
    if !(0.0..1.0).contains(&o.frm) {
        return Err(Error::option(
            "--frm",
            format!("{} is not a share of the rating in [0, 1)", o.frm),
        ));
    }
    let (zones, zone_of) = n.zone_of_buses();
    let (b, phi) = o.convention.branch_parameters(n);
    let shift = ShiftFactors::new(n, &b, &phi)?;
    let gsk = shift_keys(n);
    let live: Vec<usize> = (0..n.branches.len())
        .filter(|&l| n.branch_live(l) && n.branches[l].s_max.is_finite())
        .collect();
    let rows: Vec<(usize, Vec<f64>, Vec<f64>)> = live
        .iter()
        .map(|&l| {
            let row = shift.row(l);
            let z = zonal(&row, &gsk, &zone_of, zones.len());
            (l, row, z)
        })
        .collect();
    let critical: Vec<&(usize, Vec<f64>, Vec<f64>)> = rows
        .iter()
        .filter(|(l, _, z)| {
            let br = &n.branches[*l];
            let cross = zone_of[br.bus0] != zone_of[br.bus1];
            cross || spread(z, &zone_of, &shift, *l, n) >= o.internal_threshold
        })
        .collect();
    let np = net_positions(n, base);
    let nt = n.snapshots.len();
    check_size(critical.len(), o, n)?;
    let mut cnecs = Vec::new();
    for (l, _, z) in &critical {
        cnecs.push(cnec(
            n,
            *l,
            None,
            z.clone(),
            1.0,
            &base.branch_p0[*l],
            &np,
            o,
        ));
    }
    if let Some(c) = &o.contingencies {
        let outages = c.branches(n)?;
        let bridges: HashSet<usize> = topology::bridges(n).into_iter().collect();
        for &k in outages.iter().filter(|k| !bridges.contains(k)) {
            let Some((_, row_k, z_k)) = rows.iter().find(|(l, _, _)| *l == k) else {
                continue;
            };
            let (f, t) = shift.ends(k);
            for (m, row_m, z_m) in critical.iter().filter(|(m, _, _)| *m != k) {
                let Some(lodf) = topology::ptdf::lodf_from_rows(row_m, row_k, f, t) else {
                    continue;
                };
                if lodf.abs() < 1e-9 {
                    continue;
                }
                let zp: Vec<f64> = z_m.iter().zip(z_k).map(|(a, b)| a + lodf * b).collect();
                let flow: Vec<f64> = (0..nt)
                    .map(|t| base.branch_p0[*m][t] + lodf * base.branch_p0[k][t])
                    .collect();
                cnecs.push(cnec(n, *m, Some(k), zp, c.rating, &flow, &np, o));
            }
        }
    }
    Ok(FlowDomain { zones, cnecs })
}

/// At most this many CNEC rows (CNECs × snapshots) in a flow-based market: each is a dense
/// row over the zones, and the domain holds two margins per row.
pub const MAX_CNEC_ROWS: usize = 20_000_000;

/// Refuse a domain too large to clear: the base-case CNECs times (1 + outages) times the
/// snapshots, before any is built.
fn check_size(critical: usize, o: &FlowBasedOptions, n: &Network) -> Result<(), Error> {
    let outages = match &o.contingencies {
        None => 0,
        Some(c) => match &c.outages {
            Outages::All => n.branches.len(),
            Outages::Branches(b) => b.len(),
        },
    };
    let rows = critical
        .saturating_mul(1 + outages)
        .saturating_mul(n.snapshots.len());
    if rows > MAX_CNEC_ROWS {
        return Err(Error::option(
            "--coupling flow-based",
            format!(
                "the domain would have up to {rows} CNEC rows ({critical} critical elements × \
                 {} cases × {} snapshots), more than {MAX_CNEC_ROWS}: name fewer \
                 --contingencies or solve fewer snapshots",
                1 + outages,
                n.snapshots.len()
            ),
        ));
    }
    Ok(())
}

/// The largest zone-to-zone PTDF of branch `l` among the zones of its area.
fn spread(z: &[f64], zone_of: &[usize], shift: &ShiftFactors, l: usize, n: &Network) -> f64 {
    let area = shift.area_of(n.branches[l].bus0);
    let in_area: HashSet<usize> = (0..n.buses.len())
        .filter(|&b| shift.area_of(b) == area)
        .map(|b| zone_of[b])
        .collect();
    let values = in_area.iter().map(|&k| z[k]);
    let max = values.clone().fold(f64::NEG_INFINITY, f64::max);
    let min = values.fold(f64::INFINITY, f64::min);
    max - min
}

/// One CNEC: its zonal PTDF, and margins from its rating and the base case's flow.
#[allow(clippy::too_many_arguments)]
fn cnec(
    n: &Network,
    monitored: usize,
    outage: Option<usize>,
    zptdf: Vec<f64>,
    rating: f64,
    base_flow: &[f64],
    np: &[Vec<f64>],
    o: &FlowBasedOptions,
) -> Cnec {
    let fmax = (1.0 - o.frm) * rating * n.branches[monitored].s_max;
    let (mut fwd, mut back) = (Vec::new(), Vec::new());
    for (t, &f) in base_flow.iter().enumerate() {
        let explained: f64 = zptdf.iter().zip(np).map(|(z, p)| z * p[t]).sum();
        let f0 = f - explained;
        fwd.push((fmax - f0).max(0.0));
        back.push((fmax + f0).max(0.0));
    }
    Cnec {
        monitored,
        outage,
        zptdf,
        ram_forward: fwd,
        ram_backward: back,
    }
}

/// A CNEC's name: `line` or `line after outage`.
pub fn cnec_name(n: &Network, c: &Cnec) -> String {
    match c.outage {
        None => n.branches[c.monitored].name.clone(),
        Some(k) => format!(
            "{} after {}",
            n.branches[c.monitored].name, n.branches[k].name
        ),
    }
}

/// Per CNEC over the horizon: how often it bound and the congestion rent it collects.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CnecSummary {
    pub name: String,
    pub monitored: String,
    pub outage: Option<String>,
    pub hours_binding: usize,
    /// Mean shadow price over the snapshots it bound, currency/MWh.
    pub mean_shadow_price: f64,
    /// Σ_t w_t μ[k,t] RAM[k,t] (the margin in the direction it bound), currency.
    pub congestion_rent: f64,
}

/// Summaries of the CNECs that bound in `r` (a flow-based market result), by rent.
pub fn cnec_summaries(n: &Network, d: &FlowDomain, r: &Results) -> Vec<CnecSummary> {
    let w = &n.snapshots.objective;
    let mut out = Vec::new();
    for (c, mu) in d.cnecs.iter().zip(&r.cnec_mu) {
        let mut s = CnecSummary {
            name: cnec_name(n, c),
            monitored: n.branches[c.monitored].name.clone(),
            outage: c.outage.map(|k| n.branches[k].name.clone()),
            ..Default::default()
        };
        let mut sum_mu = 0.0;
        for (t, &m) in mu.iter().enumerate() {
            if m <= 0.0 {
                continue;
            }
            let flow: f64 = c
                .zptdf
                .iter()
                .zip(&r.net_position)
                .map(|(z, p)| z * p[t])
                .sum();
            let ram = if flow >= 0.0 {
                c.ram_forward[t]
            } else {
                c.ram_backward[t]
            };
            s.hours_binding += 1;
            sum_mu += m;
            s.congestion_rent += w[t] * m * ram;
        }
        if s.hours_binding > 0 {
            s.mean_shadow_price = sum_mu / s.hours_binding as f64;
            out.push(s);
        }
    }
    out.sort_by(|a, b| b.congestion_rent.total_cmp(&a.congestion_rent));
    out
}

/// The domain as CSV: one row per CNEC and snapshot with its zonal PTDFs and margins.
pub fn domain_csv(n: &Network, d: &FlowDomain) -> String {
    let mut out = String::from("cnec,monitored,outage,snapshot,ram_forward_mw,ram_backward_mw");
    for z in &d.zones {
        out.push_str(&format!(",zptdf_{z}"));
    }
    out.push('\n');
    for c in &d.cnecs {
        let outage = c
            .outage
            .map_or(String::new(), |k| n.branches[k].name.clone());
        let zptdf: String = c.zptdf.iter().map(|v| format!(",{v}")).collect();
        for t in 0..c.ram_forward.len() {
            out.push_str(&format!(
                "{},{},{},{},{},{}{}\n",
                csv_field(&cnec_name(n, c)),
                csv_field(&n.branches[c.monitored].name),
                csv_field(&outage),
                csv_field(&n.snapshots.names[t]),
                c.ram_forward[t],
                c.ram_backward[t],
                zptdf
            ));
        }
    }
    out
}

/// A CSV field, quoted where it holds a comma or a quote.
pub fn csv_field(s: &str) -> String {
    if s.contains(',') || s.contains('"') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

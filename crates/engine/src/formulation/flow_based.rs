//! The flow-based market clearing: each market zone a copper plate with a net position,
//! the AC grid seen only through the critical network elements (CNECs) of a flow-based
//! domain.
//!
//! With `NP[z,t]` the net position of zone z (MW it puts into the AC grid: exports over AC
//! branches minus imports), `zPTDF[k,z]` the zonal shift factor of CNEC k (MW on the
//! element, in its bus0→bus1 direction, per MW of net position) and `RAM` its remaining
//! available margins (MW):
//!
//! ```text
//! sum_{b in z} inj[b,t] - NP[z,t] = load[z,t]             (zone balance; its dual: the zonal price)
//! sum_{z in area} NP[z,t] = 0                             (per synchronous area)
//! -RAM_back[k,t] <= sum_z zPTDF[k,z] NP[z,t] <= RAM_fwd[k,t]   (each CNEC)
//! ```
//!
//! where `inj` holds generation, storage, shed load and the links (HVDC, scheduled ties),
//! which stay controllable flows within their ratings between zones (hybrid coupling: a
//! link's flow enters the net positions of the zones at its ends). The domain itself (which
//! elements, their zonal PTDFs from the nodal shift factors and the generation shift keys,
//! the margins) is made by the studies layer (`studies::coupling`); here it is only data.
//!
//! The zonal price is the balance dual over the snapshot weight (currency/MWh); by duality
//! it equals `lambda[area] + sum_k zPTDF[k,z] mu[k]` (the same sign convention as nodal
//! prices), and the congestion income `sum_z price_z NP_z` equals `sum_k mu_k RAM_k`.

use super::lp::Terms;
use super::{DcConvention, Model};
use crate::error::Error;
use crate::network::Network;
use crate::topology::ptdf::ShiftFactors;
use serde::{Deserialize, Serialize};

/// A critical network element under a contingency: branch `monitored`, in the base case
/// (`outage: None`) or after the outage of branch `outage`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cnec {
    pub monitored: usize,
    pub outage: Option<usize>,
    /// Zonal PTDF: MW on the element (bus0 → bus1) per MW of each zone's net position, in
    /// the order of [`FlowDomain::zones`].
    pub zptdf: Vec<f64>,
    /// Remaining available margin in the direction bus0 → bus1, per snapshot, MW (≥ 0).
    pub ram_forward: Vec<f64>,
    /// Remaining available margin in the direction bus1 → bus0, per snapshot, MW (≥ 0).
    pub ram_backward: Vec<f64>,
}

/// The flow-based domain of a network over its snapshots.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlowDomain {
    /// The market zones, in the order of `Network::zone_of_buses`.
    pub zones: Vec<String>,
    pub cnecs: Vec<Cnec>,
}

impl FlowDomain {
    /// The domain of snapshots `range` only.
    pub fn restrict(&self, range: std::ops::Range<usize>) -> FlowDomain {
        self.map_margins(|v| v[range.clone()].to_vec())
    }

    /// The domain of the network with each run of `hours` snapshots as one
    /// (`Network::aggregate_snapshots`): the margins averaged over the run.
    pub fn aggregate(&self, hours: usize) -> FlowDomain {
        let hours = hours.max(1);
        self.map_margins(|v| {
            v.chunks(hours)
                .map(|c| c.iter().sum::<f64>() / c.len() as f64)
                .collect()
        })
    }

    fn map_margins(&self, f: impl Fn(&[f64]) -> Vec<f64>) -> FlowDomain {
        FlowDomain {
            zones: self.zones.clone(),
            cnecs: self
                .cnecs
                .iter()
                .map(|c| Cnec {
                    ram_forward: f(&c.ram_forward),
                    ram_backward: f(&c.ram_backward),
                    ..c.clone()
                })
                .collect(),
        }
    }
}

/// What the flow-based form holds besides the LP.
pub struct FlowBasedForm {
    pub domain: std::sync::Arc<FlowDomain>,
    /// Shift factors of the physical grid, for the physical flows of the market's dispatch.
    pub shift: ShiftFactors,
    /// Synchronous area of each zone.
    pub zone_area: Vec<usize>,
    /// Net-position sum row `[area][t]`.
    pub area_rows: Vec<Vec<usize>>,
    /// CNEC row `[k][t]`.
    pub cnec_rows: Vec<Vec<usize>>,
}

impl FlowBasedForm {
    /// Check the domain against the network and factorise the grid. Every zone's buses in
    /// service must lie in one synchronous area (its net position is a flow within that
    /// area); a zone with a bus reached only by links is refused.
    pub fn new(
        n: &Network,
        convention: DcConvention,
        domain: std::sync::Arc<FlowDomain>,
    ) -> Result<FlowBasedForm, Error> {
        let (zones, zone_of_bus) = n.zone_of_buses();
        if zones != domain.zones {
            return Err(Error::option(
                "flow-based domain",
                format!(
                    "its zones {:?} are not the network's {zones:?}",
                    domain.zones
                ),
            ));
        }
        let (b, phi) = convention.branch_parameters(n);
        let shift = ShiftFactors::new(n, &b, &phi)?;
        let mut zone_area: Vec<Option<usize>> = vec![None; zones.len()];
        for (bus, &z) in zone_of_bus.iter().enumerate() {
            if !n.buses[bus].in_service {
                continue;
            }
            let a = shift.area_of(bus);
            match zone_area[z] {
                Some(other) if other != a => {
                    return Err(Error::option(
                        "--coupling flow-based",
                        format!(
                            "zone '{}' spans two synchronous areas (bus '{}'): a zone's net \
                             position must be a flow within one AC grid",
                            zones[z], n.buses[bus].name
                        ),
                    ))
                }
                _ => zone_area[z] = Some(a),
            }
        }
        for (k, c) in domain.cnecs.iter().enumerate() {
            let rams = c.ram_forward.iter().chain(&c.ram_backward);
            if c.zptdf.len() != zones.len()
                || c.ram_forward.len() != n.snapshots.len()
                || c.ram_backward.len() != n.snapshots.len()
                || c.zptdf.iter().chain(rams).any(|v| !v.is_finite())
            {
                return Err(Error::option(
                    "flow-based domain",
                    format!("CNEC {k} has the wrong number of zones or snapshots, or a NaN"),
                ));
            }
        }
        Ok(FlowBasedForm {
            area_rows: vec![Vec::new(); shift.area_count()],
            cnec_rows: vec![Vec::new(); domain.cnecs.len()],
            zone_area: zone_area.into_iter().map(|a| a.unwrap_or(0)).collect(),
            domain,
            shift,
        })
    }
}

/// `NP[z,t]`, MW, free: each zone's net position into the AC grid.
pub fn variable_net_position(m: &mut Model) {
    let Some(fb) = &m.flow_based else { return };
    let zones = fb.domain.zones.len();
    m.net_position = (0..zones)
        .map(|_| {
            (0..m.snapshots)
                .map(|_| m.lp.col(f64::NEG_INFINITY, f64::INFINITY, 0.0))
                .collect()
        })
        .collect();
}

/// `sum_{z in area} NP[z,t] = 0` per synchronous area and snapshot: what a zone exports
/// over the AC grid, others in its area import.
pub fn constraint_net_position_sum(m: &mut Model) {
    let Some(mut fb) = m.flow_based.take() else {
        return;
    };
    for t in 0..m.snapshots {
        let mut sums: Vec<Terms> = (0..fb.area_rows.len()).map(|_| Terms::default()).collect();
        for (z, &a) in fb.zone_area.iter().enumerate() {
            sums[a].add_mul(1.0, &m.net_position[z][t]);
        }
        for (a, e) in sums.into_iter().enumerate() {
            let row = m.lp.row_eq(e, 0.0);
            fb.area_rows[a].push(row);
        }
    }
    m.flow_based = Some(fb);
}

/// `-RAM_back[k,t] <= sum_z zPTDF[k,z] NP[z,t] <= RAM_fwd[k,t]` for every CNEC and snapshot.
pub fn constraint_cnec(m: &mut Model) {
    let Some(mut fb) = m.flow_based.take() else {
        return;
    };
    for (k, c) in fb.domain.cnecs.iter().enumerate() {
        for t in 0..m.snapshots {
            let mut e = Terms::default();
            for (z, &f) in c.zptdf.iter().enumerate() {
                if f != 0.0 {
                    e.add_mul(f, &m.net_position[z][t]);
                }
            }
            let row = m.lp.row_range(e, -c.ram_backward[t], c.ram_forward[t]);
            fb.cnec_rows[k].push(row);
        }
    }
    m.flow_based = Some(fb);
}

/// Each bus's net injection into the AC grid in snapshot t, MW: generation, storage and
/// store net output, shed load and link flows (minus what links take out), minus its load.
pub fn bus_injections(n: &Network, r: &crate::solution::Results, t: usize) -> Vec<f64> {
    let mut inj: Vec<f64> = n.bus_load(t).iter().map(|d| -d).collect();
    for (g, gen) in n.generators.iter().enumerate() {
        inj[gen.bus] += r.gen_p[g][t];
    }
    for (s, su) in n.storage_units.iter().enumerate() {
        inj[su.bus] += r.su_p[s][t];
    }
    for (s, st) in n.stores.iter().enumerate() {
        inj[st.bus] += r.store_p[s][t];
    }
    for (b, v) in inj.iter_mut().enumerate() {
        *v += r.bus_shed[b][t];
    }
    for (k, link) in n.links.iter().enumerate() {
        inj[link.bus0] -= r.link_p0[k][t];
        inj[link.bus1] += r.link_p1[k][t];
    }
    inj
}

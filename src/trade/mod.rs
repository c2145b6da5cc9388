//! Cross-border trade analysis of a solved network: zonal prices and positions, bilateral
//! trade, border flows, congestion and its rent, welfare, and the gains from trade against
//! autarky.
//!
//! Conventions (all energies weighted by the snapshot weights, MWh; money in the network's
//! currency):
//! - An element (line, transformer or link) takes `p0` at bus0 and delivers `efficiency * p0`
//!   at bus1 (1 for AC branches). The zone that gives power *sends* (exports) it, the zone
//!   that takes it *receives* (imports) it; the difference is the loss.
//! - Net position of a zone = sent − received; the net positions add up to the losses.
//! - Congestion rent of an element = price at the receiving end × received − price at the
//!   sending end × sent (the merchandising surplus; *algebraic*, may be negative for a flow
//!   against the price difference); the *absolute* rent is |flow| × |price difference| as
//!   Antares reports it.
//! - Welfare: consumers pay the zonal price for their load; producers (generators, storage,
//!   shed load) earn it for their output; production cost is what the objective charges.
//!   Consumer payments = producer revenue + congestion rent, and production cost = the
//!   objective.
//! - Trade between countries is settled at zonal prices: the exporter earns its own price
//!   for what it sends, the importer pays its own price for what it receives, and the
//!   congestion rent of a cross-border element is shared equally by the two countries.

pub mod scenario;
pub mod study;
pub mod svg;

use crate::formulation::FormulationOptions;
use crate::network::{CostCurve, Network};
use crate::solution::{Results, LOAD_SHEDDING};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Per zone, over the horizon.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ZoneTrade {
    pub zone: String,
    pub country: String,
    /// Mean of the hourly prices, currency/MWh.
    pub average_price: f64,
    /// Load-weighted mean price, currency/MWh (the mean price where there is no load).
    pub load_weighted_price: f64,
    pub min_price: f64,
    pub max_price: f64,
    pub load_mwh: f64,
    /// Generation and net storage output, load shedding excluded, MWh.
    pub generation_mwh: f64,
    pub shed_mwh: f64,
    pub exports_mwh: f64,
    pub imports_mwh: f64,
    /// exports − imports, MWh.
    pub net_position_mwh: f64,
    pub consumer_payments: f64,
    pub producer_revenue: f64,
    pub production_cost: f64,
    /// producer revenue − production cost.
    pub producer_surplus: f64,
    pub co2_t: f64,
}

/// Per pair of zones that an element connects (a < b in zone order).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BorderTrade {
    pub zone_a: String,
    pub zone_b: String,
    /// Elements (lines, links) on this border.
    pub elements: Vec<String>,
    /// Energy sent from a to b and from b to a, MWh (at the sending end).
    pub flow_ab_mwh: f64,
    pub flow_ba_mwh: f64,
    /// Snapshots in which some element of the border was at its limit, per direction.
    pub hours_congested_ab: usize,
    pub hours_congested_ba: usize,
    /// Mean shadow price of the capacity over the congested snapshots, currency/MWh.
    pub shadow_price_ab: f64,
    pub shadow_price_ba: f64,
    /// Merchandising surplus (price × received − price × sent), currency.
    pub congestion_rent: f64,
    /// Σ |flow| × |price difference|, currency (Antares' absolute congestion fee).
    pub congestion_rent_abs: f64,
    pub losses_mwh: f64,
}

/// Welfare totals over the network.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Welfare {
    pub consumer_payments: f64,
    pub producer_revenue: f64,
    pub producer_surplus: f64,
    /// Congestion rent of all elements (between and within zones).
    pub congestion_rent: f64,
    /// Production cost; equals the objective.
    pub system_cost: f64,
}

/// A country's account in one solve.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CountryAccount {
    pub country: String,
    pub production_cost: f64,
    pub export_revenue: f64,
    pub import_bill: f64,
    /// Half of the congestion rent of its cross-border elements.
    pub rent_share: f64,
    /// production cost + import bill − export revenue − rent share.
    pub net_cost: f64,
    pub co2_t: f64,
    pub shed_mwh: f64,
    pub exports_mwh: f64,
    pub imports_mwh: f64,
}

/// The trade report of one solved network.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TradeReport {
    pub snapshots: usize,
    pub first_snapshot: String,
    pub last_snapshot: String,
    pub zones: Vec<ZoneTrade>,
    pub borders: Vec<BorderTrade>,
    /// `matrix[i][j]`: energy sent from zone i to zone j, MWh (zones in `zones` order).
    pub matrix: Vec<Vec<f64>>,
    pub welfare: Welfare,
    pub countries: Vec<CountryAccount>,
    pub losses_mwh: f64,
    pub co2_t: f64,
    pub shed_mwh: f64,
    /// Net position of each zone per month (`YYYY-MM` from the snapshot names), MWh.
    pub monthly_net_position: Vec<(String, Vec<f64>)>,
    /// Hourly prices of each zone, currency/MWh (for charts).
    #[serde(skip)]
    pub zone_prices: Vec<Vec<f64>>,
}

/// One power-carrying element seen from the trade side.
struct Element<'a> {
    name: &'a str,
    bus0: usize,
    bus1: usize,
    efficiency: f64,
    p0: &'a [f64],
    mu: &'a [f64],
}

fn elements<'a>(n: &'a Network, r: &'a Results) -> Vec<Element<'a>> {
    let mut out = Vec::new();
    for (i, b) in n.branches.iter().enumerate() {
        out.push(Element {
            name: &b.name,
            bus0: b.bus0,
            bus1: b.bus1,
            efficiency: 1.0,
            p0: &r.branch_p0[i],
            mu: &r.branch_mu[i],
        });
    }
    for (i, l) in n.links.iter().enumerate() {
        out.push(Element {
            name: &l.name,
            bus0: l.bus0,
            bus1: l.bus1,
            efficiency: l.efficiency,
            p0: &r.link_p0[i],
            mu: &r.link_mu[i],
        });
    }
    out
}

/// Cost of generator `g` producing `p` MW in snapshot t, currency/h, as the objective counts it.
fn generator_cost(n: &Network, g: usize, t: usize, p: f64, o: &FormulationOptions) -> f64 {
    let gen = &n.generators[g];
    let co2 = n
        .carrier(&gen.carrier)
        .map(|c| c.co2_emissions / gen.efficiency)
        .unwrap_or(0.0);
    let fuel = match &gen.cost {
        CostCurve::Polynomial {
            marginal_cost,
            marginal_cost_quadratic,
            constant,
        } => marginal_cost.at(t) * p + marginal_cost_quadratic * p * p + constant,
        CostCurve::PiecewiseLinear(points) => points
            .windows(2)
            .map(|w| {
                let slope = (w[1].1 - w[0].1) / (w[1].0 - w[0].0);
                w[0].1 + slope * (p - w[0].0)
            })
            .fold(f64::NEG_INFINITY, f64::max),
    };
    fuel + o.co2_price * co2 * p
}

/// Analyse a solved network. `o` are the options it was solved with (for the CO2 price and
/// the value of lost load).
pub fn analyse(n: &Network, r: &Results, o: &FormulationOptions) -> TradeReport {
    let nt = n.snapshots.len();
    let w = &n.snapshots.objective;
    let zones = n.zones();
    // Zone of each bus, looked up once (the loops below run over buses × snapshots).
    let bus_zone: Vec<usize> = n
        .buses
        .iter()
        .map(|b| zones.iter().position(|z| *z == b.zone).unwrap_or(0))
        .collect();
    let zone_index = |b: usize| bus_zone[b];
    let nz = zones.len();
    let mut zt: Vec<ZoneTrade> = zones
        .iter()
        .map(|z| ZoneTrade {
            zone: z.clone(),
            country: n
                .buses
                .iter()
                .find(|b| &b.zone == z)
                .map(|b| b.country.clone())
                .unwrap_or_default(),
            min_price: f64::INFINITY,
            max_price: f64::NEG_INFINITY,
            ..Default::default()
        })
        .collect();

    // Zone price per snapshot: the load-weighted mean of its buses' prices (the mean where
    // the zone has no load).
    let loads: Vec<Vec<f64>> = (0..nt).map(|t| n.bus_load(t)).collect();
    let mut zone_prices = vec![vec![0.0; nt]; nz];
    for t in 0..nt {
        let mut num = vec![0.0; nz];
        let mut den = vec![0.0; nz];
        let mut plain = vec![(0.0, 0usize); nz];
        for b in 0..n.buses.len() {
            let p = r.bus_price[b][t];
            if p.is_nan() {
                continue;
            }
            let z = zone_index(b);
            num[z] += p * loads[t][b].max(0.0);
            den[z] += loads[t][b].max(0.0);
            plain[z].0 += p;
            plain[z].1 += 1;
        }
        for z in 0..nz {
            zone_prices[z][t] = if den[z] > 0.0 {
                num[z] / den[z]
            } else if plain[z].1 > 0 {
                plain[z].0 / plain[z].1 as f64
            } else {
                f64::NAN
            };
        }
    }
    for (z, prices) in zone_prices.iter().enumerate() {
        let valid: Vec<f64> = prices.iter().copied().filter(|p| !p.is_nan()).collect();
        if !valid.is_empty() {
            zt[z].average_price = valid.iter().sum::<f64>() / valid.len() as f64;
            zt[z].min_price = valid.iter().copied().fold(f64::INFINITY, f64::min);
            zt[z].max_price = valid.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        } else {
            zt[z].min_price = f64::NAN;
            zt[z].max_price = f64::NAN;
        }
    }

    // Consumers.
    let mut price_load = vec![0.0; nz];
    for t in 0..nt {
        for b in 0..n.buses.len() {
            let z = zone_index(b);
            let e = loads[t][b] * w[t];
            zt[z].load_mwh += e;
            if !r.bus_price[b][t].is_nan() {
                zt[z].consumer_payments += r.bus_price[b][t] * e;
                price_load[z] += r.bus_price[b][t] * e;
            }
        }
    }
    for z in 0..nz {
        zt[z].load_weighted_price = if zt[z].load_mwh > 0.0 {
            price_load[z] / zt[z].load_mwh
        } else {
            zt[z].average_price
        };
    }

    // Producers: generators, storage, load shed by the engine.
    let mut system_cost = 0.0;
    for (g, gen) in n.generators.iter().enumerate() {
        let z = zone_index(gen.bus);
        let shedding = gen.carrier == LOAD_SHEDDING;
        let co2 = n
            .carrier(&gen.carrier)
            .map(|c| c.co2_emissions / gen.efficiency)
            .unwrap_or(0.0);
        let active = gen.in_service && n.buses[gen.bus].in_service;
        for t in 0..nt {
            let p = r.gen_p[g][t];
            let e = p * w[t];
            if shedding {
                zt[z].shed_mwh += e;
            } else {
                zt[z].generation_mwh += e;
            }
            zt[z].producer_revenue += r.bus_price[gen.bus][t] * e;
            zt[z].co2_t += co2 * e;
            if active {
                let c = w[t] * generator_cost(n, g, t, p, o);
                zt[z].production_cost += c;
                system_cost += c;
            }
        }
    }
    for (s, su) in n.storage_units.iter().enumerate() {
        let z = zone_index(su.bus);
        for t in 0..nt {
            let e = r.su_p[s][t] * w[t];
            zt[z].generation_mwh += e;
            zt[z].producer_revenue += r.bus_price[su.bus][t] * e;
            let c =
                w[t] * (su.marginal_cost * r.su_dispatch[s][t] + su.spill_cost * r.su_spill[s][t]);
            zt[z].production_cost += c;
            system_cost += c;
        }
    }
    let voll = o.voll.unwrap_or(0.0);
    for b in 0..n.buses.len() {
        let z = zone_index(b);
        for t in 0..nt {
            let e = r.bus_shed[b][t] * w[t];
            if e == 0.0 {
                continue;
            }
            zt[z].shed_mwh += e;
            zt[z].producer_revenue += r.bus_price[b][t] * e;
            zt[z].production_cost += voll * e;
            system_cost += voll * e;
        }
    }

    // Elements: flows, borders, rent.
    let mut matrix = vec![vec![0.0; nz]; nz];
    let mut borders: BTreeMap<(usize, usize), BorderTrade> = BTreeMap::new();
    // Per border: congested snapshots a→b and b→a, and the sums of their shadow prices.
    type Congestion = (Vec<bool>, Vec<bool>, f64, f64);
    let mut congested: BTreeMap<(usize, usize), Congestion> = BTreeMap::new();
    let mut total_rent = 0.0;
    let mut losses = 0.0;
    let mut countries: BTreeMap<String, CountryAccount> = BTreeMap::new();
    for el in elements(n, r) {
        let (z0, z1) = (zone_index(el.bus0), zone_index(el.bus1));
        let (c0, c1) = (zt[z0].country.clone(), zt[z1].country.clone());
        let key = (z0.min(z1), z0.max(z1));
        let forward = z0 <= z1; // bus0 is on side a
        for t in 0..nt {
            let p0 = el.p0[t];
            if p0 == 0.0 {
                continue;
            }
            let (l0, l1) = (r.bus_price[el.bus0][t], r.bus_price[el.bus1][t]);
            let inj0 = -p0;
            let inj1 = el.efficiency * p0;
            let rent = w[t] * (l0 * inj0 + l1 * inj1);
            total_rent += rent;
            losses += -(inj0 + inj1) * w[t];
            if z0 == z1 {
                continue;
            }
            // Who sends and who receives.
            let (src, dst, sent, received, l_src, l_dst) = if p0 > 0.0 {
                (z0, z1, p0, inj1, l0, l1)
            } else {
                (z1, z0, -inj1, inj0, l1, l0)
            };
            let sent = sent * w[t];
            let received = received * w[t];
            matrix[src][dst] += sent;
            zt[src].exports_mwh += sent;
            zt[dst].imports_mwh += received;
            let b = borders.entry(key).or_insert_with(|| BorderTrade {
                zone_a: zones[key.0].clone(),
                zone_b: zones[key.1].clone(),
                ..Default::default()
            });
            if src == key.0 {
                b.flow_ab_mwh += sent;
            } else {
                b.flow_ba_mwh += sent;
            }
            b.congestion_rent += rent;
            b.congestion_rent_abs += w[t] * p0.abs() * (l1 - l0).abs();
            b.losses_mwh += sent - received;
            if c0 != c1 {
                let (cs, cd) = (zt[src].country.clone(), zt[dst].country.clone());
                let e = countries
                    .entry(cs.clone())
                    .or_insert_with(|| CountryAccount {
                        country: cs.clone(),
                        ..Default::default()
                    });
                e.export_revenue += l_src * sent;
                e.exports_mwh += sent;
                e.rent_share += 0.5 * rent;
                let e = countries
                    .entry(cd.clone())
                    .or_insert_with(|| CountryAccount {
                        country: cd.clone(),
                        ..Default::default()
                    });
                e.import_bill += l_dst * received;
                e.imports_mwh += received;
                e.rent_share += 0.5 * rent;
            }
        }
        if z0 != z1 {
            let b = borders.entry(key).or_insert_with(|| BorderTrade {
                zone_a: zones[key.0].clone(),
                zone_b: zones[key.1].clone(),
                ..Default::default()
            });
            b.elements.push(el.name.to_string());
            let c = congested
                .entry(key)
                .or_insert_with(|| (vec![false; nt], vec![false; nt], 0.0, 0.0));
            for t in 0..nt {
                if el.mu[t] > 1e-9 {
                    // At the upper limit the flow runs bus0 -> bus1.
                    let bus0_to_bus1 = el.p0[t] > 0.0;
                    let ab = bus0_to_bus1 == forward;
                    if ab {
                        c.0[t] = true;
                        c.2 += el.mu[t];
                    } else {
                        c.1[t] = true;
                        c.3 += el.mu[t];
                    }
                }
            }
        }
    }
    for (key, (ab, ba, mu_ab, mu_ba)) in congested {
        let b = borders.get_mut(&key).expect("border recorded");
        b.hours_congested_ab = ab.iter().filter(|x| **x).count();
        b.hours_congested_ba = ba.iter().filter(|x| **x).count();
        b.shadow_price_ab = if b.hours_congested_ab > 0 {
            mu_ab / b.hours_congested_ab as f64
        } else {
            0.0
        };
        b.shadow_price_ba = if b.hours_congested_ba > 0 {
            mu_ba / b.hours_congested_ba as f64
        } else {
            0.0
        };
    }
    for z in zt.iter_mut() {
        z.net_position_mwh = z.exports_mwh - z.imports_mwh;
        z.producer_surplus = z.producer_revenue - z.production_cost;
    }
    for z in &zt {
        let e = countries
            .entry(z.country.clone())
            .or_insert_with(|| CountryAccount {
                country: z.country.clone(),
                ..Default::default()
            });
        e.production_cost += z.production_cost;
        e.co2_t += z.co2_t;
        e.shed_mwh += z.shed_mwh;
    }
    let mut countries: Vec<CountryAccount> = countries.into_values().collect();
    for c in countries.iter_mut() {
        c.net_cost = c.production_cost + c.import_bill - c.export_revenue - c.rent_share;
    }
    let monthly_net_position = monthly_net_positions(n, r, &zone_index, nz);

    let welfare = Welfare {
        consumer_payments: zt.iter().map(|z| z.consumer_payments).sum(),
        producer_revenue: zt.iter().map(|z| z.producer_revenue).sum(),
        producer_surplus: zt.iter().map(|z| z.producer_surplus).sum(),
        congestion_rent: total_rent,
        system_cost,
    };
    TradeReport {
        snapshots: nt,
        first_snapshot: n.snapshots.names.first().cloned().unwrap_or_default(),
        last_snapshot: n.snapshots.names.last().cloned().unwrap_or_default(),
        co2_t: zt.iter().map(|z| z.co2_t).sum(),
        shed_mwh: zt.iter().map(|z| z.shed_mwh).sum(),
        zones: zt,
        borders: borders.into_values().collect(),
        matrix,
        welfare,
        countries,
        losses_mwh: losses,
        monthly_net_position,
        zone_prices,
    }
}

/// Net position of each zone per month (`YYYY-MM` prefix of the snapshot names; one period
/// per 730 snapshots when the names are not dates), MWh.
fn monthly_net_positions(
    n: &Network,
    r: &Results,
    zone_of: &dyn Fn(usize) -> usize,
    nz: usize,
) -> Vec<(String, Vec<f64>)> {
    let w = &n.snapshots.objective;
    let els = elements(n, r);
    let mut out: Vec<(String, Vec<f64>)> = Vec::new();
    for (t, name) in n.snapshots.names.iter().enumerate() {
        let month = if name.len() >= 7 && name.as_bytes()[4] == b'-' {
            name[..7].to_string()
        } else {
            format!("period {}", t / 730 + 1)
        };
        if out.last().map(|(m, _)| m != &month).unwrap_or(true) {
            out.push((month, vec![0.0; nz]));
        }
        let slot = &mut out.last_mut().expect("pushed").1;
        for el in &els {
            let (z0, z1) = (zone_of(el.bus0), zone_of(el.bus1));
            if z0 != z1 {
                // Net position = sent - received: bus0 gives p0, bus1 takes efficiency * p0.
                slot[z0] += el.p0[t] * w[t];
                slot[z1] -= el.efficiency * el.p0[t] * w[t];
            }
        }
    }
    out
}

/// Gains from trade: the same network solved with every cross-border element closed
/// (autarky) against the coupled solve, per country and for the region.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GainsFromTrade {
    pub coupled_cost: f64,
    pub autarky_cost: f64,
    /// autarky − coupled; ≥ 0.
    pub saving: f64,
    pub coupled_co2_t: f64,
    pub autarky_co2_t: f64,
    pub coupled_shed_mwh: f64,
    pub autarky_shed_mwh: f64,
    pub countries: Vec<CountryGain>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CountryGain {
    pub country: String,
    /// Net cost in autarky minus net cost when trading.
    pub gain: f64,
    /// Split of the gain: production cost saved, export revenue, minus the import bill, plus
    /// the rent share.
    pub production_cost_saving: f64,
    pub export_revenue: f64,
    pub import_bill: f64,
    pub rent_share: f64,
    pub autarky_co2_t: f64,
    pub coupled_co2_t: f64,
    pub autarky_shed_mwh: f64,
    pub coupled_shed_mwh: f64,
}

/// Compare a coupled report with an autarky report of the same network and horizon.
pub fn gains(coupled: &TradeReport, autarky: &TradeReport) -> GainsFromTrade {
    let mut countries = Vec::new();
    for c in &coupled.countries {
        let a = autarky
            .countries
            .iter()
            .find(|a| a.country == c.country)
            .cloned()
            .unwrap_or_default();
        countries.push(CountryGain {
            country: c.country.clone(),
            gain: a.net_cost - c.net_cost,
            production_cost_saving: a.production_cost - c.production_cost,
            export_revenue: c.export_revenue,
            import_bill: c.import_bill,
            rent_share: c.rent_share,
            autarky_co2_t: a.co2_t,
            coupled_co2_t: c.co2_t,
            autarky_shed_mwh: a.shed_mwh,
            coupled_shed_mwh: c.shed_mwh,
        });
    }
    GainsFromTrade {
        coupled_cost: coupled.welfare.system_cost,
        autarky_cost: autarky.welfare.system_cost,
        saving: autarky.welfare.system_cost - coupled.welfare.system_cost,
        coupled_co2_t: coupled.co2_t,
        autarky_co2_t: autarky.co2_t,
        coupled_shed_mwh: coupled.shed_mwh,
        autarky_shed_mwh: autarky.shed_mwh,
        countries,
    }
}

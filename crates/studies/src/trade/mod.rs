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

mod accounts;
mod flows;
mod gains;
pub mod map;
pub mod svg;

pub use gains::{gains, CountryGain, GainsFromTrade};

use gridtrade_engine::formulation::FormulationOptions;
use gridtrade_engine::network::Network;
use gridtrade_engine::report::{
    security_summary, zone_hourly_prices, PriceStatistics, SecuritySummary,
};
use gridtrade_engine::solution::Results;
use serde::{Deserialize, Serialize};

/// Per zone, over the horizon.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ZoneTrade {
    pub zone: String,
    pub country: String,
    /// Mean, load-weighted, lowest and highest price, currency/MWh (as in `solve`'s
    /// summary: [`PriceStatistics`]).
    #[serde(flatten)]
    pub prices: PriceStatistics,
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
    /// The network's CO2 limit (a scenario's `co2_cap` or the folder's global constraint)
    /// and the CO2 price it implies; absent without a limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub co2_limit: Option<gridtrade_engine::report::Co2LimitSummary>,
    pub shed_mwh: f64,
    /// Net position of each zone per month (`YYYY-MM` from the snapshot names), MWh.
    pub monthly_net_position: Vec<(String, Vec<f64>)>,
    /// N-1 (`--contingencies`): the post-contingency limits that bound and the outages
    /// skipped because they island part of the grid; absent without contingencies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<SecuritySummary>,
    /// Hourly prices of each zone, currency/MWh (for charts).
    #[serde(skip)]
    pub zone_prices: Vec<Vec<f64>>,
}

/// The zones of a network and the zone of each bus, looked up once (the accounts run over
/// buses × snapshots).
struct Zones {
    names: Vec<String>,
    of_bus: Vec<usize>,
}

impl Zones {
    fn of(n: &Network) -> Zones {
        let (names, of_bus) = n.zone_of_buses();
        Zones { names, of_bus }
    }

    /// An empty account per zone, with its country.
    fn empty_trades(&self, n: &Network) -> Vec<ZoneTrade> {
        self.names
            .iter()
            .map(|z| ZoneTrade {
                zone: z.clone(),
                country: n
                    .buses
                    .iter()
                    .find(|b| &b.zone == z)
                    .map(|b| b.country.clone())
                    .unwrap_or_default(),
                ..Default::default()
            })
            .collect()
    }
}

/// Analyse a solved network. `o` are the options it was solved with (for the CO2 price and
/// the value of lost load).
pub fn analyse(n: &Network, r: &Results, o: &FormulationOptions) -> TradeReport {
    let zones = Zones::of(n);
    let mut zt = zones.empty_trades(n);
    let loads: Vec<Vec<f64>> = (0..n.snapshots.len()).map(|t| n.bus_load(t)).collect();
    let zone_prices = zone_hourly_prices(r, &zones.of_bus, zones.names.len(), &loads);
    accounts::consumers(n, r, &zones, &loads, &zone_prices, &mut zt);
    let system_cost = accounts::producers(n, r, o, &zones, &mut zt);
    let flows = flows::account(n, r, &zones, &mut zt);
    for z in zt.iter_mut() {
        z.net_position_mwh = z.exports_mwh - z.imports_mwh;
        z.producer_surplus = z.producer_revenue - z.production_cost;
    }
    let countries = accounts::countries(&zt, flows.countries);
    let monthly_net_position = flows::monthly_net_positions(n, r, &zones);
    let welfare = Welfare {
        consumer_payments: zt.iter().map(|z| z.consumer_payments).sum(),
        producer_revenue: zt.iter().map(|z| z.producer_revenue).sum(),
        producer_surplus: zt.iter().map(|z| z.producer_surplus).sum(),
        congestion_rent: flows.total_rent,
        system_cost,
    };
    TradeReport {
        snapshots: n.snapshots.len(),
        first_snapshot: n.snapshots.names.first().cloned().unwrap_or_default(),
        last_snapshot: n.snapshots.names.last().cloned().unwrap_or_default(),
        co2_t: zt.iter().map(|z| z.co2_t).sum(),
        co2_limit: gridtrade_engine::report::co2_limit_summary(n, Some(r)),
        shed_mwh: zt.iter().map(|z| z.shed_mwh).sum(),
        zones: zt,
        borders: flows.borders,
        matrix: flows.matrix,
        welfare,
        countries,
        losses_mwh: flows.losses,
        monthly_net_position,
        security: security_summary(n, r, o),
        zone_prices,
    }
}

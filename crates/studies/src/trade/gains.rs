//! Gains from trade: a coupled solve against autarky, per country and for the region.

use super::TradeReport;
use serde::{Deserialize, Serialize};

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

//! Zones split into subzones, so that the synchronous ring's loops through them are in the
//! model (Uzbekistan: its 500 kV lines close the ring between Kazakhstan, Kyrgyzstan and
//! Tajikistan). The inputs are in `networks/sources/carec-grid/` (README there):
//!
//! - `subzones.csv`: the subzones of a zone and their map points;
//! - `subzone_demand.csv`: population by region, the proxy that shares the zone's demand;
//! - `subzone_fleet.csv`: plants by subzone, which share the zone's capacity per technology;
//! - `corridor_ends.csv`: the subzone each interconnector of a split zone lands in;
//! - `subzone_lines.csv`: the AC circuits between subzones.
//!
//! A zone with no row in `subzones.csv` stays one bus.

use std::path::Path;

use super::{read_csv, Res};

/// A subzone: a bus of the network in place of part of a zone.
#[derive(Debug, serde::Deserialize)]
pub struct Subzone {
    pub zone: String,
    pub subzone: String,
    pub lat: f64,
    pub lon: f64,
}

/// A region's population (persons), the share of demand it carries.
#[derive(Debug, serde::Deserialize)]
struct Region {
    zone: String,
    subzone: String,
    population: f64,
}

/// A plant's capacity (MW) in a subzone, counted for the listed technologies.
#[derive(Debug, serde::Deserialize)]
struct Plant {
    zone: String,
    technologies: String,
    subzone: String,
    capacity_mw: f64,
}

/// Where an interconnector lands in a split zone.
#[derive(Debug, serde::Deserialize)]
struct CorridorEnd {
    corridor: String,
    zone: String,
    bus: String,
}

/// One AC circuit between two subzones.
#[derive(Debug, serde::Deserialize)]
pub struct SubzoneLine {
    pub corridor: String,
    pub circuit: u32,
    pub bus0: String,
    pub bus1: String,
    pub voltage_kv: f64,
    pub length_km: f64,
    /// Rating, MW (an estimate: `carec-grid/README.md`).
    pub capacity_mw: f64,
    pub caps_ring_lines: String,
    pub status: String,
}

/// The split zones and what goes where.
pub struct Splits {
    pub subzones: Vec<Subzone>,
    regions: Vec<Region>,
    plants: Vec<Plant>,
    ends: Vec<CorridorEnd>,
    pub lines: Vec<SubzoneLine>,
}

impl Splits {
    /// Read the five files from `grid` and check that every subzone they name is declared
    /// in `subzones.csv` for the same zone.
    pub fn read(grid: &Path) -> Res<Splits> {
        let splits = Splits {
            subzones: read_csv(&grid.join("subzones.csv"))?,
            regions: read_csv(&grid.join("subzone_demand.csv"))?,
            plants: read_csv(&grid.join("subzone_fleet.csv"))?,
            ends: read_csv(&grid.join("corridor_ends.csv"))?,
            lines: read_csv(&grid.join("subzone_lines.csv"))?,
        };
        let named = splits
            .regions
            .iter()
            .map(|r| ("subzone_demand.csv", &r.zone, &r.subzone))
            .chain(
                splits
                    .plants
                    .iter()
                    .map(|p| ("subzone_fleet.csv", &p.zone, &p.subzone)),
            )
            .chain(
                splits
                    .ends
                    .iter()
                    .map(|e| ("corridor_ends.csv", &e.zone, &e.bus)),
            );
        for (file, zone, subzone) in named {
            splits.check(file, zone, subzone)?;
        }
        for l in &splits.lines {
            for bus in [&l.bus0, &l.bus1] {
                if !splits.subzones.iter().any(|s| &s.subzone == bus) {
                    return Err(
                        format!("subzone_lines.csv {}: unknown subzone {bus}", l.corridor).into(),
                    );
                }
            }
        }
        Ok(splits)
    }

    fn check(&self, file: &str, zone: &str, subzone: &str) -> Res<()> {
        match self.subzones.iter().find(|s| s.subzone == subzone) {
            Some(s) if s.zone == zone => Ok(()),
            Some(s) => {
                Err(format!("{file}: {subzone} is a subzone of {}, not {zone}", s.zone).into())
            }
            None => Err(format!("{file}: {subzone} is not in subzones.csv").into()),
        }
    }

    /// Whether `zone` is split into subzones.
    pub fn is_split(&self, zone: &str) -> bool {
        self.subzones.iter().any(|s| s.zone == zone)
    }

    /// The subzones of `zone`, in `subzones.csv`'s order.
    pub fn of<'a>(&'a self, zone: &'a str) -> impl Iterator<Item = &'a Subzone> + 'a {
        self.subzones.iter().filter(move |s| s.zone == zone)
    }

    /// The buses that take `zone`'s demand and their shares (summing to 1): the zone's own
    /// bus, or its subzones in proportion to their population.
    pub fn demand_shares(&self, zone: &str) -> Res<Vec<(String, f64)>> {
        self.shares(zone, "subzone_demand.csv", |sub| {
            self.regions
                .iter()
                .filter(|r| r.subzone == sub)
                .map(|r| r.population)
                .sum()
        })
    }

    /// The buses that take `zone`'s capacity of `technology` and their shares: the zone's
    /// own bus, or its subzones in proportion to the capacity of their plants of it.
    pub fn fleet_shares(&self, zone: &str, technology: &str) -> Res<Vec<(String, f64)>> {
        self.shares(zone, &format!("subzone_fleet.csv ({technology})"), |sub| {
            self.plants
                .iter()
                .filter(|p| p.subzone == sub)
                .filter(|p| p.technologies.split_whitespace().any(|t| t == technology))
                .map(|p| p.capacity_mw)
                .sum()
        })
    }

    /// Shares of the subzones of `zone` by `weight` (zero-weight subzones left out).
    fn shares(
        &self,
        zone: &str,
        what: &str,
        weight: impl Fn(&str) -> f64,
    ) -> Res<Vec<(String, f64)>> {
        if !self.is_split(zone) {
            return Ok(vec![(zone.to_string(), 1.0)]);
        }
        let weights: Vec<(String, f64)> = self
            .of(zone)
            .map(|s| (s.subzone.clone(), weight(&s.subzone)))
            .filter(|(_, w)| *w > 0.0)
            .collect();
        let total: f64 = weights.iter().map(|(_, w)| w).sum();
        if total <= 0.0 {
            return Err(
                format!("{what}: nothing places zone {zone}'s share in its subzones").into(),
            );
        }
        Ok(weights.into_iter().map(|(s, w)| (s, w / total)).collect())
    }

    /// The bus where interconnector `corridor` ends in `zone`.
    pub fn end(&self, corridor: &str, zone: &str) -> Res<String> {
        if !self.is_split(zone) {
            return Ok(zone.to_string());
        }
        self.ends
            .iter()
            .find(|e| e.corridor == corridor && e.zone == zone)
            .map(|e| e.bus.clone())
            .ok_or_else(|| format!("corridor_ends.csv: no subzone of {zone} for {corridor}").into())
    }
}

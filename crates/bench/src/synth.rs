//! A seeded synthetic network generator: any number of buses, zones and hours, written as a
//! PyPSA CSV folder that both gridtrade and PyPSA read, so any size can be benchmarked
//! without Python (`gridtrade synth`).
//!
//! The same `Spec` (seed included) always writes the same bytes. What it makes:
//! - buses placed uniformly in a 1000 km square, `zone` by vertical strips (`Z01`, ...);
//! - AC lines (220 kV, x = 0.3 Ω/km, r = 0.03 Ω/km): a chain through the buses sorted by
//!   position (so the grid is connected) plus each bus to its two nearest neighbours;
//!   ratings 600–2000 MW;
//! - one bidirectional lossless HVDC link between each pair of neighbouring zones;
//! - at each bus a load (hourly: a daily and a yearly cycle and noise), a thermal plant
//!   (coal, gas or oil; marginal costs spread so the merit order has no ties), and at
//!   alternating buses wind or solar with hourly availability; every fifth bus a 4-hour
//!   battery (cyclic state of charge); every bus a load-shedding generator at 3000/MWh, so
//!   every size is feasible;
//! - carriers with CO2 intensities.
//!
//! Values are rounded (profiles to 4 decimals, MW to 0.1) to keep files small; the file
//! contents are the network, so rounding changes nothing downstream.

use gridtrade_engine::error::Error;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write as _;
use std::path::Path;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spec {
    pub buses: usize,
    /// Zones (vertical strips); at most `buses`.
    pub zones: usize,
    /// Hourly snapshots from 2025-01-01 00:00.
    pub hours: usize,
    pub seed: u64,
    /// Congestion knob: the share of lines (0 to 1) rated 100–400 MW instead of 600–2000 MW,
    /// chosen with their own seeded draws (so 0 writes the same network as before the
    /// knob). More tight lines, more binding limits: the hard end of the PTDF form.
    pub congestion: f64,
}

impl Spec {
    /// `buses` buses in `buses / 10` zones (1 to 20), `hours` hours, seed 1.
    pub fn new(buses: usize, hours: usize) -> Spec {
        Spec {
            buses,
            zones: (buses / 10).clamp(1, 20),
            hours,
            seed: 1,
            congestion: 0.0,
        }
    }

    /// A folder name for this spec, e.g. `synth-50b-5z-168h-s1`, with `-c30` for a
    /// congestion of 0.3.
    pub fn name(&self) -> String {
        let congestion = if self.congestion > 0.0 {
            format!("-c{}", (self.congestion * 100.0).round())
        } else {
            String::new()
        };
        format!(
            "synth-{}b-{}z-{}h-s{}{congestion}",
            self.buses, self.zones, self.hours, self.seed
        )
    }
}

/// Load-shedding cost, currency/MWh.
pub const VOLL: f64 = 3000.0;

struct Bus {
    x: f64,
    y: f64,
    zone: usize,
}

/// Side of the square the buses are placed in, km.
const SIDE: f64 = 1000.0;

fn bus_name(i: usize) -> String {
    format!("B{:05}", i + 1)
}

fn zone_name(z: usize) -> String {
    format!("Z{:02}", z + 1)
}

fn dist(buses: &[Bus], a: usize, b: usize) -> f64 {
    ((buses[a].x - buses[b].x).powi(2) + (buses[a].y - buses[b].y).powi(2)).sqrt()
}

/// Write the network of `spec` into `dir` (created if missing; files it writes are
/// replaced). The random draws come in a fixed order (positions, line ratings, then each
/// bus's load, plants and storage), so a spec always gives the same bytes.
pub fn write(spec: &Spec, dir: &Path) -> Result<(), Error> {
    if !(0.0..=1.0).contains(&spec.congestion) {
        return Err(Error::option(
            "--congestion",
            format!("{}: must be a share from 0 to 1", spec.congestion),
        ));
    }
    if spec.buses < 2 || spec.hours == 0 || spec.zones == 0 || spec.zones > spec.buses {
        return Err(Error::option(
            "synth",
            format!(
                "{} buses, {} zones, {} hours: need at least 2 buses, 1 to buses zones, 1 hour",
                spec.buses, spec.zones, spec.hours
            ),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let buses: Vec<Bus> = (0..spec.buses)
        .map(|_| {
            let x: f64 = rng.random_range(0.0..SIDE);
            let y: f64 = rng.random_range(0.0..SIDE);
            let zone = ((x / SIDE * spec.zones as f64) as usize).min(spec.zones - 1);
            Bus { x, y, zone }
        })
        .collect();
    write_buses(dir, &buses)?;
    write_lines(dir, &buses, &mut rng, spec)?;
    write_links(dir, spec, &buses)?;
    let mut inj = Injections::new();
    for i in 0..spec.buses {
        inj.add_bus(i, spec.hours, &mut rng);
    }
    put(dir, "generators.csv", &inj.gens)?;
    put(dir, "loads.csv", &inj.loads)?;
    put(dir, "storage_units.csv", &inj.storage)?;
    write_series(dir, spec.hours, &inj)?;
    put(
        dir,
        "carriers.csv",
        "name,co2_emissions\ncoal,0.34\ngas,0.2\noil,0.26\nwind,0\nsolar,0\nbattery,0\nload_shedding,0\nAC,0\nDC,0\n",
    )?;
    Ok(())
}

fn write_buses(dir: &Path, buses: &[Bus]) -> Result<(), Error> {
    let mut out = String::from("name,v_nom,x,y,carrier,zone\n");
    for (i, b) in buses.iter().enumerate() {
        let _ = writeln!(
            out,
            "{},220,{:.1},{:.1},AC,{}",
            bus_name(i),
            b.x,
            b.y,
            zone_name(b.zone)
        );
    }
    put(dir, "buses.csv", &out)
}

/// Lines: a chain in (x, y) order (so the grid is connected), then each bus to its two
/// nearest neighbours; ratings drawn from 600–2000 MW, or for a share `spec.congestion` of
/// them (own draws) from 100–400 MW.
fn write_lines(dir: &Path, buses: &[Bus], rng: &mut ChaCha8Rng, spec: &Spec) -> Result<(), Error> {
    let mut tight = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x0C0_4E57);
    let n = buses.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        (buses[a].x, buses[a].y)
            .partial_cmp(&(buses[b].x, buses[b].y))
            .expect("finite")
    });
    let mut edges: Vec<(usize, usize)> = order.windows(2).map(|w| (w[0], w[1])).collect();
    for a in 0..n {
        let mut near: Vec<usize> = (0..n).filter(|&b| b != a).collect();
        near.sort_by(|&p, &q| dist(buses, a, p).total_cmp(&dist(buses, a, q)));
        for &b in near.iter().take(2) {
            edges.push((a.min(b), a.max(b)));
        }
    }
    for e in edges.iter_mut() {
        *e = (e.0.min(e.1), e.0.max(e.1));
    }
    edges.sort_unstable();
    edges.dedup();

    let mut out = String::from("name,bus0,bus1,x,r,s_nom,length\n");
    for (k, &(a, b)) in edges.iter().enumerate() {
        let km = dist(buses, a, b).max(5.0);
        let mut s_nom = (rng.random_range(600.0..2000.0_f64) / 10.0).round() * 10.0;
        if spec.congestion > 0.0 && tight.random_range(0.0..1.0) < spec.congestion {
            s_nom = (tight.random_range(100.0..400.0_f64) / 10.0).round() * 10.0;
        }
        let _ = writeln!(
            out,
            "L{:05},{},{},{:.3},{:.3},{},{:.1}",
            k + 1,
            bus_name(a),
            bus_name(b),
            0.3 * km,
            0.03 * km,
            s_nom,
            km
        );
    }
    put(dir, "lines.csv", &out)
}

/// One HVDC link between the closest buses of each pair of neighbouring zones.
fn write_links(dir: &Path, spec: &Spec, buses: &[Bus]) -> Result<(), Error> {
    let n = buses.len();
    let mut out = String::from("name,bus0,bus1,p_nom,p_min_pu,efficiency,carrier\n");
    for z in 1..spec.zones {
        let pair = (0..n)
            .filter(|&a| buses[a].zone == z - 1)
            .flat_map(|a| (0..n).filter(|&b| buses[b].zone == z).map(move |b| (a, b)))
            .min_by(|p, q| dist(buses, p.0, p.1).total_cmp(&dist(buses, q.0, q.1)));
        if let Some((a, b)) = pair {
            let _ = writeln!(
                out,
                "HVDC-{}-{},{},{},1000,-1,1,DC",
                zone_name(z - 1),
                zone_name(z),
                bus_name(a),
                bus_name(b)
            );
        }
    }
    put(dir, "links.csv", &out)
}

fn hour_of_day(t: usize) -> f64 {
    (t % 24) as f64
}

fn day_of_year(t: usize) -> f64 {
    ((t / 24) % 365) as f64
}

/// What each bus injects or takes: the static tables and the hourly series.
struct Injections {
    gens: String,
    pmax: Vec<(String, Vec<f64>)>,
    loads: String,
    load_p: Vec<(String, Vec<f64>)>,
    storage: String,
}

impl Injections {
    /// The tables with their headers, no rows yet.
    fn new() -> Injections {
        Injections {
            gens: String::from("name,bus,carrier,p_nom,marginal_cost,efficiency\n"),
            pmax: Vec::new(),
            loads: String::from("name,bus\n"),
            load_p: Vec::new(),
            storage: String::from(
                "name,bus,carrier,p_nom,max_hours,efficiency_store,efficiency_dispatch,cyclic_state_of_charge,marginal_cost\n",
            ),
        }
    }

    /// Bus i's load, thermal plant, wind or solar plant, load shedding and (every fifth
    /// bus) battery.
    fn add_bus(&mut self, i: usize, hours: usize, rng: &mut ChaCha8Rng) {
        let name = bus_name(i);
        // Load: 150–450 MW mean, a daily and a yearly cycle and noise.
        let mean: f64 = rng.random_range(150.0..450.0);
        let phase: f64 = rng.random_range(-1.0..1.0);
        let pi2 = std::f64::consts::TAU;
        let series: Vec<f64> = (0..hours)
            .map(|t| {
                let daily = 1.0 + 0.18 * (pi2 * (hour_of_day(t) - 7.0 + phase) / 24.0).sin();
                let yearly = 1.0 + 0.12 * (pi2 * day_of_year(t) / 365.0).cos();
                let noise = 1.0 + 0.04 * rng.random_range(-1.0..1.0_f64);
                (mean * daily * yearly * noise * 10.0).round() / 10.0
            })
            .collect();
        let peak = series.iter().cloned().fold(0.0, f64::max);
        let _ = writeln!(self.loads, "{name}-load,{name}");
        self.load_p.push((format!("{name}-load"), series));

        // A thermal plant covering most of the local peak.
        let (carrier, base_cost, eff) = match rng.random_range(0..3) {
            0 => ("coal", 25.0, 0.38),
            1 => ("gas", 45.0, 0.52),
            _ => ("oil", 80.0, 0.35),
        };
        let cost = base_cost + rng.random_range(0.0..15.0_f64);
        let _ = writeln!(
            self.gens,
            "{name}-{carrier},{name},{carrier},{:.1},{:.3},{eff}",
            (peak * rng.random_range(0.6..1.1) * 10.0).round() / 10.0,
            cost
        );
        let (re, profile) = renewable_profile(i, hours, rng);
        let _ = writeln!(
            self.gens,
            "{name}-{re},{name},{re},{:.1},{:.3},1",
            (mean * rng.random_range(0.3..1.0) * 10.0).round() / 10.0,
            rng.random_range(0.0..0.5_f64)
        );
        self.pmax.push((format!("{name}-{re}"), profile));
        let _ = writeln!(
            self.gens,
            "{name}-shed,{name},load_shedding,{:.1},{VOLL},1",
            (peak * 1.2 * 10.0).round() / 10.0
        );
        if i % 5 == 0 {
            let _ = writeln!(
                self.storage,
                "{name}-battery,{name},battery,{:.1},4,0.92,0.92,True,0.1",
                (mean * 0.3 * 10.0).round() / 10.0
            );
        }
    }
}

/// Wind (even buses: an autoregressive walk) or solar (odd buses: the sun's arc, the
/// season, clouds) availability per unit, rounded to 4 decimals.
fn renewable_profile(i: usize, hours: usize, rng: &mut ChaCha8Rng) -> (&'static str, Vec<f64>) {
    if i % 2 == 0 {
        let mut w: f64 = rng.random_range(0.2..0.6);
        let profile = (0..hours)
            .map(|_| {
                w = (0.9 * w + 0.1 * 0.4 + 0.12 * rng.random_range(-1.0..1.0_f64)).clamp(0.0, 1.0);
                (w * 1e4).round() / 1e4
            })
            .collect();
        ("wind", profile)
    } else {
        let pi2 = std::f64::consts::TAU;
        let profile = (0..hours)
            .map(|t| {
                let h = hour_of_day(t);
                let sun = if (6.0..18.0).contains(&h) {
                    (std::f64::consts::PI * (h - 6.0) / 12.0).sin()
                } else {
                    0.0
                };
                let season = 0.75 + 0.25 * (pi2 * (day_of_year(t) - 172.0) / 365.0).cos();
                let cloud = rng.random_range(0.6..1.0_f64);
                ((sun * season * cloud) * 1e4).round() / 1e4
            })
            .collect();
        ("solar", profile)
    }
}

/// Snapshot `t`'s name: hourly from 2025-01-01 00:00 (no leap years).
fn snapshot(t: usize) -> String {
    let day = t / 24;
    let (year, mut doy) = (2025 + day / 365, day % 365);
    const DAYS: [usize; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut month = 0;
    while doy >= DAYS[month] {
        doy -= DAYS[month];
        month += 1;
    }
    format!("{year}-{:02}-{:02} {:02}:00:00", month + 1, doy + 1, t % 24)
}

/// Snapshots and the hourly series of loads and generator availability.
fn write_series(dir: &Path, hours: usize, inj: &Injections) -> Result<(), Error> {
    let mut out = String::from("snapshot\n");
    for t in 0..hours {
        let _ = writeln!(out, "{}", snapshot(t));
    }
    put(dir, "snapshots.csv", &out)?;
    put(
        dir,
        "loads-p_set.csv",
        &series_table(&inj.load_p, hours, &snapshot),
    )?;
    put(
        dir,
        "generators-p_max_pu.csv",
        &series_table(&inj.pmax, hours, &snapshot),
    )
}

/// A PyPSA time-series table: `snapshot` then one column per element.
fn series_table(
    columns: &[(String, Vec<f64>)],
    hours: usize,
    snapshot: &dyn Fn(usize) -> String,
) -> String {
    let mut out = String::from("snapshot");
    for (name, _) in columns {
        out.push(',');
        out.push_str(name);
    }
    out.push('\n');
    for t in 0..hours {
        out.push_str(&snapshot(t));
        for (_, v) in columns {
            let _ = write!(out, ",{}", v[t]);
        }
        out.push('\n');
    }
    out
}

fn put(dir: &Path, file: &str, text: &str) -> Result<(), Error> {
    let path = dir.join(file);
    std::fs::write(&path, text).map_err(|source| Error::Io { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_spec_same_bytes_and_a_valid_network() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let spec = Spec::new(30, 48);
        write(&spec, a.path()).unwrap();
        write(&spec, b.path()).unwrap();
        for f in [
            "buses.csv",
            "lines.csv",
            "generators-p_max_pu.csv",
            "loads-p_set.csv",
        ] {
            assert_eq!(
                std::fs::read(a.path().join(f)).unwrap(),
                std::fs::read(b.path().join(f)).unwrap(),
                "{f}"
            );
        }
        let (n, findings) = gridtrade_engine::io::read(a.path()).unwrap();
        assert!(!findings.has_errors(), "{findings}");
        assert_eq!(n.buses.len(), 30);
        assert_eq!(n.snapshots.len(), 48);
        assert_eq!(n.zones().len(), 3);
        assert_eq!(n.links.len(), 2);
        assert_eq!(
            gridtrade_engine::topology::synchronous_areas(&n).len(),
            1,
            "one connected AC grid"
        );
        let other = tempfile::tempdir().unwrap();
        write(&Spec { seed: 2, ..spec }, other.path()).unwrap();
        assert_ne!(
            std::fs::read(a.path().join("buses.csv")).unwrap(),
            std::fs::read(other.path().join("buses.csv")).unwrap()
        );
    }
}

//! `networks/carec-plan`: the CAREC network with its planned and under-construction
//! interconnectors as capacity-expansion candidates (PyPSA's `*_nom_extendable`), costed from
//! `networks/sources/carec-grid/candidate_costs.csv`.
//!
//! The folder holds its own `links.csv`, `lines.csv` and `network.csv`; every other file is
//! a relative symbolic link to `networks/carec`'s (the same demand, fleet and profiles).
//!
//! A candidate link corridor becomes one link that works both ways (`p_min_pu = -1`) and is
//! lossless, so that one capacity serves both directions in PyPSA's own terms (its reverse
//! `:rev` link is dropped; a lossy two-way PyPSA link would gain power running backwards).
//! A candidate line keeps its impedance with `s_nom = 0` (PyPSA's extendable line: it carries
//! flow by Kirchhoff's laws within the rating chosen). Costs are PyPSA's `overnight_cost`,
//! `discount_rate` and `lifetime`, so the horizon's share of the annuity is charged; the fixed
//! O&M share is folded into the overnight cost (`capex × (annuity + fom) / annuity`), because
//! PyPSA's `fom_cost` is not scaled to the horizon.

use super::{read_csv, Res};
use std::collections::BTreeMap;
use std::path::Path;

/// One row of `candidate_costs.csv`.
#[derive(serde::Deserialize)]
struct CandidateCost {
    corridor: String,
    /// Capital cost of the whole project, million USD.
    capex_musd: f64,
    /// `sourced` or `estimate`.
    basis: String,
    discount_rate: f64,
    lifetime_years: f64,
    /// Fixed O&M per year as a share of the capital cost.
    fom_share_per_year: f64,
}

/// The cost columns a candidate gets: PyPSA's overnight cost per MW (USD/MW, the fixed O&M
/// folded in), discount rate and lifetime.
struct Costing {
    overnight_per_mw: f64,
    discount_rate: f64,
    lifetime_years: f64,
}

impl CandidateCost {
    fn costing(&self, capacity_mw: f64) -> Res<Costing> {
        if !(capacity_mw > 0.0 && self.capex_musd > 0.0 && self.lifetime_years > 0.0) {
            return Err(format!(
                "candidate_costs.csv {}: capacity, capex and lifetime must be > 0",
                self.corridor
            )
            .into());
        }
        if self.basis != "sourced" && self.basis != "estimate" {
            return Err(format!(
                "candidate_costs.csv {}: basis `{}` is neither sourced nor estimate",
                self.corridor, self.basis
            )
            .into());
        }
        let r = self.discount_rate;
        let annuity = if r == 0.0 {
            1.0 / self.lifetime_years
        } else {
            r / (1.0 - (1.0 + r).powf(-self.lifetime_years))
        };
        let per_mw = self.capex_musd * 1e6 / capacity_mw;
        Ok(Costing {
            overnight_per_mw: per_mw * (annuity + self.fom_share_per_year) / annuity,
            discount_rate: r,
            lifetime_years: self.lifetime_years,
        })
    }
}

/// Files of `networks/carec` that the plan network shares (symbolic links).
const SHARED: &[&str] = &[
    "buses.csv",
    "carriers.csv",
    "generators.csv",
    "generators-p_max_pu.csv",
    "loads.csv",
    "loads-p_set.csv",
    "snapshots.csv",
    "storage_units.csv",
    "storage_units-inflow.csv",
];

/// Write `plan` from the network just written to `base` and the candidate costs in `grid`.
/// Returns the number of candidates.
pub fn write(base: &Path, grid: &Path, plan: &Path) -> Res<usize> {
    let costs: Vec<CandidateCost> = read_csv(&grid.join("candidate_costs.csv"))?;
    let costs: BTreeMap<&str, &CandidateCost> =
        costs.iter().map(|c| (c.corridor.as_str(), c)).collect();
    std::fs::create_dir_all(plan)?;
    let base_name = base.file_name().ok_or("the network folder has no name")?;
    for file in SHARED {
        let link = plan.join(file);
        if link.symlink_metadata().is_ok() {
            std::fs::remove_file(&link)?;
        }
        std::os::unix::fs::symlink(Path::new("..").join(base_name).join(file), &link)?;
    }
    std::fs::write(plan.join("network.csv"), "name,srid\ncarec-plan,4326\n")?;
    let mut used = Vec::new();
    rewrite(
        &base.join("links.csv"),
        &plan.join("links.csv"),
        &costs,
        &mut used,
        link_candidate,
    )?;
    rewrite(
        &base.join("lines.csv"),
        &plan.join("lines.csv"),
        &costs,
        &mut used,
        line_candidate,
    )?;
    if let Some(c) = costs.keys().find(|c| !used.contains(&c.to_string())) {
        return Err(format!("candidate_costs.csv: corridor {c} is not a planned or under-construction link or line of the network").into());
    }
    Ok(used.len())
}

/// How a candidate corridor's row (by column name) changes with its cost; false drops the
/// row.
type Candidate = fn(&mut BTreeMap<String, String>, &CandidateCost) -> Res<bool>;

/// The extra columns of the plan network's links and lines, with the value of a row that is
/// not a candidate (PyPSA's defaults; empty is NaN: no overnight cost).
const PLAN_COLUMNS: &[(&str, &str)] = &[
    ("p_min_pu", ""),
    ("extendable", "False"),
    ("max", "inf"),
    ("overnight_cost", ""),
    ("discount_rate", ""),
    ("lifetime", "inf"),
];

/// Copy the table `from` to `to` with [`PLAN_COLUMNS`] added (`extendable` and `max` named
/// `p_nom_*` for links, `s_nom_*` for lines; lines take no `p_min_pu`), applying `candidate`
/// to the rows of corridors in `costs`.
fn rewrite(
    from: &Path,
    to: &Path,
    costs: &BTreeMap<&str, &CandidateCost>,
    used: &mut Vec<String>,
    candidate: Candidate,
) -> Res<()> {
    let mut r = csv::Reader::from_path(from)?;
    let header: Vec<String> = r.headers()?.iter().map(str::to_string).collect();
    let is_link = header.iter().any(|h| h == "p_nom");
    let nom = if is_link { "p_nom" } else { "s_nom" };
    let column = |c: &str| match c {
        "p_min_pu" if !is_link => None,
        "p_min_pu" => Some("p_min_pu".to_string()),
        "extendable" | "max" => Some(format!("{nom}_{c}")),
        other => Some(other.to_string()),
    };
    let extra: Vec<(String, &str)> = PLAN_COLUMNS
        .iter()
        .filter_map(|(c, v)| column(c).map(|c| (c, *v)))
        .collect();
    let mut w = csv::Writer::from_path(to)?;
    let mut out_header = header.clone();
    out_header.extend(extra.iter().map(|(c, _)| c.clone()));
    w.write_record(&out_header)?;
    for record in r.records() {
        let record = record?;
        let mut row: BTreeMap<String, String> = header
            .iter()
            .cloned()
            .zip(record.iter().map(str::to_string))
            .collect();
        for (c, v) in &extra {
            row.insert(c.clone(), v.to_string());
        }
        if row.get("p_min_pu").is_some_and(|v| v.is_empty()) {
            row.insert("p_min_pu".into(), "0".into());
        }
        let corridor = row.get("corridor").cloned().unwrap_or_default();
        if let Some(cost) = costs.get(corridor.as_str()) {
            if !candidate(&mut row, cost)? {
                continue;
            }
            used.push(corridor);
        }
        if row.len() != out_header.len() {
            return Err(format!(
                "{}: a candidate row has columns the table lacks",
                to.display()
            )
            .into());
        }
        w.write_record(out_header.iter().map(|h| row[h].as_str()))?;
    }
    w.flush()?;
    Ok(())
}

/// A candidate link: both ways, lossless, from 0 MW up to its planned capacity; its `:rev`
/// twin is dropped.
fn link_candidate(row: &mut BTreeMap<String, String>, cost: &CandidateCost) -> Res<bool> {
    if row["name"].ends_with(":rev") {
        return Ok(false);
    }
    let capacity: f64 = row["p_nom"].parse()?;
    let c = cost.costing(capacity)?;
    for (k, v) in [
        ("p_nom", "0".to_string()),
        ("efficiency", "1".into()),
        ("p_min_pu", "-1".into()),
        ("active", "True".into()),
        ("p_nom_extendable", "True".into()),
        ("p_nom_max", super::num(capacity)),
        ("overnight_cost", super::num(c.overnight_per_mw)),
        ("discount_rate", super::num(c.discount_rate)),
        ("lifetime", super::num(c.lifetime_years)),
    ] {
        row.insert(k.into(), v);
    }
    Ok(true)
}

/// A candidate line: its impedance, from 0 MW up to its planned rating.
fn line_candidate(row: &mut BTreeMap<String, String>, cost: &CandidateCost) -> Res<bool> {
    let capacity: f64 = row["s_nom"].parse()?;
    let c = cost.costing(capacity)?;
    for (k, v) in [
        ("s_nom", "0".to_string()),
        ("active", "True".into()),
        ("s_nom_extendable", "True".into()),
        ("s_nom_max", super::num(capacity)),
        ("overnight_cost", super::num(c.overnight_per_mw)),
        ("discount_rate", super::num(c.discount_rate)),
        ("lifetime", super::num(c.lifetime_years)),
    ] {
        row.insert(k.into(), v);
    }
    Ok(true)
}

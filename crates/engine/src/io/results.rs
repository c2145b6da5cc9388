//! Write results as a folder of CSV files named as PyPSA names its time series,
//! `<component>_t-<attr>.csv`: one row per snapshot, one column per element; with capacity
//! expansion also `<component>.csv` with each element's `p_nom_opt` / `s_nom_opt`.
//!
//! Signs follow PyPSA: `p0` is the power entering the branch or link at bus0, `p1` the power
//! entering at bus1 (so `p1 = -p0` on a lossless line and `p1 = -efficiency * p0` on a link);
//! `mu_upper` / `mu_lower` are the shadow prices of the upper and lower flow limits
//! (currency/MWh, ≥ 0).

use crate::error::Error;
use crate::network::{BranchKind, Network};
use crate::solution::{Results, Table};
use std::path::Path;

/// Write every result table into `dir` (created if missing). Returns the files written.
pub fn write_folder(dir: &Path, n: &Network, r: &Results) -> Result<Vec<String>, Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    let mut put = |file: &str, names: Vec<&str>, table: Table| -> Result<(), Error> {
        write_table(&dir.join(file), n, &names, &table)?;
        written.push(file.to_string());
        Ok(())
    };
    let bus_names: Vec<&str> = n.buses.iter().map(|b| b.name.as_str()).collect();
    put(
        "buses_t-marginal_price.csv",
        bus_names.clone(),
        r.bus_price.clone(),
    )?;
    if r.bus_shed.iter().any(|s| s.iter().any(|v| *v != 0.0)) {
        put("buses_t-load_shed.csv", bus_names, r.bus_shed.clone())?;
    }
    let gen_names: Vec<&str> = n.generators.iter().map(|g| g.name.as_str()).collect();
    put("generators_t-p.csv", gen_names.clone(), r.gen_p.clone())?;
    put(
        "generators_t-curtailment.csv",
        gen_names,
        r.gen_curtailment.clone(),
    )?;

    for (kind, component) in [
        (BranchKind::Line, "lines"),
        (BranchKind::Transformer, "transformers"),
    ] {
        let idx: Vec<usize> = (0..n.branches.len())
            .filter(|&i| n.branches[i].kind == kind)
            .collect();
        if idx.is_empty() {
            continue;
        }
        let names: Vec<&str> = idx.iter().map(|&i| n.branches[i].name.as_str()).collect();
        let pick = |t: &Table| idx.iter().map(|&i| t[i].clone()).collect::<Table>();
        let p0 = pick(&r.branch_p0);
        let p1 = p0.iter().map(|v| v.iter().map(|x| -x).collect()).collect();
        let (upper, lower) = split_mu(&p0, &pick(&r.branch_mu));
        put(&format!("{component}_t-p0.csv"), names.clone(), p0)?;
        put(&format!("{component}_t-p1.csv"), names.clone(), p1)?;
        put(&format!("{component}_t-mu_upper.csv"), names.clone(), upper)?;
        put(&format!("{component}_t-mu_lower.csv"), names, lower)?;
    }
    if !n.links.is_empty() {
        let names: Vec<&str> = n.links.iter().map(|l| l.name.as_str()).collect();
        let p1 = r
            .link_p1
            .iter()
            .map(|v| v.iter().map(|x| -x).collect())
            .collect();
        let (upper, lower) = split_mu(&r.link_p0, &r.link_mu);
        put("links_t-p0.csv", names.clone(), r.link_p0.clone())?;
        put("links_t-p1.csv", names.clone(), p1)?;
        put("links_t-mu_upper.csv", names.clone(), upper)?;
        put("links_t-mu_lower.csv", names, lower)?;
    }
    if !n.storage_units.is_empty() {
        let names: Vec<&str> = n.storage_units.iter().map(|s| s.name.as_str()).collect();
        put("storage_units_t-p.csv", names.clone(), r.su_p.clone())?;
        put(
            "storage_units_t-p_dispatch.csv",
            names.clone(),
            r.su_dispatch.clone(),
        )?;
        put(
            "storage_units_t-p_store.csv",
            names.clone(),
            r.su_store.clone(),
        )?;
        put(
            "storage_units_t-state_of_charge.csv",
            names.clone(),
            r.su_soc.clone(),
        )?;
        put(
            "storage_units_t-spill.csv",
            names.clone(),
            r.su_spill.clone(),
        )?;
        put(
            "storage_units_t-water_value.csv",
            names,
            r.su_water_value.clone(),
        )?;
    }
    if !n.stores.is_empty() {
        let names: Vec<&str> = n.stores.iter().map(|s| s.name.as_str()).collect();
        put("stores_t-p.csv", names.clone(), r.store_p.clone())?;
        put("stores_t-e.csv", names, r.store_e.clone())?;
    }
    if n.has_expansion() {
        written.extend(write_capacities(dir, n, r)?);
    }
    Ok(written)
}

/// The capacities after the optimisation as PyPSA names them, one static file per
/// component with `name,<p|s|e>_nom_opt` (MW; MWh for stores): `generators.csv`,
/// `lines.csv`, `transformers.csv`, `links.csv`, `storage_units.csv`, `stores.csv`
/// (components with elements only).
fn write_capacities(dir: &Path, n: &Network, r: &Results) -> Result<Vec<String>, Error> {
    let kind_of = |kind: BranchKind| -> (Vec<&str>, Vec<f64>) {
        n.branches
            .iter()
            .zip(&r.branch_s_nom_opt)
            .filter(|(b, _)| b.kind == kind)
            .map(|(b, v)| (b.name.as_str(), *v))
            .unzip()
    };
    let (lines, line_opt) = kind_of(BranchKind::Line);
    let (transformers, transformer_opt) = kind_of(BranchKind::Transformer);
    let files = [
        (
            "generators.csv",
            "p_nom_opt",
            n.generators.iter().map(|g| g.name.as_str()).collect(),
            r.gen_p_nom_opt.clone(),
        ),
        ("lines.csv", "s_nom_opt", lines, line_opt),
        (
            "transformers.csv",
            "s_nom_opt",
            transformers,
            transformer_opt,
        ),
        (
            "links.csv",
            "p_nom_opt",
            n.links.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
            r.link_p_nom_opt.clone(),
        ),
        (
            "storage_units.csv",
            "p_nom_opt",
            n.storage_units.iter().map(|s| s.name.as_str()).collect(),
            r.su_p_nom_opt.clone(),
        ),
        (
            "stores.csv",
            "e_nom_opt",
            n.stores.iter().map(|s| s.name.as_str()).collect(),
            r.store_e_nom_opt.clone(),
        ),
    ];
    let mut written = Vec::new();
    for (file, attr, names, values) in files {
        if names.is_empty() {
            continue;
        }
        let path = dir.join(file);
        write_static(&path, attr, &names, &values)?;
        written.push(file.to_string());
    }
    Ok(written)
}

/// A static table `name,<attr>` with one row per element.
fn write_static(path: &Path, attr: &str, names: &[&str], values: &[f64]) -> Result<(), Error> {
    let io = |e: csv::Error| Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    };
    let mut w = csv::Writer::from_path(path).map_err(io)?;
    w.write_record(["name", attr]).map_err(io)?;
    let mut ryu = ryu::Buffer::new();
    for (name, v) in names.iter().zip(values) {
        w.write_record([*name, ryu.format(*v)]).map_err(io)?;
    }
    w.flush().map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A binding limit's shadow price belongs to the upper limit when the flow is positive and
/// to the lower limit when it is negative.
fn split_mu(p0: &Table, mu: &Table) -> (Table, Table) {
    let part = |upper: bool| {
        p0.iter()
            .zip(mu)
            .map(|(p, m)| {
                p.iter()
                    .zip(m)
                    .map(|(p, m)| if (*p >= 0.0) == upper { *m } else { 0.0 })
                    .collect()
            })
            .collect()
    };
    (part(true), part(false))
}

fn write_table(path: &Path, n: &Network, names: &[&str], table: &Table) -> Result<(), Error> {
    let io = |e: csv::Error| Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    };
    let mut w = csv::Writer::from_path(path).map_err(io)?;
    let mut header = vec!["snapshot"];
    header.extend_from_slice(names);
    w.write_record(&header).map_err(io)?;
    let mut ryu = ryu::Buffer::new();
    for (t, snap) in n.snapshots.names.iter().enumerate() {
        let mut rec = csv::StringRecord::new();
        rec.push_field(snap);
        for col in table {
            let v = col[t];
            if v.is_nan() {
                rec.push_field("");
            } else {
                rec.push_field(ryu.format(v));
            }
        }
        w.write_record(&rec).map_err(io)?;
    }
    w.flush().map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

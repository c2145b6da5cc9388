//! MATPOWER case files (`.m`): the version 2 `mpc` struct and the version 1 function form
//! (`function [baseMVA, bus, gen, branch, areas, gencost] = case`).
//!
//! Why our own parser and not `powerio`: powerio 0.11 only recognises `mpc.<field> = ...`
//! assignments, so version 1 cases such as MATPOWER's own `t_case9_opf.m` do not parse, and
//! it brings a large dependency tree (zip, XML, UUIDs) for the few matrices a DC-OPF needs.
//!
//! Conversion to the network model (MATPOWER column names from `caseformat`):
//! - bus `BUS_I` becomes the bus name, `BUS_AREA` the zone, `BASE_KV` the nominal voltage;
//!   bus type 4 (isolated) is out of service. `PD` becomes load `load_<bus>`, and the shunt
//!   conductance `GS` (MW consumed at V = 1 p.u.) load `shunt_<bus>`.
//! - generator row k becomes `gen<k>` with `PMIN <= p <= PMAX`; `GEN_STATUS <= 0` is out of
//!   service. Costs: model 2 polynomial (linear and constant terms; a quadratic term is kept
//!   and refused at solve time unless a piecewise-linear approximation is asked for), model 1
//!   piecewise linear through its points.
//! - branch row k becomes `branch<k>`, a transformer when it has a tap or a phase shift;
//!   `x` and `r` go from per unit on `baseMVA` to per unit on 1 MVA; `RATE_A = 0` is
//!   unlimited; `TAP = 0` means 1; `ANGMIN`/`ANGMAX` of 0 or beyond ±360° mean no limit.
//! - `dcline` row k becomes link `dcline<k>` from `F_BUS` to `T_BUS` with
//!   `PMIN <= p0 <= PMAX` and efficiency `1 - LOSS1` (a constant `LOSS0` is reported and
//!   left out).

use crate::error::{Error, Findings};
use crate::network::{
    Branch, BranchKind, Bus, CostCurve, Generator, Link, Load, Network, Origin, Series, Snapshots,
};
use crate::validate::{number_problem, MAX_MAGNITUDE};
use petgraph::graph::EdgeIndex;
use std::collections::HashMap;
use std::path::Path;

/// A numeric matrix as written in the file, with the line of each row.
#[derive(Debug, Default)]
struct Matrix {
    rows: Vec<(usize, Vec<f64>)>,
}

/// Read a MATPOWER case file.
pub fn read_file(path: &Path) -> Result<(Network, Findings), Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let file = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    parse(&file, &text)
}

/// Smallest system base accepted, MVA: branch impedances are divided by it.
pub const MIN_BASE_MVA: f64 = 1e-3;

/// Parse the text of a MATPOWER case; `file` names it in messages.
pub fn parse(file: &str, text: &str) -> Result<(Network, Findings), Error> {
    let mut f = Findings::default();
    let assignments = scan(file, text, &mut f);
    let name = case_name(text).unwrap_or_else(|| file.trim_end_matches(".m").to_string());
    let get = |field: &str| assignments.get(field);

    let base_mva = match get("baseMVA").and_then(|m| m.rows.first()) {
        Some((_, v))
            if v.len() == 1 && v[0] >= MIN_BASE_MVA && number_problem(v[0], false).is_none() =>
        {
            v[0]
        }
        Some((line, _)) => {
            f.error(
                Origin::new(file, *line),
                None,
                Some("baseMVA"),
                format!("must be one number from {MIN_BASE_MVA} to {MAX_MAGNITUDE:e}"),
            );
            100.0
        }
        None => {
            f.error(file, None, Some("baseMVA"), "missing");
            100.0
        }
    };
    let (Some(bus), Some(gen), Some(branch)) = (get("bus"), get("gen"), get("branch")) else {
        let missing: Vec<&str> = ["bus", "gen", "branch"]
            .into_iter()
            .filter(|m| get(m).is_none())
            .collect();
        f.error(
            file,
            None,
            None,
            format!("missing matrix {}: not a MATPOWER case", missing.join(", ")),
        );
        return Err(Error::Invalid(f));
    };

    let mut n = Network::new(name, Snapshots::hourly(1));
    std::sync::Arc::make_mut(&mut n.snapshots).names = vec!["now".into()];
    n.format = crate::network::SourceFormat::Matpower;
    let mut c = Converter {
        file,
        f: &mut f,
        base_mva,
    };
    c.buses(&mut n, bus);
    c.generators(&mut n, gen, get("gencost"));
    c.branches(&mut n, branch);
    if let Some(dc) = get("dcline") {
        c.dclines(&mut n, dc);
    }
    Ok((n, f))
}

/// The function name of the case, e.g. `pglib_opf_case5_pjm`.
fn case_name(text: &str) -> Option<String> {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("function"))?;
    let rhs = line.split_once('=')?.1.trim();
    let end = rhs
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rhs.len());
    (end > 0).then(|| rhs[..end].to_string())
}

/// Remove a `%` comment, leaving quoted strings alone.
fn strip_comment(line: &str) -> &str {
    // Most lines have neither: find the first `%` or quote by bytes, and only walk the
    // characters when a quote comes first.
    match line.bytes().position(|b| b == b'%' || b == b'\'') {
        None => return line,
        Some(i) if line.as_bytes()[i] == b'%' => return &line[..i],
        Some(_) => {}
    }
    let mut in_quote = false;
    for (i, ch) in line.char_indices() {
        match ch {
            '\'' => in_quote = !in_quote,
            '%' if !in_quote => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Find `name = [ ... ];` and `name = number;` assignments (with or without `mpc.`).
/// Cell arrays and strings are skipped. Matrix rows end at `;` or at the end of a line.
fn scan(file: &str, text: &str, f: &mut Findings) -> HashMap<String, Matrix> {
    let mut out: HashMap<String, Matrix> = HashMap::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((i, raw)) = lines.next() {
        let line = strip_comment(raw).trim();
        let Some((lhs, rhs)) = line.split_once('=') else {
            continue;
        };
        let lhs = lhs.trim();
        let field = lhs.strip_prefix("mpc.").unwrap_or(lhs);
        if field.is_empty() || !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let rhs = rhs.trim();
        let mut m = Matrix::default();
        if let Some(body) = rhs.strip_prefix('[') {
            // Read the body line by line up to the closing bracket.
            let (mut line_no, mut piece, mut closed) = (i + 1, body, false);
            loop {
                let end = piece.find(']');
                read_rows(
                    file,
                    field,
                    line_no,
                    &piece[..end.unwrap_or(piece.len())],
                    &mut m,
                    f,
                );
                if end.is_some() {
                    closed = true;
                    break;
                }
                let Some((j, raw)) = lines.next() else { break };
                (line_no, piece) = (j + 1, strip_comment(raw));
            }
            if !closed {
                f.error(
                    Origin::new(file, i + 1),
                    None,
                    Some(field),
                    "matrix has no closing `]`",
                );
            }
        } else if rhs.starts_with('{') || rhs.starts_with('\'') || rhs.starts_with('"') {
            // Cell arrays (bus names) and strings (version): skip a multi-line cell array.
            if rhs.starts_with('{') && !rhs.contains('}') {
                for (_, raw) in lines.by_ref() {
                    if strip_comment(raw).contains('}') {
                        break;
                    }
                }
            }
            continue;
        } else {
            let value = rhs.trim_end_matches(';').trim();
            match parse_number(value) {
                Some(v) => m.rows.push((i + 1, vec![v])),
                None => continue, // not a numeric scalar (e.g. a function call)
            }
        }
        out.insert(field.to_string(), m);
    }
    out
}

/// Append the matrix rows in one line's `text` to `m`: rows end at `;` or at the end of the
/// line, cells are separated by blanks or commas, and `...` (MATLAB's continuation) reads
/// as a blank.
fn read_rows(
    file: &str,
    field: &str,
    line_no: usize,
    text: &str,
    m: &mut Matrix,
    f: &mut Findings,
) {
    let blanked;
    let text = if text.contains("...") {
        blanked = text.replace("...", " ");
        blanked.as_str()
    } else {
        text
    };
    for row in text.split(';') {
        let width = m.rows.last().map_or(0, |(_, v)| v.len());
        let mut values = Vec::with_capacity(width);
        for cell in row.split_ascii_whitespace().flat_map(|s| s.split(',')) {
            if cell.is_empty() {
                continue;
            }
            match parse_number(cell) {
                Some(v) => values.push(v),
                None => {
                    f.error(
                        Origin::new(file, line_no),
                        Some(format!("{field} row")),
                        None,
                        format!("`{cell}` is not a number"),
                    );
                    values.push(f64::NAN);
                }
            }
        }
        if !values.is_empty() {
            m.rows.push((line_no, values));
        }
    }
}

fn parse_number(s: &str) -> Option<f64> {
    match s {
        "Inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" | "nan" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

struct Converter<'a> {
    file: &'a str,
    f: &'a mut Findings,
    base_mva: f64,
}

impl Converter<'_> {
    /// Check a row has at least `need` finite columns; report and skip it otherwise.
    fn row_ok(&mut self, table: &str, k: usize, line: usize, row: &[f64], need: usize) -> bool {
        if row.len() < need {
            self.f.error(
                Origin::new(self.file, line),
                Some(format!("{table} row {k}")),
                None,
                format!("{} columns, at least {need} expected", row.len()),
            );
            return false;
        }
        if let Some(c) = row.iter().position(|v| v.is_nan()) {
            self.f.error(
                Origin::new(self.file, line),
                Some(format!("{table} row {k}")),
                Some(&format!("column {}", c + 1)),
                "not a number",
            );
            return false;
        }
        true
    }

    fn bus_of(
        &mut self,
        n: &Network,
        id: f64,
        what: &str,
        line: usize,
        field: &str,
    ) -> Option<usize> {
        let name = format_id(id);
        let found = n.bus_id(&name);
        if found.is_none() {
            self.f.error(
                Origin::new(self.file, line),
                Some(what.to_string()),
                Some(field),
                format!("unknown bus {name}"),
            );
        }
        found
    }

    fn buses(&mut self, n: &mut Network, bus: &Matrix) {
        for (k, (line, row)) in bus.rows.iter().enumerate() {
            if !self.row_ok("bus", k + 1, *line, row, 13) {
                continue;
            }
            let name = format_id(row[0]);
            let ok = n
                .add_bus(Bus {
                    name: name.clone(),
                    zone: format_id(row[6]),
                    country: format_id(row[6]),
                    v_nom: row[9],
                    carrier: "AC".into(),
                    x: 0.0,
                    y: 0.0,
                    in_service: row[1] != 4.0,
                    origin: Origin::new(self.file, *line),
                })
                .is_some();
            if !ok {
                self.f.error(
                    Origin::new(self.file, *line),
                    Some(format!("bus {name}")),
                    Some("BUS_I"),
                    format!("duplicate bus number {name}"),
                );
                continue;
            }
            let id = n.buses.len() - 1;
            for (prefix, value) in [("load", row[2]), ("shunt", row[4])] {
                if value != 0.0 {
                    n.loads.push(Load {
                        name: format!("{prefix}_{name}"),
                        bus: id,
                        p_set: Series::Static(value),
                        in_service: n.buses[id].in_service,
                        origin: Origin::new(self.file, *line),
                    });
                }
            }
        }
    }

    fn generators(&mut self, n: &mut Network, gen: &Matrix, gencost: Option<&Matrix>) {
        if let Some(gc) = gencost {
            if gc.rows.len() != gen.rows.len() && gc.rows.len() != 2 * gen.rows.len() {
                self.f.error(
                    Origin::new(self.file, gc.rows.first().map(|r| r.0).unwrap_or(0)),
                    None,
                    Some("gencost"),
                    format!(
                        "{} rows for {} generators (need one per generator, or two with reactive costs)",
                        gc.rows.len(),
                        gen.rows.len()
                    ),
                );
                return;
            }
        } else {
            self.f.warning(
                self.file,
                None,
                Some("gencost"),
                "no gencost matrix: every generator costs nothing",
            );
        }
        for (k, (line, row)) in gen.rows.iter().enumerate() {
            let what = format!("generator gen{} (gen row {})", k + 1, k + 1);
            if !self.row_ok("gen", k + 1, *line, row, 10) {
                continue;
            }
            let Some(bus) = self.bus_of(n, row[0], &what, *line, "GEN_BUS") else {
                continue;
            };
            let cost = match gencost.map(|gc| &gc.rows[k]) {
                None => CostCurve::linear(0.0),
                Some((cline, c)) => match self.cost(&format!("gencost row {}", k + 1), *cline, c) {
                    Some(cost) => cost,
                    None => continue,
                },
            };
            let (pmax, pmin) = (row[8], row[9]);
            let p_nom = pmax.abs().max(pmin.abs());
            let per_unit = |p: f64| if p_nom > 0.0 { p / p_nom } else { 0.0 };
            n.generators.push(Generator {
                name: format!("gen{}", k + 1),
                bus,
                carrier: String::new(),
                p_nom,
                p_min_pu: Series::Static(per_unit(pmin)),
                p_max_pu: Series::Static(per_unit(pmax)),
                cost,
                efficiency: 1.0,
                expansion: None,
                in_service: row[7] > 0.0 && n.buses[bus].in_service,
                origin: Origin::new(self.file, *line),
            });
        }
    }

    /// One gencost row: model 1 (piecewise linear) or model 2 (polynomial, degree ≤ 2).
    fn cost(&mut self, what: &str, line: usize, c: &[f64]) -> Option<CostCurve> {
        let origin = Origin::new(self.file, line);
        if c.len() < 4 || c.iter().any(|v| !v.is_finite()) {
            self.f.error(
                origin,
                Some(what.into()),
                None,
                "needs MODEL, STARTUP, SHUTDOWN, NCOST and finite coefficients",
            );
            return None;
        }
        // NCOST counts numbers that follow on the row: a whole number no larger than what
        // is there (checked before any arithmetic, so a huge NCOST cannot overflow an index).
        let given = c.len() - 4;
        if c[3] < 0.0 || c[3].fract() != 0.0 || c[3] > given as f64 {
            self.f.error(
                origin,
                Some(what.into()),
                Some("NCOST"),
                format!(
                    "{:?}: must be a whole number of coefficients, at most the {given} given",
                    c[3]
                ),
            );
            return None;
        }
        let ncost = c[3] as usize;
        let model = if c[0].fract() == 0.0 { c[0] as i64 } else { -1 };
        match model {
            2 => {
                if c.len() < 4 + ncost {
                    self.f.error(
                        origin,
                        Some(what.into()),
                        Some("NCOST"),
                        format!("{ncost} coefficients announced, {} given", c.len() - 4),
                    );
                    return None;
                }
                let coef = &c[4..4 + ncost];
                // coef = [c(n-1) ... c1 c0]
                let at = |deg: usize| -> f64 {
                    if deg < ncost {
                        coef[ncost - 1 - deg]
                    } else {
                        0.0
                    }
                };
                if (3..ncost).any(|deg| at(deg) != 0.0) {
                    self.f.error(
                        origin,
                        Some(what.into()),
                        Some("COST"),
                        "polynomial of degree above 2 is not supported",
                    );
                    return None;
                }
                Some(CostCurve::Polynomial {
                    marginal_cost: Series::Static(at(1)),
                    marginal_cost_quadratic: at(2),
                    constant: at(0),
                })
            }
            1 => {
                if ncost < 2 || c.len() < 4 + 2 * ncost {
                    self.f.error(origin, Some(what.into()), Some("NCOST"), format!("piecewise-linear cost needs at least 2 points; {ncost} announced, {} numbers given", c.len() - 4));
                    return None;
                }
                let points: Vec<(f64, f64)> =
                    (0..ncost).map(|i| (c[4 + 2 * i], c[5 + 2 * i])).collect();
                Some(CostCurve::PiecewiseLinear(points))
            }
            _ => {
                self.f.error(
                    origin,
                    Some(what.into()),
                    Some("MODEL"),
                    format!(
                        "cost model {}: must be 1 (piecewise linear) or 2 (polynomial)",
                        c[0]
                    ),
                );
                None
            }
        }
    }

    fn branches(&mut self, n: &mut Network, branch: &Matrix) {
        for (k, (line, row)) in branch.rows.iter().enumerate() {
            let name = format!("branch{}", k + 1);
            let what = format!("branch {name} (branch row {})", k + 1);
            if !self.row_ok("branch", k + 1, *line, row, 11) {
                continue;
            }
            let b0 = self.bus_of(n, row[0], &what, *line, "F_BUS");
            let b1 = self.bus_of(n, row[1], &what, *line, "T_BUS");
            let (Some(bus0), Some(bus1)) = (b0, b1) else {
                continue;
            };
            let (tap, shift) = (row[8], row[9]);
            let angle = |deg: Option<&f64>, lower: bool| -> Option<f64> {
                let d = *deg?;
                let unlimited = d == 0.0 || (lower && d <= -360.0) || (!lower && d >= 360.0);
                (!unlimited).then(|| d.to_radians())
            };
            let rate_a = row[5];
            n.add_branch(Branch {
                name,
                kind: if tap != 0.0 || shift != 0.0 {
                    BranchKind::Transformer
                } else {
                    BranchKind::Line
                },
                bus0,
                bus1,
                x: row[3] / self.base_mva,
                r: row[2] / self.base_mva,
                s_max: if rate_a == 0.0 { f64::INFINITY } else { rate_a },
                s_nom: if rate_a == 0.0 { f64::INFINITY } else { rate_a },
                s_max_pu: Series::Static(1.0),
                expansion: None,
                tap_ratio: if tap == 0.0 { 1.0 } else { tap },
                phase_shift: shift,
                angle_min: angle(row.get(11), true),
                angle_max: angle(row.get(12), false),
                in_service: row[10] > 0.0 && n.buses[bus0].in_service && n.buses[bus1].in_service,
                edge: EdgeIndex::new(0),
                origin: Origin::new(self.file, *line),
            });
        }
    }

    fn dclines(&mut self, n: &mut Network, dc: &Matrix) {
        for (k, (line, row)) in dc.rows.iter().enumerate() {
            let name = format!("dcline{}", k + 1);
            let what = format!("link {name} (dcline row {})", k + 1);
            if !self.row_ok("dcline", k + 1, *line, row, 17) {
                continue;
            }
            let b0 = self.bus_of(n, row[0], &what, *line, "F_BUS");
            let b1 = self.bus_of(n, row[1], &what, *line, "T_BUS");
            let (Some(bus0), Some(bus1)) = (b0, b1) else {
                continue;
            };
            let (pmin, pmax, loss0, loss1) = (row[9], row[10], row[15], row[16]);
            if loss0 != 0.0 {
                self.f.warning(
                    Origin::new(self.file, *line),
                    Some(what.clone()),
                    Some("LOSS0"),
                    format!("constant loss {loss0} MW is not modelled (only LOSS1 as efficiency)"),
                );
            }
            let p_nom = pmin.abs().max(pmax.abs());
            let per_unit = |p: f64| if p_nom > 0.0 { p / p_nom } else { 0.0 };
            n.add_link(Link {
                name,
                bus0,
                bus1,
                p_nom,
                p_min_pu: Series::Static(per_unit(pmin)),
                p_max_pu: Series::Static(per_unit(pmax)),
                efficiency: 1.0 - loss1,
                marginal_cost: 0.0,
                expansion: None,
                in_service: row[2] > 0.0,
                edge: EdgeIndex::new(0),
                origin: Origin::new(self.file, *line),
            });
        }
    }
}

/// Bus numbers are integers; print them without a decimal point.
fn format_id(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_1_function_form_parses() {
        let text = "function [baseMVA, bus, gen, branch, areas, gencost] = tiny\n\
            baseMVA = 100;\n\
            bus = [\n 1 3 0 0 0 0 1 1 0 345 1 1.1 0.9;\n 2 1 50 0 0 0 1 1 0 345 1 1.1 0.9;\n];\n\
            gen = [ 1 0 0 300 -300 1 100 1 250 10; ];\n\
            branch = [\n 1 2 0 0.1 0 0 0 0 0 0 1; %% comment\n];\n\
            gencost = [ 2 0 0 2 24.035 -403.5; ];\n";
        let (n, f) = parse("tiny.m", text).unwrap();
        assert!(!f.has_errors(), "{f}");
        assert_eq!(n.name, "tiny");
        assert_eq!(n.buses.len(), 2);
        assert_eq!(n.loads[0].p_set.at(0), 50.0);
        assert_eq!(n.branches[0].s_max, f64::INFINITY);
        assert!((n.branches[0].x - 0.001).abs() < 1e-15);
        assert_eq!(
            n.generators[0].cost,
            CostCurve::Polynomial {
                marginal_cost: Series::Static(24.035),
                marginal_cost_quadratic: 0.0,
                constant: -403.5
            }
        );
    }

    #[test]
    fn dcline_becomes_a_link_with_loss_as_efficiency() {
        let text = "function mpc = d\nmpc.baseMVA = 100;\nmpc.bus = [\n1 3 0 0 0 0 1 1 0 345 1 1.1 0.9;\n2 1 50 0 0 0 1 1 0 345 1 1.1 0.9;\n];\n\
            mpc.gen = [ 1 0 0 300 -300 1 100 1 250 0; ];\nmpc.branch = [];\n\
            mpc.gencost = [ 2 0 0 2 10 0; ];\n\
            mpc.dcline = [\n 1 2 1 10 8.9 0 0 1.01 1.0 -20 80 -10 10 -10 10 0 0.02;\n];\n";
        let (n, f) = parse("d.m", text).unwrap();
        assert!(!f.has_errors(), "{f}");
        let l = &n.links[0];
        assert_eq!((l.name.as_str(), l.bus0, l.bus1), ("dcline1", 0, 1));
        assert_eq!(l.p_nom, 80.0);
        assert_eq!((l.p_min_pu.at(0), l.p_max_pu.at(0)), (-0.25, 1.0));
        assert!((l.efficiency - 0.98).abs() < 1e-12);
    }

    #[test]
    fn a_bad_number_names_the_line() {
        let text = "function mpc = c\nmpc.baseMVA = 100;\nmpc.bus = [\n1 3 0 0 0 0 1 1 0 345 1 1.1 0.9;\n2 1 x 0 0 0 1 1 0 345 1 1.1 0.9;\n];\nmpc.gen = [];\nmpc.branch = [];\n";
        let (_, f) = parse("c.m", text).unwrap();
        let msg = f.to_string();
        assert!(msg.contains("c.m line 5"), "{msg}");
        assert!(msg.contains("`x` is not a number"), "{msg}");
    }
}

//! A corpus of hostile inputs, run on every CI build: each numeric field of a PyPSA folder,
//! a MATPOWER case and a scenario file at NaN, ±inf, huge, negative, subnormal, empty and
//! non-numbers; files that are empty, ragged, binary, BOM-prefixed, CRLF, duplicated, with
//! unicode names or missing columns. Every input is read, validated and (when accepted)
//! solved in this process. What must hold for each: no panic, a refusal that names the file
//! and the field (or line) it is about, and an accepted input solved to an answer without a
//! single non-finite number. The tally is printed (`cargo test --release --test corpus --
//! --nocapture`) and the corpus must hold at least 300 inputs.
//!
//! The inputs are generated here from small templates rather than committed as files: each
//! is a (template, field, value) triple, so the corpus is listed by the code below and a
//! failure names the triple.

mod common;

use common::folder;
use gridtrade_engine::formulation::{FormulationOptions, NetworkModel};
use gridtrade_engine::solution::{Results, Status};
use gridtrade_engine::solve::{self, SolveOptions};
use gridtrade_engine::{Error, Network};
use gridtrade_studies::scenario::Scenario;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// Values every numeric field is set to. `1e400` overflows to inf when parsed; `4.9e-324`
/// and `1e-320` are subnormal; the quoted comma, unicode minus and hex are not numbers.
const HOSTILE_NUMBERS: &[&str] = &[
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e308",
    "-1e308",
    "1e400",
    "-1",
    "-1e-9",
    "4.9e-324",
    "1e-320",
    "0",
    "",
    "abc",
    "0x10",
    "\"1,5\"",
    "\u{2212}1",
    "1e",
    " 7 ",
];

/// How one input ended.
#[derive(Debug, Default)]
struct Tally {
    inputs: usize,
    refused: usize,
    solved: usize,
    infeasible: usize,
    /// Inputs that broke a rule, with what happened (all are listed when the test fails).
    failures: Vec<String>,
}

impl Tally {
    fn add(&mut self, v: &Verdict) {
        self.inputs += 1;
        match v {
            Verdict::Refused(_) => self.refused += 1,
            Verdict::Solved(Status::Optimal) | Verdict::Solved(Status::TimeLimit) => {
                self.solved += 1
            }
            Verdict::Solved(_) => self.infeasible += 1,
        }
    }

    /// Record a failure unless `ok`.
    fn check(&mut self, ok: bool, failure: impl FnOnce() -> String) {
        if !ok {
            self.failures.push(failure());
        }
    }

    /// Fail the test listing every failure.
    fn finish(self, what: &str, at_least: usize) {
        println!(
            "{what}: {} inputs, {} refused, {} solved, {} infeasible or unbounded",
            self.inputs, self.refused, self.solved, self.infeasible
        );
        assert!(
            self.failures.is_empty(),
            "{what}: {} of {} inputs failed:\n{}",
            self.failures.len(),
            self.inputs,
            self.failures.join("\n")
        );
        assert!(self.inputs >= at_least, "{what}: {} inputs", self.inputs);
    }
}

#[derive(Debug)]
enum Verdict {
    /// Refused with this message.
    Refused(String),
    /// Accepted and solved to this status, every number of the answer finite.
    Solved(Status),
}

/// Read, validate and solve `path` (folder or `.m`), `scenario` applied first; panics (caught
/// by the caller) on a non-finite number in an answer.
fn verdict(path: &Path, scenario: Option<&str>) -> Verdict {
    let (mut n, findings) = match gridtrade_engine::io::read(path) {
        Ok(read) => read,
        Err(e) => return Verdict::Refused(e.to_string()),
    };
    if findings.has_errors() {
        return Verdict::Refused(findings.to_string());
    }
    let mut formulation = FormulationOptions {
        voll: Some(3000.0),
        co2_price: 30.0,
        pwl_segments: Some(20),
        ..Default::default()
    };
    if let Some(text) = scenario {
        let s = match Scenario::parse(text, "scenario.toml") {
            Ok(s) => s,
            Err(e) => return Verdict::Refused(e.to_string()),
        };
        if let Err(e) = s.apply(&mut n, "scenario.toml") {
            return Verdict::Refused(e.to_string());
        }
        if let Some(p) = s.co2_price {
            formulation.co2_price = p;
        }
        formulation.model = NetworkModel::Transport;
    }
    let opts = SolveOptions {
        formulation,
        time_limit: Some(20.0),
        ..Default::default()
    };
    match solve::solve(&n, &opts) {
        Err(Error::Invalid(f)) => Verdict::Refused(f.to_string()),
        Err(e) => Verdict::Refused(e.to_string()),
        Ok(out) => {
            if let Some(r) = &out.results {
                assert_finite(&n, r);
            }
            Verdict::Solved(out.status)
        }
    }
}

/// Every number of an answer is finite; a bus out of service (or in no synchronous area
/// with a balance row) alone has no price, which the answers show as absent.
fn assert_finite(n: &Network, r: &Results) {
    assert!(r.objective.is_finite(), "objective {}", r.objective);
    assert!(r.co2_t.is_finite() && r.shed_mwh.is_finite());
    let tables = [
        ("bus_shed", &r.bus_shed),
        ("gen_p", &r.gen_p),
        ("gen_cost", &r.gen_cost),
        ("gen_curtailment", &r.gen_curtailment),
        ("branch_p0", &r.branch_p0),
        ("branch_mu", &r.branch_mu),
        ("link_p0", &r.link_p0),
        ("link_p1", &r.link_p1),
        ("link_mu", &r.link_mu),
        ("su_p", &r.su_p),
        ("su_dispatch", &r.su_dispatch),
        ("su_store", &r.su_store),
        ("su_soc", &r.su_soc),
        ("su_spill", &r.su_spill),
        ("su_water_value", &r.su_water_value),
    ];
    for (name, table) in tables {
        for (i, row) in table.iter().enumerate() {
            assert!(row.iter().all(|v| v.is_finite()), "{name}[{i}] = {row:?}");
        }
    }
    for (b, row) in r.bus_price.iter().enumerate() {
        if n.buses[b].in_service {
            assert!(
                row.iter().all(|v| v.is_finite()),
                "price of {}: {row:?}",
                n.buses[b].name
            );
        }
    }
}

/// Run one input, recording a panic as a failure that names the input (then as refused
/// with the panic's message, so the checks that follow see it too).
fn run(label: &str, tally: &mut Tally, f: impl FnOnce() -> Verdict) -> Verdict {
    let v = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        tally.failures.push(format!("{label}: panicked: {msg}"));
        Verdict::Refused(format!("panic: {msg}"))
    });
    tally.add(&v);
    v
}

// ---------------------------------------------------------------------------------------
// PyPSA folders

/// A small network using every file and column the reader knows: a meshed AC area with a
/// transformer, a link, a committable-free generator set with a quadratic cost, storage with
/// inflow, carriers with CO2, weighted snapshots and time series.
fn pypsa_template() -> Vec<(&'static str, String)> {
    [
        ("snapshots.csv", "snapshot,objective,stores\nh1,1,1\nh2,2,2\nh3,1,1\n"),
        ("carriers.csv", "name,co2_emissions\ncoal,0.34\ngas,0.2\nhydro,0\n"),
        (
            "buses.csv",
            "name,v_nom,zone,country,x,y\nA,220,ZA,AA,70,40\nB,220,ZA,AA,71,41\nC,220,ZC,CC,72,42\nD,110,ZD,DD,73,43\nE,110,ZD,DD,74,43\n",
        ),
        (
            "lines.csv",
            "name,bus0,bus1,x,r,s_nom,s_max_pu\nAB,A,B,10,1,200,1\nBC,B,C,12,1,150,1\nCA,C,A,8,1,100,1\n",
        ),
        (
            "transformers.csv",
            "name,bus0,bus1,x,r,s_nom,s_max_pu,tap_ratio,phase_shift\nDE,D,E,0.1,0.01,300,1,1,0\n",
        ),
        (
            "links.csv",
            "name,bus0,bus1,p_nom,p_min_pu,p_max_pu,efficiency,marginal_cost\nCD,C,D,120,-1,1,0.97,0.5\n",
        ),
        (
            "generators.csv",
            "name,bus,carrier,p_nom,p_min_pu,p_max_pu,marginal_cost,marginal_cost_quadratic,efficiency\ncoalA,A,coal,300,0,1,20,0.01,0.38\ngasC,C,gas,200,0,1,45,0,0.5\nwindE,E,,150,0,1,0,0,1\n",
        ),
        ("loads.csv", "name,bus,p_set\nlB,B,120\nlD,D,80\nlE,E,0\n"),
        (
            "storage_units.csv",
            "name,bus,carrier,p_nom,p_min_pu,p_max_pu,max_hours,efficiency_store,efficiency_dispatch,standing_loss,inflow,state_of_charge_initial,cyclic_state_of_charge,marginal_cost,spill_cost\nhydroD,D,hydro,100,-1,1,6,0.9,0.9,0.01,10,50,False,0.1,0.5\n",
        ),
        ("generators-p_max_pu.csv", "snapshot,windE\nh1,0.5\nh2,0.9\nh3,0.1\n"),
        ("loads-p_set.csv", "snapshot,lE\nh1,30\nh2,60\nh3,45\n"),
        ("storage_units-inflow.csv", "snapshot,hydroD\nh1,5\nh2,0\nh3,20\n"),
    ]
    .into_iter()
    .map(|(f, t)| (f, t.to_string()))
    .collect()
}

/// `files` with the cell of `column` in the first data row of `file` set to `value`.
fn with_cell(
    files: &[(&'static str, String)],
    file: &str,
    column: &str,
    value: &str,
) -> Vec<(&'static str, String)> {
    files
        .iter()
        .map(|(f, text)| {
            if *f != file {
                return (*f, text.clone());
            }
            let mut lines: Vec<String> = text.lines().map(String::from).collect();
            let header: Vec<&str> = lines[0].split(',').collect();
            let at = header
                .iter()
                .position(|h| *h == column)
                .expect("column in template");
            let mut cells: Vec<String> = lines[1].split(',').map(String::from).collect();
            cells[at] = value.to_string();
            lines[1] = cells.join(",");
            (*f, lines.join("\n") + "\n")
        })
        .collect()
}

fn write(files: &[(&str, String)]) -> tempfile::TempDir {
    let refs: Vec<(&str, &str)> = files.iter().map(|(f, t)| (*f, t.as_str())).collect();
    folder(&refs)
}

/// Every numeric column of every file of the template, and the first value of each time
/// series (by its element's column).
fn pypsa_numeric_fields() -> Vec<(&'static str, &'static str)> {
    let mut fields = Vec::new();
    for (file, text) in pypsa_template() {
        let header = text.lines().next().unwrap().to_string();
        let row = text.lines().nth(1).unwrap().to_string();
        for (column, cell) in header.split(',').zip(row.split(',')) {
            if cell.parse::<f64>().is_ok() {
                fields.push((file, &*Box::leak(column.to_string().into_boxed_str())));
            }
        }
    }
    fields
}

#[test]
fn every_numeric_field_of_a_pypsa_folder_at_every_hostile_value() {
    let template = pypsa_template();
    let mut tally = Tally::default();
    let base = run("template", &mut tally, || {
        verdict(write(&template).path(), None)
    });
    assert!(matches!(base, Verdict::Solved(Status::Optimal)), "{base:?}");
    let fields = pypsa_numeric_fields();
    assert!(fields.len() >= 40, "{} fields", fields.len());
    for &(file, column) in &fields {
        for value in HOSTILE_NUMBERS {
            let label = format!("{file} {column}={value:?}");
            let dir = write(&with_cell(&template, file, column, value));
            if let Verdict::Refused(msg) = run(&label, &mut tally, || verdict(dir.path(), None)) {
                tally.check(msg.contains(file), || {
                    format!("{label}: the refusal does not name the file: {msg}")
                });
                let names_field = msg.contains(column)
                    || file.contains('-') // a series file: the element's column is the field
                    || msg.contains("line 2");
                tally.check(names_field, || {
                    format!("{label}: the refusal does not name the field: {msg}")
                });
            }
        }
    }
    tally.finish(&format!("PyPSA numeric fields ({})", fields.len()), 800);
}

/// Whole-file damage: each file of the template emptied, header-only, binary, ragged, with a
/// duplicated row or column, an unknown bus, unicode names, BOM and CRLF.
#[test]
fn damaged_pypsa_files_are_refused_by_name_or_read_as_pypsa_reads_them() {
    let template = pypsa_template();
    let mut tally = Tally::default();
    let base = match run("template", &mut tally, || {
        verdict(write(&template).path(), None)
    }) {
        Verdict::Solved(Status::Optimal) => objective_of(&write(&template)).unwrap(),
        other => panic!("{other:?}"),
    };
    for (file, text) in &template {
        let header = text.lines().next().unwrap();
        let first = text.lines().nth(1).unwrap();
        let damaged: Vec<(&str, Vec<u8>)> = vec![
            ("empty", Vec::new()),
            ("header only", format!("{header}\n").into_bytes()),
            ("binary", (0..=255u8).cycle().take(700).collect()),
            (
                "invalid UTF-8",
                format!("{text}\u{0}")
                    .into_bytes()
                    .into_iter()
                    .chain([0xff, 0xfe, b'\n'])
                    .collect(),
            ),
            (
                "ragged long",
                format!("{text}{first},extra,cells\n").into_bytes(),
            ),
            ("ragged short", format!("{header}\nonly\n").into_bytes()),
            ("duplicated row", format!("{text}{first}\n").into_bytes()),
            (
                "duplicated column",
                text.replacen(
                    header,
                    &format!("{header},{}", header.split(',').nth(1).unwrap()),
                    1,
                )
                .into_bytes(),
            ),
            (
                "no name column",
                text.replacen(header.split(',').next().unwrap(), "label", 1)
                    .into_bytes(),
            ),
            (
                "unquoted quote",
                format!("{header}\n\"{first}\n").into_bytes(),
            ),
            (
                "long name",
                format!(
                    "{header}\n{}{}\n",
                    "n".repeat(100_000),
                    &first[first.find(',').unwrap_or(0)..]
                )
                .into_bytes(),
            ),
        ];
        for (what, bytes) in damaged {
            let label = format!("{file}: {what}");
            let mut files: Vec<(&str, Vec<u8>)> = template
                .iter()
                .map(|(f, t)| (*f, t.clone().into_bytes()))
                .collect();
            files.iter_mut().find(|(f, _)| f == file).unwrap().1 = bytes;
            let dir = tempfile::tempdir().unwrap();
            for (f, b) in &files {
                std::fs::write(dir.path().join(f), b).unwrap();
            }
            if let Verdict::Refused(msg) = run(&label, &mut tally, || verdict(dir.path(), None)) {
                // The file, or (when it lost its rows) the files that refer to its elements:
                // "no generators element is named `windE`" in generators-p_max_pu.csv,
                // "unknown bus `A`" in lines.csv.
                let stem = file.trim_end_matches(".csv");
                let refers = msg.contains(&format!("no {stem} element"))
                    || (*file == "buses.csv" && msg.contains("unknown bus"));
                let names = msg.contains(file) || refers;
                tally.check(names, || {
                    format!("{label}: the refusal does not name the file: {msg}")
                });
            }
        }
        // Encodings PyPSA (pandas) reads as the same table: a BOM, CRLF line ends.
        for (what, bytes) in [
            (
                "BOM",
                [b"\xef\xbb\xbf".as_slice(), text.as_bytes()].concat(),
            ),
            ("CRLF", text.replace('\n', "\r\n").into_bytes()),
        ] {
            let label = format!("{file}: {what}");
            let dir = write(&template);
            std::fs::write(dir.path().join(file), bytes).unwrap();
            let v = run(&label, &mut tally, || verdict(dir.path(), None));
            tally.check(matches!(v, Verdict::Solved(Status::Optimal)), || {
                format!("{label}: {v:?}")
            });
            tally.check(objective_of(&dir) == Some(base), || {
                format!("{label}: read differently")
            });
        }
    }
    // Names as users write them: unicode, spaces, commas in quotes, an emoji.
    for (what, name) in [
        ("cyrillic", "Алматы-500"),
        ("arabic", "کابل"),
        ("emoji", "⚡A"),
        ("quoted comma", "\"A, north\""),
    ] {
        let label = format!("bus name {what}");
        let files: Vec<(&str, String)> = template
            .iter()
            .map(|(f, t)| {
                (
                    *f,
                    t.replace("\nA,", &format!("\n{name},"))
                        .replace(",A,", &format!(",{name},")),
                )
            })
            .collect();
        let dir = write(&files);
        let v = run(&label, &mut tally, || verdict(dir.path(), None));
        tally.check(matches!(v, Verdict::Solved(Status::Optimal)), || {
            format!("{label}: {v:?}")
        });
        tally.check(objective_of(&dir) == Some(base), || {
            format!("{label}: read differently")
        });
    }
    tally.finish("damaged PyPSA files", 150);
}

/// The optimum's bits, if the folder reads and solves.
fn objective_of(dir: &tempfile::TempDir) -> Option<u64> {
    let (n, _) = gridtrade_engine::io::read(dir.path()).ok()?;
    let opts = SolveOptions {
        formulation: FormulationOptions {
            voll: Some(3000.0),
            co2_price: 30.0,
            pwl_segments: Some(20),
            ..Default::default()
        },
        ..Default::default()
    };
    Some(solve::solve(&n, &opts).ok()?.results?.objective.to_bits())
}

// ---------------------------------------------------------------------------------------
// MATPOWER cases

fn case5() -> String {
    std::fs::read_to_string(common::case("pglib_opf_case5_pjm.m")).unwrap()
}

/// The case with column `column` of the first row of matrix `matrix` set to `value`.
fn with_matrix_cell(text: &str, matrix: &str, column: usize, value: &str) -> Option<String> {
    let start = text.find(&format!("mpc.{matrix} = ["))?;
    let body = start + text[start..].find('\n')? + 1;
    let end = body + text[body..].find('\n')?;
    let row = &text[body..end];
    let mut cells: Vec<&str> = row
        .trim()
        .trim_end_matches(';')
        .split_whitespace()
        .collect();
    if column >= cells.len() {
        return None;
    }
    cells[column] = value;
    Some(format!(
        "{}\t{};{}",
        &text[..body],
        cells.join("\t"),
        &text[end..]
    ))
}

#[test]
fn every_numeric_column_of_a_matpower_case_at_every_hostile_value() {
    let text = case5();
    let mut tally = Tally::default();
    let values: Vec<&str> = HOSTILE_NUMBERS
        .iter()
        .copied()
        .filter(|v| !v.is_empty() && !v.contains(' ') && !v.contains('"'))
        .chain(["1e300", "-1e300", "2147483648", "0.5"])
        .collect();
    for (matrix, columns) in [("bus", 13), ("gen", 21), ("branch", 13), ("gencost", 7)] {
        for column in 0..columns {
            for value in &values {
                let label = format!("mpc.{matrix} column {} = {value}", column + 1);
                let Some(case) = with_matrix_cell(&text, matrix, column, value) else {
                    continue;
                };
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("case.m");
                std::fs::write(&path, case).unwrap();
                if let Verdict::Refused(msg) = run(&label, &mut tally, || verdict(&path, None)) {
                    tally.check(msg.contains("case.m"), || {
                        format!("{label}: the refusal does not name the file: {msg}")
                    });
                    tally.check(msg.contains("line"), || {
                        format!("{label}: the refusal does not name the line: {msg}")
                    });
                }
            }
        }
    }
    let base_value = text.find("mpc.baseMVA").map(|_| ());
    assert!(base_value.is_some());
    for value in &values {
        let label = format!("mpc.baseMVA = {value}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("case.m");
        let case = text
            .lines()
            .map(|l| {
                if l.trim_start().starts_with("mpc.baseMVA") {
                    format!("mpc.baseMVA = {value};")
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&path, case).unwrap();
        if let Verdict::Refused(msg) = run(&label, &mut tally, || verdict(&path, None)) {
            tally.check(msg.contains("case.m") && msg.contains("baseMVA"), || {
                format!("{label}: {msg}")
            });
        }
    }
    tally.finish("MATPOWER numeric columns", 900);
}

#[test]
fn damaged_matpower_files_are_refused_with_file_and_line() {
    let text = case5();
    let mut tally = Tally::default();
    let gen_row = text.find("mpc.gen = [").unwrap();
    let damaged: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("binary", (0..=255u8).cycle().take(2000).collect()),
        (
            "truncated in a matrix",
            text.as_bytes()[..gen_row + 40].to_vec(),
        ),
        (
            "no closing bracket",
            text.replacen("];", "", 1).into_bytes(),
        ),
        (
            "a row too short",
            text.replacen("\t1\t 2\t 0.0\t 0.0", "\t1", 1).into_bytes(),
        ),
        (
            "no function line",
            text.replacen("function mpc", "x", 1).into_bytes(),
        ),
        (
            "BOM",
            [b"\xef\xbb\xbf".as_slice(), text.as_bytes()].concat(),
        ),
        ("CRLF", text.replace('\n', "\r\n").into_bytes()),
        ("invalid UTF-8", [text.as_bytes(), &[0xff, 0xfe]].concat()),
        (
            "NUL bytes",
            text.replace("mpc.branch", "mpc.br\0anch").into_bytes(),
        ),
        (
            "no generators",
            without_matrix_rows(&text, "gen").into_bytes(),
        ),
        ("no buses", without_matrix_rows(&text, "bus").into_bytes()),
        (
            "no branches",
            without_matrix_rows(&text, "branch").into_bytes(),
        ),
        (
            "matrix twice",
            format!("{text}\nmpc.gen = [\n\t1\t0\t0\t0\t0\t1\t100\t1\t10\t0;\n];\n").into_bytes(),
        ),
        (
            "gencost NCOST 1e300",
            text.replacen("\t2\t 0.0\t 0.0\t 2\t", "\t2\t 0.0\t 0.0\t 1e300\t", 1)
                .into_bytes(),
        ),
        (
            "generator on an unknown bus",
            text.replacen("mpc.gen = [\n\t1\t", "mpc.gen = [\n\t99\t", 1)
                .into_bytes(),
        ),
        (
            "a branch to itself",
            text.replacen("mpc.branch = [\n\t1\t 2", "mpc.branch = [\n\t1\t 1", 1)
                .into_bytes(),
        ),
        (
            "duplicate bus number",
            text.replacen("mpc.bus = [\n\t1\t", "mpc.bus = [\n\t2\t", 1)
                .into_bytes(),
        ),
        (
            "nested brackets",
            text.replacen("mpc.gen = [", "mpc.gen = [[", 1).into_bytes(),
        ),
        (
            "huge line",
            format!("{text}\n%{}\n", "x".repeat(1_000_000)).into_bytes(),
        ),
    ];
    for (what, bytes) in damaged {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("case.m");
        std::fs::write(&path, &bytes).unwrap();
        let v = run(what, &mut tally, || verdict(&path, None));
        println!(
            "{what}: {}",
            match &v {
                Verdict::Refused(m) => m.lines().next().unwrap_or(""),
                _ => "accepted",
            }
        );
        if let Verdict::Refused(msg) = v {
            tally.check(msg.contains("case.m"), || {
                format!("{what}: the refusal does not name the file: {msg}")
            });
        }
    }
    tally.finish("damaged MATPOWER files", 20);
}

fn without_matrix_rows(text: &str, matrix: &str) -> String {
    let start = text.find(&format!("mpc.{matrix} = [")).unwrap();
    let body = start + text[start..].find('\n').unwrap() + 1;
    let end = body + text[body..].find("];").unwrap();
    format!("{}{}", &text[..body], &text[end..])
}

// ---------------------------------------------------------------------------------------
// Scenario files

#[test]
fn every_scenario_field_at_every_hostile_value() {
    let template = pypsa_template();
    let dir = write(&template);
    let mut tally = Tally::default();
    let fields = [
        "co2_price = {}",
        "[demand_scale]\nall = {}",
        "[demand_scale]\nZA = {}",
        "[inflow_scale]\nhydroD = {}",
        "[capacity]\nAB = {}",
        "[capacity]\ncoalA = {}",
        "[capacity]\nCD = {}",
        "[capacity]\nhydroD = {}",
    ];
    let values = [
        "nan", "inf", "-inf", "1e308", "-1e308", "-1", "4.9e-324", "0", "\"abc\"", "1e400", "[]",
        "{}", "", "0x10", "1_0",
    ];
    for field in fields {
        for value in values {
            let text = field.replace("{}", value);
            let label = format!("scenario {text:?}");
            if let Verdict::Refused(msg) =
                run(&label, &mut tally, || verdict(dir.path(), Some(&text)))
            {
                // A capacity the scenario makes inconsistent with another field of the element
                // is reported by the element's own check (file, element, field).
                let names = msg.contains("scenario.toml")
                    || msg.contains("field `state_of_charge_initial`");
                tally.check(names, || {
                    format!("{label}: the refusal does not name the file: {msg}")
                });
            }
        }
    }
    for text in [
        "switch_on = [\"nope\"]",
        "switch_off = [\"AB\", \"AB\", \"CA\", \"BC\"]",
        "switch_off = [\"CD\"]\n[capacity]\nCD = 0",
        "unknown = 1",
        "[demand_scale]\nnowhere = 2",
        "name = \"\u{0}\"",
        "co2_price = 1\nco2_price = 2",
        "[capacity]\n\"Алматы\" = 5",
        "\u{feff}co2_price = 5",
        "co2_price = 5\r\n",
        "[[capacity]]",
        "===",
    ] {
        let label = format!("scenario {text:?}");
        if let Verdict::Refused(msg) = run(&label, &mut tally, || verdict(dir.path(), Some(text))) {
            tally.check(msg.contains("scenario.toml"), || format!("{label}: {msg}"));
        }
    }
    tally.finish("scenario fields", 120);
}

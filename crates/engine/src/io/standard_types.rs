//! Line and transformer types a PyPSA folder's lines and transformers can name in `type`:
//! PyPSA's standard types (compiled in from `crates/engine/data/pypsa-standard-types/`,
//! MIT, PyPSA v1.3.0) and the folder's own `line_types.csv` / `transformer_types.csv`,
//! which add types and replace standard ones of the same name (as a PyPSA network's
//! `line_types` and `transformer_types` components do).

use std::collections::HashMap;
use std::path::Path;

use super::table::Table;
use crate::error::Error;
use crate::error::Findings;

/// PyPSA's standard line types, as shipped with PyPSA.
const STANDARD: &str = include_str!("../../data/pypsa-standard-types/line_types.csv");
/// PyPSA's standard transformer types, as shipped with PyPSA.
const STANDARD_TRANSFORMERS: &str =
    include_str!("../../data/pypsa-standard-types/transformer_types.csv");

/// Series impedance of a line type per km of one circuit.
#[derive(Debug, Clone, Copy)]
pub struct LineType {
    /// Series resistance, ohm/km.
    pub r_per_length: f64,
    /// Series reactance, ohm/km.
    pub x_per_length: f64,
}

impl LineType {
    /// `(x, r)` in ohm of `num_parallel` identical circuits of `length_km` (PyPSA's
    /// `apply_line_types`: per-length value × length / num_parallel).
    pub fn impedance(&self, length_km: f64, num_parallel: f64) -> (f64, f64) {
        (
            self.x_per_length * length_km / num_parallel,
            self.r_per_length * length_km / num_parallel,
        )
    }
}

/// The line types known to a folder, by name.
#[derive(Debug, Default)]
pub struct LineTypes(HashMap<String, LineType>);

impl LineTypes {
    /// The standard types, then `dir/line_types.csv` (if any) over them. A type row with a
    /// missing or bad per-length value is an error naming the file, line, type and field.
    pub fn read(dir: &Path, f: &mut Findings) -> Result<LineTypes, Error> {
        let mut types = LineTypes::default();
        let standard = Table::parse("PyPSA standard line_types.csv", STANDARD.as_bytes())?;
        types.add(&standard, f);
        if let Some(own) = Table::read(dir, "line_types.csv")? {
            types.add(&own, f);
        }
        Ok(types)
    }

    fn add(&mut self, t: &Table, f: &mut Findings) {
        for i in 0..t.rows.len() {
            let name = t.text(&t.rows[i].1, "name").unwrap_or_default().to_string();
            let mut c = t.cell(i, format!("line type '{name}'"), f);
            if name.is_empty() {
                c.error("name", "a line type needs a name");
                continue;
            }
            let r_per_length = c.f64("r_per_length", f64::NAN, false);
            let x_per_length = c.f64("x_per_length", f64::NAN, false);
            for (field, v) in [
                ("r_per_length", r_per_length),
                ("x_per_length", x_per_length),
            ] {
                if c.text(field).is_none() {
                    c.error(field, "missing: ohm per km of one circuit");
                } else if v < 0.0 {
                    c.error(field, format!("{v}: ohm per km cannot be negative"));
                }
            }
            self.0.insert(
                name,
                LineType {
                    r_per_length,
                    x_per_length,
                },
            );
        }
    }

    /// The type called `name`.
    pub fn get(&self, name: &str) -> Option<&LineType> {
        self.0.get(name)
    }
}

/// A transformer type: rating, short-circuit voltages and tap changer (PyPSA's
/// `transformer_types` columns).
#[derive(Debug, Clone, Copy)]
pub struct TransformerType {
    /// Rated power, MVA.
    pub s_nom: f64,
    /// Short-circuit voltage and its resistive part, % of rated voltage.
    pub vsc: f64,
    pub vscr: f64,
    /// Voltage angle shift, degrees.
    pub phase_shift: f64,
    /// Neutral tap position, and voltage change per tap step, %.
    pub tap_neutral: f64,
    pub tap_step: f64,
}

impl TransformerType {
    /// As PyPSA's `apply_transformer_types`: series `(x, r)` per unit on the type's `s_nom`,
    /// `x = sqrt((vsc/100)^2 - (vscr/100)^2) / num_parallel`, `r = vscr/100 / num_parallel`;
    /// the rating stays the type's `s_nom` (PyPSA 1.4 does not multiply it by
    /// `num_parallel`); `tap_ratio = 1 + (tap_position - tap_neutral) * tap_step / 100`.
    pub fn impedance(&self, num_parallel: f64) -> (f64, f64) {
        let r = self.vscr / 100.0;
        let x = ((self.vsc / 100.0).powi(2) - r * r).max(0.0).sqrt();
        (x / num_parallel, r / num_parallel)
    }

    pub fn tap_ratio(&self, tap_position: f64) -> f64 {
        1.0 + (tap_position - self.tap_neutral) * self.tap_step / 100.0
    }
}

/// The transformer types known to a folder, by name.
#[derive(Debug, Default)]
pub struct TransformerTypes(HashMap<String, TransformerType>);

impl TransformerTypes {
    /// The standard types, then `dir/transformer_types.csv` (if any) over them.
    pub fn read(dir: &Path, f: &mut Findings) -> Result<TransformerTypes, Error> {
        let mut types = TransformerTypes::default();
        let standard = Table::parse(
            "PyPSA standard transformer_types.csv",
            STANDARD_TRANSFORMERS.as_bytes(),
        )?;
        types.add(&standard, f);
        if let Some(own) = Table::read(dir, "transformer_types.csv")? {
            types.add(&own, f);
        }
        Ok(types)
    }

    fn add(&mut self, t: &Table, f: &mut Findings) {
        for i in 0..t.rows.len() {
            let name = t.text(&t.rows[i].1, "name").unwrap_or_default().to_string();
            let mut c = t.cell(i, format!("transformer type '{name}'"), f);
            if name.is_empty() {
                c.error("name", "a transformer type needs a name");
                continue;
            }
            let s_nom = c.f64("s_nom", f64::NAN, false);
            let vsc = c.f64("vsc", f64::NAN, false);
            let vscr = c.f64("vscr", 0.0, false);
            if !(s_nom > 0.0) {
                c.error("s_nom", "missing or not > 0: the type's rating, MVA");
            }
            if !(vsc > 0.0) || vscr < 0.0 || vscr > vsc {
                c.error(
                    "vsc",
                    format!("vsc {vsc} %, vscr {vscr} %: need 0 <= vscr <= vsc, vsc > 0"),
                );
            }
            let ty = TransformerType {
                s_nom,
                vsc,
                vscr,
                phase_shift: c.f64("phase_shift", 0.0, false),
                tap_neutral: c.f64("tap_neutral", 0.0, false),
                tap_step: c.f64("tap_step", 0.0, false),
            };
            self.0.insert(name, ty);
        }
    }

    /// The type called `name`.
    pub fn get(&self, name: &str) -> Option<&TransformerType> {
        self.0.get(name)
    }
}

//! Line types a PyPSA folder's lines can name in `type`: PyPSA's standard types (compiled
//! in from `crates/engine/data/pypsa-standard-types/line_types.csv`, MIT, PyPSA v1.3.0)
//! and the folder's own `line_types.csv`, which adds types and replaces standard ones of the
//! same name (as a PyPSA network's `line_types` component does).

use std::collections::HashMap;
use std::path::Path;

use super::table::Table;
use crate::error::Error;
use crate::error::Findings;

/// PyPSA's standard line types, as shipped with PyPSA.
const STANDARD: &str = include_str!("../../data/pypsa-standard-types/line_types.csv");

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

//! A CSV table with named columns, read whole, and typed cell access that records a
//! finding (file, line, element, field) for every cell that does not parse.

use crate::error::{Error, Findings};
use std::collections::HashMap;
use std::path::Path;

/// A CSV file: header and rows with their 1-based line numbers.
pub struct Table {
    pub file: String,
    pub headers: Vec<String>,
    columns: HashMap<String, usize>,
    pub rows: Vec<(usize, csv::StringRecord)>,
}

impl Table {
    /// Read `dir/file`. `Ok(None)` when the file does not exist.
    pub fn read(dir: &Path, file: &str) -> Result<Option<Table>, Error> {
        let path = dir.join(file);
        if !path.exists() {
            return Ok(None);
        }
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        Table::parse(file, &bytes).map(Some)
    }

    pub fn parse(file: &str, bytes: &[u8]) -> Result<Table, Error> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(bytes);
        let bad = |e: csv::Error| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            Error::Invalid({
                let mut f = Findings::default();
                f.error(
                    crate::network::Origin::new(file, line as usize),
                    None,
                    None,
                    format!("not a valid CSV file: {e}"),
                );
                f
            })
        };
        let headers: Vec<String> = reader
            .headers()
            .map_err(bad)?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let columns = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.clone(), i))
            .collect();
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(bad)?;
            let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
            rows.push((line, record));
        }
        Ok(Table {
            file: file.to_string(),
            headers,
            columns,
            rows,
        })
    }

    pub fn has(&self, column: &str) -> bool {
        self.columns.contains_key(column)
    }

    /// The trimmed text of a cell; `None` when the column is absent or the cell is empty.
    pub fn text<'a>(&self, row: &'a csv::StringRecord, column: &str) -> Option<&'a str> {
        let i = *self.columns.get(column)?;
        row.get(i).map(str::trim).filter(|s| !s.is_empty())
    }

    /// A cursor over row `i` that reports findings against `element`.
    pub fn cell<'a>(&'a self, i: usize, element: String, findings: &'a mut Findings) -> Cells<'a> {
        let (line, row) = &self.rows[i];
        Cells {
            table: self,
            row,
            line: *line,
            element,
            findings,
        }
    }
}

/// Typed access to one row's cells, with PyPSA defaults for absent columns and empty cells.
pub struct Cells<'a> {
    table: &'a Table,
    row: &'a csv::StringRecord,
    pub line: usize,
    pub element: String,
    pub findings: &'a mut Findings,
}

impl Cells<'_> {
    pub fn origin(&self) -> crate::network::Origin {
        crate::network::Origin::new(&self.table.file, self.line)
    }

    pub fn text(&self, column: &str) -> Option<&str> {
        self.table.text(self.row, column)
    }

    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        let origin = self.origin();
        self.findings
            .error(origin, Some(self.element.clone()), Some(field), message);
    }

    pub fn warning(&mut self, field: &str, message: impl Into<String>) {
        let origin = self.origin();
        self.findings
            .warning(origin, Some(self.element.clone()), Some(field), message);
    }

    /// A number; `default` when absent. NaN and unparsable text are errors (the default is
    /// then returned so reading can go on and list every problem). Infinite values are
    /// allowed only where `allow_inf` (capacities, where `inf` means unlimited).
    pub fn f64(&mut self, column: &str, default: f64, allow_inf: bool) -> f64 {
        let Some(text) = self.text(column) else {
            return default;
        };
        match parse_f64(text) {
            Some(v) if v.is_nan() => {
                self.error(column, "value is NaN");
                default
            }
            Some(v) if v.is_infinite() && !allow_inf => {
                self.error(column, format!("value is {text}: must be finite"));
                default
            }
            Some(v) => v,
            None => {
                self.error(column, format!("`{text}` is not a number"));
                default
            }
        }
    }

    /// A boolean (`True`/`False`, `true`/`false`, `1`/`0`); `default` when absent.
    pub fn bool(&mut self, column: &str, default: bool) -> bool {
        let Some(text) = self.text(column) else {
            return default;
        };
        match text {
            "True" | "true" | "TRUE" | "1" | "1.0" => true,
            "False" | "false" | "FALSE" | "0" | "0.0" => false,
            other => {
                self.error(column, format!("`{other}` is not a boolean (True/False)"));
                default
            }
        }
    }

    pub fn string(&self, column: &str, default: &str) -> String {
        self.text(column).unwrap_or(default).to_string()
    }
}

/// Parse a float as Python's `repr` writes it (`inf`, `-inf`, `nan` included).
pub fn parse_f64(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok()
}

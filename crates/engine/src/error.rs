//! Error types. Each carries the file, line, element and field it is about, so the CLI and
//! the gRPC layer can turn it into a message and a status in one place.

use std::fmt;
use std::path::PathBuf;

/// How serious a finding is: errors stop a solve, warnings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One problem found in the input: where it is, which element and field, and what is wrong.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// File name, with ` line N` when known.
    pub location: String,
    /// The element's kind and name, e.g. `generator 'G1'`.
    pub element: Option<String>,
    /// The attribute (column) concerned.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}: {}", self.location)?;
        if let Some(e) = &self.element {
            write!(f, ", {e}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The findings of reading and validating a network.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(transparent)]
pub struct Findings(pub Vec<Finding>);

impl Findings {
    pub fn error(
        &mut self,
        location: impl ToString,
        element: Option<String>,
        field: Option<&str>,
        message: impl Into<String>,
    ) {
        self.push(Severity::Error, location, element, field, message)
    }

    pub fn warning(
        &mut self,
        location: impl ToString,
        element: Option<String>,
        field: Option<&str>,
        message: impl Into<String>,
    ) {
        self.push(Severity::Warning, location, element, field, message)
    }

    fn push(
        &mut self,
        severity: Severity,
        location: impl ToString,
        element: Option<String>,
        field: Option<&str>,
        message: impl Into<String>,
    ) {
        self.0.push(Finding {
            severity,
            location: location.to_string(),
            element,
            field: field.map(str::to_string),
            message: message.into(),
        })
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|f| f.severity == Severity::Error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.0.iter().filter(|f| f.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.0.iter().filter(|f| f.severity == Severity::Warning)
    }

    pub fn extend(&mut self, other: Findings) {
        self.0.extend(other.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Findings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, finding) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{finding}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong between a path on disk and a solved network.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read at all.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The input is not of a format we read (wrong extension, missing folder).
    #[error("{0}")]
    Format(String),
    /// The input was read but has errors; every finding is listed.
    #[error("the network has {} error(s):\n{}", .0.errors().count(), .0)]
    Invalid(Findings),
    /// A solve option does not fit the network (e.g. a snapshot range past its end).
    #[error("invalid option {option}: {message}")]
    Option { option: String, message: String },
    /// HiGHS failed for a reason other than infeasibility.
    #[error("solver error: {0}")]
    Solver(String),
    /// The server's database (`--data-dir`) failed.
    #[error("database {}: {message}", path.display())]
    Database { path: PathBuf, message: String },
}

impl Error {
    pub fn option(option: &str, message: impl Into<String>) -> Self {
        Error::Option {
            option: option.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

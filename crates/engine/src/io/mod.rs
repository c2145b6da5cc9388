//! File formats: PyPSA CSV folders and MATPOWER `.m` cases in, PyPSA-style result folders out.

mod global_constraints;
pub mod matpower;
pub mod pypsa;
pub mod results;
mod standard_types;
mod table;

use crate::error::{Error, Findings};
use crate::network::Network;
use std::path::Path;

/// Read a network from a PyPSA CSV folder or a MATPOWER `.m` file, by what `path` is.
/// Returns the network and what reading it found (errors included; see [`crate::validate`]).
pub fn read(path: &Path) -> Result<(Network, Findings), Error> {
    if path.is_dir() {
        pypsa::read_folder(path)
    } else if path.extension().is_some_and(|e| e == "m") {
        matpower::read_file(path)
    } else if !path.exists() {
        Err(Error::Format(format!(
            "{}: no such file or folder",
            path.display()
        )))
    } else {
        Err(Error::Format(format!(
            "{}: not a PyPSA CSV folder or a MATPOWER .m file",
            path.display()
        )))
    }
}

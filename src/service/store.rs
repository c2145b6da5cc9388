//! The networks a server holds, each as a list of versions (version 1 is the one loaded).

use crate::network::Network;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, RwLock};
use tonic::Status;

#[derive(Default)]
pub struct Store {
    networks: RwLock<BTreeMap<String, Vec<Arc<Network>>>>,
}

impl Store {
    /// Load every network under `dir`: each PyPSA folder (a subfolder with `buses.csv`) and
    /// each MATPOWER `.m` file. Networks with errors are reported and left out.
    pub fn load_dir(dir: &Path) -> Result<(Store, Vec<String>), crate::Error> {
        let store = Store::default();
        let mut problems = Vec::new();
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|source| crate::Error::Io {
                path: dir.to_path_buf(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for path in entries {
            let is_network = (path.is_dir() && path.join("buses.csv").exists())
                || path.extension().is_some_and(|e| e == "m");
            if !is_network {
                continue;
            }
            match crate::io::read(&path) {
                Ok((n, f)) if !f.has_errors() => {
                    let name = path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    store.insert(&name, n);
                }
                Ok((_, f)) => problems.push(format!("{}: {f}", path.display())),
                Err(e) => problems.push(format!("{}: {e}", path.display())),
            }
        }
        Ok((store, problems))
    }

    /// Add a new version of network `name`; returns its version number.
    pub fn insert(&self, name: &str, n: Network) -> u64 {
        let mut map = self.networks.write().expect("store lock");
        let versions = map.entry(name.to_string()).or_default();
        versions.push(Arc::new(n));
        versions.len() as u64
    }

    /// Remove network `name` with all its versions; false when there is none.
    pub fn remove(&self, name: &str) -> bool {
        self.networks
            .write()
            .expect("store lock")
            .remove(name)
            .is_some()
    }

    /// Network `name` at `version` (0 = newest).
    pub fn get(&self, name: &str, version: u64) -> Result<(u64, Arc<Network>), Status> {
        let map = self.networks.read().expect("store lock");
        let versions = map
            .get(name)
            .ok_or_else(|| Status::not_found(format!("no network named `{name}`")))?;
        let v = if version == 0 {
            versions.len() as u64
        } else {
            version
        };
        let n = versions.get((v as usize).wrapping_sub(1)).ok_or_else(|| {
            Status::not_found(format!(
                "network `{name}` has versions 1..={}, not {version}",
                versions.len()
            ))
        })?;
        Ok((v, n.clone()))
    }

    /// The newest version of every network: (name, version, network), by name.
    pub fn latest(&self) -> Vec<(String, u64, Arc<Network>)> {
        let map = self.networks.read().expect("store lock");
        map.iter()
            .filter_map(|(name, v)| v.last().map(|n| (name.clone(), v.len() as u64, n.clone())))
            .collect()
    }
}

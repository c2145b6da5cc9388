//! The networks a server holds, each as a list of versions (version 1 is the one loaded or
//! uploaded first), and their persistence.
//!
//! With `--data-dir`, every upload and every accepted edit list is written to an SQLite
//! database (`gridtrade.sqlite`, WAL journal, `synchronous = FULL`) in one transaction
//! before the call is answered, so what a client was told is stored survives a restart,
//! `kill -9` included. The database records how each version was made — the uploaded
//! files, or the base version and the edits — and a restart replays it: uploads are read
//! again with the same readers, edits applied again. Networks loaded from `networks/` at
//! start are not copied into it; edits of them are. Deleting a network loaded from
//! `networks/` is recorded too, so it does not come back at the next start.
//!
//! Why SQLite (rusqlite, bundled): one file, transactions that are durable on commit,
//! readable with the `sqlite3` tool by an operator, and a build that needs only a C
//! compiler (already needed for HiGHS). redb would avoid the C code but gives no tool to
//! inspect the file.

use super::upload;
use gridtrade_engine::error::Error;
use gridtrade_engine::network::{Edit, Network};
use rusqlite::{params, Connection};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use tonic::Status;

/// How a version was made, as recorded.
pub enum Record<'a> {
    /// Files of a PyPSA folder or one MATPOWER file.
    Upload(&'a [(String, Vec<u8>)]),
    /// `edits` applied to version `base`.
    Edit { base: u64, edits: &'a [Edit] },
}

struct Database {
    path: PathBuf,
    conn: Connection,
}

#[derive(Default)]
pub struct Store {
    networks: RwLock<BTreeMap<String, Vec<Arc<Network>>>>,
    db: Option<Mutex<Database>>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS versions (
    network TEXT NOT NULL,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('upload', 'edit')),
    -- for edits: the version edited and the edits as JSON
    base INTEGER,
    edits TEXT,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (network, version)
);
CREATE TABLE IF NOT EXISTS files (
    network TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (network, version, name)
);
-- networks deleted over gRPC: a network of the same name under networks/ is not loaded
CREATE TABLE IF NOT EXISTS deleted (network TEXT PRIMARY KEY);
";

impl Database {
    fn err(&self, e: impl std::fmt::Display) -> Error {
        Error::Database {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }
}

fn internal(e: Error) -> Status {
    tracing::error!(error = %e, "database write failed");
    Status::internal(e.to_string())
}

impl Store {
    /// Load every network under `dir`: each PyPSA folder (a subfolder with `buses.csv`) and
    /// each MATPOWER `.m` file. Networks with errors are reported and left out.
    pub fn load_dir(dir: &Path) -> Result<(Store, Vec<String>), Error> {
        let store = Store::default();
        let mut problems = Vec::new();
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|source| Error::Io {
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
            match gridtrade_engine::io::read(&path) {
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

    /// Keep uploads and edits in `data_dir/gridtrade.sqlite` (created if missing) and
    /// restore what it holds: networks deleted there are dropped, then every recorded
    /// version is replayed in order. Returns what could not be restored.
    pub fn open_database(&mut self, data_dir: &Path) -> Result<Vec<String>, Error> {
        std::fs::create_dir_all(data_dir).map_err(|source| Error::Io {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join("gridtrade.sqlite");
        let db_err = |e: rusqlite::Error| Error::Database {
            path: path.clone(),
            message: e.to_string(),
        };
        let conn = Connection::open(&path).map_err(db_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db_err)?;
        conn.execute_batch(SCHEMA).map_err(db_err)?;
        let db = Database { path, conn };
        let problems = self.replay(&db)?;
        self.db = Some(Mutex::new(db));
        Ok(problems)
    }

    fn replay(&self, db: &Database) -> Result<Vec<String>, Error> {
        let mut problems = Vec::new();
        let mut map = self.networks.write().expect("store lock");
        let deleted: Vec<String> = db
            .conn
            .prepare("SELECT network FROM deleted")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(|e| db.err(e))?;
        for name in deleted {
            map.remove(&name);
        }
        type Row = (String, i64, String, Option<i64>, Option<String>);
        let rows: Vec<Row> = db
            .conn
            .prepare(
                "SELECT network, version, kind, base, edits FROM versions \
                 ORDER BY network, version",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect()
            })
            .map_err(|e| db.err(e))?;
        let mut broken: Option<String> = None;
        for (name, version, kind, base, edits) in rows {
            let version = version as u64;
            if broken.as_deref() == Some(name.as_str()) {
                continue;
            }
            let versions = map.entry(name.clone()).or_default();
            let result = if version != versions.len() as u64 + 1 {
                Err(format!(
                    "version {version} follows version {} (was a network under networks/ \
                     removed?)",
                    versions.len()
                ))
            } else if kind == "upload" {
                let files: Result<Vec<(String, Vec<u8>)>, _> = db
                    .conn
                    .prepare(
                        "SELECT name, content FROM files WHERE network = ?1 AND version = ?2 \
                         ORDER BY name",
                    )
                    .and_then(|mut s| {
                        s.query_map(params![name, version as i64], |r| {
                            Ok((r.get(0)?, r.get(1)?))
                        })?
                        .collect()
                    });
                match files {
                    Err(e) => Err(format!("its files cannot be read: {e}")),
                    Ok(files) => upload::read(&files)
                        .map(|(mut n, _)| {
                            n.name = name.clone();
                            n
                        })
                        .map_err(|s| s.message().to_string()),
                }
            } else {
                // A version that cannot be read is reported and skipped (with the versions of
                // that network after it), never a reason not to start.
                let edits: Result<Vec<Edit>, _> =
                    serde_json::from_str(edits.as_deref().unwrap_or("[]"));
                let base = base.unwrap_or(0) as usize;
                match (edits, versions.get(base.wrapping_sub(1))) {
                    (Err(e), _) => Err(format!("its edits cannot be read: {e}")),
                    (_, None) => Err(format!("its base version {base} is missing")),
                    (Ok(edits), Some(b)) => {
                        let mut n = (**b).clone();
                        n.apply(&edits).map(|_| n)
                    }
                }
            };
            match result {
                Ok(n) => versions.push(Arc::new(n)),
                Err(m) => {
                    problems.push(format!("network `{name}` from version {version} on: {m}"));
                    broken = Some(name);
                }
            }
        }
        map.retain(|_, v| !v.is_empty());
        Ok(problems)
    }

    /// Add a new version of network `name`, in memory only (networks loaded at start).
    pub fn insert(&self, name: &str, n: Network) -> u64 {
        let mut map = self.networks.write().expect("store lock");
        let versions = map.entry(name.to_string()).or_default();
        versions.push(Arc::new(n));
        versions.len() as u64
    }

    /// Add a new version of network `name` made as `record` says; with a database, it is
    /// written (and synced) before this returns. Returns the version number.
    pub fn add(&self, name: &str, n: Network, record: Record) -> Result<u64, Status> {
        let mut map = self.networks.write().expect("store lock");
        let version = map.get(name).map_or(0, |v| v.len() as u64) + 1;
        if let Some(db) = &self.db {
            let mut db = db.lock().unwrap_or_else(|e| e.into_inner());
            Self::record(&mut db, name, version, &record).map_err(internal)?;
        }
        map.entry(name.to_string()).or_default().push(Arc::new(n));
        Ok(version)
    }

    fn record(db: &mut Database, name: &str, version: u64, record: &Record) -> Result<(), Error> {
        let path = db.path.clone();
        let err = |e: rusqlite::Error| Error::Database {
            path: path.clone(),
            message: e.to_string(),
        };
        let tx = db.conn.transaction().map_err(err)?;
        match record {
            Record::Upload(files) => {
                tx.execute(
                    "INSERT INTO versions (network, version, kind) VALUES (?1, ?2, 'upload')",
                    params![name, version as i64],
                )
                .map_err(err)?;
                for (file, content) in *files {
                    tx.execute(
                        "INSERT INTO files (network, version, name, content) \
                         VALUES (?1, ?2, ?3, ?4)",
                        params![name, version as i64, file, content],
                    )
                    .map_err(err)?;
                }
            }
            Record::Edit { base, edits } => {
                let json = serde_json::to_string(edits).expect("edits serialise");
                tx.execute(
                    "INSERT INTO versions (network, version, kind, base, edits) \
                     VALUES (?1, ?2, 'edit', ?3, ?4)",
                    params![name, version as i64, *base as i64, json],
                )
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// Remove network `name` with all its versions (recorded, with a database); false when
    /// there is none.
    pub fn remove(&self, name: &str) -> Result<bool, Status> {
        let mut map = self.networks.write().expect("store lock");
        if !map.contains_key(name) {
            return Ok(false);
        }
        if let Some(db) = &self.db {
            let mut db = db.lock().unwrap_or_else(|e| e.into_inner());
            let path = db.path.clone();
            let err = |e: rusqlite::Error| {
                internal(Error::Database {
                    path: path.clone(),
                    message: e.to_string(),
                })
            };
            let tx = db.conn.transaction().map_err(err)?;
            tx.execute("DELETE FROM files WHERE network = ?1", params![name])
                .map_err(err)?;
            tx.execute("DELETE FROM versions WHERE network = ?1", params![name])
                .map_err(err)?;
            tx.execute(
                "INSERT OR IGNORE INTO deleted (network) VALUES (?1)",
                params![name],
            )
            .map_err(err)?;
            tx.commit().map_err(err)?;
        }
        map.remove(name);
        Ok(true)
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

#[cfg(test)]
mod tests {
    use super::*;
    use gridtrade_engine::network::{Bus, Snapshots};

    fn two_buses() -> Network {
        let mut n = Network::new("net", Snapshots::hourly(1));
        for b in ["a", "b"] {
            n.add_bus(Bus::new(b, b, b));
        }
        n
    }

    /// Versions 2 (a link added, its capacity unlimited) and 3 (capacity 50) of `net`.
    fn edits() -> [Vec<Edit>; 2] {
        [
            vec![
                Edit::AddLink {
                    name: "ab".into(),
                    bus0: "a".into(),
                    bus1: "b".into(),
                    p_nom: 100.0,
                    p_min_pu: -1.0,
                    efficiency: 1.0,
                },
                Edit::SetAttribute {
                    element: "ab".into(),
                    attribute: "p_nom".into(),
                    value: f64::INFINITY,
                },
            ],
            vec![Edit::SetAttribute {
                element: "ab".into(),
                attribute: "p_nom".into(),
                value: 50.0,
            }],
        ]
    }

    /// A store of `net` (version 1 loaded, not recorded) with the database in `dir`.
    fn reopen(dir: &Path) -> (Store, Vec<String>) {
        let mut store = Store::default();
        store.insert("net", two_buses());
        let problems = store.open_database(dir).unwrap();
        (store, problems)
    }

    #[test]
    fn an_unlimited_capacity_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let (store, problems) = reopen(dir.path());
        assert!(problems.is_empty(), "{problems:?}");
        let [two, _] = edits();
        let mut n = two_buses();
        n.apply(&two).unwrap();
        assert_eq!(
            store
                .add(
                    "net",
                    n,
                    Record::Edit {
                        base: 1,
                        edits: &two
                    }
                )
                .unwrap(),
            2
        );
        drop(store);
        let (store, problems) = reopen(dir.path());
        assert!(problems.is_empty(), "{problems:?}");
        let (version, n) = store.get("net", 0).unwrap();
        assert_eq!(version, 2);
        assert_eq!(n.links[0].p_nom, f64::INFINITY);
    }

    #[test]
    fn a_version_that_cannot_be_read_is_reported_and_skipped_not_a_reason_to_refuse_to_start() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = reopen(dir.path());
        let [two, three] = edits();
        let mut n = two_buses();
        n.apply(&two).unwrap();
        store
            .add(
                "net",
                n.clone(),
                Record::Edit {
                    base: 1,
                    edits: &two,
                },
            )
            .unwrap();
        n.apply(&three).unwrap();
        store
            .add(
                "net",
                n,
                Record::Edit {
                    base: 2,
                    edits: &three,
                },
            )
            .unwrap();
        drop(store);
        // Version 3's edits as an older server wrote an unlimited capacity (null), or
        // garbled on disk.
        for stored in [
            "[{\"SetAttribute\":{\"element\":\"ab\",\"attribute\":\"p_nom\",\"value\":null}}]",
            "{garbled",
        ] {
            let conn = Connection::open(dir.path().join("gridtrade.sqlite")).unwrap();
            conn.execute(
                "UPDATE versions SET edits = ?1 WHERE version = 3",
                params![stored],
            )
            .unwrap();
            drop(conn);
            let (store, problems) = reopen(dir.path());
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(
                problems[0].contains("network `net` from version 3 on")
                    && problems[0].contains("cannot be read"),
                "{problems:?}"
            );
            let (version, n) = store.get("net", 0).unwrap();
            assert_eq!(version, 2, "versions before the broken one are restored");
            assert_eq!(n.links[0].p_nom, f64::INFINITY);
        }
    }
}

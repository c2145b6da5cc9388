//! The SQLite database of a server with `--data-dir`: how each version was made (the
//! uploaded files, or the base version and the edits) and which networks were deleted.

use super::versions::Plan;
use super::Record;
use gridtrade_engine::error::Error;
use gridtrade_engine::network::Edit;
use rusqlite::{params, Connection};
use std::path::{Path, PathBuf};

pub struct Database {
    path: PathBuf,
    conn: Connection,
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

/// A recorded version: (network, version, kind, base, edits as JSON).
pub type Row = (String, u64, String, Option<u64>, Option<String>);

impl Database {
    /// Open (creating) `data_dir/gridtrade.sqlite`: WAL journal, `synchronous = FULL`.
    pub fn open(data_dir: &Path) -> Result<Database, Error> {
        std::fs::create_dir_all(data_dir).map_err(|source| Error::Io {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join("gridtrade.sqlite");
        let conn = Connection::open(&path).map_err(|e| database(&path, e))?;
        let db = Database { path, conn };
        db.conn
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| db.err(e))?;
        db.conn
            .pragma_update(None, "synchronous", "FULL")
            .map_err(|e| db.err(e))?;
        db.conn.execute_batch(SCHEMA).map_err(|e| db.err(e))?;
        Ok(db)
    }

    fn err(&self, e: impl std::fmt::Display) -> Error {
        database(&self.path, e)
    }

    /// Networks deleted over gRPC.
    pub fn deleted(&self) -> Result<Vec<String>, Error> {
        self.conn
            .prepare("SELECT network FROM deleted")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(|e| self.err(e))
    }

    /// Every recorded version, by network and version.
    pub fn rows(&self) -> Result<Vec<Row>, Error> {
        self.conn
            .prepare(
                "SELECT network, version, kind, base, edits FROM versions \
                 ORDER BY network, version",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    let version: i64 = r.get(1)?;
                    let base: Option<i64> = r.get(3)?;
                    Ok((
                        r.get(0)?,
                        unsigned(version),
                        r.get(2)?,
                        base.map(unsigned),
                        r.get(4)?,
                    ))
                })?
                .collect()
            })
            .map_err(|e| self.err(e))
    }

    /// The files uploaded as `version` of `network`, by name.
    pub fn files(&self, network: &str, version: u64) -> Result<Vec<(String, Vec<u8>)>, Error> {
        self.conn
            .prepare(
                "SELECT name, content FROM files WHERE network = ?1 AND version = ?2 \
                 ORDER BY name",
            )
            .and_then(|mut s| {
                s.query_map(params![network, signed(version)], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect()
            })
            .map_err(|e| self.err(e))
    }

    /// Record `version` of `name` as `record` says, and make `plan`'s retention changes, in
    /// one transaction (durable when this returns).
    pub fn record(
        &mut self,
        name: &str,
        version: u64,
        record: &Record,
        plan: &Plan,
    ) -> Result<(), Error> {
        let path = self.path.clone();
        let err = |e: rusqlite::Error| database(&path, e);
        let tx = self.conn.transaction().map_err(err)?;
        match record {
            Record::Upload(files) => {
                tx.execute(
                    "INSERT INTO versions (network, version, kind) VALUES (?1, ?2, 'upload')",
                    params![name, signed(version)],
                )
                .map_err(err)?;
                for (file, content) in *files {
                    tx.execute(
                        "INSERT INTO files (network, version, name, content) \
                         VALUES (?1, ?2, ?3, ?4)",
                        params![name, signed(version), file, content],
                    )
                    .map_err(err)?;
                }
            }
            Record::Edit { base, edits } => {
                tx.execute(
                    "INSERT INTO versions (network, version, kind, base, edits) \
                     VALUES (?1, ?2, 'edit', ?3, ?4)",
                    params![name, signed(version), signed(*base), edits_json(edits)],
                )
                .map_err(err)?;
            }
        }
        for (v, base, edits) in &plan.rebased {
            tx.execute(
                "UPDATE versions SET base = ?3, edits = ?4 WHERE network = ?1 AND version = ?2",
                params![name, signed(*v), signed(*base), edits_json(edits)],
            )
            .map_err(err)?;
        }
        for v in &plan.dropped {
            for table in ["files", "versions"] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE network = ?1 AND version = ?2"),
                    params![name, signed(*v)],
                )
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// Forget network `name` and remember it was deleted, in one transaction.
    pub fn remove(&mut self, name: &str) -> Result<(), Error> {
        let path = self.path.clone();
        let err = |e: rusqlite::Error| database(&path, e);
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute("DELETE FROM files WHERE network = ?1", params![name])
            .map_err(err)?;
        tx.execute("DELETE FROM versions WHERE network = ?1", params![name])
            .map_err(err)?;
        tx.execute(
            "INSERT OR IGNORE INTO deleted (network) VALUES (?1)",
            params![name],
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }
}

fn database(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Database {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// A version number as SQLite's integer (version numbers count calls: far below 2^63).
fn signed(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A stored version number; a negative one (only by a hand edit of the file) reads as 0,
/// which no version has.
fn unsigned(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn edits_json(edits: &[Edit]) -> String {
    serde_json::to_string(edits).expect("edits serialise")
}

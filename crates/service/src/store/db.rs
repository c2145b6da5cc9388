//! The database of the networks a server was given: how each version was made (the
//! uploaded files, or the base version and the edits), which networks were deleted, and a
//! revision per network that every change increments. SQLite (`--data-dir`:
//! `gridtrade.sqlite`) for one server, PostgreSQL (`--database postgres://…`) shared by
//! replicas; one SQL text for both through [`Backend`].
//!
//! The store is synchronous (it is used before the server's runtime exists, and from its
//! blocking threads): SQLite is called on the calling thread; PostgreSQL's client is async,
//! so a [`Database`] on PostgreSQL runs its calls on a small runtime of its own.

use super::versions::Plan;
use super::Record;
use crate::studies::db::{self as backend, Backend, Statement, Value};
use gridtrade_engine::error::Error;
use gridtrade_engine::network::Edit;
use std::collections::BTreeMap;
use std::path::Path;

pub struct Database {
    /// Where it is, for messages (no password).
    place: String,
    backend: Backend,
    /// Runs PostgreSQL's calls (`None` on SQLite, and while dropping).
    runtime: Option<tokio::runtime::Runtime>,
}

/// The tables on SQLite (`created` as text, as earlier releases wrote it).
const SCHEMA_SQLITE: &str = "
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
-- every change of a network (a version added, retention, deletion) increments its revision
CREATE TABLE IF NOT EXISTS networks (network TEXT PRIMARY KEY, revision BIGINT NOT NULL);
";

/// The same tables on PostgreSQL.
const SCHEMA_POSTGRES: &str = "
CREATE TABLE IF NOT EXISTS versions (
    network TEXT NOT NULL,
    version BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('upload', 'edit')),
    base BIGINT,
    edits TEXT,
    created TEXT NOT NULL
        DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
    PRIMARY KEY (network, version)
);
CREATE TABLE IF NOT EXISTS files (
    network TEXT NOT NULL,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    content BYTEA NOT NULL,
    PRIMARY KEY (network, version, name)
);
CREATE TABLE IF NOT EXISTS deleted (network TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS networks (network TEXT PRIMARY KEY, revision BIGINT NOT NULL);
";

/// Take the next revision of network `$1` if it is still at revision `$2` (`$3` = `$2` + 1):
/// changes no row when another process changed the network first.
const NEXT_REVISION: &str = "
INSERT INTO networks (network, revision) VALUES ($1, $3)
ON CONFLICT (network) DO UPDATE SET revision = $3 WHERE networks.revision = $2";

/// Connections to PostgreSQL a server's store uses at once.
const CONNECTIONS: usize = 4;

/// A recorded version: (network, version, kind, base, edits as JSON).
pub type Row = (String, u64, String, Option<u64>, Option<String>);

impl Database {
    /// Open (creating) `data_dir/gridtrade.sqlite`: WAL journal, `synchronous = FULL`.
    pub fn open_sqlite(data_dir: &Path) -> Result<Database, Error> {
        std::fs::create_dir_all(data_dir).map_err(|source| Error::Io {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join("gridtrade.sqlite");
        let place = path.display().to_string();
        let backend = Backend::open_sqlite(&place)?;
        Database::with_tables(backend, place, None)
    }

    /// Open the database at `url` (see [`Backend::open`]) and create the tables it lacks.
    pub fn open(url: &str, place: String) -> Result<Database, Error> {
        if !backend::is_postgres(url) {
            return Database::with_tables(Backend::open_sqlite(url)?, place, None);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(2)
            .thread_name("gridtrade-store-db")
            .enable_all()
            .build()
            .map_err(|e| database(&place, format!("cannot start its client: {e}")))?;
        // Reads (a revision per call) need not wait behind another call's commit.
        let backend = runtime.block_on(Backend::open_with(url, CONNECTIONS))?;
        Database::with_tables(backend, place, Some(runtime))
    }

    fn with_tables(
        backend: Backend,
        place: String,
        runtime: Option<tokio::runtime::Runtime>,
    ) -> Result<Database, Error> {
        let db = Database {
            place,
            backend,
            runtime,
        };
        match &db.backend {
            Backend::Sqlite(conn) => conn
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .execute_batch(SCHEMA_SQLITE)
                .map_err(|e| database(&db.place, e))?,
            Backend::Postgres(_) => db.run(db.backend.batch(SCHEMA_POSTGRES))?,
        }
        Ok(db)
    }

    /// Run a call of PostgreSQL's client on this database's runtime (blocking).
    fn run<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let runtime = self.runtime.as_ref().expect("a runtime for PostgreSQL");
        runtime.block_on(call).map_err(|e| self.located(e))
    }

    fn located(&self, e: Error) -> Error {
        match e {
            Error::Database { message, .. } => database(&self.place, message),
            e => e,
        }
    }

    fn query(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Vec<Value>>, Error> {
        match &self.backend {
            Backend::Sqlite(conn) => backend::sqlite_query(conn, &self.backend.sql(sql), &params)
                .map_err(|e| self.located(e)),
            Backend::Postgres(_) => self.run(self.backend.query(sql, params)),
        }
    }

    /// [`Backend::transaction_if`], SQLite's on this thread.
    fn transaction_if(&self, guard: Statement, rest: Vec<Statement>) -> Result<bool, Error> {
        match &self.backend {
            Backend::Sqlite(conn) => {
                let sql = |(t, p): Statement| (self.backend.sql(&t), p);
                let rest: Vec<Statement> = rest.into_iter().map(sql).collect();
                backend::sqlite_transaction_if(conn, &sql(guard), &rest)
                    .map_err(|e| self.located(e))
            }
            Backend::Postgres(_) => self.run(self.backend.transaction_if(guard, rest)),
        }
    }

    /// Networks deleted over gRPC.
    pub fn deleted(&self) -> Result<Vec<String>, Error> {
        let rows = self.query("SELECT network FROM deleted", vec![])?;
        Ok(rows.iter().filter_map(|r| text(&r[0])).collect())
    }

    /// Whether network `name` was ever deleted (its copy under `networks/` is not used).
    pub fn is_deleted(&self, name: &str) -> Result<bool, Error> {
        let rows = self.query(
            "SELECT network FROM deleted WHERE network = $1",
            vec![name.into()],
        )?;
        Ok(!rows.is_empty())
    }

    /// Every recorded version, by network and version.
    pub fn rows(&self) -> Result<Vec<Row>, Error> {
        let rows = self.query(
            "SELECT network, version, kind, base, edits FROM versions \
             ORDER BY network, version",
            vec![],
        )?;
        Ok(rows.iter().map(|r| row(r)).collect())
    }

    /// The recorded versions of network `name`, in order.
    pub fn rows_of(&self, name: &str) -> Result<Vec<Row>, Error> {
        let rows = self.query(
            "SELECT network, version, kind, base, edits FROM versions WHERE network = $1 \
             ORDER BY version",
            vec![name.into()],
        )?;
        Ok(rows.iter().map(|r| row(r)).collect())
    }

    /// The revision of every network changed through a database (a network never changed
    /// has none: revision 0).
    pub fn revisions(&self) -> Result<BTreeMap<String, u64>, Error> {
        let rows = self.query("SELECT network, revision FROM networks", vec![])?;
        Ok(rows
            .iter()
            .filter_map(|r| Some((text(&r[0])?, unsigned(r[1].int()?))))
            .collect())
    }

    /// The revision of network `name` (0: never changed).
    pub fn revision(&self, name: &str) -> Result<u64, Error> {
        let rows = self.query(
            "SELECT revision FROM networks WHERE network = $1",
            vec![name.into()],
        )?;
        Ok(rows.first().and_then(|r| r[0].int()).map_or(0, unsigned))
    }

    /// The files uploaded as `version` of `network`, by name.
    pub fn files(&self, network: &str, version: u64) -> Result<Vec<(String, Vec<u8>)>, Error> {
        let rows = self.query(
            "SELECT name, content FROM files WHERE network = $1 AND version = $2 \
             ORDER BY name",
            vec![network.into(), signed(version).into()],
        )?;
        Ok(rows
            .iter()
            .filter_map(|r| Some((text(&r[0])?, r[1].bytes()?.to_vec())))
            .collect())
    }

    /// Record `version` of `name` as `record` says, and make `plan`'s retention changes, in
    /// one transaction (durable when this returns) — if the network is still at `revision`
    /// (then it is at `revision + 1`); false, and nothing written, when another process
    /// changed it first.
    pub fn record(
        &self,
        name: &str,
        version: u64,
        record: &Record,
        plan: &Plan,
        revision: u64,
    ) -> Result<bool, Error> {
        let mut statements = version_statements(name, version, record);
        for (v, base, edits) in &plan.rebased {
            statements.push((
                "UPDATE versions SET base = $3, edits = $4 WHERE network = $1 AND version = $2"
                    .into(),
                vec![
                    name.into(),
                    signed(*v).into(),
                    signed(*base).into(),
                    edits_json(edits).into(),
                ],
            ));
        }
        for v in &plan.dropped {
            for table in ["files", "versions"] {
                statements.push((
                    format!("DELETE FROM {table} WHERE network = $1 AND version = $2"),
                    vec![name.into(), signed(*v).into()],
                ));
            }
        }
        self.transaction_if(next_revision(name, revision), statements)
    }

    /// Forget network `name` and remember it was deleted, in one transaction — if it is
    /// still at `revision`; false when another process changed it first.
    pub fn remove(&self, name: &str, revision: u64) -> Result<bool, Error> {
        let statements = vec![
            (
                "DELETE FROM files WHERE network = $1".into(),
                vec![name.into()],
            ),
            (
                "DELETE FROM versions WHERE network = $1".into(),
                vec![name.into()],
            ),
            (
                "INSERT INTO deleted (network) VALUES ($1) ON CONFLICT (network) DO NOTHING".into(),
                vec![name.into()],
            ),
        ];
        self.transaction_if(next_revision(name, revision), statements)
    }
}

impl Drop for Database {
    /// Stop the runtime without waiting (dropping a runtime may not block when the last
    /// reference to the store goes on the server's runtime).
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The statements that record `version` of `name`.
fn version_statements(name: &str, version: u64, record: &Record) -> Vec<Statement> {
    match record {
        Record::Upload(files) => {
            let mut statements: Vec<Statement> = vec![(
                "INSERT INTO versions (network, version, kind) VALUES ($1, $2, 'upload')".into(),
                vec![name.into(), signed(version).into()],
            )];
            for (file, content) in *files {
                statements.push((
                    "INSERT INTO files (network, version, name, content) \
                     VALUES ($1, $2, $3, $4)"
                        .into(),
                    vec![
                        name.into(),
                        signed(version).into(),
                        file.as_str().into(),
                        content.clone().into(),
                    ],
                ));
            }
            statements
        }
        Record::Edit { base, edits } => vec![(
            "INSERT INTO versions (network, version, kind, base, edits) \
             VALUES ($1, $2, 'edit', $3, $4)"
                .into(),
            vec![
                name.into(),
                signed(version).into(),
                signed(*base).into(),
                edits_json(edits).into(),
            ],
        )],
    }
}

fn next_revision(name: &str, revision: u64) -> Statement {
    (
        NEXT_REVISION.into(),
        vec![
            name.into(),
            signed(revision).into(),
            signed(revision + 1).into(),
        ],
    )
}

fn row(r: &[Value]) -> Row {
    (
        text(&r[0]).unwrap_or_default(),
        r[1].int().map_or(0, unsigned),
        text(&r[2]).unwrap_or_default(),
        r[3].int().map(unsigned),
        text(&r[4]),
    )
}

fn text(v: &Value) -> Option<String> {
    v.text().map(str::to_string)
}

fn database(place: &str, e: impl std::fmt::Display) -> Error {
    Error::Database {
        path: place.into(),
        message: e.to_string(),
    }
}

/// A version number as the database's integer (version numbers count calls: far below
/// 2^63).
fn signed(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A stored version number; a negative one (only by a hand edit) reads as 0, which no
/// version has.
fn unsigned(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn edits_json(edits: &[Edit]) -> String {
    serde_json::to_string(edits).expect("edits serialise")
}

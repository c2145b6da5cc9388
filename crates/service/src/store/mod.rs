//! The networks a server holds, each as a list of versions (version 1 is the one loaded or
//! uploaded first), and their persistence.
//!
//! With `--data-dir`, every upload and every accepted edit list is written to an SQLite
//! database (`gridtrade.sqlite`, WAL journal, `synchronous = FULL`) in one transaction
//! before the call is answered, so what a client was told is stored survives a restart,
//! `kill -9` included, and a version whose transaction did not commit does not exist. The
//! database records how each version was made — the uploaded files, or the base version
//! and the edits — and a restart replays it: uploads are read again with the same readers,
//! edits applied again. Networks loaded from `networks/` at start are not copied into it;
//! edits of them are. Deleting a network loaded from `networks/` is recorded too, so it
//! does not come back at the next start. A version that cannot be replayed (and an edit
//! made of it) is skipped, logged and listed by ListNetworks ([`Store::unrestored`]), its
//! number kept taken; it never stops the server from starting.
//!
//! Memory ([`Retention`]): a version shares its time series with the one it was made from
//! (an edit costs kilobytes), only the newest `in_memory` versions of each network are held,
//! older ones are read back (uploads) or rebuilt from their base (edits) when asked for, and
//! `keep` bounds how many versions exist at all.
//!
//! Replicas (`--database postgres://…`): the same tables in PostgreSQL, shared by every
//! `gridtrade serve` replica. Each change of a network takes the next revision of it in the
//! same transaction, only if the network is still at the revision this replica last saw
//! (optimistic concurrency: a replica that lost the race reloads the network and numbers its
//! version again). Before a call uses a network, the replica compares revisions (one
//! indexed read) and, when another replica changed it, reloads that network's recipes; so an
//! upload, an edit or a deletion made through one replica is what the next call to any
//! replica sees. (`--data-dir`'s file is one server's: no check per call.)
//!
//! Why SQLite (rusqlite, bundled): one file, transactions that are durable on commit,
//! readable with the `sqlite3` tool by an operator, and a build that needs only a C
//! compiler (already needed for HiGHS). redb would avoid the C code but gives no tool to
//! inspect the file.

mod db;
mod versions;

use super::upload;
use db::Database;
use gridtrade_engine::error::Error;
use gridtrade_engine::network::{Edit, Network};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use tonic::Status;
use versions::{Recipe, Version};

/// How many times a change is tried when other replicas keep changing the same network.
const MAX_TRIES: usize = 8;

/// How a version was made, as recorded.
pub enum Record<'a> {
    /// Files of a PyPSA folder or one MATPOWER file.
    Upload(&'a [(String, Vec<u8>)]),
    /// `edits` applied to version `base`.
    Edit { base: u64, edits: &'a [Edit] },
}

/// How a version can be made anywhere: where it starts and the edits made on it since, each
/// list as one UpdateNetwork call made it, oldest first. Stored with a study (JSON).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NetworkSource {
    pub root: Root,
    pub edits: Vec<Vec<Edit>>,
}

/// Where a version starts.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Root {
    /// The network loaded from `networks/` (this version of it).
    Shipped { version: u64 },
    /// The files of an upload (PyPSA CSVs or a MATPOWER file), by name.
    Files(Vec<(String, String)>),
}

/// How many versions a server holds in memory and keeps at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// The newest versions of each network held in memory (at least 1). Older ones are read
    /// back from the database (uploads) or rebuilt from their base (edits) when asked for,
    /// then let go again; versions loaded from `networks/`, and uploads without a database,
    /// always stay.
    pub in_memory: usize,
    /// Versions held in memory across all networks, the ones above counted, those that
    /// always stay not: beyond it, the oldest made are let go, even the newest version of a
    /// network (made again when a call asks for it). Bounds memory however many networks
    /// are uploaded.
    pub total_in_memory: usize,
    /// The newest versions of each network kept at all (`None`: every one). Older versions
    /// are dropped from memory and the database, except the first version of a chain of
    /// edits that a kept version is built on; a kept edit whose base is dropped is rewritten
    /// as the edits from that first version.
    pub keep: Option<usize>,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            in_memory: 8,
            total_in_memory: 256,
            keep: None,
        }
    }
}

/// A recorded version of a network that could not be restored at start.
#[derive(Debug, Clone, PartialEq)]
pub struct Unrestored {
    pub network: String,
    pub version: u64,
    pub reason: String,
}

impl std::fmt::Display for Unrestored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "network `{}` version {}: {}",
            self.network, self.version, self.reason
        )
    }
}

#[derive(Default)]
pub struct Store {
    inner: RwLock<Inner>,
    db: Option<Database>,
    retention: Retention,
    unrestored: Mutex<Vec<Unrestored>>,
    /// Whether other servers change the database too (PostgreSQL): then each call first
    /// catches up with it. A `--data-dir` file is this server's alone.
    shared: bool,
    /// One reload from the database at a time.
    syncing: Mutex<()>,
}

/// The versions of every network, and which of them hold a network that could be let go.
#[derive(Default)]
struct Inner {
    networks: BTreeMap<String, Vec<Version>>,
    /// Versions whose network is held and could be made again, by `seq` (the order they
    /// were made): (network, version).
    held: BTreeMap<u64, (String, u64)>,
    next_seq: u64,
    /// The revision of each network in the database that this store holds (0: none).
    revisions: BTreeMap<String, u64>,
}

impl Inner {
    fn revision(&self, name: &str) -> u64 {
        self.revisions.get(name).copied().unwrap_or(0)
    }

    /// Take every version of `name` out, the shipped ones (loaded from `networks/`) put
    /// back unless `shipped_too`.
    fn clear(&mut self, name: &str, shipped_too: bool) {
        let old = self.networks.remove(name).unwrap_or_default();
        for v in &old {
            self.held.remove(&v.seq);
        }
        let shipped: Vec<Version> = old
            .into_iter()
            .take_while(|v| matches!(v.recipe, Recipe::Shipped) && !shipped_too)
            .collect();
        if !shipped.is_empty() {
            self.networks.insert(name.to_string(), shipped);
        }
    }

    /// Add `version` as the next version of `name`, after gaps of dropped versions up to
    /// number `number`.
    fn push(&mut self, name: &str, number: u64, mut version: Version) {
        self.next_seq += 1;
        version.seq = self.next_seq;
        if version.evictable() && version.network.is_some() {
            self.held.insert(version.seq, (name.to_string(), number));
        }
        let versions = self.networks.entry(name.to_string()).or_default();
        versions.resize_with(number as usize - 1, Version::dropped);
        versions.push(version);
    }

    /// Let go of the network of version `number` of `name`, if it can be made again.
    fn let_go(&mut self, name: &str, number: u64) {
        let Some(v) = self
            .networks
            .get_mut(name)
            .and_then(|vs| vs.get_mut((number as usize).wrapping_sub(1)))
        else {
            return;
        };
        if v.evictable() {
            v.network = None;
            self.held.remove(&v.seq);
        }
    }

    /// After a version of `name` was added: let go of the one that left the newest
    /// `r.in_memory`, then of the oldest held anywhere beyond `r.total_in_memory`.
    fn evict(&mut self, name: &str, r: &Retention) {
        let len = self.networks.get(name).map_or(0, Vec::len);
        if len > r.in_memory.max(1) {
            self.let_go(name, (len - r.in_memory.max(1)) as u64);
        }
        while self.held.len() > r.total_in_memory.max(1) {
            let Some((_, (n, v))) = self.held.pop_first() else {
                break;
            };
            self.let_go(&n, v);
        }
    }

    /// Make `plan`'s retention changes to `name`'s versions.
    fn apply(&mut self, name: &str, plan: &versions::Plan) {
        for v in &plan.dropped {
            self.let_go(name, *v);
        }
        if let Some(vs) = self.networks.get_mut(name) {
            versions::apply(vs, plan);
        }
    }
}

/// Other replicas kept changing network `name` while this one tried to.
fn busy(name: &str) -> Status {
    Status::aborted(format!(
        "network `{name}` was changed by other replicas {MAX_TRIES} times while this change \
         was being stored; nothing was stored, try again"
    ))
}

fn internal(e: Error) -> Status {
    tracing::error!(error = %e, "database failed");
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

    /// Hold versions as `retention` says (set before [`Store::open_database`]).
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// Keep uploads and edits in `data_dir/gridtrade.sqlite` (created if missing) and
    /// restore what it holds: networks deleted there are dropped, then every recorded
    /// version is replayed in order. Returns what could not be restored (also kept for
    /// [`Store::unrestored`]).
    pub fn open_database(&mut self, data_dir: &Path) -> Result<Vec<String>, Error> {
        self.attach(Database::open_sqlite(data_dir)?, false)
    }

    /// Keep uploads and edits in the database at `url`, shared with other servers
    /// (PostgreSQL, or an SQLite file several processes open), and restore what it holds,
    /// as [`Store::open_database`] does. Every call then first catches up with the changes
    /// the others made.
    pub fn open_shared(&mut self, url: &str) -> Result<Vec<String>, Error> {
        let place = crate::studies::db::redact(url);
        self.attach(Database::open(url, place)?, true)
    }

    fn attach(&mut self, db: Database, shared: bool) -> Result<Vec<String>, Error> {
        self.shared = shared;
        // Revisions first: a change made while the rows are read is reloaded at the next
        // call, never missed.
        let revisions = db.revisions()?;
        let deleted = db.deleted()?;
        let rows = db.rows()?;
        self.db = Some(db);
        {
            let mut inner = self.inner.write().expect("store lock");
            for name in deleted {
                inner.networks.remove(&name);
            }
            inner.revisions = revisions;
        }
        self.replay(rows);
        let problems = self.unrestored().iter().map(|u| u.to_string()).collect();
        Ok(problems)
    }

    /// Replay recorded versions in order. A version that cannot be made is recorded as
    /// unrestored (its number stays taken, so a new version does not collide with its
    /// record); edits built on it fail in turn, other versions are restored.
    fn replay(&self, rows: Vec<db::Row>) {
        for (name, version, kind, base, edits) in rows {
            if let Err(reason) = self.replay_one(&name, version, &kind, base, edits.as_deref()) {
                tracing::warn!(network = %name, version, %reason, "version not restored");
                self.unrestored
                    .lock()
                    .expect("unrestored")
                    .push(Unrestored {
                        network: name.clone(),
                        version,
                        reason,
                    });
                let mut inner = self.inner.write().expect("store lock");
                let versions = inner.networks.entry(name).or_default();
                if versions.len() < version as usize {
                    versions.resize_with(version as usize - 1, Version::dropped);
                    versions.push(Version::unrestored());
                }
            }
        }
        self.inner
            .write()
            .expect("store lock")
            .networks
            .retain(|_, v| v.iter().any(|v| !v.is_dropped()));
    }

    fn replay_one(
        &self,
        name: &str,
        version: u64,
        kind: &str,
        base: Option<u64>,
        edits: Option<&str>,
    ) -> Result<(), String> {
        let held = self
            .inner
            .read()
            .expect("store lock")
            .networks
            .get(name)
            .map_or(0, Vec::len) as u64;
        if version <= held {
            return Err(format!(
                "version {version} is recorded but {held} versions are already held (was a \
                 network under networks/ replaced?)"
            ));
        }
        let (recipe, n) = if kind == "upload" {
            (Recipe::Upload, self.read_upload(name, version)?)
        } else {
            let edits: Vec<Edit> = serde_json::from_str(edits.unwrap_or("[]"))
                .map_err(|e| format!("its edits cannot be read: {e}"))?;
            let base = base
                .filter(|b| *b > 0)
                .ok_or("its base version is missing")?;
            let (_, b) = self
                .get_held(name, base)
                .map_err(|_| format!("its base version {base} is missing"))?;
            let mut n = (*b).clone();
            n.apply(&edits)?;
            let edits = Arc::new(edits);
            (Recipe::Edit { base, edits }, n)
        };
        let summary = crate::convert::summary(name, &n, version);
        let mut inner = self.inner.write().expect("store lock");
        // Versions the retention policy dropped leave gaps in the numbers.
        inner.push(name, version, Version::new(recipe, n, summary));
        inner.evict(name, &self.retention);
        Ok(())
    }

    /// Version `version` of `name` read again from its uploaded files.
    fn read_upload(&self, name: &str, version: u64) -> Result<Network, String> {
        let db = self.db.as_ref().ok_or("no database holds the upload")?;
        let files = db
            .files(name, version)
            .map_err(|e| format!("its files cannot be read: {e}"))?;
        let (mut n, _) = upload::read(&files).map_err(|s| s.message().to_string())?;
        n.name = name.to_string();
        Ok(n)
    }

    /// Add a new version of network `name`, in memory only (networks loaded at start).
    pub fn insert(&self, name: &str, n: Network) -> u64 {
        let mut inner = self.inner.write().expect("store lock");
        let version = inner.networks.get(name).map_or(0, Vec::len) as u64 + 1;
        let summary = crate::convert::summary(name, &n, version);
        inner.push(name, version, Version::new(Recipe::Shipped, n, summary));
        version
    }

    /// How version `version` of `name` can be made by another process (a worker on another
    /// machine): the network it starts from — shipped in `networks/`, or the files of an
    /// upload — and the edits made on it since. FAILED_PRECONDITION for an upload to a server
    /// without a database (its files are not kept). Blocking (SQLite).
    pub fn source(&self, name: &str, version: u64) -> Result<NetworkSource, Status> {
        self.sync(name)?;
        let (mut edits, mut at) = (Vec::new(), version);
        let root = loop {
            let inner = self.inner.read().expect("store lock");
            let this = inner
                .networks
                .get(name)
                .and_then(|vs| vs.get((at as usize).wrapping_sub(1)))
                .ok_or_else(|| {
                    Status::not_found(format!("network `{name}` has no version {at}"))
                })?;
            match &this.recipe {
                Recipe::Edit { base, edits: e } => {
                    edits.push((**e).clone());
                    at = *base;
                }
                Recipe::Shipped => break Root::Shipped { version: at },
                Recipe::Upload => {
                    drop(inner);
                    break Root::Files(self.upload_files(name, at)?);
                }
                Recipe::Held => {
                    return Err(Status::failed_precondition(format!(
                        "network `{name}` version {at} was uploaded to a server without \
                         --data-dir or a PostgreSQL --database: its files are not kept, so \
                         no worker can make it; start the server with either and upload it \
                         again"
                    )))
                }
                Recipe::Dropped | Recipe::Unrestored => {
                    return Err(Status::not_found(format!(
                        "version {at} of network `{name}` is not held (dropped, or not \
                         restored at start)"
                    )))
                }
            }
        };
        edits.reverse();
        Ok(NetworkSource { root, edits })
    }

    /// The files of an upload, as text.
    fn upload_files(&self, name: &str, version: u64) -> Result<Vec<(String, String)>, Status> {
        let db = self
            .db
            .as_ref()
            .ok_or_else(|| Status::internal("no database holds the upload"))?;
        let files = db.files(name, version).map_err(internal)?;
        files
            .into_iter()
            .map(|(file, bytes)| {
                String::from_utf8(bytes)
                    .map(|text| (file.clone(), text))
                    .map_err(|_| {
                        Status::failed_precondition(format!(
                            "network `{name}` version {version}: file `{file}` is not UTF-8 text"
                        ))
                    })
            })
            .collect()
    }

    /// Make the network `source` describes, named `name`: from this store's shipped
    /// version, or from the files, then the edits. Blocking.
    pub fn make(&self, name: &str, source: &NetworkSource) -> Result<Arc<Network>, String> {
        let start = match &source.root {
            Root::Shipped { version } => {
                let shipped = {
                    let inner = self.inner.read().expect("store lock");
                    inner
                        .networks
                        .get(name)
                        .and_then(|vs| vs.get((*version as usize).wrapping_sub(1)))
                        .filter(|v| matches!(v.recipe, Recipe::Shipped))
                        .and_then(|v| v.network.clone())
                };
                shipped.ok_or_else(|| {
                    format!(
                        "this worker's networks folder has no `{name}` (version {version} is \
                         the shipped network on the replica that took the study)"
                    )
                })?
            }
            Root::Files(files) => {
                let bytes: Vec<(String, Vec<u8>)> = files
                    .iter()
                    .map(|(f, t)| (f.clone(), t.clone().into_bytes()))
                    .collect();
                let (mut n, _) = upload::read(&bytes).map_err(|s| s.message().to_string())?;
                n.name = name.to_string();
                Arc::new(n)
            }
        };
        if source.edits.is_empty() {
            return Ok(start);
        }
        let mut n = (*start).clone();
        for edits in &source.edits {
            n.apply(edits).map_err(|e| e.to_string())?;
        }
        Ok(Arc::new(n))
    }

    /// Add a new version of network `name` made as `record` says; with a database, it is
    /// written (and synced) before this returns, with the retention policy's changes.
    /// Returns the version number: the next after every version stored by any replica.
    /// Blocking (database and fsync): call it off the runtime.
    pub fn add(&self, name: &str, n: Network, record: Record) -> Result<u64, Status> {
        let n = Arc::new(n);
        for _ in 0..MAX_TRIES {
            self.sync(name)?;
            if let Some(version) = self.try_add(name, &n, &record)? {
                return Ok(version);
            }
        }
        Err(busy(name))
    }

    /// [`Store::add`] once: `None` when another replica changed the network first.
    fn try_add(
        &self,
        name: &str,
        n: &Arc<Network>,
        record: &Record,
    ) -> Result<Option<u64>, Status> {
        let mut inner = self.inner.write().expect("store lock");
        let version = inner.networks.get(name).map_or(0, Vec::len) as u64 + 1;
        let recipe = match (record, &self.db) {
            (Record::Upload(_), Some(_)) => Recipe::Upload,
            (Record::Upload(_), None) => Recipe::Held,
            (Record::Edit { base, edits }, _) => Recipe::Edit {
                base: *base,
                edits: Arc::new(edits.to_vec()),
            },
        };
        let summary = crate::convert::summary(name, n, version);
        inner.push(name, version, Version::new(recipe, n.clone(), summary));
        let plan = match (self.retention.keep, inner.networks.get(name)) {
            (Some(keep), Some(versions)) => versions::plan_retention(versions, keep),
            _ => Default::default(),
        };
        if let Some(db) = &self.db {
            let revision = inner.revision(name);
            let stored = db.record(name, version, record, &plan, revision);
            if !matches!(stored, Ok(true)) {
                // Not stored: not a version either.
                inner.let_go(name, version);
                if let Some(vs) = inner.networks.get_mut(name) {
                    vs.pop();
                    if vs.is_empty() {
                        inner.networks.remove(name);
                    }
                }
                return stored.map(|_| None).map_err(internal);
            }
            inner.revisions.insert(name.to_string(), revision + 1);
        }
        inner.apply(name, &plan);
        inner.evict(name, &self.retention);
        Ok(Some(version))
    }

    /// Remove network `name` with all its versions (recorded, with a database); false when
    /// there is none. Blocking (database and fsync).
    pub fn remove(&self, name: &str) -> Result<bool, Status> {
        for _ in 0..MAX_TRIES {
            self.sync(name)?;
            let mut inner = self.inner.write().expect("store lock");
            if !inner.networks.contains_key(name) {
                return Ok(false);
            }
            if let Some(db) = &self.db {
                let revision = inner.revision(name);
                if !db.remove(name, revision).map_err(internal)? {
                    continue; // changed by another replica: look again
                }
                inner.revisions.insert(name.to_string(), revision + 1);
            }
            inner.clear(name, true);
            self.unrestored
                .lock()
                .expect("unrestored")
                .retain(|u| u.network != name);
            return Ok(true);
        }
        Err(busy(name))
    }

    /// Catch up with the database on network `name`: when another replica (or process)
    /// changed it since this store last did, reload it. Blocking (one indexed read).
    fn sync(&self, name: &str) -> Result<(), Status> {
        let Some(db) = self.db.as_ref().filter(|_| self.shared) else {
            return Ok(());
        };
        let stored = db.revision(name).map_err(internal)?;
        if stored != self.inner.read().expect("store lock").revision(name) {
            self.reload(name)?;
        }
        Ok(())
    }

    /// Catch up with the database on every network (ListNetworks).
    fn sync_all(&self) -> Result<(), Status> {
        let Some(db) = self.db.as_ref().filter(|_| self.shared) else {
            return Ok(());
        };
        let stored = db.revisions().map_err(internal)?;
        let changed: Vec<String> = {
            let inner = self.inner.read().expect("store lock");
            stored
                .iter()
                .filter(|(name, r)| inner.revision(name) != **r)
                .map(|(name, _)| name.clone())
                .collect()
        };
        for name in changed {
            self.reload(&name)?;
        }
        Ok(())
    }

    /// Make network `name` what the database says: its shipped version (unless it was
    /// deleted), then every recorded version replayed as at start.
    fn reload(&self, name: &str) -> Result<(), Status> {
        let db = self.db.as_ref().expect("reload needs a database");
        let _one = self.syncing.lock().unwrap_or_else(|e| e.into_inner());
        let revision = db.revision(name).map_err(internal)?;
        if revision == self.inner.read().expect("store lock").revision(name) {
            return Ok(()); // another call reloaded it meanwhile
        }
        let deleted = db.is_deleted(name).map_err(internal)?;
        let rows = db.rows_of(name).map_err(internal)?;
        tracing::info!(network = %name, revision, versions = rows.len(), "changed elsewhere: reloaded");
        {
            let mut inner = self.inner.write().expect("store lock");
            inner.clear(name, deleted);
            inner.revisions.insert(name.to_string(), revision);
        }
        self.unrestored
            .lock()
            .expect("unrestored")
            .retain(|u| u.network != name);
        self.replay(rows);
        Ok(())
    }

    /// Network `name` at `version` (0 = newest), after catching up with the database. A
    /// version not in memory is read back or rebuilt (blocking: database, reading files,
    /// applying edits), held while it is among the newest, and let go otherwise.
    pub fn get(&self, name: &str, version: u64) -> Result<(u64, Arc<Network>), Status> {
        self.sync(name)?;
        self.get_held(name, version)
    }

    /// [`Store::get`] of what this store holds, without asking the database.
    fn get_held(&self, name: &str, version: u64) -> Result<(u64, Arc<Network>), Status> {
        let v = {
            let inner = self.inner.read().expect("store lock");
            let versions = inner
                .networks
                .get(name)
                .ok_or_else(|| Status::not_found(format!("no network named `{name}`")))?;
            let v = if version == 0 {
                versions::newest(versions).ok_or_else(|| {
                    Status::not_found(format!(
                        "network `{name}` has no version that could be restored at start \
                         (see ListNetworks)"
                    ))
                })?
            } else {
                version
            };
            let held = versions.get((v as usize).wrapping_sub(1)).ok_or_else(|| {
                Status::not_found(format!(
                    "network `{name}` has versions 1..={}, not {version}",
                    versions.len()
                ))
            })?;
            if let Some(n) = &held.network {
                return Ok((v, n.clone()));
            }
            v
        };
        let n = self.rebuild(name, v)?;
        Ok((v, n))
    }

    /// Make version `v` of `name` again from the nearest version in memory or upload below
    /// it, following the bases of its edits.
    fn rebuild(&self, name: &str, v: u64) -> Result<Arc<Network>, Status> {
        let dropped = || {
            Status::not_found(format!(
                "version {v} of network `{name}` was dropped by the retention policy \
                 (--keep-versions {})",
                self.retention.keep.unwrap_or(0)
            ))
        };
        let (mut steps, mut at) = (Vec::new(), v);
        let start = loop {
            let inner = self.inner.read().expect("store lock");
            let versions = inner
                .networks
                .get(name)
                .ok_or_else(|| Status::not_found(format!("no network named `{name}`")))?;
            let this = versions.get(at as usize - 1).ok_or_else(dropped)?;
            if let Some(n) = &this.network {
                break n.clone();
            }
            match &this.recipe {
                Recipe::Edit { base, edits } => {
                    steps.push(edits.clone());
                    at = *base;
                }
                Recipe::Upload => {
                    drop(inner);
                    break Arc::new(self.read_upload(name, at).map_err(Status::internal)?);
                }
                Recipe::Unrestored => {
                    return Err(Status::not_found(format!(
                        "version {at} of network `{name}` could not be restored at start \
                         (see ListNetworks)"
                    )))
                }
                Recipe::Dropped | Recipe::Held | Recipe::Shipped => return Err(dropped()),
            }
        };
        let mut n = (*start).clone();
        for edits in steps.iter().rev() {
            n.apply(edits).map_err(Status::internal)?;
        }
        Ok(Arc::new(n))
    }

    /// What ListNetworks says of the newest version of every network, by name (held even
    /// while the network itself is not).
    /// Blocking (catches up with the database).
    pub fn latest(&self) -> Result<Vec<Arc<crate::proto::NetworkSummary>>, Status> {
        self.sync_all()?;
        let inner = self.inner.read().expect("store lock");
        Ok(inner
            .networks
            .values()
            .filter_map(|v| {
                let newest = versions::newest(v)?;
                Some(v[newest as usize - 1].summary.clone())
            })
            .collect())
    }

    /// Versions that could not be restored at start, by network.
    pub fn unrestored(&self) -> Vec<Unrestored> {
        self.unrestored.lock().expect("unrestored").clone()
    }

    /// The versions of `name` whose network is in memory now (for tests and metrics).
    pub fn in_memory(&self, name: &str) -> Vec<u64> {
        let inner = self.inner.read().expect("store lock");
        inner.networks.get(name).map_or_else(Vec::new, |v| {
            (1..=v.len() as u64)
                .filter(|&k| v[k as usize - 1].network.is_some())
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridtrade_engine::network::{Bus, Snapshots};
    use rusqlite::{params, Connection};

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
                problems[0].contains("network `net` version 3")
                    && problems[0].contains("cannot be read"),
                "{problems:?}"
            );
            let (version, n) = store.get("net", 0).unwrap();
            assert_eq!(version, 2, "versions before the broken one are restored");
            assert_eq!(n.links[0].p_nom, f64::INFINITY);
        }
    }

    /// `upload` of `net` as a MATPOWER-free PyPSA upload: two buses and a link `ab`.
    fn upload_files() -> Vec<(String, Vec<u8>)> {
        vec![
            ("buses.csv".into(), b"name\na\nb\n".to_vec()),
            (
                "links.csv".into(),
                b"name,bus0,bus1,p_nom,p_min_pu\nab,a,b,100,-1\n".to_vec(),
            ),
        ]
    }

    fn set_ab(value: f64) -> Vec<Edit> {
        vec![Edit::SetAttribute {
            element: "ab".into(),
            attribute: "p_nom".into(),
            value,
        }]
    }

    /// A store with retention `r` over `dir`, `net` uploaded and edited `edits` times
    /// (version k + 1 sets ab's p_nom to k).
    fn edited(dir: &Path, r: Retention, edits: u64) -> Store {
        let mut store = Store::default().with_retention(r);
        store.open_database(dir).unwrap();
        let files = upload_files();
        let (n, _) = upload::read(&files).unwrap();
        store.add("net", n, Record::Upload(&files)).unwrap();
        for k in 1..=edits {
            let (base, n) = store.get("net", 0).unwrap();
            let mut n = (*n).clone();
            n.apply(&set_ab(k as f64)).unwrap();
            store
                .add(
                    "net",
                    n,
                    Record::Edit {
                        base,
                        edits: &set_ab(k as f64),
                    },
                )
                .unwrap();
        }
        store
    }

    fn p_nom(store: &Store, version: u64) -> f64 {
        store.get("net", version).unwrap().1.links[0].p_nom
    }

    #[test]
    fn only_the_newest_versions_stay_in_memory_and_older_ones_are_rebuilt_on_demand() {
        let dir = tempfile::tempdir().unwrap();
        let r = Retention {
            in_memory: 3,
            ..Retention::default()
        };
        let store = edited(dir.path(), r, 20);
        assert_eq!(store.in_memory("net"), vec![19, 20, 21]);
        // The upload read back from the database, an edit rebuilt along its chain.
        assert_eq!(p_nom(&store, 1), 100.0);
        assert_eq!(p_nom(&store, 6), 5.0);
        assert_eq!(
            store.in_memory("net"),
            vec![19, 20, 21],
            "rebuilt, not held"
        );
        // The same after a restart, which holds no more than the newest three either.
        drop(store);
        let mut store = Store::default().with_retention(r);
        assert!(store.open_database(dir.path()).unwrap().is_empty());
        assert_eq!(store.in_memory("net"), vec![19, 20, 21]);
        assert_eq!(p_nom(&store, 11), 10.0);
        assert_eq!(p_nom(&store, 0), 20.0);
    }

    #[test]
    fn retention_drops_old_versions_but_keeps_the_upload_kept_edits_are_built_on() {
        let dir = tempfile::tempdir().unwrap();
        let r = Retention {
            in_memory: 2,
            keep: Some(4),
            ..Retention::default()
        };
        let store = edited(dir.path(), r, 9);
        // Versions 7..=10 kept; 7 rebased onto the upload (version 1) with edits 1..=6.
        for (v, want) in [(1, 100.0), (7, 6.0), (8, 7.0), (10, 9.0)] {
            assert_eq!(p_nom(&store, v), want, "version {v}");
        }
        let err = store.get("net", 4).unwrap_err();
        assert_eq!(err.code(), tonic::Code::NotFound);
        assert!(
            err.message().contains("dropped by the retention policy"),
            "{}",
            err.message()
        );
        let rows: i64 = Connection::open(dir.path().join("gridtrade.sqlite"))
            .unwrap()
            .query_row("SELECT count(*) FROM versions", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 5, "the upload and the four kept versions");
        drop(store);
        let mut store = Store::default().with_retention(r);
        assert!(store.open_database(dir.path()).unwrap().is_empty());
        for (v, want) in [(1, 100.0), (7, 6.0), (10, 9.0)] {
            assert_eq!(p_nom(&store, v), want, "version {v} after a restart");
        }
        assert!(store.get("net", 3).is_err());
        assert_eq!(store.latest().unwrap()[0].version, 10);
    }

    #[test]
    fn unrestored_versions_are_listed_until_the_network_is_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let store = edited(dir.path(), Retention::default(), 2);
        drop(store);
        let conn = Connection::open(dir.path().join("gridtrade.sqlite")).unwrap();
        conn.execute("UPDATE versions SET edits = '{' WHERE version = 3", [])
            .unwrap();
        drop(conn);
        let mut store = Store::default();
        store.open_database(dir.path()).unwrap();
        let u = store.unrestored();
        assert_eq!(u.len(), 1);
        assert_eq!((u[0].network.as_str(), u[0].version), ("net", 3));
        assert!(u[0].reason.contains("cannot be read"), "{}", u[0].reason);
        // The newest version served is 2; 3 is not served, and its number stays taken: an
        // edit made now is version 4, restored at the next start.
        assert_eq!(store.get("net", 0).unwrap().0, 2);
        let err = store.get("net", 3).unwrap_err();
        assert!(
            err.message().contains("could not be restored"),
            "{}",
            err.message()
        );
        assert_eq!(store.latest().unwrap()[0].version, 2);
        let (_, n) = store.get("net", 2).unwrap();
        let mut n = (*n).clone();
        n.apply(&set_ab(7.0)).unwrap();
        let four = store
            .add(
                "net",
                n,
                Record::Edit {
                    base: 2,
                    edits: &set_ab(7.0),
                },
            )
            .unwrap();
        assert_eq!(four, 4);
        drop(store);
        let mut store = Store::default();
        store.open_database(dir.path()).unwrap();
        assert_eq!(store.unrestored().len(), 1);
        assert_eq!(p_nom(&store, 0), 7.0);
        assert!(store.remove("net").unwrap());
        assert!(store.unrestored().is_empty());
    }

    /// Many networks, each within its own limit, stay within the total: the oldest made are
    /// let go, the newest version of a network included, and answer as before.
    #[test]
    fn the_total_in_memory_bounds_memory_however_many_networks_are_uploaded() {
        let dir = tempfile::tempdir().unwrap();
        let r = Retention {
            in_memory: 2,
            total_in_memory: 5,
            keep: None,
        };
        let mut store = Store::default().with_retention(r);
        store.insert("loaded", two_buses());
        store.open_database(dir.path()).unwrap();
        let files = upload_files();
        for k in 0..12 {
            let (n, _) = upload::read(&files).unwrap();
            store
                .add(&format!("up{k}"), n, Record::Upload(&files))
                .unwrap();
        }
        let held: usize = (0..12)
            .map(|k| store.in_memory(&format!("up{k}")).len())
            .sum();
        assert_eq!(held, 5, "five held in all");
        assert_eq!(
            store.in_memory("up0"),
            Vec::<u64>::new(),
            "the oldest let go"
        );
        assert_eq!(store.in_memory("up11"), vec![1]);
        assert_eq!(
            store.in_memory("loaded"),
            vec![1],
            "a network loaded at start always stays"
        );
        // Listed without being held, and made again when asked for.
        assert_eq!(store.latest().unwrap().len(), 13);
        assert_eq!(store.get("up0", 0).unwrap().1.links[0].p_nom, 100.0);
    }

    /// A replica holding `net` (version 1 loaded, not recorded) over the database `dir`
    /// shares with others.
    fn replica(dir: &Path) -> Store {
        let mut store = Store::default();
        store.insert("net", two_buses());
        let url = dir.join("shared.sqlite").display().to_string();
        assert!(store.open_shared(&url).unwrap().is_empty());
        store
    }

    /// Two stores over one database, as two replicas over one PostgreSQL (here an SQLite
    /// file): an upload, an edit and a deletion made through one are what the other serves
    /// at its next call, and a version numbered on a stale view is numbered again.
    #[test]
    fn replicas_sharing_one_database_see_each_others_changes() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (replica(dir.path()), replica(dir.path()));
        let files = upload_files();
        let (up, _) = upload::read(&files).unwrap();
        assert_eq!(a.add("up", up.clone(), Record::Upload(&files)).unwrap(), 1);
        let listed: Vec<_> = b.latest().unwrap().iter().map(|s| s.name.clone()).collect();
        assert_eq!(listed, ["net", "up"]);
        assert_eq!(b.get("up", 1).unwrap().1.links[0].p_nom, 100.0);

        // An edit through b, seen by a; then a, whose view is stale, numbers its own edit
        // 2, finds b took it, and stores it as 3.
        let edit = |value: f64| {
            let mut n = up.clone();
            n.apply(&set_ab(value)).unwrap();
            n
        };
        let (e7, e9) = (set_ab(7.0), set_ab(9.0));
        let seven = Record::Edit {
            base: 1,
            edits: &e7,
        };
        assert_eq!(b.add("up", edit(7.0), seven).unwrap(), 2);
        let nine = Record::Edit {
            base: 1,
            edits: &e9,
        };
        assert_eq!(a.try_add("up", &Arc::new(edit(9.0)), &nine).unwrap(), None);
        assert_eq!(a.get("up", 0).unwrap().0, 2, "reloaded: b's edit");
        assert_eq!(a.add("up", edit(9.0), nine).unwrap(), 3);
        for store in [&a, &b] {
            assert_eq!(store.get("up", 2).unwrap().1.links[0].p_nom, 7.0);
            assert_eq!(store.get("up", 3).unwrap().1.links[0].p_nom, 9.0);
        }

        // Deleting the shipped network through a: b no longer serves it, nor does a third
        // replica started later; uploaded again through b, it is version 1 everywhere.
        assert!(a.remove("net").unwrap());
        assert_eq!(b.get("net", 0).unwrap_err().code(), tonic::Code::NotFound);
        assert!(!b.remove("net").unwrap(), "already gone");
        let c = replica(dir.path());
        assert!(c.get("net", 0).is_err());
        assert_eq!(b.add("net", up.clone(), Record::Upload(&files)).unwrap(), 1);
        for store in [&a, &b, &c] {
            let (version, n) = store.get("net", 0).unwrap();
            assert_eq!(
                (version, n.links.len()),
                (1, 1),
                "the upload, not two_buses"
            );
        }
    }
}

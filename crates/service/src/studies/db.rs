//! The database under the study queue and the network store (`crate::store`): PostgreSQL
//! (tokio-postgres) shared by any number of replicas and workers, or SQLite (rusqlite,
//! bundled) embedded in one process. The SQL is written once, with `$n` parameters and two
//! templates — `{now}` (the database's clock, ms since the Unix epoch, so that leases do not
//! depend on the machines' clocks) and `{skip_locked}` (PostgreSQL's `FOR UPDATE OF c SKIP
//! LOCKED`: lock the claimed case, aliased `c`, not its study; SQLite has one writer at a
//! time and needs none) — and rows come back as [`Value`]s.

use gridtrade_engine::error::Error;
use std::sync::{Arc, Mutex};

/// A parameter or a column's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bool(bool),
    /// BLOB on SQLite, BYTEA on PostgreSQL.
    Bytes(Vec<u8>),
}

impl Value {
    pub fn int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(*b as i64),
            _ => None,
        }
    }

    pub fn real(&self) -> Option<f64> {
        match self {
            Value::Real(x) => Some(*x),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes of a BLOB/BYTEA (or of a text).
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            Value::Text(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    pub fn bool(&self) -> bool {
        matches!(self, Value::Bool(true)) || matches!(self, Value::Int(i) if *i != 0)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Value {
        Value::Bytes(b)
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Value {
        Value::Real(x)
    }
}

/// A statement and its parameters.
pub type Statement = (String, Vec<Value>);

/// The database of the study queue.
#[derive(Clone)]
pub enum Backend {
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    Postgres(Arc<Postgres>),
}

/// PostgreSQL connections, each made when first needed and again when it was lost (the
/// server restarted); a call takes a free one. (A fixed set over the reconnect below, not
/// deadpool-postgres: nothing to recycle or configure beyond how many.)
pub struct Postgres {
    url: String,
    clients: Vec<tokio::sync::Mutex<Option<tokio_postgres::Client>>>,
    /// Which connection a call waits for when none is free.
    next: std::sync::atomic::AtomicUsize,
}

fn db_error(where_: &str, e: impl std::fmt::Display) -> Error {
    Error::Database {
        path: where_.into(),
        message: e.to_string(),
    }
}

/// Whether `url` names a PostgreSQL database (else SQLite).
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl Backend {
    /// Open `url`: `postgres://…` or `postgresql://…` (PostgreSQL, one connection),
    /// `sqlite::memory:`, or `sqlite://PATH` / a plain path (an SQLite file, created if
    /// missing).
    pub async fn open(url: &str) -> Result<Backend, Error> {
        Backend::open_with(url, 1).await
    }

    /// [`Backend::open`], with up to `connections` to PostgreSQL used at once.
    pub async fn open_with(url: &str, connections: usize) -> Result<Backend, Error> {
        if is_postgres(url) {
            let pg = Postgres {
                url: url.to_string(),
                clients: (0..connections.max(1))
                    .map(|_| tokio::sync::Mutex::new(None))
                    .collect(),
                next: Default::default(),
            };
            // Connect now, so a bad URL is an error at start, not at the first call.
            drop(pg.client().await?);
            return Ok(Backend::Postgres(Arc::new(pg)));
        }
        Backend::open_sqlite(url)
    }

    /// Open an SQLite database: `sqlite::memory:`, or `sqlite://PATH` / a plain path (a
    /// file, created if missing). No runtime needed.
    pub fn open_sqlite(url: &str) -> Result<Backend, Error> {
        let conn = if url == "sqlite::memory:" {
            rusqlite::Connection::open_in_memory()
        } else {
            rusqlite::Connection::open(url.strip_prefix("sqlite://").unwrap_or(url))
        }
        .map_err(|e| db_error(url, e))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .and_then(|_| conn.pragma_update(None, "synchronous", "FULL"))
            .and_then(|_| conn.pragma_update(None, "foreign_keys", "ON"))
            .and_then(|_| conn.busy_timeout(std::time::Duration::from_secs(10)))
            .map_err(|e| db_error(url, e))?;
        Ok(Backend::Sqlite(Arc::new(Mutex::new(conn))))
    }

    /// Which database this is, for logs (no password).
    pub fn kind(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "SQLite",
            Backend::Postgres(_) => "PostgreSQL",
        }
    }

    /// `template` in this database's dialect.
    pub fn sql(&self, template: &str) -> String {
        match self {
            Backend::Postgres(_) => template
                .replace(
                    "{now}",
                    "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
                )
                .replace("{skip_locked}", "FOR UPDATE OF c SKIP LOCKED"),
            Backend::Sqlite(_) => template
                .replace("{now}", "CAST(unixepoch('subsec') * 1000 AS INTEGER)")
                .replace("{skip_locked}", "")
                .replace('$', "?"),
        }
    }

    /// Run one statement (a template), returning its rows.
    pub async fn query(
        &self,
        template: &str,
        params: Vec<Value>,
    ) -> Result<Vec<Vec<Value>>, Error> {
        let sql = self.sql(template);
        match self {
            Backend::Sqlite(conn) => {
                let conn = conn.clone();
                blocking(move || sqlite_query(&conn, &sql, &params)).await
            }
            Backend::Postgres(pg) => pg.query(&sql, &params).await,
        }
    }

    /// Run statements (templates) in one transaction.
    pub async fn transaction(&self, statements: Vec<Statement>) -> Result<(), Error> {
        let statements: Vec<Statement> = statements
            .into_iter()
            .map(|(t, p)| (self.sql(&t), p))
            .collect();
        match self {
            Backend::Sqlite(conn) => {
                let conn = conn.clone();
                blocking(move || {
                    let mut c = conn.lock().unwrap_or_else(|e| e.into_inner());
                    let tx = c.transaction().map_err(|e| db_error("sqlite", e))?;
                    for statement in &statements {
                        sqlite_execute(&tx, statement)?;
                    }
                    tx.commit().map_err(|e| db_error("sqlite", e))
                })
                .await
            }
            Backend::Postgres(pg) => pg.transaction(&statements).await,
        }
    }

    /// Run `guard`, then `rest`, in one transaction, if `guard` changes a row; otherwise
    /// roll back and return false (optimistic concurrency: the guard is an update that
    /// matches only the state this process last saw).
    pub async fn transaction_if(
        &self,
        guard: Statement,
        rest: Vec<Statement>,
    ) -> Result<bool, Error> {
        let guard = (self.sql(&guard.0), guard.1);
        let rest: Vec<Statement> = rest.into_iter().map(|(t, p)| (self.sql(&t), p)).collect();
        match self {
            Backend::Sqlite(conn) => {
                let conn = conn.clone();
                blocking(move || sqlite_transaction_if(&conn, &guard, &rest)).await
            }
            Backend::Postgres(pg) => pg.transaction_if(&guard, &rest).await,
        }
    }

    /// Run a batch of statements without parameters (the schema).
    pub async fn batch(&self, sql: &str) -> Result<(), Error> {
        let sql = self.sql(sql);
        match self {
            Backend::Sqlite(conn) => {
                let conn = conn.clone();
                blocking(move || {
                    let c = conn.lock().unwrap_or_else(|e| e.into_inner());
                    c.execute_batch(&sql).map_err(|e| db_error("sqlite", e))
                })
                .await
            }
            Backend::Postgres(pg) => {
                let mut guard = pg.client().await?;
                let client = guard.as_mut().expect("connected");
                let r = client.batch_execute(&sql).await;
                pg.check(&mut guard, r)
            }
        }
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| db_error("sqlite", format!("database task failed: {e}")))?
}

fn to_sqlite(v: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match v {
        Value::Null => V::Null,
        Value::Int(i) => V::Integer(*i),
        Value::Real(x) => V::Real(*x),
        Value::Text(s) => V::Text(s.clone()),
        Value::Bool(b) => V::Integer(*b as i64),
        Value::Bytes(b) => V::Blob(b.clone()),
    }
}

/// [`Backend::transaction_if`] on SQLite, on the calling thread (blocking).
pub(crate) fn sqlite_transaction_if(
    conn: &Mutex<rusqlite::Connection>,
    guard: &Statement,
    rest: &[Statement],
) -> Result<bool, Error> {
    let mut c = conn.lock().unwrap_or_else(|e| e.into_inner());
    // IMMEDIATE: take the write lock first, so that another process's change cannot slip
    // between the guard's read and its write.
    let tx = c
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(|e| db_error("sqlite", e))?;
    if sqlite_execute(&tx, guard)? == 0 {
        return Ok(false); // dropped: rolled back
    }
    for statement in rest {
        sqlite_execute(&tx, statement)?;
    }
    tx.commit().map_err(|e| db_error("sqlite", e))?;
    Ok(true)
}

/// Run one statement in `tx`: the rows it changed.
fn sqlite_execute(tx: &rusqlite::Transaction, (sql, params): &Statement) -> Result<usize, Error> {
    tx.execute(
        sql,
        rusqlite::params_from_iter(params.iter().map(to_sqlite)),
    )
    .map_err(|e| db_error("sqlite", format!("{e}: {sql}")))
}

/// [`Backend::query`] on SQLite, on the calling thread (blocking).
pub(crate) fn sqlite_query(
    conn: &Mutex<rusqlite::Connection>,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Vec<Value>>, Error> {
    use rusqlite::types::ValueRef;
    let c = conn.lock().unwrap_or_else(|e| e.into_inner());
    let err = |e: rusqlite::Error| db_error("sqlite", format!("{e}: {sql}"));
    let mut stmt = c.prepare_cached(sql).map_err(err)?;
    let columns = stmt.column_count();
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params.iter().map(to_sqlite)))
        .map_err(err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(err)? {
        let mut values = Vec::with_capacity(columns);
        for i in 0..columns {
            values.push(match row.get_ref(i).map_err(err)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(i) => Value::Int(i),
                ValueRef::Real(x) => Value::Real(x),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
            });
        }
        out.push(values);
    }
    Ok(out)
}

type PgParam = Box<dyn tokio_postgres::types::ToSql + Sync + Send>;

fn to_postgres(v: &Value) -> PgParam {
    match v {
        Value::Null => Box::new(Option::<String>::None),
        Value::Int(i) => Box::new(*i),
        Value::Real(x) => Box::new(*x),
        Value::Text(s) => Box::new(s.clone()),
        Value::Bool(b) => Box::new(*b),
        Value::Bytes(b) => Box::new(b.clone()),
    }
}

fn from_postgres(row: &tokio_postgres::Row) -> Result<Vec<Value>, Error> {
    use tokio_postgres::types::Type;
    let err = |e: tokio_postgres::Error| db_error("postgres", pg_message(&e));
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let t = column.type_();
        let v = if *t == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)
                .map_err(err)?
                .map(Value::Int)
        } else if *t == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)
                .map_err(err)?
                .map(|x| Value::Int(x.into()))
        } else if *t == Type::FLOAT8 {
            row.try_get::<_, Option<f64>>(i)
                .map_err(err)?
                .map(Value::Real)
        } else if *t == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(i)
                .map_err(err)?
                .map(Value::Bytes)
        } else if *t == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)
                .map_err(err)?
                .map(Value::Bool)
        } else {
            row.try_get::<_, Option<String>>(i)
                .map_err(err)?
                .map(Value::Text)
        };
        values.push(v.unwrap_or(Value::Null));
    }
    Ok(values)
}

impl Postgres {
    /// A free connection (else the next in turn, when it is free), made (again) when there
    /// is none or it was closed.
    async fn client(
        &self,
    ) -> Result<tokio::sync::MutexGuard<'_, Option<tokio_postgres::Client>>, Error> {
        let free = self.clients.iter().find_map(|c| c.try_lock().ok());
        let mut guard = match free {
            Some(guard) => guard,
            None => {
                let turn = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.clients[turn % self.clients.len()].lock().await
            }
        };
        if guard.as_ref().is_none_or(|c| c.is_closed()) {
            let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
                .await
                .map_err(|e| db_error(&redact(&self.url), pg_message(&e)))?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!("PostgreSQL connection ended: {e}");
                }
            });
            // The schema's CREATE … IF NOT EXISTS notices are not news.
            client
                .batch_execute("SET client_min_messages = warning")
                .await
                .map_err(|e| db_error(&redact(&self.url), pg_message(&e)))?;
            *guard = Some(client);
        }
        Ok(guard)
    }

    /// Drop the connection when a call failed because it was lost.
    fn check<T>(
        &self,
        guard: &mut Option<tokio_postgres::Client>,
        r: Result<T, tokio_postgres::Error>,
    ) -> Result<T, Error> {
        r.map_err(|e| {
            if e.is_closed() {
                *guard = None;
            }
            db_error(&redact(&self.url), pg_message(&e))
        })
    }

    async fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, Error> {
        let mut guard = self.client().await?;
        let client = guard.as_mut().expect("connected");
        let boxed: Vec<PgParam> = params.iter().map(to_postgres).collect();
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
            boxed.iter().map(|b| b.as_ref() as _).collect();
        let r = client.query(sql, &refs).await;
        let rows = self.check(&mut guard, r)?;
        rows.iter().map(from_postgres).collect()
    }

    async fn transaction(&self, statements: &[Statement]) -> Result<(), Error> {
        let mut guard = self.client().await?;
        let client = guard.as_mut().expect("connected");
        let r = async {
            let tx = client.transaction().await?;
            for statement in statements {
                pg_execute(&tx, statement).await?;
            }
            tx.commit().await
        }
        .await;
        self.check(&mut guard, r)
    }

    async fn transaction_if(&self, guard: &Statement, rest: &[Statement]) -> Result<bool, Error> {
        let mut conn = self.client().await?;
        let client = conn.as_mut().expect("connected");
        let r = async {
            let tx = client.transaction().await?;
            if pg_execute(&tx, guard).await? == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
            for statement in rest {
                pg_execute(&tx, statement).await?;
            }
            tx.commit().await.map(|_| true)
        }
        .await;
        self.check(&mut conn, r)
    }
}

/// Run one statement in `tx`: the rows it changed.
async fn pg_execute(
    tx: &tokio_postgres::Transaction<'_>,
    (sql, params): &Statement,
) -> Result<u64, tokio_postgres::Error> {
    let boxed: Vec<PgParam> = params.iter().map(to_postgres).collect();
    let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
        boxed.iter().map(|b| b.as_ref() as _).collect();
    tx.execute(sql.as_str(), &refs).await
}

/// What PostgreSQL said (tokio-postgres' own message is only "db error" for a server error).
fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {} ({})", db.severity(), db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s && url[s + 3..at].contains(':') => {
            let user = url[s + 3..at].split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_reach_a_message() {
        use super::redact;
        assert_eq!(
            redact("postgres://gt:s3cret@db:5432/x"),
            "postgres://gt:***@db:5432/x"
        );
        assert_eq!(redact("postgres://gt@db/x"), "postgres://gt@db/x");
        assert_eq!(redact("sqlite::memory:"), "sqlite::memory:");
    }
}

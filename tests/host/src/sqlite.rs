//! The `spin:sqlite/sqlite@3.1.0` host, with the semantics of Spin's SQLite
//! factor (`crates/factor-sqlite` of spinframework/spin):
//! - `open` / `open-async(label)` fail with `access-denied` when `label` is
//!   not in the component's `sqlite_databases` (whether or not such a
//!   database exists); a component listing a label no database defines is
//!   refused at start-up, so `no-such-database` is never returned in practice;
//! - every `open` is a new connection of its own (see [`crate::sqlite_store`]);
//!   an instance may hold 256 at once, the next `open` fails with
//!   `io("too many connections opened")`;
//! - `execute` / `execute-async` run one statement (see
//!   [`crate::sqlite_exec`]); `last-insert-rowid` and `changes` are SQLite's
//!   for this connection (0 before any `INSERT` / change);
//! - the synchronous functions block the guest, not the host: like every
//!   statement, they run on a blocking thread.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::mpsc;
use wasmtime::StoreContextMut;
use wasmtime::component::{
    Accessor, Destination, FutureReader, HasData, Resource, ResourceTable, StreamProducer,
    StreamReader, StreamResult, VecBuffer,
};

use crate::bindings::sqlite::{self, Error, QueryResult, RowResult, Value};
use crate::sqlite_exec::{
    MAX_RESULT_BYTES, StreamedQuery, query_all, query_streaming, with_connection,
};
use crate::sqlite_store::{SharedConnection, SqlConnection, SqliteDatabases};

/// Connections one instance may hold open at once (Spin's table size).
const MAX_CONNECTIONS: usize = 256;

/// A component's SQLite grants and the application's databases.
#[derive(Debug, Clone)]
pub(crate) struct SqliteAccess {
    allowed: Arc<std::collections::BTreeSet<String>>,
    databases: Arc<SqliteDatabases>,
}

impl SqliteAccess {
    pub(crate) fn new(
        allowed: Arc<std::collections::BTreeSet<String>>,
        databases: Arc<SqliteDatabases>,
    ) -> Self {
        Self { allowed, databases }
    }

    fn connect(&self, label: &str) -> Result<SqlConnection, Error> {
        if !self.allowed.contains(label) {
            return Err(Error::AccessDenied);
        }
        self.databases
            .get(label)
            .ok_or(Error::NoSuchDatabase)?
            .connect()
    }
}

/// The SQLite state of one instance.
#[derive(Debug)]
pub(crate) struct SqliteInstance {
    access: SqliteAccess,
    open_connections: usize,
}

impl SqliteInstance {
    pub(crate) fn new(access: SqliteAccess) -> Self {
        Self {
            access,
            open_connections: 0,
        }
    }
}

/// The view of the store data the SQLite host works with.
pub(crate) struct SqliteView<'a> {
    pub(crate) instance: &'a mut SqliteInstance,
    pub(crate) table: &'a mut ResourceTable,
}

/// [`HasData`] marker for the SQLite host.
pub(crate) struct HasSqlite;

impl HasData for HasSqlite {
    type Data<'a> = SqliteView<'a>;
}

impl SqliteView<'_> {
    /// Hands `conn` to the guest, within the per-instance limit.
    fn push(
        &mut self,
        conn: SqlConnection,
    ) -> wasmtime::Result<Result<Resource<SqlConnection>, Error>> {
        if self.instance.open_connections >= MAX_CONNECTIONS {
            return Ok(Err(Error::Io("too many connections opened".to_string())));
        }
        let handle = self.table.push(conn)?;
        self.instance.open_connections += 1;
        Ok(Ok(handle))
    }

    /// The SQLite connection behind a guest handle for one statement, counted.
    fn statement(&self, handle: &Resource<SqlConnection>) -> Result<SharedConnection, Error> {
        if let Ok(connection) = self.table.get(handle) {
            connection.count_statement();
        }
        self.sqlite(handle)
    }

    /// The SQLite connection behind a guest handle (opened on first use).
    fn sqlite(&self, handle: &Resource<SqlConnection>) -> Result<SharedConnection, Error> {
        self.table
            .get(handle)
            .map_err(|_| Error::InvalidConnection)?
            .sqlite()
    }
}

fn sqlite_of<T>(
    accessor: &Accessor<T, HasSqlite>,
    handle: &Resource<SqlConnection>,
) -> Result<SharedConnection, Error> {
    accessor.with(|mut access| access.get().sqlite(handle))
}

/// `changes` / `last-insert-rowid`: a connection that cannot be opened traps,
/// as in Spin (these functions have no error case).
async fn connection_info<R: Send + 'static>(
    conn: Result<SharedConnection, Error>,
    f: fn(&rusqlite::Connection) -> R,
) -> wasmtime::Result<R> {
    let conn = conn.map_err(|err| wasmtime::format_err!("SQLite connection: {err:?}"))?;
    with_connection(conn, f)
        .await
        .map_err(|err| wasmtime::format_err!("{err:#}"))
}

impl sqlite::Host for SqliteView<'_> {}

impl sqlite::HostConnection for SqliteView<'_> {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<SqlConnection>, Error>> {
        match self.instance.access.connect(&database) {
            Ok(conn) => self.push(conn),
            Err(err) => Ok(Err(err)),
        }
    }

    async fn execute(
        &mut self,
        handle: Resource<SqlConnection>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<Result<QueryResult, Error>> {
        let conn = match self.statement(&handle) {
            Ok(conn) => conn,
            Err(err) => return Ok(Err(err)),
        };
        let result = tokio::task::spawn_blocking(move || {
            query_all(&conn, &statement, parameters, MAX_RESULT_BYTES)
        })
        .await
        .unwrap_or_else(|_| Err(Error::Io("internal runtime error".to_string())));
        Ok(result)
    }

    async fn last_insert_rowid(
        &mut self,
        handle: Resource<SqlConnection>,
    ) -> wasmtime::Result<i64> {
        connection_info(
            self.sqlite(&handle),
            rusqlite::Connection::last_insert_rowid,
        )
        .await
    }

    async fn changes(&mut self, handle: Resource<SqlConnection>) -> wasmtime::Result<u64> {
        connection_info(self.sqlite(&handle), rusqlite::Connection::changes).await
    }

    fn drop(&mut self, handle: Resource<SqlConnection>) -> wasmtime::Result<()> {
        self.table.delete(handle)?;
        self.instance.open_connections = self.instance.open_connections.saturating_sub(1);
        Ok(())
    }
}

impl<T> sqlite::HostConnectionWithStore<T> for HasSqlite {
    async fn open_async(
        accessor: &Accessor<T, Self>,
        database: String,
    ) -> wasmtime::Result<Result<Resource<SqlConnection>, Error>> {
        accessor.with(|mut access| {
            let mut view = access.get();
            match view.instance.access.connect(&database) {
                Ok(conn) => view.push(conn),
                Err(err) => Ok(Err(err)),
            }
        })
    }

    #[allow(clippy::type_complexity, reason = "the WIT function's result")]
    async fn execute_async(
        accessor: &Accessor<T, Self>,
        handle: Resource<SqlConnection>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<
        Result<
            (
                Vec<String>,
                StreamReader<RowResult>,
                FutureReader<Result<(), Error>>,
            ),
            Error,
        >,
    > {
        let conn = match accessor.with(|mut access| access.get().statement(&handle)) {
            Ok(conn) => conn,
            Err(err) => return Ok(Err(err)),
        };
        let StreamedQuery {
            columns,
            rows,
            outcome,
        } = match query_streaming(conn, statement, parameters, MAX_RESULT_BYTES).await {
            Ok(query) => query,
            Err(err) => return Ok(Err(err)),
        };
        let outcome = async move {
            outcome.await.map_err(|_| {
                wasmtime::format_err!(
                    "a SQLite TEXT value is not UTF-8 (Spin's host panics: the guest traps)"
                )
            })
        };
        let readers = accessor.with(|mut access| -> wasmtime::Result<_> {
            let rows = StreamReader::new(&mut access, RowStream(rows))?;
            let outcome = FutureReader::new(&mut access, outcome)?;
            Ok((rows, outcome))
        });
        Ok(match readers {
            Ok((rows, outcome)) => Ok((columns, rows, outcome)),
            Err(err) => Err(Error::Io(err.to_string())),
        })
    }

    async fn last_insert_rowid_async(
        accessor: &Accessor<T, Self>,
        handle: Resource<SqlConnection>,
    ) -> wasmtime::Result<i64> {
        connection_info(
            sqlite_of(accessor, &handle),
            rusqlite::Connection::last_insert_rowid,
        )
        .await
    }

    async fn changes_async(
        accessor: &Accessor<T, Self>,
        handle: Resource<SqlConnection>,
    ) -> wasmtime::Result<u64> {
        connection_info(sqlite_of(accessor, &handle), rusqlite::Connection::changes).await
    }
}

/// `execute-async`'s row stream: hands the guest the rows the statement's
/// thread has produced, as many as the guest's read can take.
struct RowStream(mpsc::Receiver<RowResult>);

impl<D> StreamProducer<D> for RowStream {
    type Item = RowResult;
    type Buffer = VecBuffer<RowResult>;

    fn poll_produce<'a>(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        store: StoreContextMut<'a, D>,
        mut destination: Destination<'a, RowResult, VecBuffer<RowResult>>,
        finish: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        let capacity = destination.remaining(store);
        if capacity == Some(0) {
            // A zero-length read: say "ready" without taking a row.
            return Poll::Ready(Ok(StreamResult::Completed));
        }
        let rows = &mut self.get_mut().0;
        let first = match rows.poll_recv(cx) {
            Poll::Ready(Some(row)) => row,
            Poll::Ready(None) => return Poll::Ready(Ok(StreamResult::Dropped)),
            Poll::Pending if finish => return Poll::Ready(Ok(StreamResult::Cancelled)),
            Poll::Pending => return Poll::Pending,
        };
        let mut batch = vec![first];
        while batch.len() < capacity.unwrap_or(1) {
            match rows.try_recv() {
                Ok(row) => batch.push(row),
                Err(_) => break,
            }
        }
        destination.set_buffer(batch.into());
        Poll::Ready(Ok(StreamResult::Completed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv_store::KvBackend;
    use std::collections::BTreeSet;

    #[test]
    fn open_checks_grants_before_existence() {
        let dbs =
            Arc::new(SqliteDatabases::open(["default"], &KvBackend::InMemory).expect("opens"));
        let granted = |labels: &[&str]| {
            let allowed: BTreeSet<String> = labels.iter().map(|l| l.to_string()).collect();
            SqliteAccess::new(Arc::new(allowed), dbs.clone())
        };
        assert!(granted(&["default"]).connect("default").is_ok());
        assert!(matches!(
            granted(&["default"]).connect("other"),
            Err(Error::AccessDenied)
        ));
        assert!(matches!(
            granted(&[]).connect("default"),
            Err(Error::AccessDenied)
        ));
        // Granted but undefined (start-up refuses this; the check order is Spin's).
        assert!(matches!(
            granted(&["other"]).connect("other"),
            Err(Error::NoSuchDatabase)
        ));
    }

    #[test]
    fn an_instance_holds_at_most_256_connections() {
        let dbs =
            Arc::new(SqliteDatabases::open(["default"], &KvBackend::InMemory).expect("opens"));
        let access = SqliteAccess::new(Arc::new(BTreeSet::from(["default".to_string()])), dbs);
        let mut instance = SqliteInstance::new(access);
        let mut table = ResourceTable::new();
        let mut view = SqliteView {
            instance: &mut instance,
            table: &mut table,
        };
        let mut handles = Vec::new();
        for _ in 0..MAX_CONNECTIONS {
            let conn = view.instance.access.connect("default").expect("connects");
            handles.push(view.push(conn).expect("no trap").expect("room"));
        }
        let conn = view.instance.access.connect("default").expect("connects");
        let full = view.push(conn).expect("no trap");
        assert!(matches!(full, Err(Error::Io(m)) if m == "too many connections opened"));
        let first = handles.remove(0);
        sqlite::HostConnection::drop(&mut view, first).expect("drops");
        let conn = view.instance.access.connect("default").expect("connects");
        assert!(view.push(conn).expect("no trap").is_ok());
    }
}

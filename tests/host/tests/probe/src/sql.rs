//! `spin:sqlite` probes: run the statement in the request body with the
//! parameters in the query string, through the SDK's async API (`sql`) or the
//! interface's synchronous functions (`sql-sync`), and answer one line:
//! `columns=[..] rows=[[..]..] result=.. changes=N rowid=N`, or `err:<error>`.
//!
//! Parameters: `p=i:<integer>`, `p=r:<real>`, `p=t:<text, %-encoded>`,
//! `p=b:<hex bytes>`, `p=n` (null), in order.

use spin_sdk::sqlite::{Connection, Value, wit};

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// The `p=` parameters of a query string.
pub fn parameters(query: &str) -> Vec<Value> {
    query
        .split('&')
        .filter_map(|kv| kv.strip_prefix("p="))
        .map(|p| match p.split_once(':') {
            Some(("i", v)) => Value::Integer(v.parse().unwrap_or_default()),
            Some(("r", v)) => Value::Real(v.parse().unwrap_or_default()),
            Some(("t", v)) => Value::Text(percent_decode(v)),
            Some(("b", v)) => Value::Blob(hex_bytes(v)),
            _ => Value::Null,
        })
        .collect()
}

fn show(value: &Value) -> String {
    match value {
        Value::Integer(i) => i.to_string(),
        Value::Real(r) => format!("{r:?}"),
        Value::Text(t) => format!("{t:?}"),
        Value::Blob(b) => format!(
            "x'{}'",
            b.iter()
                .map(|byte| format!("{byte:02x}"))
                .collect::<String>()
        ),
        Value::Null => "NULL".to_string(),
    }
}

fn show_rows<'a>(rows: impl Iterator<Item = &'a [Value]>) -> String {
    let rows: Vec<String> = rows
        .map(|row| format!("[{}]", row.iter().map(show).collect::<Vec<_>>().join(", ")))
        .collect();
    format!("[{}]", rows.join(", "))
}

/// Through the SDK: `open-async`, `execute-async` (rows read from the
/// stream, then the result future), `changes-async`, `last-insert-rowid-async`.
pub async fn run_async(label: &str, sql: &str, params: Vec<Value>) -> String {
    let db = match Connection::open(label).await {
        Ok(db) => db,
        Err(e) => return format!("err:{e:?}"),
    };
    let mut result = match db.execute(sql, params).await {
        Ok(result) => result,
        Err(e) => return format!("err:{e:?}"),
    };
    let columns = result.columns().join(",");
    let mut rows = Vec::new();
    while let Some(row) = result.next().await {
        rows.push(row.values);
    }
    let outcome = result.result().await;
    format!(
        "columns=[{columns}] rows={} result={outcome:?} changes={} rowid={}",
        show_rows(rows.iter().map(Vec::as_slice)),
        db.changes().await,
        db.last_insert_rowid().await
    )
}

/// Through the synchronous functions: `open`, `execute`, `changes`,
/// `last-insert-rowid`.
pub fn run_sync(label: &str, sql: &str, params: Vec<Value>) -> String {
    let db = match wit::sqlite::Connection::open(label) {
        Ok(db) => db,
        Err(e) => return format!("err:{e:?}"),
    };
    let result = match db.execute(sql, &params) {
        Ok(result) => result,
        Err(e) => return format!("err:{e:?}"),
    };
    format!(
        "columns=[{}] rows={} result=Ok(()) changes={} rowid={}",
        result.columns.join(","),
        show_rows(result.rows.iter().map(|r| r.values.as_slice())),
        db.changes(),
        db.last_insert_rowid()
    )
}

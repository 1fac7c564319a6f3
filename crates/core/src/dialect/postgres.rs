//! SQLite's spelling rewritten for PostgreSQL (see [`super`] for what and why).

use super::scan::{
    arguments, closing_paren, find_word, quoted_end, rfind_word, starts_word, word_at,
};
use crate::ports::SqlValue;

/// The advisory lock every schema change takes: one creation at a time across all nodes.
const SCHEMA_LOCK: i64 = 0x7069_7065_6775_6172; // "pipeguar"

/// The statement to send for `sql`; `None` for a SQLite `PRAGMA`.
pub(super) fn statement(sql: &str, params: &[SqlValue]) -> Option<String> {
    let trimmed = sql.trim_start();
    let first = word_at(trimmed, 0);
    if first.eq_ignore_ascii_case("PRAGMA") {
        return None;
    }
    if first.eq_ignore_ascii_case("CREATE") {
        let mut ddl = definitions(sql);
        return Some(if ddl.len() == 1 {
            ddl.remove(0)
        } else {
            in_do_block(&ddl, "")
        });
    }
    Some(placeholders(&functions(sql), params))
}

/// One `DO` block creating the objects of `statements`, under the schema lock.
pub(super) fn schema(statements: &[&str]) -> String {
    let ddl: Vec<String> = statements.iter().flat_map(|s| definitions(s)).collect();
    in_do_block(
        &ddl,
        &format!("PERFORM pg_advisory_xact_lock({SCHEMA_LOCK}); "),
    )
}

fn in_do_block(statements: &[String], first: &str) -> String {
    let mut block = format!("DO $schema$ BEGIN {first}");
    for statement in statements {
        block.push_str(statement);
        block.push_str("; ");
    }
    block.push_str("END $schema$");
    block
}

/// The PostgreSQL statements for one SQLite `CREATE …`.
fn definitions(sql: &str) -> Vec<String> {
    let sql = sql.trim();
    let after_create = word_at(sql, 0).len();
    let rest = sql[after_create..].trim_start();
    let kind = word_at(rest, 0);
    if kind.eq_ignore_ascii_case("TABLE") {
        vec![column_types(&functions(sql))]
    } else if kind.eq_ignore_ascii_case("TRIGGER") {
        trigger(sql).unwrap_or_else(|| vec![functions(sql)])
    } else {
        vec![functions(sql)]
    }
}

/// A table's columns in PostgreSQL's types of the same width as SQLite's.
fn column_types(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 32);
    let mut i = 0;
    while i < sql.len() {
        if let Some(end) = quoted_end(sql, i) {
            out.push_str(&sql[i..end]);
            i = end;
            continue;
        }
        if starts_word(sql, i) {
            let word = word_at(sql, i);
            let pg = match word.to_ascii_uppercase().as_str() {
                "INTEGER" => "BIGINT",
                "REAL" => "DOUBLE PRECISION",
                "BLOB" => "BYTEA",
                _ => word,
            };
            out.push_str(pg);
            i += word.len();
            continue;
        }
        let c = sql[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// A SQLite trigger (`CREATE TRIGGER IF NOT EXISTS name <when> ON table [WHEN cond] BEGIN
/// body END`) as a PL/pgSQL function and the row trigger that calls it; `None` when `sql` is
/// not in that form.
fn trigger(sql: &str) -> Option<Vec<String>> {
    let exists = find_word(sql, "EXISTS", 0)?;
    let name_at = exists + "EXISTS".len() + sql[exists + 6..].find(|c: char| !c.is_whitespace())?;
    let name = word_at(sql, name_at);
    let on = find_word(sql, "ON", name_at + name.len())?;
    let timing = sql[name_at + name.len()..on].trim();
    let table_at = on + 2 + sql[on + 2..].find(|c: char| !c.is_whitespace())?;
    let table = word_at(sql, table_at);
    let begin = find_word(sql, "BEGIN", table_at)?;
    let end = rfind_word(sql, "END")?;
    let condition = sql[table_at + table.len()..begin].trim();
    let condition = match condition.get(..4) {
        Some(when) if when.eq_ignore_ascii_case("WHEN") => {
            format!(" WHEN ({})", functions(condition[4..].trim()))
        }
        _ => String::new(),
    };
    let body = functions(sql[begin + 5..end].trim());
    let function = format!("{name}_fn");
    Some(vec![
        format!(
            "CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS \
             $fn$ BEGIN {body} RETURN NULL; END $fn$"
        ),
        format!("DROP TRIGGER IF EXISTS {name} ON {table}"),
        format!(
            "CREATE TRIGGER {name} {timing} ON {table} FOR EACH ROW{condition} \
             EXECUTE FUNCTION {function}()"
        ),
    ])
}

/// SQLite's functions that PostgreSQL spells differently, rewritten wherever they are called.
fn functions(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    while i < sql.len() {
        if let Some(end) = quoted_end(sql, i) {
            out.push_str(&sql[i..end]);
            i = end;
            continue;
        }
        if starts_word(sql, i) {
            let name = word_at(sql, i);
            let open = i + name.len();
            if sql.as_bytes().get(open) == Some(&b'(')
                && let Some(close) = closing_paren(sql, open)
                && let Some(call) = rewrite_call(name, arguments(&sql[open + 1..close - 1]))
            {
                out.push_str(&call);
                i = close;
                continue;
            }
            out.push_str(name);
            i = open;
            continue;
        }
        let c = sql[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// A call to `name` with `args` in PostgreSQL's spelling, when it differs.
fn rewrite_call(name: &str, args: Vec<&str>) -> Option<String> {
    let args: Vec<String> = args.into_iter().map(functions).collect();
    let call = |pg: &str| format!("{pg}({})", args.join(", "));
    match name.to_ascii_lowercase().as_str() {
        "ifnull" => Some(call("COALESCE")),
        "max" if args.len() > 1 => Some(call("GREATEST")),
        "min" if args.len() > 1 => Some(call("LEAST")),
        "json_each" if args.len() == 1 => {
            Some(format!("jsonb_array_elements(({})::jsonb)", args[0]))
        }
        "json_extract" if args.len() == 2 => {
            let key = args[1].strip_prefix("'$.")?.strip_suffix('\'')?;
            key.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_')
                .then(|| format!("(({})::jsonb ->> '{key}')", args[0]))
        }
        _ => None,
    }
}

/// `?` and `?N` as `$N`, each cast to the type of the value bound to it.
fn placeholders(sql: &str, params: &[SqlValue]) -> String {
    let mut out = String::with_capacity(sql.len() + params.len() * 10);
    let (mut i, mut highest) = (0, 0usize);
    while i < sql.len() {
        if let Some(end) = quoted_end(sql, i) {
            out.push_str(&sql[i..end]);
            i = end;
            continue;
        }
        let c = sql[i..].chars().next().unwrap_or(' ');
        if c != '?' {
            out.push(c);
            i += c.len_utf8();
            continue;
        }
        let digits = sql[i + 1..].bytes().take_while(u8::is_ascii_digit).count();
        let n = match sql[i + 1..i + 1 + digits].parse::<usize>() {
            Ok(n) => n,
            Err(_) => highest + 1,
        };
        highest = highest.max(n);
        out.push_str(&format!("${n}"));
        out.push_str(match params.get(n.wrapping_sub(1)) {
            Some(SqlValue::Integer(_)) => "::BIGINT",
            Some(SqlValue::Real(_)) => "::DOUBLE PRECISION",
            Some(SqlValue::Text(_)) => "::TEXT",
            Some(SqlValue::Blob(_)) => "::BYTEA",
            Some(SqlValue::Null) | None => "",
        });
        i += 1 + digits;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_and_cast_to_their_values() {
        let params = [
            SqlValue::Text("a".into()),
            SqlValue::Integer(1),
            SqlValue::Null,
        ];
        assert_eq!(
            statement(
                "SELECT '?' FROM t WHERE a = ? AND b < ? AND c IS ?",
                &params
            )
            .unwrap(),
            "SELECT '?' FROM t WHERE a = $1::TEXT AND b < $2::BIGINT AND c IS $3"
        );
        assert_eq!(
            statement("WHERE crm = ?1 AND sweep = ?2 LIMIT ?2", &params[..2]).unwrap(),
            "WHERE crm = $1::TEXT AND sweep = $2::BIGINT LIMIT $2::BIGINT"
        );
    }

    #[test]
    fn a_pragma_is_not_sent() {
        assert_eq!(statement("PRAGMA journal_mode = WAL", &[]), None);
    }

    #[test]
    fn tables_get_sixty_four_bit_types() {
        assert_eq!(
            statement(
                "CREATE TABLE IF NOT EXISTS t (n INTEGER NOT NULL, x REAL, b BLOB, s TEXT DEFAULT 'INTEGER')",
                &[]
            )
            .unwrap(),
            "CREATE TABLE IF NOT EXISTS t (n BIGINT NOT NULL, x DOUBLE PRECISION, b BYTEA, s TEXT DEFAULT 'INTEGER')"
        );
    }

    #[test]
    fn sqlite_functions_are_spelled_as_postgres_does() {
        assert_eq!(
            functions(
                "SELECT IFNULL(a, ''), max(x.n, excluded.n), MAX(n), \
                 json_extract(value, '$.key') FROM json_each(NEW.dimensions)"
            ),
            "SELECT COALESCE(a, ''), GREATEST(x.n, excluded.n), MAX(n), \
             ((value)::jsonb ->> 'key') FROM jsonb_array_elements((NEW.dimensions)::jsonb)"
        );
    }

    #[test]
    fn a_trigger_becomes_a_function_and_a_row_trigger() {
        let ddl = statement(
            "CREATE TRIGGER IF NOT EXISTS t_roll AFTER UPDATE OF a, b ON t WHEN NEW.a IS NULL \
             BEGIN INSERT INTO r VALUES (IFNULL(NEW.b, '')) ON CONFLICT (k) DO NOTHING; END",
            &[],
        )
        .unwrap();
        assert_eq!(
            ddl,
            "DO $schema$ BEGIN CREATE OR REPLACE FUNCTION t_roll_fn() RETURNS trigger \
             LANGUAGE plpgsql AS $fn$ BEGIN INSERT INTO r VALUES (COALESCE(NEW.b, '')) \
             ON CONFLICT (k) DO NOTHING; RETURN NULL; END $fn$; \
             DROP TRIGGER IF EXISTS t_roll ON t; \
             CREATE TRIGGER t_roll AFTER UPDATE OF a, b ON t FOR EACH ROW WHEN (NEW.a IS NULL) \
             EXECUTE FUNCTION t_roll_fn(); END $schema$"
        );
    }

    #[test]
    fn a_schema_is_one_block_under_the_lock() {
        let block = schema(&[
            "CREATE TABLE IF NOT EXISTS t (n INTEGER)",
            "CREATE INDEX IF NOT EXISTS i ON t (n)",
        ]);
        assert_eq!(
            block,
            format!(
                "DO $schema$ BEGIN PERFORM pg_advisory_xact_lock({SCHEMA_LOCK}); \
                 CREATE TABLE IF NOT EXISTS t (n BIGINT); CREATE INDEX IF NOT EXISTS i ON t (n); \
                 END $schema$"
            )
        );
        // Sent as it is: nothing in the block is rewritten again.
        assert_eq!(statement(&block, &[]).unwrap(), block);
    }
}

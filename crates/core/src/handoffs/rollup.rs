//! The report's figures, kept up to date by the database itself: triggers on the handoff log add
//! every handoff, its gaps (from its scorecard) and every verdict to small tables of counts per
//! CRM and week (`pg_roll_*`), in
//! the same statement that writes it, so the counts can never miss a write or count one twice
//! (a handoff kept already is not inserted again, and inserts nothing). A report sums a window
//! of those counts, a few hundred rows, however many handoffs a year holds.

/// A week's index (from Monday 1970-01-05) of the Unix-seconds value `at`, in SQL.
macro_rules! week {
    ($at:literal) => {
        concat!("((", $at, " - 345600) / 604800)")
    };
}

/// 1 when `$column` holds the text `$value`, else 0 (also when it is null), in SQL both
/// databases count with.
macro_rules! is {
    ($column:literal, $value:literal) => {
        concat!(
            "(CASE WHEN ",
            $column,
            " = '",
            $value,
            "' THEN 1 ELSE 0 END)"
        )
    };
}

/// The statement counting the `NEW` row's rejection reason, when it is a rejection (inserted or
/// updated alike).
macro_rules! count_new_reason {
    () => {
        concat!(
            "INSERT INTO pg_roll_reasons SELECT NEW.crm, ",
            week!("NEW.at"),
            ", COALESCE(NEW.reason, ''), 1 WHERE NEW.verdict = 'rejected' ",
            "ON CONFLICT (crm, week, reason) DO UPDATE SET n = pg_roll_reasons.n + 1; "
        )
    };
}

/// The statement counting the `NEW` row's hours to a readable verdict, when it has one.
macro_rules! count_new_wait {
    () => {
        concat!(
            "INSERT INTO pg_roll_waits SELECT NEW.crm, ",
            week!("NEW.at"),
            ", (NEW.verdict_at - NEW.at) / 3600, 1 WHERE NEW.verdict IN ('accepted', 'rejected') ",
            "AND NEW.verdict_at IS NOT NULL ON CONFLICT (crm, week, hours) ",
            "DO UPDATE SET n = pg_roll_waits.n + 1; "
        )
    };
}

/// `OLD`'s count of `$value` out, `NEW`'s in, for the column `$column` of an update.
macro_rules! moved {
    ($column:literal, $value:literal) => {
        concat!(
            $column,
            " = ",
            $column,
            " - ",
            is!("OLD.verdict", $value),
            " + ",
            is!("NEW.verdict", $value)
        )
    };
}

/// The rollup tables and the triggers that keep them, each statement run on its own. Written
/// in the SQL both databases read alike; [`crate::dialect`] makes PostgreSQL functions of the
/// triggers.
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS pg_roll_bdrs (
        crm TEXT NOT NULL, week INTEGER NOT NULL, bdr TEXT NOT NULL,
        attempted INTEGER NOT NULL, blocked INTEGER NOT NULL, would_block INTEGER NOT NULL,
        validated INTEGER NOT NULL, accepted INTEGER NOT NULL, rejected INTEGER NOT NULL,
        unreadable INTEGER NOT NULL,
        PRIMARY KEY (crm, week, bdr)
    )",
    "CREATE TABLE IF NOT EXISTS pg_roll_reasons (
        crm TEXT NOT NULL, week INTEGER NOT NULL, reason TEXT NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (crm, week, reason)
    )",
    "CREATE TABLE IF NOT EXISTS pg_roll_thresholds (
        crm TEXT NOT NULL, week INTEGER NOT NULL, threshold INTEGER NOT NULL,
        validated INTEGER NOT NULL, accepted INTEGER NOT NULL, rejected INTEGER NOT NULL,
        PRIMARY KEY (crm, week, threshold)
    )",
    "CREATE TABLE IF NOT EXISTS pg_roll_waits (
        crm TEXT NOT NULL, week INTEGER NOT NULL, hours INTEGER NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (crm, week, hours)
    )",
    "CREATE TABLE IF NOT EXISTS pg_roll_gaps (
        crm TEXT NOT NULL, week INTEGER NOT NULL, bdr TEXT NOT NULL, dimension TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (crm, week, bdr, dimension)
    )",
    "CREATE TABLE IF NOT EXISTS pg_roll_orphans (
        crm TEXT NOT NULL, week INTEGER NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (crm, week)
    )",
    concat!(
        "CREATE TRIGGER IF NOT EXISTS pg_roll_handoff AFTER INSERT ON pg_handoffs BEGIN ",
        "INSERT INTO pg_roll_bdrs VALUES (NEW.crm, ",
        week!("NEW.at"),
        ", COALESCE(NEW.bdr, ''), 1, ",
        is!("NEW.status", "blocked"),
        ", ",
        is!("NEW.status", "would_block"),
        ", ",
        is!("NEW.status", "validated"),
        ", ",
        is!("NEW.verdict", "accepted"),
        ", ",
        is!("NEW.verdict", "rejected"),
        ", ",
        is!("NEW.verdict", "unreadable"),
        ") ON CONFLICT (crm, week, bdr) DO UPDATE SET ",
        "attempted = pg_roll_bdrs.attempted + 1, ",
        "blocked = pg_roll_bdrs.blocked + excluded.blocked, ",
        "would_block = pg_roll_bdrs.would_block + excluded.would_block, ",
        "validated = pg_roll_bdrs.validated + excluded.validated, ",
        "accepted = pg_roll_bdrs.accepted + excluded.accepted, ",
        "rejected = pg_roll_bdrs.rejected + excluded.rejected, ",
        "unreadable = pg_roll_bdrs.unreadable + excluded.unreadable; ",
        "INSERT INTO pg_roll_thresholds SELECT NEW.crm, ",
        week!("NEW.at"),
        ", NEW.threshold, 1, ",
        is!("NEW.verdict", "accepted"),
        ", ",
        is!("NEW.verdict", "rejected"),
        " WHERE NEW.status = 'validated' ON CONFLICT (crm, week, threshold) DO UPDATE SET ",
        "validated = pg_roll_thresholds.validated + 1, ",
        "accepted = pg_roll_thresholds.accepted + excluded.accepted, ",
        "rejected = pg_roll_thresholds.rejected + excluded.rejected; ",
        count_new_reason!(),
        count_new_wait!(),
        "END"
    ),
    // A verdict set, changed or withdrawn on a handoff: out with the old, in with the new.
    concat!(
        "CREATE TRIGGER IF NOT EXISTS pg_roll_verdict AFTER UPDATE OF verdict, reason, verdict_at ",
        "ON pg_handoffs BEGIN ",
        "UPDATE pg_roll_bdrs SET ",
        moved!("accepted", "accepted"),
        ", ",
        moved!("rejected", "rejected"),
        ", ",
        moved!("unreadable", "unreadable"),
        " WHERE crm = NEW.crm AND week = ",
        week!("NEW.at"),
        " AND bdr = COALESCE(NEW.bdr, ''); ",
        "UPDATE pg_roll_thresholds SET ",
        moved!("accepted", "accepted"),
        ", ",
        moved!("rejected", "rejected"),
        " WHERE NEW.status = 'validated' AND crm = NEW.crm AND week = ",
        week!("NEW.at"),
        " AND threshold = NEW.threshold; ",
        "UPDATE pg_roll_reasons SET n = n - 1 WHERE OLD.verdict = 'rejected' AND crm = OLD.crm ",
        "AND week = ",
        week!("OLD.at"),
        " AND reason = COALESCE(OLD.reason, ''); ",
        count_new_reason!(),
        "UPDATE pg_roll_waits SET n = n - 1 WHERE OLD.verdict IN ('accepted', 'rejected') ",
        "AND OLD.verdict_at IS NOT NULL AND crm = OLD.crm AND week = ",
        week!("OLD.at"),
        " AND hours = (OLD.verdict_at - OLD.at) / 3600; ",
        count_new_wait!(),
        "END"
    ),
    // A handoff's gaps come from its own scorecard, in the statement that keeps it: a retry of
    // the same handoff with another scorecard adds none.
    concat!(
        "CREATE TRIGGER IF NOT EXISTS pg_handoff_gaps_of AFTER INSERT ON pg_handoffs BEGIN ",
        "INSERT INTO pg_handoff_gaps (handoff_key, dimension, status, crm, bdr, at) ",
        "SELECT NEW.key, json_extract(value, '$.key'), json_extract(value, '$.status'), ",
        "NEW.crm, NEW.bdr, NEW.at FROM json_each(NEW.dimensions) ",
        "WHERE json_extract(value, '$.status') <> 'green' ON CONFLICT DO NOTHING; ",
        "END"
    ),
    concat!(
        "CREATE TRIGGER IF NOT EXISTS pg_roll_gap AFTER INSERT ON pg_handoff_gaps BEGIN ",
        "INSERT INTO pg_roll_gaps VALUES (NEW.crm, ",
        week!("NEW.at"),
        ", COALESCE(NEW.bdr, ''), NEW.dimension, 1) ON CONFLICT (crm, week, bdr, dimension) ",
        "DO UPDATE SET n = pg_roll_gaps.n + 1; ",
        "END"
    ),
    concat!(
        "CREATE TRIGGER IF NOT EXISTS pg_roll_orphan AFTER INSERT ON pg_verdicts ",
        "WHEN NEW.handoff_key IS NULL BEGIN ",
        "INSERT INTO pg_roll_orphans VALUES (NEW.crm, ",
        week!("NEW.at"),
        ", 1) ON CONFLICT (crm, week) DO UPDATE SET n = pg_roll_orphans.n + 1; ",
        "END"
    ),
];

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use crate::{
        handoffs::sql::SqlHandoffs,
        ports::{Database, SqlValue},
        test_sqlite::Sqlite,
    };

    /// Every count in the rollups, as text, for comparing two ways of getting there.
    fn counts(log: &SqlHandoffs<Sqlite>) -> Vec<Vec<SqlValue>> {
        let mut all = Vec::new();
        for table in [
            "pg_roll_bdrs",
            "pg_roll_reasons",
            "pg_roll_thresholds",
            "pg_roll_waits",
            "pg_roll_gaps",
            "pg_roll_orphans",
        ] {
            let rows = block_on(log.db.execute(
                &format!("SELECT '{table}', * FROM {table} ORDER BY 1, 2, 3, 4"),
                Vec::new(),
            ))
            .unwrap();
            all.extend(rows);
        }
        all
    }

    #[test]
    fn a_verdict_changed_back_leaves_the_counts_as_they_were() {
        let log = SqlHandoffs::new(Sqlite::in_memory());
        block_on(log.create_tables()).unwrap();
        let exec = |sql: &str| block_on(log.db.execute(sql, Vec::new())).unwrap();
        exec(
            "INSERT INTO pg_handoffs (key, crm, deal_id, bdr, at, status, rule, threshold, score, \
             to_stage, dimensions) VALUES ('h', 'generic', 'D', 'b', 1795000000, 'validated', 'r', \
             60, 70, 's', '[]')",
        );
        let before = counts(&log);
        exec(
            "UPDATE pg_handoffs SET verdict = 'rejected', reason = 'bad fit', verdict_at = 1795007200",
        );
        assert_ne!(counts(&log), before);
        exec("UPDATE pg_handoffs SET verdict = NULL, reason = NULL, verdict_at = NULL");
        // What the verdict added is taken away again: at most a row counting nothing is left.
        let emptied = |row: &Vec<SqlValue>| {
            matches!(&row[0], SqlValue::Text(t) if t == "pg_roll_reasons" || t == "pg_roll_waits")
                && row.last() == Some(&SqlValue::Integer(0))
        };
        let after: Vec<_> = counts(&log).into_iter().filter(|r| !emptied(r)).collect();
        assert_eq!(after, before);
    }
}

//! Each rep's calls, kept as metrics (never the transcript): so a rep's note compares the call
//! with their own last 30 days, and the tracked behaviour's trend can be shown to them. Quotes
//! are kept at most 200 characters each. Compared only with the rep's own past, never with
//! peers.

use time::{Duration, OffsetDateTime};

use super::{Signals, upload::CallUpload};
use crate::{
    Error,
    crm_id::Crm,
    ports::{Database, SqlValue},
    statement::{columns, create_missing},
};

/// The statement that creates the table: a row per call, keyed by CRM and call id.
pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS pg_calls (
    crm TEXT NOT NULL,
    call_id TEXT NOT NULL,
    rep TEXT NOT NULL,
    at INTEGER NOT NULL,
    talk_share REAL NOT NULL,
    questions INTEGER NOT NULL,
    longest_monologue_s REAL,
    next_step_agreed INTEGER,
    outlier INTEGER NOT NULL,
    tracked REAL,
    quotes TEXT NOT NULL,
    PRIMARY KEY (crm, call_id)
)";

/// How far back a rep's own calls are compared.
pub const WINDOW: Duration = Duration::days(30);

/// The most characters of a quote kept.
pub const QUOTE_CHARS: usize = 200;

/// A rep's own calls over the last [`WINDOW`], before the one being noted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OwnPast {
    /// How many calls.
    pub calls: u32,
    /// Their mean talk share.
    pub talk_share: Option<f64>,
    /// Their mean questions per call.
    pub questions: Option<f64>,
    /// The tracked behaviour call by call, oldest first.
    pub tracked: Vec<f64>,
}

/// Calls kept in a [`Database`].
#[derive(Debug)]
pub struct SqlCalls<D> {
    db: D,
}

/// Who a call's metrics belong to: the rep's CRM id, else their name as posted.
pub fn rep_key(upload: &CallUpload, signals: &Signals) -> String {
    upload
        .rep
        .id
        .clone()
        .unwrap_or_else(|| signals.rep.to_lowercase())
}

impl<D: Database> SqlCalls<D> {
    /// The calls in `db`; call [`SqlCalls::create_tables`] once per connection's life.
    pub fn new(db: D) -> SqlCalls<D> {
        SqlCalls { db }
    }

    /// Create the table when it does not exist yet.
    pub async fn create_tables(&self) -> Result<(), Error> {
        create_missing(&self.db, &[SCHEMA]).await
    }

    /// Keep `upload`'s metrics (posted again: replaced, never counted twice).
    pub async fn record(
        &self,
        crm: Crm,
        upload: &CallUpload,
        signals: &Signals,
    ) -> Result<(), Error> {
        let quotes: Vec<String> = signals
            .evidence
            .iter()
            .map(|e| e.quote.chars().take(QUOTE_CHARS).collect())
            .collect();
        let quotes = serde_json::to_string(&quotes).map_err(|e| Error::Store(e.to_string()))?;
        let optional = |value: Option<f64>| value.map_or(SqlValue::Null, SqlValue::Real);
        let params = vec![
            crm.name().into(),
            upload.call_id.as_str().into(),
            rep_key(upload, signals).into(),
            upload.started_at.unix_timestamp().into(),
            SqlValue::Real(signals.rep_talk_share.share),
            (signals.rep_questions.count as i64).into(),
            optional(signals.longest_rep_monologue_s.seconds),
            signals
                .next_step
                .agreed
                .map_or(SqlValue::Null, |agreed| i64::from(agreed).into()),
            i64::from(signals.outlier.marked).into(),
            optional(signals.tracked.value),
            quotes.into(),
        ];
        self.db
            .execute(
                "INSERT INTO pg_calls (crm, call_id, rep, at, talk_share, questions, \
                 longest_monologue_s, next_step_agreed, outlier, tracked, quotes) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (crm, call_id) DO UPDATE SET rep = excluded.rep, at = excluded.at, \
                 talk_share = excluded.talk_share, questions = excluded.questions, \
                 longest_monologue_s = excluded.longest_monologue_s, \
                 next_step_agreed = excluded.next_step_agreed, outlier = excluded.outlier, \
                 tracked = excluded.tracked, quotes = excluded.quotes",
                params,
            )
            .await
            .map(drop)
    }

    /// `rep`'s own calls in `crm` over the [`WINDOW`] before `at`, the call `except` left out.
    pub async fn own_past(
        &self,
        crm: Crm,
        rep: &str,
        at: OffsetDateTime,
        except: &str,
    ) -> Result<OwnPast, Error> {
        let rows = self
            .db
            .execute(
                "SELECT talk_share, questions, tracked FROM pg_calls \
                 WHERE crm = ? AND rep = ? AND at >= ? AND at <= ? AND call_id <> ? \
                 ORDER BY at, call_id",
                vec![
                    crm.name().into(),
                    rep.into(),
                    (at - WINDOW).unix_timestamp().into(),
                    at.unix_timestamp().into(),
                    except.into(),
                ],
            )
            .await?;
        let mut past = OwnPast::default();
        let (mut talk, mut questions) = (0.0, 0.0);
        for row in rows {
            let [share, asked, tracked] = columns(row)?;
            past.calls += 1;
            talk += real(&share);
            questions += real(&asked);
            if !matches!(tracked, SqlValue::Null) {
                past.tracked.push(real(&tracked));
            }
        }
        if past.calls > 0 {
            past.talk_share = Some(talk / f64::from(past.calls));
            past.questions = Some(questions / f64::from(past.calls));
        }
        Ok(past)
    }
}

fn real(value: &SqlValue) -> f64 {
    match value {
        SqlValue::Real(x) => *x,
        SqlValue::Integer(n) => *n as f64,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use super::*;
    use crate::{playbook::Playbook, test_sqlite::Sqlite};

    fn call(id: &str, at: &str, transcript: &str) -> CallUpload {
        let body = serde_json::json!({
            "call_id": id, "record": {"kind": "deal", "id": "D-1"}, "started_at": at,
            "rep": {"id": "u-3", "name": "Sam Rivera"}, "format": "text", "transcript": transcript,
        });
        CallUpload::from_json(body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_rep_s_own_last_30_days_are_kept_as_metrics_and_compared() {
        let calls = SqlCalls::new(Sqlite::in_memory());
        block_on(calls.create_tables()).unwrap();
        let playbook = Playbook::default_playbook();
        let two = "Sam Rivera: What is broken? Who decides?\nDana: Close takes nine days.";
        let one = "Sam Rivera: What is broken?\nDana: Close takes nine days.";
        let old = call("c-0", "2026-10-01T10:00:00Z", one);
        let recent = call("c-1", "2026-12-01T10:00:00Z", two);
        let now = call("c-2", "2026-12-07T10:00:00Z", one);
        for upload in [&old, &recent, &recent, &now] {
            let signals = upload.analyse(&playbook).unwrap();
            block_on(calls.record(Crm::Generic, upload, &signals)).unwrap();
        }
        let past = block_on(calls.own_past(Crm::Generic, "u-3", now.started_at, "c-2")).unwrap();
        assert_eq!(
            past.calls, 1,
            "30 days back, posted twice counted once, this call left out"
        );
        assert_eq!(past.questions, Some(2.0));
        assert_eq!(past.tracked, [2.0]);
        let nobody = block_on(calls.own_past(Crm::Generic, "u-9", now.started_at, "c-2")).unwrap();
        assert_eq!(nobody, OwnPast::default());
    }
}

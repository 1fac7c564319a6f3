//! An AE who has given no verdict 24 hours after a validated handoff is reminded, once, by the
//! stale-deal sweep (a handoff sends no webhook when nothing happens to it: the sweep goes and
//! looks). The team's bar is a verdict within 24 hours and no follow-up question; the coaching
//! report shows the share of handoffs that meet it.
//!
//! A handoff is due when it was validated between 24 hours and 7 days ago, the AE is known, no
//! verdict is recorded on it and the deal was not handed off again since. Each reminder is
//! claimed in the log before it is written (so two sweeps remind once), and let go when the CRM
//! refused it (the next sweep tries again). In shadow mode the reminder is a note, not a task.

use time::{Duration, OffsetDateTime};

use super::sql::SqlHandoffs;
use crate::{
    Error,
    api::Api,
    crm::{FieldNames, adapter::Adapter},
    crm_id::Crm,
    function::Settings,
    mode::Mode,
    model::RecordKind,
    people::labelled,
    pipeline,
    playbook::Playbook,
    ports::{Clock, CrmClient, Database, SqlValue},
    statement::{columns, optional_text, placeholders, rows, text},
    writeback::{Notice, Priority, WriteBack},
};

/// The statement that creates the reminders' table: one row per handoff reminded.
pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS pg_verdict_reminders (
    handoff_key TEXT PRIMARY KEY,
    crm TEXT NOT NULL,
    at INTEGER NOT NULL
)";

/// How long an AE has before the reminder.
pub const AFTER: Duration = Duration::hours(24);

/// Handoffs older than this are not reminded of any more (an install's first sweep does not
/// remind AEs of last quarter's deals).
pub const NOT_AFTER: Duration = Duration::days(7);

/// The most reminders one sweep call writes.
const BATCH: i64 = 50;

/// A validated handoff still waiting for its AE's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwaitedVerdict {
    /// The handoff's key in the log.
    pub key: String,
    /// The deal.
    pub deal_id: String,
    /// The deal's name, when the CRM said.
    pub deal_name: Option<String>,
    /// The BDR who handed it off.
    pub bdr: Option<String>,
    /// The BDR's name, when a delivery kept it ([`crate::people`]).
    pub bdr_name: Option<String>,
    /// The AE it was handed to.
    pub ae: String,
    /// When.
    pub at: OffsetDateTime,
}

/// What a reminder round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reminded {
    /// Reminders written.
    pub sent: u64,
    /// Each reminder the CRM refused, and why (tried again by the next sweep).
    pub failed: Vec<String>,
}

impl AwaitedVerdict {
    /// The reminder on the deal, to the AE: a task, or a note in shadow mode.
    pub fn write_back(&self, playbook: &Playbook, mode: Mode) -> WriteBack {
        let deal = self
            .deal_name
            .as_deref()
            .map_or_else(|| format!("deal {}", self.deal_id), |n| format!("{n:?}"));
        let by = self.bdr.as_deref().map_or_else(String::new, |bdr| {
            format!(" by {}", labelled(bdr, self.bdr_name.as_deref()))
        });
        let title = format!("Your verdict on the handoff of {deal}");
        let body = format!(
            "{deal} was handed off to you{by} on {} and has no verdict yet. Set it in the deal: {}. \
             The team's bar is a verdict within 24 hours; this is the only reminder.",
            self.at.date(),
            playbook.handoff.verdict.allowed_values()
        );
        let ae = Some(self.ae.clone());
        WriteBack {
            record_kind: RecordKind::Deal,
            record_id: self.deal_id.clone(),
            fields: Default::default(),
            move_to_stage: None,
            move_only_from: None,
            notices: vec![match mode {
                Mode::Enforce => Notice::task(ae, title, body, Priority::Normal),
                Mode::Shadow => Notice::note(ae, title, body),
            }],
            personal: false,
        }
    }
}

impl<D: Database> SqlHandoffs<D> {
    /// `crm`'s validated handoffs awaiting a verdict at `now` that nobody was reminded of,
    /// oldest first, at most [`BATCH`].
    pub async fn awaited_verdicts(
        &self,
        crm: Crm,
        now: OffsetDateTime,
    ) -> Result<Vec<AwaitedVerdict>, Error> {
        let sql = "SELECT h.key, h.deal_id, h.deal_name, h.bdr, p.name, h.ae, h.at \
             FROM pg_handoffs h LEFT JOIN pg_people p ON p.crm = h.crm AND p.id = h.bdr \
             WHERE h.crm = ? AND h.status = 'validated' AND h.verdict IS NULL AND h.ae IS NOT NULL \
             AND h.at <= ? AND h.at > ? \
             AND NOT EXISTS (SELECT 1 FROM pg_handoffs later \
                 WHERE later.crm = h.crm AND later.deal_id = h.deal_id AND later.at > h.at) \
             AND NOT EXISTS (SELECT 1 FROM pg_verdict_reminders r WHERE r.handoff_key = h.key) \
             ORDER BY h.at, h.key LIMIT ?";
        let params = vec![
            crm.name().into(),
            (now - AFTER).unix_timestamp().into(),
            (now - NOT_AFTER).unix_timestamp().into(),
            BATCH.into(),
        ];
        self.db
            .execute(sql, params)
            .await?
            .into_iter()
            .map(|row| {
                let [key, deal_id, deal_name, bdr, bdr_name, ae, at] = columns(row)?;
                Ok(AwaitedVerdict {
                    key: text(&key)?,
                    deal_id: text(&deal_id)?,
                    deal_name: optional_text(&deal_name),
                    bdr: optional_text(&bdr),
                    bdr_name: optional_text(&bdr_name),
                    ae: text(&ae)?,
                    at: OffsetDateTime::from_unix_timestamp(at.as_integer().unwrap_or(0))
                        .unwrap_or(now),
                })
            })
            .collect()
    }

    /// Claim the reminders of `handoffs` for this call: those another call claimed first are
    /// left out.
    pub async fn claim_reminders(
        &self,
        crm: Crm,
        handoffs: &[&str],
        now: OffsetDateTime,
    ) -> Result<Vec<String>, Error> {
        if handoffs.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "INSERT INTO pg_verdict_reminders (handoff_key, crm, at) VALUES {} \
             ON CONFLICT (handoff_key) DO NOTHING RETURNING handoff_key",
            rows(handoffs.len(), "(?, ?, ?)")
        );
        let params = handoffs
            .iter()
            .flat_map(|key| {
                [
                    SqlValue::from(*key),
                    crm.name().into(),
                    now.unix_timestamp().into(),
                ]
            })
            .collect();
        self.db
            .execute(&sql, params)
            .await?
            .iter()
            .map(|row| row.first().map_or(Ok(String::new()), text))
            .collect()
    }

    /// Let the reminders of `handoffs` go: the CRM refused them, the next sweep tries again.
    pub async fn release_reminders(&self, handoffs: &[&str]) -> Result<(), Error> {
        if handoffs.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "DELETE FROM pg_verdict_reminders WHERE handoff_key IN ({})",
            placeholders(handoffs.len())
        );
        let params = handoffs.iter().map(|key| SqlValue::from(*key)).collect();
        self.db.execute(&sql, params).await.map(drop)
    }
}

/// Remind the AEs of `adapter`'s CRM whose verdicts are awaited at `now`, once each.
pub async fn remind<A: Adapter, D: Database>(
    adapter: &A,
    log: &SqlHandoffs<D>,
    settings: &Settings,
    now: OffsetDateTime,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<Reminded, Error> {
    let crm = adapter.crm();
    let awaited = log.awaited_verdicts(crm, now).await?;
    let keys: Vec<&str> = awaited.iter().map(|a| a.key.as_str()).collect();
    let claimed = log.claim_reminders(crm, &keys, now).await?;
    let mine: Vec<&AwaitedVerdict> = awaited
        .iter()
        .filter(|a| claimed.contains(&a.key))
        .collect();
    let write_backs: Vec<WriteBack> = mine
        .iter()
        .map(|a| a.write_back(&settings.playbook, settings.mode))
        .collect();
    let names = FieldNames::new(&settings.playbook, adapter.facts());
    let results = pipeline::write_backs(
        adapter,
        &names,
        settings.rep_links.as_ref(),
        &write_backs,
        now,
        api,
    )
    .await;
    let mut reminded = Reminded::default();
    let mut refused = Vec::new();
    for (awaited, result) in mine.into_iter().zip(results) {
        match result {
            Ok(_) => reminded.sent += 1,
            Err(e) => {
                reminded
                    .failed
                    .push(format!("verdict reminder on deal {}: {e}", awaited.deal_id));
                refused.push(awaited.key.as_str());
            }
        }
    }
    log.release_reminders(&refused).await?;
    Ok(reminded)
}

#[cfg(test)]
mod tests {
    use std::time::Duration as StdDuration;

    use futures::executor::block_on;
    use time::macros::datetime;

    use super::*;
    use crate::{
        api::Limits,
        crm::generic::Generic,
        handoffs::{HandoffLog, HandoffRecord, VerdictRecord},
        memory::{RecordingCrm, StoppedClock},
        test_sqlite::Sqlite,
    };

    const NOW: OffsetDateTime = datetime!(2026-12-07 12:00 UTC);

    fn handoff(key: &str, deal: &str, ago: Duration, status: &str) -> HandoffRecord {
        HandoffRecord {
            key: key.into(),
            crm: Crm::Generic,
            deal_id: deal.into(),
            deal_name: Some(format!("Deal {deal}")),
            bdr: Some("bdr-1".into()),
            ae: Some("ae-1".into()),
            at: NOW - ago,
            status: status.into(),
            rule: "all rules passed".into(),
            threshold: 60,
            score: 72,
            from_stage: None,
            to_stage: "sales_accepted".into(),
            dimensions: Vec::new(),
        }
    }

    fn log() -> SqlHandoffs<Sqlite> {
        let log = SqlHandoffs::new(Sqlite::in_memory());
        block_on(log.create_tables()).unwrap();
        let hours = Duration::hours;
        block_on(log.record_handoffs(&[
            handoff("due", "D1", hours(25), "validated"),
            handoff("fresh", "D2", hours(23), "validated"),
            handoff("old", "D3", Duration::days(8), "validated"),
            handoff("blocked", "D4", hours(30), "blocked"),
            handoff("answered", "D5", hours(30), "validated"),
            handoff("superseded", "D6", hours(40), "validated"),
            handoff("again", "D6", hours(2), "blocked"),
        ]))
        .unwrap();
        block_on(log.record_verdicts(&[VerdictRecord {
            key: "v1".into(),
            crm: Crm::Generic,
            deal_id: "D5".into(),
            handoff_key: Some("answered".into()),
            verdict: "accepted".into(),
            reason: None,
            ae: Some("ae-1".into()),
            at: NOW - hours(1),
        }]))
        .unwrap();
        log
    }

    fn remind_on(crm: &RecordingCrm, log: &SqlHandoffs<Sqlite>, mode: Mode) -> Reminded {
        let clock = StoppedClock::default();
        let api = Api::new(crm, &clock, Limits::within(StdDuration::from_secs(10)));
        let settings = Settings::new(Playbook::default_playbook(), mode);
        block_on(remind(&Generic, log, &settings, NOW, &api)).unwrap()
    }

    #[test]
    fn only_a_validated_handoff_left_without_verdict_for_a_day_is_awaited() {
        let awaited = block_on(log().awaited_verdicts(Crm::Generic, NOW)).unwrap();
        let keys: Vec<&str> = awaited.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(keys, ["due"]);
        assert_eq!(awaited[0].ae, "ae-1");
    }

    #[test]
    fn the_ae_is_reminded_once_a_task_in_enforce_a_note_in_shadow() {
        for (mode, task) in [(Mode::Enforce, true), (Mode::Shadow, false)] {
            let log = log();
            let crm = RecordingCrm::default();
            assert_eq!(remind_on(&crm, &log, mode).sent, 1);
            let calls = crm.calls();
            assert_eq!(calls.len(), 1, "{calls:?}");
            let notice = &calls[0].body["notices"][0];
            assert_eq!(notice["to"], "ae-1");
            assert_eq!(notice["kind"], if task { "task" } else { "note" });
            assert!(
                notice["body"].as_str().unwrap().contains("within 24 hours"),
                "{notice}"
            );
            assert_eq!(remind_on(&crm, &log, mode), Reminded::default(), "once");
            assert_eq!(crm.calls().len(), 1);
        }
    }

    #[test]
    fn a_reminder_the_crm_refused_is_tried_again_by_the_next_sweep() {
        let log = log();
        let down = RecordingCrm::default();
        down.refuse(
            "PATCH",
            "/records/deals/D1",
            Error::CrmUnavailable {
                call: "PATCH /records/deals/D1".into(),
                reason: "503".into(),
            },
        );
        let first = remind_on(&down, &log, Mode::Enforce);
        assert_eq!((first.sent, first.failed.len()), (0, 1), "{first:?}");
        let up = RecordingCrm::default();
        assert_eq!(remind_on(&up, &log, Mode::Enforce).sent, 1);
    }
}

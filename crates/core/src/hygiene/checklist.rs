//! The team's hygiene checklist for one deal: each check passed, failed or not applicable, with
//! what is missing, and the weighted score of those that apply.

use serde::{Deserialize, Serialize};
use time::{Date, UtcOffset};

use crate::{
    model::{ActivityKind, Contact, DealStatus, Record, date_label},
    placeholder,
    playbook::{ChecklistWeights, Playbook},
};

/// One check of the checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// Every required field is filled in (open deals).
    RequiredFields,
    /// The close date is ahead and the deal is not rotting (open deals).
    StageAndCloseDate,
    /// Every contact has a title, a role (when the CRM can say it:
    /// [`Record::contact_roles_read`]) and (when the playbook names the field) an authority level.
    Contacts,
    /// Calls and meetings are logged with notes capturing the playbook's topics (pain, timeline,
    /// next steps); not applicable to a record that carries no activities.
    CallNotes,
    /// A lost deal documents why (lost deals).
    LostReason,
    /// Every date on the record can be read.
    ReadableDates,
}

impl Check {
    /// Every check, in the order they are reported.
    pub const ALL: [Check; 6] = [
        Check::RequiredFields,
        Check::StageAndCloseDate,
        Check::Contacts,
        Check::CallNotes,
        Check::LostReason,
        Check::ReadableDates,
    ];

    /// The check as a report names it.
    pub fn label(self) -> &'static str {
        match self {
            Check::RequiredFields => "required fields filled in",
            Check::StageAndCloseDate => "stage and close date accurate",
            Check::Contacts => "contacts have a title and a role (and an authority level if asked)",
            Check::CallNotes => "calls logged with notes on pain, timeline and next steps",
            Check::LostReason => "lost deals have a documented reason",
            Check::ReadableDates => "dates readable",
        }
    }

    /// The check's key, as JSON and the playbook's `[staleness.checklist]` name it
    /// (`stage_and_close_date`).
    pub fn key(self) -> &'static str {
        match self {
            Check::RequiredFields => "required_fields",
            Check::StageAndCloseDate => "stage_and_close_date",
            Check::Contacts => "contacts",
            Check::CallNotes => "call_notes",
            Check::LostReason => "lost_reason",
            Check::ReadableDates => "readable_dates",
        }
    }

    /// The check's weight in `weights`.
    pub fn weight(self, weights: &ChecklistWeights) -> u32 {
        match self {
            Check::RequiredFields => weights.required_fields,
            Check::StageAndCloseDate => weights.stage_and_close_date,
            Check::Contacts => weights.contacts,
            Check::CallNotes => weights.call_notes,
            Check::LostReason => weights.lost_reason,
            Check::ReadableDates => weights.readable_dates,
        }
    }
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The record meets it.
    Passed,
    /// The record falls short; the result's `gaps` say where.
    Failed,
    /// It does not apply to this record (a lost-reason check on an open deal); not counted.
    NotApplicable,
}

/// One check's result for one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Which check.
    pub check: Check,
    /// Its weight in the playbook.
    pub weight: u32,
    /// Passed, failed or not applicable.
    pub outcome: Outcome,
    /// Where the record falls short, for the owner.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<String>,
}

/// Whether the deal is rotting, as the staleness rules judged it: the stage-and-close-date check
/// reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotting {
    /// Not rotting (within its stage's limit, a next activity scheduled, or snoozed).
    No,
    /// Rotting in its stage.
    Yes,
    /// Not judged: a date it depends on cannot be read.
    Unknown,
}

/// A deal's hygiene against the team's checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checklist {
    /// The weighted share of the applicable checks passed (0–100, rounded down).
    pub score_pct: u8,
    /// Whether the record is clean enough for its score to be trusted
    /// (`staleness.hygiene_threshold`).
    pub trustworthy: bool,
    /// Every check, in [`Check::ALL`] order.
    pub checks: Vec<CheckResult>,
}

impl Checklist {
    /// The result of `check`.
    pub fn result(&self, check: Check) -> Option<&CheckResult> {
        self.checks.iter().find(|r| r.check == check)
    }

    /// Whether `check` passed: `None` when it does not apply.
    pub fn passed(&self, check: Check) -> Option<bool> {
        match self.result(check)?.outcome {
            Outcome::Passed => Some(true),
            Outcome::Failed => Some(false),
            Outcome::NotApplicable => None,
        }
    }
}

/// Check `record` against the checklist on `today`, the staleness rules having judged whether it
/// is `rotting` and found its `unreadable` dates (by key, with the text the CRM holds: the
/// record's own and the snooze date).
pub fn checklist(
    record: &Record,
    playbook: &Playbook,
    today: Date,
    rotting: Rotting,
    unreadable: &[(String, String)],
) -> Checklist {
    let staleness = &playbook.staleness;
    let checks: Vec<CheckResult> = Check::ALL
        .into_iter()
        .map(|check| {
            let gaps = match check {
                Check::RequiredFields => open(record).then(|| required_fields(record, playbook)),
                Check::StageAndCloseDate => {
                    open(record).then(|| stage_and_close_date(record, today, rotting))
                }
                Check::Contacts => Some(contacts(record, staleness.authority_field.is_some())),
                Check::CallNotes => call_notes(record, &staleness.call_note_topics, today),
                Check::LostReason => (record.status == DealStatus::Lost).then(|| {
                    let field = &staleness.lost_reason_field;
                    if placeholder::filled(record, field, &playbook.handoff.placeholders) {
                        Vec::new()
                    } else {
                        vec![format!("no reason in {field}")]
                    }
                }),
                Check::ReadableDates => Some(
                    unreadable
                        .iter()
                        .map(|(key, value)| format!("{} {value:?} is not a date", date_label(key)))
                        .collect(),
                ),
            };
            let outcome = match &gaps {
                None => Outcome::NotApplicable,
                Some(gaps) if gaps.is_empty() => Outcome::Passed,
                Some(_) => Outcome::Failed,
            };
            CheckResult {
                check,
                weight: check.weight(&staleness.checklist),
                outcome,
                gaps: gaps.unwrap_or_default(),
            }
        })
        .collect();
    let counted = |r: &&CheckResult| r.outcome != Outcome::NotApplicable;
    let total: u32 = checks.iter().filter(counted).map(|r| r.weight).sum();
    let passed: u32 = checks
        .iter()
        .filter(|r| r.outcome == Outcome::Passed)
        .map(|r| r.weight)
        .sum();
    let score_pct = if total == 0 {
        100
    } else {
        (u64::from(passed) * 100 / u64::from(total)) as u8
    };
    Checklist {
        score_pct,
        trustworthy: score_pct >= staleness.hygiene_threshold,
        checks,
    }
}

fn open(record: &Record) -> bool {
    record.status == DealStatus::Open
}

fn required_fields(record: &Record, playbook: &Playbook) -> Vec<String> {
    super::assess(record, playbook)
        .missing
        .into_iter()
        .map(|field| format!("{field} is empty"))
        .collect()
}

fn stage_and_close_date(record: &Record, today: Date, rotting: Rotting) -> Vec<String> {
    let mut gaps = Vec::new();
    match (record.close_date, record.unreadable.get("close_date")) {
        (_, Some(value)) => gaps.push(format!("the close date {value:?} cannot be read")),
        (None, None) => gaps.push("no close date".to_owned()),
        (Some(date), None) if date < today => {
            gaps.push(format!("the close date {date} has passed"));
        }
        (Some(_), None) => {}
    }
    match rotting {
        Rotting::No => {}
        Rotting::Yes => gaps.push("rotting in its stage".to_owned()),
        Rotting::Unknown => {
            gaps.push("whether it is rotting cannot be told: a date cannot be read".to_owned());
        }
    }
    gaps
}

fn contacts(record: &Record, needs_authority: bool) -> Vec<String> {
    if record.contacts.is_empty() {
        return vec!["no contact on the deal".to_owned()];
    }
    record
        .contacts
        .iter()
        .filter_map(|contact| {
            let blank = |v: &Option<String>| v.as_deref().is_none_or(|v| v.trim().is_empty());
            let missing: Vec<&str> = [
                (blank(&contact.title), "title"),
                (record.contact_roles_read && blank(&contact.role), "role"),
                (
                    needs_authority && blank(&contact.authority),
                    "authority level",
                ),
            ]
            .into_iter()
            .filter_map(|(missing, what)| missing.then_some(what))
            .collect();
            (!missing.is_empty()).then(|| format!("{}: no {}", who(contact), missing.join(", no ")))
        })
        .collect()
}

fn who(contact: &Contact) -> &str {
    contact
        .name
        .as_deref()
        .or(contact.email.as_deref())
        .unwrap_or(&contact.id)
}

/// `None` when the record's activities were neither read nor sent: whether calls are logged
/// cannot be told. A call or meeting dated after `today` is booked, not held: it needs no notes
/// yet.
fn call_notes(
    record: &Record,
    topics: &std::collections::BTreeMap<String, Vec<String>>,
    today: Date,
) -> Option<Vec<String>> {
    if !record.activities_read && record.activities.is_empty() {
        return None;
    }
    let calls: Vec<_> = record
        .activities
        .iter()
        .filter(|a| matches!(a.kind, ActivityKind::Call | ActivityKind::Meeting))
        .filter(|a| a.at.to_offset(UtcOffset::UTC).date() <= today)
        .collect();
    if calls.is_empty() {
        return Some(vec!["no call or meeting logged".to_owned()]);
    }
    Some(
        calls
            .into_iter()
            .filter_map(|call| {
                let day = call.at.to_offset(UtcOffset::UTC).date();
                let notes = call.notes.as_deref().unwrap_or_default().to_lowercase();
                if notes.trim().is_empty() {
                    return Some(format!("call on {day}: no notes"));
                }
                let missed: Vec<&str> = topics
                    .iter()
                    .filter(|(_, words)| {
                        !words.iter().any(|w| {
                            let w = w.trim().to_lowercase();
                            !w.is_empty() && notes.contains(&w)
                        })
                    })
                    .map(|(topic, _)| topic.as_str())
                    .collect();
                (!missed.is_empty())
                    .then(|| format!("call on {day}: notes miss {}", missed.join(", ")))
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;
    use crate::model::Activity;

    const TODAY: Date = date!(2026 - 11 - 23);

    fn clean_deal() -> Record {
        let mut deal = Record::new_deal("D-1");
        deal.owner_id = Some("u-1".into());
        deal.amount = Some(12_000.0);
        deal.close_date = Some(date!(2026 - 12 - 15));
        deal.fields
            .insert("next_step".into(), "Demo with the CFO on 1 December".into());
        deal.contacts.push(Contact {
            id: "C-1".into(),
            name: Some("Dana Ruiz".into()),
            email: None,
            title: Some("CFO".into()),
            role: Some("economic_buyer".into()),
            authority: Some("decides".into()),
        });
        deal.activities.push(Activity {
            kind: ActivityKind::Call,
            at: datetime!(2026-11-20 10:00 UTC),
            subject: Some("Discovery".into()),
            notes: Some(
                "Pain: the close takes 9 days. Timeline: live by March. Next step: demo.".into(),
            ),
        });
        deal
    }

    /// Pipedrive says a contact's role only through a person field the playbook names: without
    /// it no contact could ever pass, so no role is asked for.
    #[test]
    fn a_role_is_asked_for_only_when_the_crm_can_say_it() {
        let mut deal = clean_deal();
        deal.contacts[0].role = None;
        let playbook = Playbook::default_playbook();
        let c = checklist(&deal, &playbook, TODAY, Rotting::No, &[]);
        assert_eq!(
            c.result(Check::Contacts).unwrap().gaps,
            ["Dana Ruiz: no role"]
        );
        deal.contact_roles_read = false;
        // Kept through a JSON round trip (a pending event read back).
        let deal: Record = serde_json::from_value(serde_json::to_value(&deal).unwrap()).unwrap();
        assert!(!deal.contact_roles_read);
        let mut deal = deal;
        let c = checklist(&deal, &playbook, TODAY, Rotting::No, &[]);
        assert_eq!(c.passed(Check::Contacts), Some(true));
        deal.contacts[0].title = None;
        let c = checklist(&deal, &playbook, TODAY, Rotting::No, &[]);
        assert_eq!(
            c.result(Check::Contacts).unwrap().gaps,
            ["Dana Ruiz: no title"]
        );
    }

    #[test]
    fn a_clean_open_deal_passes_every_check_that_applies() {
        let c = checklist(
            &clean_deal(),
            &Playbook::default_playbook(),
            TODAY,
            Rotting::No,
            &[],
        );
        assert_eq!(c.score_pct, 100);
        assert!(c.trustworthy);
        assert_eq!(c.passed(Check::LostReason), None, "not lost");
        assert_eq!(c.passed(Check::CallNotes), Some(true));
        assert_eq!(c.checks.len(), Check::ALL.len());
    }

    #[test]
    fn each_failed_check_says_where_and_costs_its_weight() {
        let mut deal = clean_deal();
        deal.close_date = Some(date!(2026 - 11 - 01));
        deal.contacts[0].role = None;
        deal.activities[0].notes = Some("Talked about the problem.".into());
        let playbook = Playbook::default_playbook();
        let c = checklist(&deal, &playbook, TODAY, Rotting::Yes, &[]);
        assert_eq!(
            c.result(Check::StageAndCloseDate).unwrap().gaps,
            [
                "the close date 2026-11-01 has passed",
                "rotting in its stage"
            ]
        );
        assert_eq!(
            c.result(Check::Contacts).unwrap().gaps,
            ["Dana Ruiz: no role"]
        );
        assert_eq!(
            c.result(Check::CallNotes).unwrap().gaps,
            ["call on 2026-11-20: notes miss next steps, timeline"]
        );
        // Passed: required fields (20) and readable dates (10) of the 90 that apply.
        assert_eq!(c.score_pct, 33);
        assert!(!c.trustworthy);
    }

    #[test]
    fn weights_are_the_playbooks() {
        let mut playbook = Playbook::default_playbook();
        playbook.staleness.checklist = ChecklistWeights {
            required_fields: 1,
            stage_and_close_date: 0,
            contacts: 3,
            call_notes: 0,
            lost_reason: 0,
            readable_dates: 0,
        };
        let mut deal = clean_deal();
        deal.contacts[0].title = None;
        let c = checklist(&deal, &playbook, TODAY, Rotting::Yes, &[]);
        assert_eq!(
            c.score_pct, 25,
            "required fields (1) of 4: a 0 weight does not count"
        );
        assert_eq!(
            c.passed(Check::StageAndCloseDate),
            Some(false),
            "still reported"
        );
    }

    #[test]
    fn authority_is_asked_for_once_the_playbook_names_its_field() {
        let mut playbook = Playbook::default_playbook();
        let mut deal = clean_deal();
        deal.contacts[0].authority = None;
        let c = checklist(&deal, &playbook, TODAY, Rotting::No, &[]);
        assert_eq!(c.passed(Check::Contacts), Some(true));
        playbook.staleness.authority_field = Some("authority_level".into());
        let c = checklist(&deal, &playbook, TODAY, Rotting::No, &[]);
        assert_eq!(
            c.result(Check::Contacts).unwrap().gaps,
            ["Dana Ruiz: no authority level"]
        );
        deal.contacts.clear();
        let c = checklist(&deal, &playbook, TODAY, Rotting::No, &[]);
        assert_eq!(
            c.result(Check::Contacts).unwrap().gaps,
            ["no contact on the deal"]
        );
    }

    #[test]
    fn a_lost_deal_needs_a_reason_and_nothing_else_of_an_open_one() {
        let playbook = Playbook::default_playbook();
        let mut deal = clean_deal();
        deal.status = DealStatus::Lost;
        deal.close_date = Some(date!(2026 - 10 - 01));
        let c = checklist(&deal, &playbook, TODAY, Rotting::No, &[]);
        assert_eq!(c.passed(Check::LostReason), Some(false));
        assert_eq!(c.passed(Check::StageAndCloseDate), None);
        assert_eq!(c.passed(Check::RequiredFields), None);
        deal.fields
            .insert("lost_reason".into(), "Chose a competitor on price".into());
        let c = checklist(&deal, &playbook, TODAY, Rotting::No, &[]);
        assert_eq!(c.passed(Check::LostReason), Some(true));
        assert_eq!(c.score_pct, 100);
    }

    #[test]
    fn unreadable_dates_fail_their_check_and_the_close_date_check_never_passes_on_them() {
        let playbook = Playbook::default_playbook();
        let mut deal = clean_deal();
        deal.close_date = None;
        deal.unreadable
            .insert("close_date".into(), "31/11/2026".into());
        let unreadable = [
            ("close_date".to_owned(), "31/11/2026".to_owned()),
            ("snooze_until".to_owned(), "soon".to_owned()),
        ];
        let c = checklist(&deal, &playbook, TODAY, Rotting::Unknown, &unreadable);
        assert_eq!(
            c.result(Check::ReadableDates).unwrap().gaps,
            [
                "close date \"31/11/2026\" is not a date",
                "snooze date \"soon\" is not a date"
            ]
        );
        assert_eq!(
            c.result(Check::StageAndCloseDate).unwrap().gaps,
            [
                "the close date \"31/11/2026\" cannot be read",
                "whether it is rotting cannot be told: a date cannot be read"
            ]
        );
    }

    #[test]
    fn calls_are_not_judged_on_a_record_without_activities() {
        let mut deal = clean_deal();
        deal.activities.clear();
        let c = checklist(
            &deal,
            &Playbook::default_playbook(),
            TODAY,
            Rotting::No,
            &[],
        );
        assert_eq!(c.passed(Check::CallNotes), None);
        deal.activities.push(Activity {
            kind: ActivityKind::PageView,
            at: datetime!(2026-11-20 10:00 UTC),
            subject: None,
            notes: None,
        });
        let c = checklist(
            &deal,
            &Playbook::default_playbook(),
            TODAY,
            Rotting::No,
            &[],
        );
        assert_eq!(
            c.result(Check::CallNotes).unwrap().gaps,
            ["no call or meeting logged"]
        );
    }
}

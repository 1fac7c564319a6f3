//! A rep's snooze: a date in the playbook's `snooze_field` (`pg_snooze_until`) before which the
//! deal is not flagged as rotting, and why (`snooze_reason_field`). Other checks still apply: a
//! snoozed deal whose close date has passed is still told so.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::{model::Record, playbook::Staleness};

/// The key an unreadable snooze date is reported under, whatever the field's name in the CRM.
pub const SNOOZE_UNTIL: &str = "snooze_until";

/// A snooze in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snooze {
    /// The deal may rot again from this day on.
    pub until: Date,
    /// Why, as the rep wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl std::fmt::Display for Snooze {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.reason {
            Some(reason) => write!(f, "snoozed until {}: {reason}", self.until),
            None => write!(f, "snoozed until {} (no reason given)", self.until),
        }
    }
}

/// The snooze `record` is under on `today`: `Ok(None)` when there is none or it has run out,
/// `Err` with the field's text when it cannot be read as a date.
pub(super) fn in_force(
    record: &Record,
    staleness: &Staleness,
    today: Date,
) -> Result<Option<Snooze>, String> {
    Ok(record
        .date(&staleness.snooze_field)?
        .filter(|until| today < *until)
        .map(|until| Snooze {
            until,
            reason: record.text(&staleness.snooze_reason_field),
        }))
}

//! What a deal's property history tells about a move: where the deal came from, who moved it,
//! and whether the move gave it another owner.
//!
//! HubSpot's batch read returns, per property asked for in `propertiesWithHistory`, the values it
//! held, newest first: `{"value", "timestamp", "sourceType", "sourceId", "updatedByUserId"}`. The
//! entry of a move into a stage is the newest entry holding that stage: a deal moved on since
//! still shows it, behind the newer one.

use serde_json::{Map, Value};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::owners;

/// The deal properties whose history is read.
pub const PROPERTIES: &[&str] = &["dealstage", "hubspot_owner_id"];

/// A deal's `dealstage` and `hubspot_owner_id` history, newest first.
#[derive(Debug, Default)]
pub struct History {
    stages: Vec<Value>,
    owners: Vec<Value>,
}

impl History {
    /// The history in a batch read's record object.
    pub fn of(object: &Map<String, Value>) -> History {
        let list = |name: &str| {
            object
                .get("propertiesWithHistory")
                .and_then(|h| h[name].as_array())
                .cloned()
                .unwrap_or_default()
        };
        History {
            stages: list("dealstage"),
            owners: list("hubspot_owner_id"),
        }
    }

    /// The entry that put the deal into `stage`.
    fn entry(&self, stage: &str) -> Option<&Value> {
        self.stages
            .iter()
            .find(|h| h["value"].as_str() == Some(stage))
    }

    /// When the deal entered `stage`.
    pub fn entered_at(&self, stage: &str) -> Option<OffsetDateTime> {
        self.entry(stage).and_then(timestamp)
    }

    /// The stage the deal was in before it entered `to`. Without an entry for `to` (HubSpot has
    /// not recorded the move yet), the newest other stage.
    pub fn came_from(&self, to: &str) -> Option<String> {
        let older = self
            .stages
            .iter()
            .position(|h| h["value"].as_str() == Some(to))
            .map_or(0, |at| at + 1);
        self.stages[older..]
            .iter()
            .filter_map(|h| h["value"].as_str())
            .find(|v| *v != to && !v.is_empty())
            .map(str::to_owned)
    }

    /// The HubSpot user who put the deal into `stage`, when a user did (not a workflow, an
    /// import or an integration).
    pub fn moved_by(&self, stage: &str) -> Option<String> {
        let entry = self.entry(stage)?;
        match &entry["updatedByUserId"] {
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            _ => entry["sourceId"].as_str().and_then(owners::user_id),
        }
    }

    /// Whether the deal's owner now is another than just before it entered `stage`; `None`
    /// when the history cannot tell (no owner history, no dated entry for the move).
    pub fn owner_changed(&self, stage: &str, owner: Option<&str>) -> Option<bool> {
        if self.owners.is_empty() {
            return None;
        }
        let moved_at = self.entered_at(stage)?;
        // An owner set in the same save as the stage shares its timestamp: that is the move's.
        let before = self
            .owners
            .iter()
            .find(|h| timestamp(h).is_some_and(|at| at < moved_at))
            .and_then(|h| h["value"].as_str())
            .map(str::trim)
            .filter(|v| !v.is_empty());
        Some(before != owner)
    }
}

/// An entry's time: RFC 3339 as the v3 API writes it, or milliseconds.
fn timestamp(entry: &Value) -> Option<OffsetDateTime> {
    match &entry["timestamp"] {
        Value::String(t) => OffsetDateTime::parse(t, &Rfc3339).ok(),
        Value::Number(ms) => {
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms.as_i64()?) * 1_000_000).ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    fn history(stages: Value, owners: Value) -> History {
        let object =
            json!({"propertiesWithHistory": {"dealstage": stages, "hubspot_owner_id": owners}});
        History::of(object.as_object().unwrap())
    }

    fn moved_on() -> History {
        history(
            json!([
                {"value": "qualifiedtobuy", "timestamp": "2026-11-21T09:00:00.000Z", "sourceType": "CRM_UI", "sourceId": "userId:40404", "updatedByUserId": 40404},
                {"value": "sales_accepted", "timestamp": "2026-11-21T08:15:00.000Z", "sourceType": "CRM_UI", "sourceId": "userId:31337"},
                {"value": "discovery", "timestamp": "2026-10-20T10:00:00.000Z", "sourceType": "WORKFLOWS", "sourceId": "1873465"},
            ]),
            json!([
                {"value": "52002", "timestamp": "2026-11-21T08:15:00.000Z", "sourceType": "CRM_UI", "updatedByUserId": 31337},
                {"value": "52001", "timestamp": "2026-10-02T09:12:44.120Z", "sourceType": "CRM_UI"},
            ]),
        )
    }

    #[test]
    fn a_move_is_read_from_its_own_entry_even_when_the_deal_moved_on() {
        let h = moved_on();
        assert_eq!(h.came_from("sales_accepted").as_deref(), Some("discovery"));
        assert_eq!(
            h.entered_at("sales_accepted"),
            Some(datetime!(2026-11-21 08:15 UTC))
        );
        assert_eq!(h.moved_by("sales_accepted").as_deref(), Some("31337"));
        assert_eq!(h.moved_by("qualifiedtobuy").as_deref(), Some("40404"));
        assert_eq!(h.moved_by("discovery"), None, "a workflow is no user");
        // Not recorded yet: the newest other stage.
        assert_eq!(h.came_from("closedwon").as_deref(), Some("qualifiedtobuy"));
    }

    #[test]
    fn the_owner_changed_when_it_differs_from_the_one_before_the_move() {
        let h = moved_on();
        assert_eq!(h.owner_changed("sales_accepted", Some("52002")), Some(true));
        assert_eq!(
            h.owner_changed("sales_accepted", Some("52001")),
            Some(false)
        );
        assert_eq!(h.owner_changed("closedwon", Some("52002")), None);
        let no_owner_history = history(
            json!([{"value": "sales_accepted", "timestamp": 1795248900000_u64}]),
            json!([]),
        );
        assert_eq!(
            no_owner_history.owner_changed("sales_accepted", Some("52001")),
            None
        );
        let first_owner_at_the_move = history(
            json!([{"value": "sales_accepted", "timestamp": 1795248900000_u64}]),
            json!([{"value": "52002", "timestamp": 1795248900000_u64}]),
        );
        assert_eq!(
            first_owner_at_the_move.owner_changed("sales_accepted", Some("52002")),
            Some(true)
        );
    }
}

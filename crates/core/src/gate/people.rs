//! Who is who in a handoff: the BDR who made the move, and the AE who receives the deal.
//!
//! - **The BDR** is the playbook's `handoff.bdr_field` when it holds a user, else the user who
//!   made the move as the CRM reports it ([`WebhookEvent::changed_by`]), else the owner.
//! - **The AE** is the playbook's `handoff.ae_field` when it holds a user, else the owner after
//!   the move when the owner is not the BDR: the deal was handed to someone, in the move's save
//!   or before it. Nobody else: an AE is never guessed.

use serde::{Deserialize, Serialize};

use crate::{
    event::WebhookEvent,
    people::Names,
    playbook::{Handoff, Playbook},
};

/// A CRM user in a handoff, and how pipeline-guard knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// The CRM user id (a HubSpot owner id, a Pipedrive or Salesforce user id).
    pub id: String,
    /// Where the id came from, for the notices (`the "ae_owner" field`, `the user who made the
    /// move`, `the owner`).
    pub from: String,
    /// Their name in the CRM, when known ([`crate::people`]); the notices then show it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Person {
    /// `id`, known from `from`, not named yet.
    fn known_from(id: String, from: impl Into<String>) -> Person {
        Person {
            id,
            from: from.into(),
            name: None,
        }
    }

    /// As a notice names them: `Alice Smith (user 123)`, or `user 123` without a name.
    pub fn labelled(&self) -> String {
        crate::people::labelled(&self.id, self.name.as_deref())
    }
}

/// The BDR and the AE of one handoff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct People {
    /// Who handed the deal off; `None` when neither the CRM nor the record says.
    pub bdr: Option<Person>,
    /// Who receives it; `None` when no AE can be found.
    pub ae: Option<Person>,
}

/// Identify the BDR and the AE of the handoff `event` makes.
pub fn identify(event: &WebhookEvent, handoff: &Handoff) -> People {
    let record = &event.record;
    let named = |field: &Option<String>| {
        let field = field.as_deref()?;
        record
            .text(field)
            .map(|id| Person::known_from(id, format!("the {field:?} field")))
    };
    let owner = record.owner_id.clone();
    let bdr = named(&handoff.bdr_field)
        .or_else(|| {
            event
                .changed_by
                .clone()
                .map(|id| Person::known_from(id, "the user who made the move"))
        })
        .or_else(|| {
            // The owner is the BDR only when the move did not hand the record to someone else.
            owner
                .clone()
                .filter(|_| event.owner_changed != Some(true))
                .map(|id| {
                    Person::known_from(id, "the owner (the CRM did not say who made the move)")
                })
        });
    let bdr_id = bdr.as_ref().map(|p| p.id.as_str());
    let ae = named(&handoff.ae_field)
        .or_else(|| owner.map(|id| Person::known_from(id, "the owner after the move")))
        .filter(|ae| bdr_id != Some(ae.id.as_str()));
    People { bdr, ae }
}

/// The CRM user ids the notices of `event`'s handoff name (its BDR and AE), when `event` puts
/// a deal into a handoff stage: the names a delivery looks up before deciding.
pub fn named(event: &WebhookEvent, playbook: &Playbook) -> Vec<String> {
    if !matches!(super::route(event, playbook), Ok(super::Route::Enters(_))) {
        return Vec::new();
    }
    let people = identify(event, &playbook.handoff);
    [people.bdr, people.ae]
        .into_iter()
        .flatten()
        .map(|person| person.id)
        .collect()
}

impl People {
    /// Give each person the name `names` knows for them.
    pub fn name(&mut self, names: &Names) {
        for person in [&mut self.bdr, &mut self.ae].into_iter().flatten() {
            person.name = names.of(&person.id).map(str::to_owned);
        }
    }

    /// The rule that fails when no AE is known: what to set so there is one.
    pub fn missing_ae(&self, handoff: &Handoff) -> Option<String> {
        if self.ae.is_some() {
            return None;
        }
        let field = handoff
            .ae_field
            .as_deref()
            .map_or(String::new(), |f| format!("set the {f:?} field or "));
        Some(format!(
            "no AE assigned ({field}make the AE the deal's owner)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{event::Change, model::Record, playbook::Playbook};

    fn moved(by: Option<&str>, owner: Option<&str>, owner_changed: Option<bool>) -> WebhookEvent {
        let mut record = Record::new_deal("D-1");
        record.owner_id = owner.map(Into::into);
        WebhookEvent {
            dedupe_key: "k".into(),
            event_id: "e".into(),
            occurred_at: time::OffsetDateTime::UNIX_EPOCH,
            change: Change::StageChanged {
                from: None,
                to: "sales_accepted".into(),
            },
            record,
            changed_fields: Vec::new(),
            changed_by: by.map(Into::into),
            owner_changed,
            complete: true,
        }
    }

    fn ids(people: &People) -> (Option<&str>, Option<&str>) {
        (
            people.bdr.as_ref().map(|p| p.id.as_str()),
            people.ae.as_ref().map(|p| p.id.as_str()),
        )
    }

    #[test]
    fn the_mover_is_the_bdr_and_a_new_owner_the_ae() {
        let handoff = Playbook::default_playbook().handoff;
        let people = identify(&moved(Some("bdr"), Some("ae"), Some(true)), &handoff);
        assert_eq!(ids(&people), (Some("bdr"), Some("ae")));
        // The CRM does not say whether the owner changed: an owner other than the mover is the AE.
        let people = identify(&moved(Some("bdr"), Some("ae"), None), &handoff);
        assert_eq!(ids(&people), (Some("bdr"), Some("ae")));
    }

    #[test]
    fn an_owner_who_is_the_bdr_is_no_ae() {
        let handoff = Playbook::default_playbook().handoff;
        let people = identify(&moved(Some("bdr"), Some("bdr"), None), &handoff);
        assert_eq!(ids(&people), (Some("bdr"), None));
        let people = identify(&moved(None, Some("bdr"), None), &handoff);
        assert_eq!(ids(&people), (Some("bdr"), None));
    }

    #[test]
    fn an_ae_made_owner_before_the_move_is_the_ae() {
        // The BDR gave the deal to the AE in an earlier save, then moved it: the move's own save
        // did not change the owner.
        let handoff = Playbook::default_playbook().handoff;
        let people = identify(&moved(Some("bdr"), Some("ae"), Some(false)), &handoff);
        assert_eq!(ids(&people), (Some("bdr"), Some("ae")));
    }

    #[test]
    fn without_a_mover_a_new_owner_is_not_taken_for_the_bdr() {
        let handoff = Playbook::default_playbook().handoff;
        let people = identify(&moved(None, Some("ae"), Some(true)), &handoff);
        assert_eq!(ids(&people), (None, Some("ae")));
    }

    #[test]
    fn named_fields_win() {
        let mut handoff = Playbook::default_playbook().handoff;
        handoff.ae_field = Some("ae_owner".into());
        handoff.bdr_field = Some("bdr_owner".into());
        let mut event = moved(Some("ops"), Some("bdr"), Some(false));
        event.record.fields.insert("ae_owner".into(), "77".into());
        event.record.fields.insert("bdr_owner".into(), "12".into());
        let people = identify(&event, &handoff);
        assert_eq!(ids(&people), (Some("12"), Some("77")));
        assert_eq!(people.ae.unwrap().from, "the \"ae_owner\" field");
        // An empty AE field falls back to the owner after the move.
        event.record.fields.insert("ae_owner".into(), "".into());
        assert_eq!(ids(&identify(&event, &handoff)), (Some("12"), Some("bdr")));
    }
}

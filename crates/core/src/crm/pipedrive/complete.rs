//! What a Pipedrive webhook lacks, read from the API: option labels, the playbook's fields under
//! their canonical names, a deal's person and buying role, its done activities
//! ([`super::activities`]) and its organization ([`super::organization`]); and a deal's stage
//! read again before a move.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::{accept, activities, options, organization};
use crate::{
    Error,
    api::Api,
    crm::{Crm, FieldNames, company, part::read_or_say, path_segment},
    engagement::ACTIVITIES,
    event::WebhookEvent,
    evidence::EvidenceRule,
    fit::COMPANY,
    model::{Contact, Record, RecordKind, value_text as text},
    playbook::Playbook,
    ports::{Clock, CrmClient},
    writeback::CrmCall,
};

/// The playbook's `crm_fields` table for Pipedrive's persons: a person custom field's key is not
/// the deal field's.
pub(super) const PERSON_FIELDS: &str = "pipedrive_person";

/// The person custom field the contact dimension reads buying roles from, if the playbook names
/// one: its `pipedrive_person` entry (a contact dimension always reads persons, so its
/// `pipedrive` entry is taken as a person field's key too).
fn role_field(playbook: &Playbook) -> Option<&str> {
    playbook
        .dimensions
        .iter()
        .filter(|d| matches!(d.evidence, EvidenceRule::Contact { .. }))
        .find_map(|d| {
            d.crm_fields
                .get(PERSON_FIELDS)
                .or_else(|| d.crm_fields.get(Crm::Pipedrive.name()))
        })
        .map(String::as_str)
}

/// A person as a contact: name, primary email, job title and buying role (the text of the
/// playbook's role field), written as a canonical role (`Economic Buyer` → `economic_buyer`).
pub(super) fn contact(id: &str, person: &Map<String, Value>, role: Option<String>) -> Contact {
    let emails = person.get("emails").and_then(Value::as_array);
    let email = emails
        .and_then(|emails| {
            emails
                .iter()
                .find(|e| e["primary"] == true)
                .or_else(|| emails.first())
        })
        .and_then(|e| text(&e["value"]));
    let role = role.map(|role| Contact::role_key(&role));
    Contact {
        id: id.to_owned(),
        name: person.get("name").and_then(text),
        email,
        title: person.get("job_title").and_then(text),
        role,
        authority: None,
    }
}

/// Label the option fields the playbook reads, map the playbook's fields, and read what a deal
/// lacks: its person, its done activities and its organization.
pub async fn complete(
    event: WebhookEvent,
    playbook: &Playbook,
    names: &FieldNames,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<WebhookEvent, Error> {
    complete_with(event, playbook, names, api, None).await
}

/// What a sweep reads for its whole page, by id, instead of one call a deal.
pub(super) struct PageReads {
    /// The page's persons (a person not there was deleted).
    pub persons: BTreeMap<String, Map<String, Value>>,
    /// The page's organizations, flat (one not there was deleted), or why they could not be read.
    pub organizations: Result<BTreeMap<String, Map<String, Value>>, Error>,
}

/// [`complete`], a deal's person and organization taken from `page` (read for a whole page)
/// instead of fetched on their own.
pub(super) async fn complete_with(
    mut event: WebhookEvent,
    playbook: &Playbook,
    names: &FieldNames,
    api: &Api<'_, impl CrmClient, impl Clock>,
    page: Option<&PageReads>,
) -> Result<WebhookEvent, Error> {
    let record = &mut event.record;
    let mapped = names.incoming(record.kind);
    let role_field = role_field(playbook);
    let mut read: BTreeSet<&str> = mapped.keys().map(String::as_str).collect();
    if record.kind == RecordKind::Lead {
        read.extend(role_field);
    }
    label_options(record, &read, api).await?;
    for (key, canonical) in mapped {
        if let Some(value) = record.fields.get(key).cloned() {
            record.fields.insert(canonical.clone(), value);
        }
    }
    match record.kind {
        RecordKind::Lead => {
            let role = role_field
                .and_then(|key| record.fields.get(key))
                .and_then(text)
                .map(|role| Contact::role_key(&role));
            if let Some(me) = record.contacts.first_mut() {
                me.role = role;
            }
        }
        RecordKind::Deal => complete_deal(record, playbook, api, page).await?,
    }
    event.complete = true;
    Ok(event)
}

/// Read a deal's person (with its buying role), its done activities and its organization, side
/// by side.
async fn complete_deal(
    record: &mut Record,
    playbook: &Playbook,
    api: &Api<'_, impl CrmClient, impl Clock>,
    page: Option<&PageReads>,
) -> Result<(), Error> {
    let role_field = role_field(playbook);
    record.contact_roles_read = role_field.is_some();
    let person_id = record.text("person_id");
    let contact = async {
        let Some(person_id) = person_id else {
            return Ok(None);
        };
        let person = match page {
            Some(page) => page.persons.get(&person_id).cloned(),
            None => person(&person_id, api).await?,
        };
        let Some(person) = &person else {
            return Ok(None);
        };
        let role = person_role(person, role_field, api).await?;
        let authority = playbook.staleness.authority_field.as_deref();
        let authority = person_role(person, authority, api).await?;
        let mut contact = contact(&person_id, person, role);
        contact.authority = authority;
        Ok::<_, Error>(Some(contact))
    };
    let engagement = playbook.engagement.as_ref();
    let none_done = activities::has_none_done(record);
    let deal_id = record.id.clone();
    let done = async {
        if none_done {
            Ok(Vec::new())
        } else {
            activities::done_activities(&deal_id, engagement, api).await
        }
    };
    // Fit reads the organization; without a fit section nothing does.
    let company_fields = playbook
        .fit
        .as_ref()
        .map(|fit| company::properties(organization::FIELDS, Some(fit), "pipedrive"));
    let org_id = record
        .text("org_id")
        .filter(|id| accept::is_id(id) && company_fields.is_some());
    let company = async {
        let (Some(org_id), Some(fields)) = (org_id, &company_fields) else {
            return Ok(None);
        };
        let found = match page {
            Some(page) => page.organizations.clone()?.get(&org_id).cloned(),
            None => organization::organization(&org_id, api).await?,
        };
        let Some(mut found) = found else {
            return Ok(None);
        };
        organization::label_options(&mut found, fields, api).await?;
        Ok(Some(found))
    };
    let (contact, done, company) = futures::join!(contact, done, company);
    record.contacts.extend(contact?);
    if let Some(activities) = read_or_say(record, ACTIVITIES, done, activities::GRANT)? {
        record.activities = activities;
        record.activities_read = true;
    }
    if let (Some(Some(company)), Some(fields)) = (
        read_or_say(record, COMPANY, company, organization::GRANT)?,
        &company_fields,
    ) {
        company::apply(record, &company, fields);
    }
    Ok(())
}

/// `GET /api/v2/persons/<id>`: the person, or `None` when it was deleted since.
async fn person(
    id: &str,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<Option<Map<String, Value>>, Error> {
    let call = CrmCall::get(format!("/api/v2/persons/{}", path_segment(id)));
    match api.send(&call).await {
        Ok(mut answer) => Ok(match answer["data"].take() {
            Value::Object(person) => Some(person),
            _ => None,
        }),
        Err(Error::CrmRecordGone { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Replace the option ids a webhook sent with their labels: those of fields in `read` from the
/// field definitions (fetched only if one is there), the others' as plain ids.
async fn label_options(
    record: &mut Record,
    read: &BTreeSet<&str>,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<(), Error> {
    let typed: Vec<(String, Vec<String>)> = record
        .fields
        .iter()
        .filter_map(|(key, value)| Some((key.clone(), options::typed_ids(value)?)))
        .collect();
    let labels = if typed.iter().any(|(key, _)| read.contains(key.as_str())) {
        let entity = match record.kind {
            RecordKind::Deal => "deal",
            RecordKind::Lead => "person",
        };
        Some(options::OptionLabels::fetch(api, entity).await?)
    } else {
        None
    };
    for (key, ids) in typed {
        let text = match &labels {
            Some(labels) if read.contains(key.as_str()) => labels.text(&key, &ids),
            _ => ids.join(","),
        };
        record.fields.insert(key, Value::String(text));
    }
    Ok(())
}

/// A deal's person's buying role (or authority level): the text of `role_field`, its label when
/// it is an option field (the API sends option ids).
async fn person_role(
    person: &Map<String, Value>,
    role_field: Option<&str>,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<Option<String>, Error> {
    let Some((key, value)) =
        role_field.and_then(|key| Some((key, person.get("custom_fields")?.get(key)?)))
    else {
        return Ok(None);
    };
    let value = accept::custom_value(value);
    let Some(ids) = value
        .as_ref()
        .and_then(|v| options::typed_ids(v).or_else(|| options::plain_ids(v)))
    else {
        return Ok(value.as_ref().and_then(text));
    };
    let labels = options::OptionLabels::fetch(api, "person").await?;
    Ok(if labels.has(key) {
        Some(labels.text(key, &ids))
    } else {
        value.as_ref().and_then(text)
    })
}

/// `GET /api/v2/deals?ids=…`, a hundred deals a call: each deal's stage now. A deal answered
/// without its stage is a fault of the answer: the move waits for the retry.
pub(super) async fn current_stages(
    ids: &[String],
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<BTreeMap<String, String>, Error> {
    let calls: Vec<CrmCall> = ids
        .chunks(100)
        .map(|chunk| {
            let ids: Vec<String> = chunk.iter().map(|id| path_segment(id)).collect();
            CrmCall::get(format!("/api/v2/deals?ids={}&limit=100", ids.join(",")))
        })
        .collect();
    let mut stages = BTreeMap::new();
    for (call, answer) in calls.iter().zip(api.send_all(&calls).await) {
        let answer = answer?;
        // An answer without the list (an empty object) is a fault of the answer: the move
        // waits for the retry.
        let Some(deals) = answer["data"].as_array() else {
            return Err(Error::CrmUnavailable {
                call: call.to_string(),
                reason: "the answer has no `data` list".into(),
            });
        };
        for deal in deals {
            let Some(id) = text(&deal["id"]) else {
                continue;
            };
            // A deal answered without its stage is a fault of the answer: the move waits for
            // the retry.
            let stage = text(&deal["stage_id"]).ok_or_else(|| Error::CrmUnavailable {
                call: call.to_string(),
                reason: format!("deal {id} was read again without its stage"),
            })?;
            stages.insert(id, stage);
        }
    }
    Ok(stages)
}

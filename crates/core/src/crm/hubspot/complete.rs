//! Completing a batch of HubSpot events: every record they name read with HubSpot's batch APIs.
//!
//! For a batch of up to 100 events: the deals with `POST /crm/v3/objects/deals/batch/read`
//! (their properties and their `dealstage` and `hubspot_owner_id` history ([`History`]), 50 a
//! call as HubSpot allows with history) and their contacts with
//! `POST /crm/v4/associations/deals/contacts/batch/read`, side by side; then, side by side,
//! every contact needed (the deals' and those scored as leads) with one
//! `POST /crm/v3/objects/contacts/batch/read`, and the owner of each user who moved a deal into
//! a handoff stage ([`owners`]). A handful of calls, whatever the batch's size.
//!
//! What staleness reads: the last real activity is `notes_last_contacted` (the last call, sales
//! email or meeting logged; not `notes_last_updated`, which every task moves, pipeline-guard's
//! own included, so a note alone does not count), the next one `notes_next_activity_date`, a
//! lost deal's reason `closed_lost_reason` (as `lost_reason`), and the playbook's snooze, next
//! step and lost reason fields and contacts' authority field are read as properties too. A date
//! HubSpot holds that cannot be read is kept as unreadable, never dropped.
//!
//! A record HubSpot reports not found (`OBJECT_NOT_FOUND` in a multi-status answer) was deleted
//! since the event: the event becomes a deletion. An answer that does not hold a requested record
//! is refused for that record's events ([`Error::CrmRejected`]), never read as an empty record;
//! a deal answered without its stage is a fault retried ([`Error::CrmUnavailable`]).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::{
    CONTACT_PROPERTIES, DEAL_PROPERTIES, buying_role,
    companies::{self, Companies, FIELDS},
    full_name,
    history::{self, History},
    owners, property,
    timeline::{self, Timelines},
};
use crate::{
    Error,
    api::Api,
    crm::{FieldNames, company, part::read_or_say},
    engagement::ACTIVITIES,
    event::{Change, WebhookEvent},
    fit::COMPANY,
    gate::{self, notices::NEXT_ACTIVITY_FIELD},
    model::{Contact, DealStatus, RecordKind, parse_date, parse_time},
    playbook::Playbook,
    ports::{Clock, CrmClient},
    writeback::CrmCall,
};

/// The most records one batch read takes with property history.
const WITH_HISTORY: usize = 50;
/// The most records one batch read takes.
const BATCH: usize = 100;
/// The contact properties read for a deal's contacts.
const DEAL_CONTACT_PROPERTIES: &[&str] = &[
    "firstname",
    "lastname",
    "email",
    "jobtitle",
    "hs_buying_role",
];
/// The deal properties staleness reads besides the adapter's own.
const STALENESS_PROPERTIES: &[&str] = &["notes_last_contacted", "closed_lost_reason"];

/// What to grant when HubSpot refuses a deal's activities: calls, meetings and notes need the
/// contacts scope, emails the sales email one too.
const GRANT_ACTIVITIES: &str =
    "grant the app the crm.objects.contacts.read and sales-email-read scopes";
/// What to grant when HubSpot refuses a deal's company.
const GRANT_COMPANIES: &str = "grant the app the crm.objects.companies.read scope";

/// What a batch read found for one id.
pub(super) type Found = Result<Option<Map<String, Value>>, Error>;

/// What the batch's reads found: by record id, and the owner id of each user who moved a deal.
struct Reads {
    deals: BTreeMap<String, Found>,
    associations: Result<BTreeMap<String, Vec<String>>, Error>,
    contacts: BTreeMap<String, Found>,
    owners: BTreeMap<String, Result<Option<String>, Error>>,
    timelines: Timelines,
    companies: Companies,
    company_fields: Vec<(String, String)>,
}

/// Complete every event: one result per event, in order.
pub async fn complete(
    events: Vec<WebhookEvent>,
    playbook: &Playbook,
    names: &FieldNames,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Vec<Result<WebhookEvent, Error>> {
    // HubSpot's deal and contact properties share their names: one table serves both.
    let mapped = names.incoming(RecordKind::Deal);
    let properties = property_names(names);
    let ids = |kind: RecordKind| -> Vec<String> {
        events
            .iter()
            .filter(|e| e.record.kind == kind)
            .map(|e| e.record.id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    let (deal_ids, lead_ids) = (ids(RecordKind::Deal), ids(RecordKind::Lead));

    let staleness = &playbook.staleness;
    let authority = staleness.authority_field.as_deref();
    let deal_properties: Vec<String> = properties(DEAL_PROPERTIES)
        .into_iter()
        .chain(STALENESS_PROPERTIES.iter().map(|p| (*p).to_owned()))
        .chain(staleness.read_fields().map(str::to_owned))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let company_fields = company::properties(FIELDS, playbook.fit.as_ref(), "hubspot");
    let company_properties: Vec<String> = company_fields.iter().map(|(_, p)| p.clone()).collect();
    // A playbook without fit reads no company.
    let company_deals: &[String] = if playbook.fit.is_some() {
        &deal_ids
    } else {
        &[]
    };
    // Three chains of two rounds each, side by side: the records, the deals' timelines, their
    // companies.
    let records = async {
        let (deals, associations) = futures::join!(
            read(
                api,
                "deals",
                &deal_ids,
                &deal_properties,
                history::PROPERTIES
            ),
            associated(api, "contacts", &deal_ids),
        );
        let mut contact_ids: BTreeSet<String> = lead_ids.iter().cloned().collect();
        if let Ok(associations) = &associations {
            contact_ids.extend(associations.values().flatten().cloned());
        }
        let mut contact_properties: Vec<String> = if lead_ids.is_empty() {
            DEAL_CONTACT_PROPERTIES
                .iter()
                .map(|s| (*s).to_owned())
                .collect()
        } else {
            properties(CONTACT_PROPERTIES)
        };
        contact_properties.extend(authority.map(str::to_owned));
        let movers: Vec<Option<String>> = events
            .iter()
            .map(|event| mover(event, &deals, playbook))
            .collect();
        let users: BTreeSet<String> = movers.iter().flatten().cloned().collect();
        let contact_ids: Vec<String> = contact_ids.into_iter().collect();
        let (contacts, owners) = futures::join!(
            read(api, "contacts", &contact_ids, &contact_properties, &[]),
            owners::owner_ids(&users, api),
        );
        (deals, associations, contacts, owners, movers)
    };
    let ((deals, associations, contacts, owners, movers), timelines, companies) = futures::join!(
        records,
        timeline::timelines(api, &deal_ids, playbook.engagement.as_ref()),
        companies::companies(api, company_deals, &company_properties),
    );

    let reads = Reads {
        deals,
        associations,
        contacts,
        owners,
        timelines,
        companies,
        company_fields,
    };
    events
        .into_iter()
        .zip(movers)
        .map(|(event, mover)| match event.record.kind {
            RecordKind::Deal => complete_deal(event, mover, &reads, mapped, authority),
            RecordKind::Lead => complete_lead(event, &reads, mapped, authority),
        })
        .collect()
}

/// The property names to read for a record kind: `builtin`, the playbook's mapped fields and
/// its write-back fields.
fn property_names(names: &FieldNames) -> impl Fn(&[&str]) -> Vec<String> {
    let mapped = names.incoming(RecordKind::Deal).keys().map(String::as_str);
    let read: BTreeSet<String> = mapped
        .chain(names.written(RecordKind::Deal))
        .map(str::to_owned)
        .collect();
    move |builtin: &[&str]| {
        let builtin = builtin.iter().map(|s| (*s).to_owned());
        builtin
            .chain(read.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }
}

/// The HubSpot user who put `event`'s deal into a handoff stage: the event's `sourceId` (kept in
/// `changed_by` by the parser), else the deal's `dealstage` history. Only handoffs need to know,
/// so only they cost an owner lookup.
fn mover(
    event: &WebhookEvent,
    deals: &BTreeMap<String, Found>,
    playbook: &Playbook,
) -> Option<String> {
    if event.record.kind != RecordKind::Deal {
        return None;
    }
    let object = deals.get(&event.record.id)?.as_ref().ok()?.as_ref()?;
    // A deal answered without its stage is retried: nobody to look up yet.
    let current = property(&properties_of(object), "dealstage")?;
    let stage = match &event.change {
        Change::StageChanged { to, .. } if !to.is_empty() => to.clone(),
        Change::StageChanged { .. } | Change::Created | Change::Restored => current,
        _ => return None,
    };
    if !gate::is_handoff(&stage, playbook) {
        return None;
    }
    event
        .changed_by
        .clone()
        .or_else(|| History::of(object).moved_by(&stage))
}

/// A deal's event with its record, its contacts and the owner who moved it.
fn complete_deal(
    mut event: WebhookEvent,
    mover: Option<String>,
    reads: &Reads,
    mapped: &BTreeMap<String, String>,
    authority: Option<&str>,
) -> Result<WebhookEvent, Error> {
    let id = event.record.id.clone();
    let Some(object) = reads.deals.get(&id).cloned().unwrap_or(Ok(None))? else {
        return Ok(deleted(event));
    };
    let contact_ids = match &reads.associations {
        Ok(all) => all.get(&id).cloned().unwrap_or_default(),
        Err(e) => return Err(e.clone()),
    };
    let mut contacts = Vec::new();
    for contact_id in contact_ids {
        // A contact deleted since is simply not on the deal any more.
        if let Some(object) = reads
            .contacts
            .get(&contact_id)
            .cloned()
            .unwrap_or(Ok(None))?
        {
            contacts.push(contact(&contact_id, &properties_of(&object), authority));
        }
    }
    // A user who is no owner (deactivated, never given a seat) moved it: nobody to assign.
    event.changed_by = match mover {
        Some(user) => reads.owners.get(&user).cloned().unwrap_or(Ok(None))?,
        None => None,
    };
    let mut event = deal(event, &object, mapped, contacts)?;
    let record = &mut event.record;
    let timeline = reads.timelines.get(&id).cloned().unwrap_or(Ok(Vec::new()));
    if let Some(activities) = read_or_say(record, ACTIVITIES, timeline, GRANT_ACTIVITIES)? {
        record.activities = activities;
        record.activities_read = true;
    }
    let company = reads.companies.get(&id).cloned().unwrap_or(Ok(None));
    if let Some(Some(company)) = read_or_say(record, COMPANY, company, GRANT_COMPANIES)? {
        company::apply(record, &company, &reads.company_fields);
    }
    Ok(event)
}

/// A contact's event (scored as a lead) with its record.
fn complete_lead(
    event: WebhookEvent,
    reads: &Reads,
    mapped: &BTreeMap<String, String>,
    authority: Option<&str>,
) -> Result<WebhookEvent, Error> {
    let object = reads
        .contacts
        .get(&event.record.id)
        .cloned()
        .unwrap_or(Ok(None))?;
    Ok(match object {
        Some(object) => lead(event, &object, mapped, authority),
        None => deleted(event),
    })
}

/// The stage each deal of `ids` sits in now, with one batch read a hundred deals. A deal
/// answered without its stage, or an answer that does not account for it (an empty object), is
/// a fault of the answer: the move waits for the retry.
pub async fn current_stages(
    ids: &[String],
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<BTreeMap<String, String>, Error> {
    let mut stages = BTreeMap::new();
    let stage = ["dealstage".to_owned()];
    for (id, found) in read_or(api, "deals", ids, &stage, &[], unavailable).await {
        let Some(object) = found? else {
            continue;
        };
        let stage = property(&properties_of(&object), "dealstage").ok_or_else(|| {
            Error::CrmUnavailable {
                call: "POST /crm/v3/objects/deals/batch/read".into(),
                reason: format!("deal {id} came back without its stage"),
            }
        })?;
        stages.insert(id, stage);
    }
    Ok(stages)
}

/// Read `ids` of `object` (`deals`, `contacts`) with `properties`: by id, the record's JSON
/// object (with `properties` and, when asked, `propertiesWithHistory`), `None` when HubSpot says
/// it does not exist, or the error that kept it from being read.
pub(super) async fn read(
    api: &Api<'_, impl CrmClient, impl Clock>,
    object: &str,
    ids: &[String],
    properties: &[String],
    history: &[&str],
) -> BTreeMap<String, Found> {
    read_or(api, object, ids, properties, history, refused).await
}

/// [`read`], an answer that does not account for a record (neither found nor not found, or
/// found without its properties) made into an error by `unheld`.
async fn read_or(
    api: &Api<'_, impl CrmClient, impl Clock>,
    object: &str,
    ids: &[String],
    properties: &[String],
    history: &[&str],
    unheld: fn(&CrmCall, String) -> Error,
) -> BTreeMap<String, Found> {
    let per_call = if history.is_empty() {
        BATCH
    } else {
        WITH_HISTORY
    };
    let calls: Vec<CrmCall> = ids
        .chunks(per_call)
        .map(|chunk| {
            CrmCall::with_body(
                "POST",
                format!("/crm/v3/objects/{object}/batch/read?archived=false"),
                json!({
                    "properties": properties,
                    "propertiesWithHistory": history,
                    "inputs": chunk.iter().map(|id| json!({ "id": id })).collect::<Vec<_>>(),
                }),
            )
        })
        .collect();
    let answers = api.send_all(&calls).await;
    let mut found = BTreeMap::new();
    for ((chunk, call), answer) in ids.chunks(per_call).zip(&calls).zip(answers) {
        let answer = match answer {
            Ok(answer) => answer,
            Err(e) => {
                found.extend(chunk.iter().map(|id| (id.clone(), Err(e.clone()))));
                continue;
            }
        };
        let missing = not_found(&answer);
        let results: BTreeMap<String, &Value> = answer["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| Some((id_text(&r["id"])?, r)))
            .collect();
        for id in chunk {
            let result = match results.get(id) {
                Some(record) if record["properties"].is_object() => Ok(record.as_object().cloned()),
                Some(_) => Err(unheld(
                    call,
                    format!("record {id} came back without its properties"),
                )),
                None if missing.contains(id) => Ok(None),
                None => Err(unheld(
                    call,
                    format!("the answer does not hold record {id}"),
                )),
            };
            found.insert(id.clone(), result);
        }
    }
    found
}

/// The `to` objects (`contacts`, `calls`, `companies`, …) associated with each of `deal_ids`, by
/// deal: their ids with the association type ids HubSpot gives them (a primary company is 5).
pub(super) async fn associations(
    api: &Api<'_, impl CrmClient, impl Clock>,
    to: &str,
    deal_ids: &[String],
) -> Result<BTreeMap<String, Vec<(String, Vec<u64>)>>, Error> {
    if deal_ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let call = CrmCall::with_body(
        "POST",
        format!("/crm/v4/associations/deals/{to}/batch/read"),
        json!({ "inputs": deal_ids.iter().map(|id| json!({ "id": id })).collect::<Vec<_>>() }),
    );
    let answer = api.send(&call).await?;
    let Some(results) = answer["results"].as_array() else {
        return Err(refused(&call, "the answer has no `results`".into()));
    };
    let mut associated: BTreeMap<String, Vec<(String, Vec<u64>)>> = BTreeMap::new();
    for result in results {
        let Some(deal) = id_text(&result["from"]["id"]) else {
            continue;
        };
        let to = result["to"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|to| {
                let types = to["associationTypes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t["typeId"].as_u64())
                    .collect();
                Some((id_text(&to["toObjectId"])?, types))
            });
        associated.entry(deal).or_default().extend(to);
    }
    Ok(associated)
}

/// [`associations`] without their types: the `to` ids associated with each deal.
pub(super) async fn associated(
    api: &Api<'_, impl CrmClient, impl Clock>,
    to: &str,
    deal_ids: &[String],
) -> Result<BTreeMap<String, Vec<String>>, Error> {
    let associated = associations(api, to, deal_ids).await?;
    Ok(associated
        .into_iter()
        .map(|(deal, to)| (deal, to.into_iter().map(|(id, _)| id).collect()))
        .collect())
}

/// The ids a multi-status answer reports as not found.
fn not_found(answer: &Value) -> BTreeSet<String> {
    answer["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["category"] == "OBJECT_NOT_FOUND")
        .flat_map(|e| e["context"]["ids"].as_array().into_iter().flatten())
        .filter_map(id_text)
        .collect()
}

/// An id HubSpot sends as text or as a number.
fn id_text(value: &Value) -> Option<String> {
    value
        .as_str()
        .map(str::to_owned)
        .or_else(|| value.as_u64().map(|n| n.to_string()))
}

fn unavailable(call: &CrmCall, reason: String) -> Error {
    Error::CrmUnavailable {
        call: call.to_string(),
        reason,
    }
}

fn refused(call: &CrmCall, reason: String) -> Error {
    Error::CrmRejected {
        call: call.to_string(),
        reason,
    }
}

/// The event of a record deleted since: nothing left to decide.
fn deleted(mut event: WebhookEvent) -> WebhookEvent {
    event.change = Change::Deleted;
    event.complete = true;
    event
}

/// A deal's event with its record filled in from `object`. A deal HubSpot answers without its
/// properties or its stage is a fault of the answer, retried: never scored as an empty deal.
fn deal(
    mut event: WebhookEvent,
    object: &Map<String, Value>,
    mapped: &BTreeMap<String, String>,
    contacts: Vec<Contact>,
) -> Result<WebhookEvent, Error> {
    if property(&properties_of(object), "dealstage").is_none() {
        return Err(Error::CrmUnavailable {
            call: "POST /crm/v3/objects/deals/batch/read".into(),
            reason: format!(
                "deal {} came back without its stage; it is read again on HubSpot's retry",
                event.record.id
            ),
        });
    }
    let properties = fill(&mut event, object, mapped);
    let text = |name: &str| property(&properties, name);
    let record = &mut event.record;
    record.next_activity_at = record.read_date(
        "next_activity_at",
        text("notes_next_activity_date"),
        parse_time,
    );
    if let Some(at) = record.next_activity_at {
        // A playbook mapping of its own to the canonical field wins.
        record
            .fields
            .entry(NEXT_ACTIVITY_FIELD.to_owned())
            .or_insert_with(|| at.date().to_string().into());
    }
    if let Some(reason) = text("closed_lost_reason") {
        record
            .fields
            .entry("lost_reason".into())
            .or_insert(reason.into());
    }
    record.name = text("dealname");
    record.stage = text("dealstage");
    record.pipeline = text("pipeline");
    record.amount = text("amount").and_then(|a| a.parse().ok());
    record.close_date = record.read_date("close_date", text("closedate"), parse_date);
    record.status = match (
        text("hs_is_closed").as_deref(),
        text("hs_is_closed_won").as_deref(),
    ) {
        (_, Some("true")) => DealStatus::Won,
        (Some("true"), _) => DealStatus::Lost,
        _ => DealStatus::Open,
    };
    let history = History::of(object);
    record.stage_entered_at = record
        .stage
        .as_deref()
        .and_then(|stage| history.entered_at(stage));
    if let Change::StageChanged { from, to } = &mut event.change {
        if to.is_empty() {
            // A workflow action names no stage: the deal entered the one it is in.
            *to = record.stage.clone().unwrap_or_default();
        }
        *from = history.came_from(to);
        event.owner_changed = history.owner_changed(to, record.owner_id.as_deref());
    }
    event.record.contacts = contacts;
    Ok(event)
}

/// A contact's event (scored as a lead) with its record filled in from `object`.
fn lead(
    mut event: WebhookEvent,
    object: &Map<String, Value>,
    mapped: &BTreeMap<String, String>,
    authority: Option<&str>,
) -> WebhookEvent {
    let properties = fill(&mut event, object, mapped);
    let record = &mut event.record;
    record.name = full_name(&properties);
    record.stage = property(&properties, "lifecyclestage");
    record.contacts = vec![contact(&record.id.clone(), &properties, authority)];
    event
}

/// A record object's `properties` (checked present by [`read`]).
pub(super) fn properties_of(object: &Map<String, Value>) -> Map<String, Value> {
    object
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// What deals and contacts share: the owner, the last real activity (a contact's own
/// `notes_last_updated`; a deal's `notes_last_contacted`), every property as a record field
/// and the playbook's mapped ones under their canonical names. The record is complete; its
/// properties are returned for the rest.
fn fill(
    event: &mut WebhookEvent,
    object: &Map<String, Value>,
    mapped: &BTreeMap<String, String>,
) -> Map<String, Value> {
    let properties = properties_of(object);
    let text = |name: &str| property(&properties, name);
    let record = &mut event.record;
    record.owner_id = text("hubspot_owner_id");
    let last_activity = match record.kind {
        RecordKind::Deal => "notes_last_contacted",
        RecordKind::Lead => "notes_last_updated",
    };
    record.last_activity_at = record.read_date("last_activity_at", text(last_activity), parse_time);
    fields(event, &properties, mapped);
    event.complete = true;
    properties
}

/// Every property as a record field, and the playbook's mapped ones under their canonical names.
fn fields(
    event: &mut WebhookEvent,
    properties: &Map<String, Value>,
    mapped: &BTreeMap<String, String>,
) {
    for name in properties.keys() {
        if let Some(value) = property(properties, name) {
            event.record.fields.insert(name.clone(), value.into());
        }
    }
    for (hubspot, canonical) in mapped {
        if let Some(value) = property(properties, hubspot) {
            event.record.fields.insert(canonical.clone(), value.into());
        }
    }
}

/// A contact from its properties; `authority` names the property holding its authority level.
fn contact(id: &str, properties: &Map<String, Value>, authority: Option<&str>) -> Contact {
    Contact {
        id: id.to_owned(),
        name: full_name(properties),
        email: property(properties, "email"),
        title: property(properties, "jobtitle"),
        role: property(properties, "hs_buying_role").and_then(|roles| buying_role(&roles)),
        authority: authority.and_then(|name| property(properties, name)),
    }
}

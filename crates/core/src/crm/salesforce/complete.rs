//! What the REST API adds to a batch of records, with SOQL (`/query`, every page): the contact
//! roles of every opportunity at once, their activities ([`super::activities`]) and their
//! Account's firmographics ([`super::account`]), the next activity of those that could be
//! rotting, and, before a blocked handoff is moved back, the stage each opportunity sits in now.
//! A batch costs up to four queries side by side, whatever its size.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{
    API_VERSION, account, activities, fields,
    record::{self, is_id, role},
};
use crate::{
    Error,
    api::Api,
    crm::{FieldNames, company, part::read_or_say, path_segment},
    engagement::ACTIVITIES,
    event::WebhookEvent,
    fit::COMPANY,
    model::{Contact, DealStatus, Record, RecordKind},
    playbook::Playbook,
    ports::{Clock, CrmClient},
    writeback::CrmCall,
};

/// The subqueries of an Opportunity query that give its next activity: its first open task and
/// its first event after today (Opportunity has no field for it). A sweep's list query selects
/// them; [`complete`] reads them for the records that lack them.
pub const NEXT_ACTIVITY_SUBQUERIES: &str = "(SELECT ActivityDate FROM Tasks WHERE IsClosed = false AND ActivityDate > TODAY ORDER BY ActivityDate ASC LIMIT 1), \
     (SELECT StartDateTime FROM Events WHERE StartDateTime > TODAY ORDER BY StartDateTime ASC LIMIT 1)";

/// Map the playbook's fields, and read, side by side, the contact roles of every opportunity in
/// the batch with one SOQL query (following `nextRecordsUrl` when it has more rows), their
/// activities with another and their Account with a third (only when the playbook scores fit),
/// and the next activity of the open ones that could be rotting (idle since a known day) with a
/// fourth: the others do not need it. The contact roles and next activities are needed (failing,
/// they fail the batch for the retry); the activities and the Account a score can go without
/// ([`read_or_say`]).
pub async fn complete(
    mut events: Vec<WebhookEvent>,
    playbook: &Playbook,
    names: &FieldNames,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Vec<Result<WebhookEvent, Error>> {
    for event in &mut events {
        map_fields(&mut event.record, names);
    }
    let opportunities: Vec<String> = events
        .iter()
        .filter(|e| e.record.kind == RecordKind::Deal)
        .map(|e| format!("'{}'", e.record.id)) // checked by `is_id`: letters and digits only
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // A field name goes into the query: only an API name (letters, digits, underscores) does.
    let authority = playbook
        .staleness
        .authority_field
        .as_deref()
        .filter(|f| fields::is_api_name(f));
    let idle: Vec<String> = events
        .iter()
        .filter(|e| lacks_next_activity(&e.record))
        .map(|e| format!("'{}'", e.record.id))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let company_fields = playbook
        .fit
        .as_ref()
        .map(|fit| company::properties(account::FIELDS, Some(fit), "salesforce"));
    let any = !opportunities.is_empty();
    let rows = |soql: Option<String>| async move {
        match soql {
            Some(soql) if any => query(&soql, api).await,
            _ => Ok(Vec::new()),
        }
    };
    let (roles, next, done, accounts) = futures::join!(
        async {
            if opportunities.is_empty() {
                Ok(Vec::new())
            } else {
                contact_roles(&opportunities, authority, api).await
            }
        },
        async {
            if idle.is_empty() {
                Ok(Vec::new())
            } else {
                next_activities(&idle, api).await
            }
        },
        rows(Some(activities::query(&opportunities))),
        rows(
            company_fields
                .as_ref()
                .and_then(|fields| account::query(&opportunities, fields))
        ),
    );
    let (roles, next) = match (roles, next) {
        (Ok(roles), Ok(next)) => (roles, next),
        (Err(e), _) | (_, Err(e)) => return events.iter().map(|_| Err(e.clone())).collect(),
    };
    let (done, accounts) = (done.map_err(permission), accounts.map_err(permission));
    let engagement = playbook.engagement.as_ref();
    events
        .into_iter()
        .map(|mut event| {
            if let Some(row) = row_of(&next, &event.record.id) {
                record::next_activity(&mut event.record, row);
            }
            for row in roles
                .iter()
                .filter(|r| r["OpportunityId"].as_str() == Some(event.record.id.as_str()))
            {
                let contact = &row["Contact"];
                let field = |v: &Value| v.as_str().map(str::to_owned).filter(|s| !s.is_empty());
                event.record.contacts.push(Contact {
                    id: field(&row["ContactId"]).unwrap_or_default(),
                    name: field(&contact["Name"]),
                    email: field(&contact["Email"]),
                    title: field(&contact["Title"]),
                    role: row["Role"].as_str().map(role),
                    authority: authority.and_then(|name| field(&contact[name])),
                });
            }
            if event.record.kind == RecordKind::Deal {
                let record = &mut event.record;
                let id = record.id.clone();
                // Only this opportunity's row is copied, never the batch's.
                let read = done.as_ref().map_err(Clone::clone).map(|rows| {
                    row_of(rows, &id)
                        .map(|row| activities::of_row(row, engagement))
                        .unwrap_or_default()
                });
                if let Some(activities) = read_or_say(record, ACTIVITIES, read, activities::GRANT)?
                {
                    record.activities = activities;
                    record.activities_read = true;
                }
                if let Some(fields) = &company_fields {
                    let read = accounts
                        .as_ref()
                        .map_err(Clone::clone)
                        .map(|rows| row_of(rows, &id).and_then(account::of_row));
                    if let Some(Some(account)) = read_or_say(record, COMPANY, read, account::GRANT)?
                    {
                        company::apply(record, &account, fields);
                    }
                }
            }
            event.complete = true;
            Ok(event)
        })
        .collect()
}

/// The playbook's fields under their canonical names: each read from the field the playbook
/// names (whatever its case), an opportunity's canonical name from its standard field
/// (`next_step` from `NextStep`).
fn map_fields(record: &mut Record, names: &FieldNames) {
    for (name, canonical) in names.incoming(record.kind) {
        let standard = match record.kind {
            RecordKind::Deal => fields::opportunity_field(name),
            RecordKind::Lead => None,
        };
        let value = [Some(name.as_str()), standard.as_deref()]
            .into_iter()
            .flatten()
            .find_map(|name| {
                record
                    .fields
                    .iter()
                    .find(|(field, _)| field.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.clone())
            });
        if let Some(value) = value {
            record.fields.insert(canonical.clone(), value);
        }
    }
}

/// The row of a query about opportunity `id`: ids come back 18 characters long, the event may
/// name the 15-character form.
fn row_of<'a>(rows: &'a [Value], id: &str) -> Option<&'a serde_json::Map<String, Value>> {
    rows.iter()
        .find(|row| {
            row["Id"]
                .as_str()
                .is_some_and(|found| found.starts_with(id))
        })
        .and_then(Value::as_object)
}

/// A query the org refuses for what the integration user may not read (an object or field it
/// has no access to reads as one that does not exist: `INVALID_TYPE`, `INVALID_FIELD`, or
/// `INSUFFICIENT_ACCESS`) as a permission to grant.
fn permission(e: Error) -> Error {
    match e {
        Error::CrmRejected { call, reason }
            if ["INVALID_TYPE", "INVALID_FIELD", "INSUFFICIENT_ACCESS"]
                .iter()
                .any(|code| reason.contains(code)) =>
        {
            Error::CrmForbidden { call, reason }
        }
        other => other,
    }
}

/// Whether `record` is an open opportunity that could be rotting (idle since a known day) and
/// does not say what is scheduled on it: staleness needs its next activity.
fn lacks_next_activity(record: &Record) -> bool {
    record.kind == RecordKind::Deal
        && record.status == DealStatus::Open
        && (record.last_activity_at.is_some() || record.stage_entered_at.is_some())
        && !record.fields.contains_key("Tasks")
        && !record.fields.contains_key("Events")
}

/// The next activity subqueries of `opportunities` (quoted ids), a row each.
async fn next_activities(
    opportunities: &[String],
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<Vec<Value>, Error> {
    query(
        &format!(
            "SELECT Id, {NEXT_ACTIVITY_SUBQUERIES} FROM Opportunity WHERE Id IN ({})",
            opportunities.join(",")
        ),
        api,
    )
    .await
}

/// Every `OpportunityContactRole` of `opportunities` (quoted ids), every page, with the
/// contact's `authority` field when the playbook names one.
async fn contact_roles(
    opportunities: &[String],
    authority: Option<&str>,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<Vec<Value>, Error> {
    let authority = authority
        .map(|f| format!(", Contact.{f}"))
        .unwrap_or_default();
    query(
        &format!(
            "SELECT OpportunityId, ContactId, Role, IsPrimary, Contact.Name, Contact.Title, Contact.Email{authority} \
             FROM OpportunityContactRole WHERE OpportunityId IN ({})",
            opportunities.join(",")
        ),
        api,
    )
    .await
}

/// The stage of each opportunity of `ids` (checked ids), in one query. An opportunity answered
/// without its stage is a fault of the answer: the move waits for the retry.
pub(super) async fn current_stages(
    ids: &[String],
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<BTreeMap<String, String>, Error> {
    let quoted: Vec<String> = ids
        .iter()
        .filter(|id| is_id(id))
        .map(|id| format!("'{id}'"))
        .collect();
    if quoted.is_empty() {
        return Ok(Default::default());
    }
    let soql = format!(
        "SELECT Id, StageName FROM Opportunity WHERE Id IN ({})",
        quoted.join(",")
    );
    let mut stages = BTreeMap::new();
    // An answer without its rows (an empty object) is a fault of the answer: the move waits for
    // the retry.
    let unavailable = |call: String, reason: String| Error::CrmUnavailable { call, reason };
    let rows = query_or(&soql, api, unavailable).await?;
    for row in rows {
        let Some(id) = row["Id"].as_str() else {
            continue;
        };
        // Ids come back 18 characters long; the request may have named the 15-character form.
        let Some(asked) = ids.iter().find(|asked| id.starts_with(asked.as_str())) else {
            continue;
        };
        let stage = row["StageName"]
            .as_str()
            .ok_or_else(|| Error::CrmUnavailable {
                call: format!("GET /services/data/{API_VERSION}/query ({soql})"),
                reason: format!("opportunity {id} was read again without its stage"),
            })?;
        stages.insert(asked.clone(), stage.to_owned());
    }
    Ok(stages)
}

/// The rows of a SOQL query, every page (`nextRecordsUrl`).
pub(super) async fn query(
    soql: &str,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<Vec<Value>, Error> {
    let refused = |call: String, reason: String| Error::CrmRejected { call, reason };
    query_or(soql, api, refused).await
}

/// [`query`], an answer holding no rows at all made into an error by `unheld`.
async fn query_or(
    soql: &str,
    api: &Api<'_, impl CrmClient, impl Clock>,
    unheld: fn(String, String) -> Error,
) -> Result<Vec<Value>, Error> {
    let mut path = format!(
        "/services/data/{API_VERSION}/query?q={}",
        path_segment(soql)
    );
    let mut rows = Vec::new();
    loop {
        let call = CrmCall::get(path);
        let answer = api.send(&call).await?;
        let Some(records) = answer["records"].as_array() else {
            return Err(unheld(
                call.to_string(),
                "the query answer has no `records`".into(),
            ));
        };
        rows.extend(records.iter().cloned());
        match answer["nextRecordsUrl"].as_str() {
            Some(next) if answer["done"] == false && next.starts_with("/services/data/") => {
                path = next.to_owned();
            }
            _ => return Ok(rows),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures::executor::block_on;
    use serde_json::json;

    use super::*;
    use crate::{
        api::Limits,
        memory::{RecordingCrm, StoppedClock},
    };

    #[test]
    fn an_opportunity_read_again_without_its_stage_is_a_fault() {
        let (crm, clock) = (RecordingCrm::default(), StoppedClock::default());
        let api = Api::new(&crm, &clock, Limits::within(Duration::from_secs(5)));
        let ids = vec![
            "0065g00000Pg115".to_owned(),
            "0065g00000Pg116AAZ".to_owned(),
        ];
        let row = |id: &str, stage: Value| json!({"Id": id, "StageName": stage});
        crm.answer(
            "GET",
            "/services/data/",
            json!({"done": true, "records": [row("0065g00000Pg115AAZ", json!("Negotiation"))]}),
        );
        let stages = block_on(current_stages(&ids, &api)).unwrap();
        assert_eq!(
            stages.get("0065g00000Pg115").map(String::as_str),
            Some("Negotiation"),
            "named by the id asked for"
        );
        assert!(
            !stages.contains_key("0065g00000Pg116AAZ"),
            "the CRM no longer has it"
        );
        crm.answer(
            "GET",
            "/services/data/",
            json!({"done": true, "records": [
                row("0065g00000Pg115AAZ", json!("Negotiation")),
                {"Id": "0065g00000Pg116AAZ"},
            ]}),
        );
        let err = block_on(current_stages(&ids, &api)).unwrap_err();
        assert!(err.is_transient(), "{err}");
        assert!(
            err.to_string()
                .contains("opportunity 0065g00000Pg116AAZ was read again without its stage"),
            "{err}"
        );
    }
}

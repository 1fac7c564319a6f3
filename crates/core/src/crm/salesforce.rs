//! Salesforce: outbound messages (and Flow HTTP callouts) in, the REST sObject API out.
//!
//! # Inbound
//! `POST /<function>/salesforce?token=<token>` (or the token in an `x-pipeline-guard-token`
//! header), checked in constant time against the `salesforce_webhook_token` variable: Salesforce
//! does not sign outbound messages, so the endpoint URL carries a shared secret.
//!
//! - `Content-Type: text/xml`: an outbound message, the SOAP `notifications` envelope with up to
//!   [`MAX_NOTIFICATIONS`] `Notification`s, each an `Id` and the `sObject` with the fields the
//!   admin chose. Read with an XML parser (namespaces resolved, entities decoded). Opportunities
//!   are deals and leads are leads; other objects are acknowledged and skipped. Notifications are
//!   de-duplicated on (OrganizationId, Notification Id). The answer is the SOAP
//!   `notificationsResponse` with `<Ack>true</Ack>`, sent only once every notification is written
//!   back and recorded; on any failure the answer is a SOAP fault, and Salesforce retries.
//! - `Content-Type: application/json`: a Flow HTTP callout that waits for the decision (see
//!   [`FlowCallout`]). It is decided and answered with flat JSON the Flow can branch on; nothing is
//!   written back or recorded, the Flow acts on the answer itself.
//!
//! An outbound message does not say what changed. An opportunity's message is taken as its entry
//! into its current `StageName` (the stage it came from is unknown, so a blocked handoff returns to
//! the playbook's `handoff.return_stage`); a Flow callout may name the stage it is about to set
//! (`to_stage`), and then the record's `StageName` is where it comes from.
//!
//! An opportunity's contact roles are read with SOQL (`OpportunityContactRole`) for the economic
//! buyer; the playbook's `crm_fields.salesforce` maps custom fields (`Pain__c`) to dimensions.
//!
//! # Write-back
//! `PATCH /services/data/v65.0/sobjects/<Opportunity|Lead>/<id>` with the result fields (by
//! default the playbook's names with `__c`: `pg_score__c`) and `StageName` when a blocked handoff
//! goes back; then a `Task` owned by the record's owner, open and high priority when they must act,
//! else completed (a logged notice).

use quick_xml::{
    NsReader,
    events::Event,
    name::{Namespace, ResolveResult},
};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::{
    Adapter, ApiAuth, ApiVariables, BatchCall, Crm, Reply, Secrets, Steps, WebhookSecret,
    oauth::OAuthVariables, path_segment, secret,
};
use crate::{
    Error,
    api::Api,
    event::{Change, Delivery, WebhookEvent},
    inbound::{InboundRequest, content_type_is},
    model::{Contact, DealStatus, Record, RecordKind, parse_date, value_text},
    outcome::DeliveryOutcome,
    playbook::Playbook,
    ports::{Clock, CrmClient},
    signature::credentials::verify_token,
    writeback::{CrmCall, Notice, NoticeKind, Priority, WriteBack},
};

/// The Spin variable holding the shared token.
pub const TOKEN_VARIABLE: &str = "salesforce_webhook_token";
/// The header that may carry the shared token instead of the URL.
pub const TOKEN_HEADER: &str = "x-pipeline-guard-token";
/// The Spin variable holding the external client app's consumer key (client credentials flow).
pub const CLIENT_ID_VARIABLE: &str = "salesforce_client_id";
/// The Spin variable holding the external client app's consumer secret.
pub const CLIENT_SECRET_VARIABLE: &str = "salesforce_client_secret";
/// The Spin variables for Salesforce's REST API: the My Domain URL, and either client credentials
/// (an access token is requested from `/services/oauth2/token` and renewed when it expires) or a
/// fixed access token.
pub const API_VARIABLES: ApiVariables = ApiVariables {
    url: "salesforce_api_url",
    token: "salesforce_api_token",
    auth: ApiAuth::Bearer,
    oauth: Some(OAuthVariables {
        client_id: CLIENT_ID_VARIABLE,
        client_secret: CLIENT_SECRET_VARIABLE,
        token_path: "/services/oauth2/token",
    }),
};
/// The REST API version pipeline-guard calls (Winter '26).
pub const API_VERSION: &str = "v65.0";
/// The most notifications one outbound message carries.
pub const MAX_NOTIFICATIONS: usize = 100;

const SOAP_ENVELOPE: &[u8] = b"http://schemas.xmlsoap.org/soap/envelope/";
const OUTBOUND: &[u8] = b"http://soap.sforce.com/2005/09/outbound";
const XSI: &[u8] = b"http://www.w3.org/2001/XMLSchema-instance";

/// Salesforce's adapter.
#[derive(Debug, Clone, Copy)]
pub struct Salesforce;

impl Adapter for Salesforce {
    fn crm(&self) -> Crm {
        Crm::Salesforce
    }

    /// The shared token.
    type Credentials = WebhookSecret;

    fn credentials(&self, secrets: &Secrets) -> Result<WebhookSecret, Error> {
        secret(secrets, TOKEN_VARIABLE)
    }

    /// An outbound message or a Flow callout, with the shared token.
    fn accept(
        &self,
        request: &InboundRequest<'_>,
        token: &WebhookSecret,
        now: OffsetDateTime,
    ) -> Result<Delivery, Error> {
        let presented = request
            .header(TOKEN_HEADER)
            .map(str::to_owned)
            .or_else(|| request.query("token"));
        verify_token(
            presented.as_deref(),
            token.expose(),
            "token (?token= or x-pipeline-guard-token)",
        )?;
        if is_json(request.header("content-type")) {
            parse_callout(request.body, now)
        } else {
            request.require_content_type("text/xml")?;
            parse(request.body, now).map(Delivery::webhook)
        }
    }

    async fn complete(
        &self,
        events: Vec<WebhookEvent>,
        playbook: &Playbook,
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> Vec<Result<WebhookEvent, Error>> {
        complete(events, playbook, api).await
    }

    async fn current_stages(
        &self,
        ids: &[String],
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> Result<std::collections::BTreeMap<String, String>, Error> {
        current_stages(ids, api).await
    }

    fn render(&self, write_backs: &[WriteBack], now: OffsetDateTime) -> Steps {
        render(write_backs, now)
    }

    /// sObject collections answer one result per record, in order; an answer that does not
    /// hold one result per record sent says nothing about any of them, so all are refused.
    fn refused(&self, call: &BatchCall, answer: &Value) -> Vec<(usize, String)> {
        match answer.as_array() {
            Some(results) if results.len() == call.serves.len() => results
                .iter()
                .enumerate()
                .filter(|(_, result)| result["success"] != true)
                .map(|(i, result)| (i, collection_error(result)))
                .collect(),
            _ => (0..call.serves.len())
                .map(|i| {
                    (
                        i,
                        format!(
                            "Salesforce answered without one result per record ({} sent)",
                            call.serves.len()
                        ),
                    )
                })
                .collect(),
        }
    }

    fn reply(&self, content_type: Option<&str>, result: &Result<DeliveryOutcome, Error>) -> Reply {
        reply(content_type, result)
    }
}

/// A refused record's errors: their codes and messages.
fn collection_error(result: &Value) -> String {
    let errors: Vec<String> = result["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let code = e["statusCode"]
                .as_str()
                .or_else(|| e["errorCode"].as_str())
                .unwrap_or("ERROR");
            let message = e["message"].as_str().unwrap_or_default();
            let fields = e["fields"]
                .as_array()
                .map(|f| {
                    f.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .filter(|f| !f.is_empty())
                .map(|f| format!(" (fields: {f})"))
                .unwrap_or_default();
            format!("{code}: {message}{fields}")
        })
        .collect();
    if errors.is_empty() {
        "Salesforce refused the record without saying why".to_owned()
    } else {
        errors.join("; ")
    }
}

fn is_json(content_type: Option<&str>) -> bool {
    content_type_is(content_type, "application/json")
}

fn invalid(path: impl Into<String>, message: impl Into<String>) -> Error {
    Error::InvalidBody {
        path: path.into(),
        message: message.into(),
    }
}

/// One `Notification` of an outbound message.
#[derive(Debug, Default)]
struct Notification {
    id: String,
    object: String,
    fields: Map<String, Value>,
}

/// Where the reader is in the envelope.
#[derive(Debug, Clone, Copy, PartialEq)]
enum At {
    Outside,
    Notifications,
    Notification,
    SObject,
}

/// Parse an outbound message (already authenticated). Records without `LastModifiedDate` count
/// as changed at `now`.
pub fn parse(body: &[u8], now: OffsetDateTime) -> Result<Vec<WebhookEvent>, Error> {
    let text = std::str::from_utf8(body).map_err(|e| invalid(".", format!("not UTF-8: {e}")))?;
    let mut reader = NsReader::from_str(text);
    let mut at = At::Outside;
    let mut depth = 0usize;
    let mut organization = None;
    let mut notifications: Vec<Notification> = Vec::new();
    let mut current = Notification::default();
    let mut element: Option<(String, bool)> = None; // (name, nil) of the element being read
    let mut value = String::new();
    let mut seen_envelope = false;
    let xml_error = |reader: &NsReader<&[u8]>, e: &dyn std::fmt::Display| {
        invalid(
            format!("byte {}", reader.error_position()),
            format!("not well-formed XML: {e}"),
        )
    };
    loop {
        let (namespace, event) = match reader.read_resolved_event() {
            Ok((ResolveResult::Bound(Namespace(ns)), event)) => (Some(ns.to_vec()), event),
            Ok((_, event)) => (None, event),
            Err(e) => return Err(xml_error(&reader, &e)),
        };
        let in_ns = |ns: &[u8]| namespace.as_deref() == Some(ns);
        let (start, empty) = match &event {
            Event::Start(_) => (true, false),
            Event::Empty(_) => (true, true),
            _ => (false, false),
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) if start => {
                depth += 1;
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if depth == 1 {
                    if !(in_ns(SOAP_ENVELOPE) && local == "Envelope") {
                        return Err(invalid(
                            local,
                            "not a SOAP envelope: Salesforce outbound messages are soapenv:Envelope",
                        ));
                    }
                    seen_envelope = true;
                }
                let nil = e.attributes().flatten().any(|a| {
                    let (ns, name) = reader.resolve_attribute(a.key);
                    matches!(ns, ResolveResult::Bound(Namespace(n)) if n == XSI)
                        && name.as_ref() == b"nil"
                        && matches!(a.value.as_ref(), b"true" | b"1")
                });
                match (at, local.as_str()) {
                    (At::Outside, "notifications") if depth == 3 => {
                        if !in_ns(OUTBOUND) {
                            return Err(invalid(
                                "notifications",
                                "not in the outbound messaging namespace http://soap.sforce.com/2005/09/outbound",
                            ));
                        }
                        at = At::Notifications;
                    }
                    (At::Notifications, "Notification") => {
                        if notifications.len() == MAX_NOTIFICATIONS {
                            return Err(invalid(
                                "notifications",
                                format!("more than {MAX_NOTIFICATIONS} notifications"),
                            ));
                        }
                        current = Notification::default();
                        at = At::Notification;
                    }
                    (At::Notification, "sObject") => {
                        current.object = e
                            .attributes()
                            .flatten()
                            .find(|a| reader.resolve_attribute(a.key).1.as_ref() == b"type")
                            .and_then(|a| a.unescape_value().ok())
                            .map(|t| t.rsplit(':').next().unwrap_or_default().to_owned())
                            .unwrap_or_default();
                        at = At::SObject;
                    }
                    _ => element = Some((local, nil)),
                }
                value.clear();
                if empty {
                    depth -= 1;
                    finish(&mut element, &value, at, &mut organization, &mut current);
                    if at == At::SObject && local_is(&event, "sObject") {
                        at = At::Notification;
                    }
                }
            }
            Event::Text(t) => value.push_str(&t.xml_content().map_err(|e| xml_error(&reader, &e))?),
            Event::CData(t) => value.push_str(&t.decode().map_err(|e| xml_error(&reader, &e))?),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().map_err(|e| xml_error(&reader, &e))? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(|e| xml_error(&reader, &e))?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| xml_error(&reader, &format!("unknown entity &{name};")))?
                            .to_owned()
                    }
                };
                value.push_str(&resolved);
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                match (at, e.local_name().as_ref()) {
                    (At::SObject, b"sObject") => at = At::Notification,
                    (At::Notification, b"Notification") => {
                        if current.id.is_empty() {
                            return Err(invalid(
                                format!("Notification[{}].Id", notifications.len()),
                                "missing",
                            ));
                        }
                        notifications.push(std::mem::take(&mut current));
                        at = At::Notifications;
                    }
                    (At::Notifications, b"notifications") => at = At::Outside,
                    _ => finish(&mut element, &value, at, &mut organization, &mut current),
                }
                value.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_envelope {
        return Err(invalid(".", "empty body: expected a SOAP envelope"));
    }
    let organization = organization.ok_or_else(|| {
        invalid(
            "notifications.OrganizationId",
            "missing: not an outbound message",
        )
    })?;
    notifications
        .into_iter()
        .enumerate()
        .map(|(i, n)| {
            let at = format!("Notification[{i}]");
            let dedupe_key = format!("salesforce:{organization}:{}", n.id);
            into_event(dedupe_key, n.id, &n.object, n.fields, None, now, &at)
        })
        .collect()
}

/// Whether an `Empty` event is the element `name` (for self-closing `<sObject/>`).
fn local_is(event: &Event<'_>, name: &str) -> bool {
    matches!(event, Event::Empty(e) if e.local_name().as_ref() == name.as_bytes())
}

/// Store the element just read where it belongs.
fn finish(
    element: &mut Option<(String, bool)>,
    value: &str,
    at: At,
    organization: &mut Option<String>,
    current: &mut Notification,
) {
    let Some((name, nil)) = element.take() else {
        return;
    };
    // Whitespace around entities is content; around a whole value it is not.
    let value = value.trim();
    let text = (!nil && !value.is_empty()).then(|| value.to_owned());
    match (at, name.as_str()) {
        (At::Notifications, "OrganizationId") => *organization = text,
        (At::Notification, "Id") => current.id = text.unwrap_or_default(),
        (At::SObject, _) => {
            current
                .fields
                .insert(name, text.map_or(Value::Null, Value::String));
        }
        _ => {}
    }
}

/// A Flow HTTP callout's body: the record as the Flow holds it.
///
/// ```json
/// {
///   "object": "Opportunity",
///   "to_stage": "Sales Accepted",
///   "record": { "Id": "0065g00000XyZ12AAB", "StageName": "Discovery", "Pain__c": "…" }
/// }
/// ```
/// `object` is `Opportunity` or `Lead`; `to_stage` (optional) is the stage the Flow is about to
/// set; `record` holds the fields by API name; `event_id` is optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowCallout {
    /// An id for logs (the Flow interview's GUID, say).
    #[serde(default)]
    pub event_id: Option<String>,
    /// The sObject type.
    pub object: String,
    /// The stage the Flow is about to set.
    #[serde(default)]
    pub to_stage: Option<String>,
    /// The record's fields by API name.
    pub record: Map<String, Value>,
}

/// Parse a Flow HTTP callout (already authenticated).
pub fn parse_callout(body: &[u8], now: OffsetDateTime) -> Result<Delivery, Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let callout: FlowCallout =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            let path = e.path().to_string();
            invalid(path, e.into_inner().to_string())
        })?;
    let id = callout
        .record
        .get("Id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let event_id = callout
        .event_id
        .clone()
        .unwrap_or_else(|| format!("flow:{id}"));
    let event = into_event(
        format!("salesforce-flow:{event_id}"),
        event_id,
        &callout.object,
        callout.record,
        callout.to_stage,
        now,
        "record",
    )?;
    Ok(Delivery::callout(event))
}

/// A field's text (`null` and blanks are nothing).
fn text(fields: &Map<String, Value>, name: &str) -> Option<String> {
    fields.get(name).and_then(value_text)
}

/// A Salesforce id: 15 or 18 letters and digits (checked, as ids go into SOQL).
fn is_id(id: &str) -> bool {
    matches!(id.len(), 15 | 18) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn into_event(
    dedupe_key: String,
    event_id: String,
    object: &str,
    fields: Map<String, Value>,
    to_stage: Option<String>,
    now: OffsetDateTime,
    at: &str,
) -> Result<WebhookEvent, Error> {
    let kind = match object {
        "Opportunity" => Some(RecordKind::Deal),
        "Lead" => Some(RecordKind::Lead),
        _ => None,
    };
    let id = text(&fields, "Id").unwrap_or_default();
    if kind.is_some() && !is_id(&id) {
        return Err(invalid(
            format!("{at}.Id"),
            format!("{id:?} is not a Salesforce record id; include the Id field"),
        ));
    }
    let occurred_at = text(&fields, "LastModifiedDate")
        .or_else(|| text(&fields, "SystemModstamp"))
        .and_then(|t| OffsetDateTime::parse(&t, &Rfc3339).ok())
        .unwrap_or(now);
    let mut record = Record::new(kind.unwrap_or(RecordKind::Deal), id);
    let change = match kind {
        None => Change::Unsupported {
            event_type: format!("outbound message for {object}"),
        },
        Some(kind) => {
            fill(&mut record, kind, &fields);
            match (kind, to_stage) {
                (RecordKind::Deal, Some(to)) => {
                    let from = record.stage.replace(to.clone());
                    Change::StageChanged { from, to }
                }
                (RecordKind::Deal, None) => match &record.stage {
                    Some(stage) => Change::StageChanged {
                        from: None,
                        to: stage.clone(),
                    },
                    None => Change::Updated,
                },
                (RecordKind::Lead, _) => Change::Updated,
            }
        }
    };
    let complete = kind.is_none();
    Ok(WebhookEvent {
        dedupe_key,
        event_id,
        occurred_at,
        change,
        record,
        changed_fields: Vec::new(),
        changed_by: None,
        owner_changed: None,
        complete,
    })
}

/// Fill a record from an Opportunity's or Lead's fields; every field is also kept by API name.
fn fill(record: &mut Record, kind: RecordKind, fields: &Map<String, Value>) {
    let get = |name: &str| text(fields, name);
    let day = |name: &str| {
        get(name)
            .and_then(|d| parse_date(&d))
            .map(|d| d.midnight().assume_utc())
    };
    record.owner_id = get("OwnerId");
    record.last_activity_at = day("LastActivityDate");
    match kind {
        RecordKind::Deal => {
            record.name = get("Name");
            record.stage = get("StageName");
            record.amount = get("Amount").and_then(|a| a.parse().ok());
            record.close_date = get("CloseDate").and_then(|d| parse_date(&d));
            record.stage_entered_at =
                get("LastStageChangeDate").and_then(|t| OffsetDateTime::parse(&t, &Rfc3339).ok());
            record.status = match (get("IsClosed").as_deref(), get("IsWon").as_deref()) {
                (_, Some("true")) => DealStatus::Won,
                (Some("true"), _) => DealStatus::Lost,
                _ => DealStatus::Open,
            };
        }
        RecordKind::Lead => {
            record.name = get("Name").or_else(|| {
                let name = [get("FirstName"), get("LastName")]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                (!name.is_empty()).then_some(name)
            });
            record.stage = get("Status");
            record.contacts.push(Contact {
                id: record.id.clone(),
                name: record.name.clone(),
                email: get("Email"),
                title: get("Title"),
                role: None,
            });
            for (salesforce, canonical) in [
                ("NumberOfEmployees", "employees"),
                ("Industry", "industry"),
                ("Country", "region"),
            ] {
                if let Some(value) = fields.get(salesforce).filter(|v| !v.is_null()) {
                    record.fields.insert(canonical.into(), value.clone());
                }
            }
        }
    }
    for (name, value) in fields {
        if !value.is_null() {
            record.fields.insert(name.clone(), value.clone());
        }
    }
}

/// Salesforce's contact roles as canonical roles.
fn role(role: &str) -> String {
    match role {
        "Economic Decision Maker" => "economic_buyer".into(),
        other => Contact::role_key(other),
    }
}

/// Map the playbook's fields, and read the contact roles of every opportunity in the batch with
/// one SOQL query (following `nextRecordsUrl` when it has more rows).
pub async fn complete(
    mut events: Vec<WebhookEvent>,
    playbook: &Playbook,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Vec<Result<WebhookEvent, Error>> {
    for event in &mut events {
        let record = &mut event.record;
        for (name, canonical) in &super::mapped_fields(playbook, Crm::Salesforce, record.kind) {
            let value = record
                .fields
                .iter()
                .find(|(field, _)| field.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone());
            if let Some(value) = value {
                record.fields.insert(canonical.clone(), value);
            }
        }
    }
    let opportunities: Vec<String> = events
        .iter()
        .filter(|e| e.record.kind == RecordKind::Deal)
        .map(|e| format!("'{}'", e.record.id)) // checked by `is_id`: letters and digits only
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let roles = if opportunities.is_empty() {
        Ok(Vec::new())
    } else {
        contact_roles(&opportunities, api).await
    };
    let roles = match roles {
        Ok(roles) => roles,
        Err(e) => return events.iter().map(|_| Err(e.clone())).collect(),
    };
    events
        .into_iter()
        .map(|mut event| {
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
                });
            }
            event.complete = true;
            Ok(event)
        })
        .collect()
}

/// Every `OpportunityContactRole` of `opportunities` (quoted ids), every page.
async fn contact_roles(
    opportunities: &[String],
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<Vec<Value>, Error> {
    query(
        &format!(
            "SELECT OpportunityId, ContactId, Role, IsPrimary, Contact.Name, Contact.Title, Contact.Email \
             FROM OpportunityContactRole WHERE OpportunityId IN ({})",
            opportunities.join(",")
        ),
        api,
    )
    .await
}

/// The stage of each opportunity of `ids` (checked ids), in one query.
async fn current_stages(
    ids: &[String],
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<std::collections::BTreeMap<String, String>, Error> {
    let quoted: Vec<String> = ids
        .iter()
        .filter(|id| is_id(id))
        .map(|id| format!("'{id}'"))
        .collect();
    if quoted.is_empty() {
        return Ok(Default::default());
    }
    let rows = query(
        &format!(
            "SELECT Id, StageName FROM Opportunity WHERE Id IN ({})",
            quoted.join(",")
        ),
        api,
    )
    .await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let id = row["Id"].as_str()?;
            // Ids come back 18 characters long; the request may have named the 15-character form.
            let asked = ids.iter().find(|asked| id.starts_with(asked.as_str()))?;
            Some((asked.clone(), row["StageName"].as_str()?.to_owned()))
        })
        .collect())
}

/// The rows of a SOQL query, every page (`nextRecordsUrl`).
async fn query(soql: &str, api: &Api<'_, impl CrmClient, impl Clock>) -> Result<Vec<Value>, Error> {
    let mut path = format!(
        "/services/data/{API_VERSION}/query?q={}",
        path_segment(soql)
    );
    let mut rows = Vec::new();
    loop {
        let call = CrmCall::get(path);
        let answer = api.send(&call).await?;
        let Some(records) = answer["records"].as_array() else {
            return Err(Error::CrmRejected {
                call: call.to_string(),
                reason: "the query answer has no `records`".into(),
            });
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

/// Salesforce's name for a write-back field without a `crm_fields` entry: a custom field.
pub fn default_field_name(name: &str) -> String {
    if name.ends_with("__c") {
        name.to_owned()
    } else {
        format!("{name}__c")
    }
}

/// The most records one sObject collection call takes.
pub const COLLECTION_LIMIT: usize = 200;

/// The calls that carry out write-backs with sObject collections (up to 200 records a call, each
/// record accepted or refused on its own): the fields first, then a Task for each owner, open
/// and high priority when they must act, else completed.
pub fn render(write_backs: &[WriteBack], now: OffsetDateTime) -> Steps {
    let updates: Vec<(usize, Value)> = write_backs
        .iter()
        .enumerate()
        .map(|(i, wb)| (i, record_update(wb)))
        .collect();
    let tasks: Vec<(usize, Value)> = write_backs
        .iter()
        .enumerate()
        .flat_map(|(i, wb)| wb.notices.iter().map(move |n| (i, task(wb, n, now))))
        .collect();
    vec![collections("PATCH", updates), collections("POST", tasks)]
}

fn collections(method: &str, records: Vec<(usize, Value)>) -> Vec<BatchCall> {
    records
        .chunks(COLLECTION_LIMIT)
        .map(|chunk| BatchCall {
            call: CrmCall::with_body(
                method,
                format!("/services/data/{API_VERSION}/composite/sobjects"),
                json!({
                    "allOrNone": false,
                    "records": chunk.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(),
                }),
            ),
            serves: chunk.iter().map(|(i, _)| *i).collect(),
        })
        .collect()
}

fn record_update(write_back: &WriteBack) -> Value {
    let object = match write_back.record_kind {
        RecordKind::Deal => "Opportunity",
        RecordKind::Lead => "Lead",
    };
    let mut fields: Map<String, Value> = Map::new();
    fields.insert("attributes".into(), json!({ "type": object }));
    fields.insert("id".into(), write_back.record_id.clone().into());
    for (k, v) in &write_back.fields {
        fields.insert(k.clone(), v.clone());
    }
    if let Some(stage) = &write_back.move_to_stage {
        fields.insert("StageName".into(), stage.clone().into());
    }
    Value::Object(fields)
}

/// A notice as a Task: an open one for a task, a completed one (in the activity history) for a
/// note.
fn task(write_back: &WriteBack, note: &Notice, now: OffsetDateTime) -> Value {
    let status = match note.kind {
        NoticeKind::Task => "Not Started",
        NoticeKind::Note => "Completed",
    };
    let priority = match note.priority {
        Priority::High => "High",
        Priority::Normal => "Normal",
    };
    let mut task = json!({
        "attributes": { "type": "Task" },
        "Subject": note.title,
        "Description": note.body,
        "Status": status,
        "Priority": priority,
        "ActivityDate": now.date().to_string(),
    });
    let link = match write_back.record_kind {
        RecordKind::Deal => "WhatId",
        RecordKind::Lead => "WhoId",
    };
    task[link] = write_back.record_id.clone().into();
    if let Some(owner) = &note.to {
        task["OwnerId"] = owner.clone().into();
    }
    task
}

/// The answer Salesforce expects to an outbound message: the SOAP acknowledgement once every
/// notification is done, else a SOAP fault (`503` while some are pending, the error's status on
/// failure) so Salesforce delivers again. A Flow callout (JSON) gets [`Reply::of`]: the flat
/// fields it branches on, or a JSON error.
pub fn reply(content_type: Option<&str>, result: &Result<DeliveryOutcome, Error>) -> Reply {
    if is_json(content_type) {
        return Reply::of(result);
    }
    let (status, body) = match result {
        Ok(outcome) => match outcome.unfinished() {
            None => (
                200,
                "<notificationsResponse xmlns=\"http://soap.sforce.com/2005/09/outbound\">\
                 <Ack>true</Ack></notificationsResponse>"
                    .to_owned(),
            ),
            Some(left) => (503, fault("Server", &left)),
        },
        Err(err) => (
            err.status(),
            fault(
                if err.status() < 500 {
                    "Client"
                } else {
                    "Server"
                },
                &err.to_string(),
            ),
        ),
    };
    Reply {
        status,
        content_type: "text/xml; charset=utf-8",
        body: format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
             <soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\">\
             <soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
        ),
    }
}

/// A SOAP fault: `code` is `Client` or `Server`.
fn fault(code: &str, message: &str) -> String {
    format!(
        "<soapenv:Fault><faultcode>soapenv:{code}</faultcode><faultstring>{}</faultstring>\
         </soapenv:Fault>",
        quick_xml::escape::escape(message)
    )
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::{function::FunctionKind, mode::Mode};

    const NOW: OffsetDateTime = datetime!(2026-11-21 12:00 UTC);

    fn envelope(notifications: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>00D5g000004XyZaEAK</OrganizationId><ActionId>04k5g000000XyZaAAK</ActionId><SessionId xsi:nil="true"/>{notifications}</notifications></soapenv:Body></soapenv:Envelope>"#
        )
    }

    fn opportunity(notification: &str, fields: &str) -> String {
        format!(
            r#"<Notification><Id>{notification}</Id><sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>0065g00000AbCdEAAZ</sf:Id>{fields}</sObject></Notification>"#
        )
    }

    #[test]
    fn fields_are_decoded_and_nil_fields_are_absent() {
        let body = envelope(&opportunity(
            "04l5g00000ABcdEAAT",
            r#"<sf:Name>Smith &amp; Sons &#8212; renewal</sf:Name><sf:Pain__c xsi:nil="true"/><sf:StageName><![CDATA[Sales <Accepted>]]></sf:StageName>"#,
        ));
        let events = parse(body.as_bytes(), NOW).unwrap();
        let record = &events[0].record;
        assert_eq!(record.name.as_deref(), Some("Smith & Sons — renewal"));
        assert_eq!(record.stage.as_deref(), Some("Sales <Accepted>"));
        assert!(!record.fields.contains_key("Pain__c"));
        assert_eq!(
            events[0].dedupe_key,
            "salesforce:00D5g000004XyZaEAK:04l5g00000ABcdEAAT"
        );
        assert_eq!(events[0].occurred_at, NOW, "no LastModifiedDate: now");
    }

    #[test]
    fn more_than_a_hundred_notifications_are_refused() {
        let one = opportunity("04l5g00000ABcdEAAT", "");
        let body = envelope(&one.repeat(MAX_NOTIFICATIONS + 1));
        let err = parse(body.as_bytes(), NOW).unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(parse(envelope(&one.repeat(MAX_NOTIFICATIONS)).as_bytes(), NOW).is_ok());
    }

    #[test]
    fn ids_that_are_not_salesforce_ids_are_refused_before_any_soql() {
        let body = envelope(
            r#"<Notification><Id>04l5g00000ABcdEAAT</Id><sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>x' OR Name != '</sf:Id></sObject></Notification>"#,
        );
        let Err(Error::InvalidBody { path, .. }) = parse(body.as_bytes(), NOW) else {
            panic!("accepted")
        };
        assert_eq!(path, "Notification[0].Id");
    }

    #[test]
    fn the_ack_is_exactly_what_salesforce_expects_and_failures_are_faults() {
        let ok = Ok(DeliveryOutcome::new(
            FunctionKind::ScoreLead,
            Mode::Shadow,
            Vec::new(),
            false,
        ));
        let reply = super::reply(Some("text/xml; charset=utf-8"), &ok);
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.body,
            r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>"#
        );
        let failed = Err(Error::CrmUnavailable {
            call: "PATCH /x".into(),
            reason: "503 <busy>".into(),
        });
        let reply = super::reply(Some("text/xml"), &failed);
        assert_eq!(reply.status, 502);
        assert!(reply.body.contains("<faultcode>soapenv:Server</faultcode>"));
        assert!(reply.body.contains("503 &lt;busy&gt;"), "{}", reply.body);
        assert!(!reply.body.contains("<Ack>"));
    }

    #[test]
    fn collection_results_refuse_by_position_and_an_answer_without_them_refuses_all() {
        let call = BatchCall {
            call: CrmCall::get("/x"),
            serves: vec![4, 7],
        };
        let answer = json!([
            {"id": "a", "success": true, "errors": []},
            {"success": false, "errors": [{"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "Pain is required", "fields": ["Pain__c"]}]},
        ]);
        let refused = Salesforce.refused(&call, &answer);
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].0, 1);
        assert!(
            refused[0]
                .1
                .contains("FIELD_CUSTOM_VALIDATION_EXCEPTION: Pain is required (fields: Pain__c)")
        );
        for unusable in [json!(null), json!({}), json!([{"success": true}])] {
            assert_eq!(Salesforce.refused(&call, &unusable).len(), 2, "{unusable}");
        }
    }

    #[test]
    fn a_flow_callout_names_where_the_deal_comes_from() {
        let body = br#"{"object":"Opportunity","to_stage":"Sales Accepted","record":{"Id":"0065g00000AbCdEAAZ","StageName":"Discovery","Amount":5000}}"#;
        let delivery = parse_callout(body, NOW).unwrap();
        assert!(delivery.synchronous && delivery.workflow);
        let event = &delivery.events[0];
        assert_eq!(
            event.change,
            Change::StageChanged {
                from: Some("Discovery".into()),
                to: "Sales Accepted".into()
            }
        );
        assert_eq!(event.record.amount, Some(5000.0));
        let Err(Error::InvalidBody { path, .. }) =
            parse_callout(br#"{"object":"Opportunity"}"#, NOW)
        else {
            panic!("accepted")
        };
        assert_eq!(path, ".");
    }
}

//! Outbound messages: the SOAP `notifications` envelope, read with an XML parser (namespaces
//! resolved, entities decoded), up to [`MAX_NOTIFICATIONS`] `Notification`s, each an `Id` and the
//! `sObject` with the fields the admin chose ([`super::record`] makes each an event); and Flow
//! callouts' JSON ([`super::record::read_callout`]). Salesforce does not sign either: both carry a
//! shared token.

use quick_xml::{
    NsReader,
    events::Event,
    name::{Namespace, ResolveResult},
};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::{MAX_NOTIFICATIONS, SalesforceCredentials, TOKEN_HEADER, is_json, record};
use crate::{
    Error,
    event::{Delivery, WebhookEvent},
    inbound::InboundRequest,
    signature::credentials::verify_tokens,
};

/// An outbound message or a Flow callout, with a shared token, from the org served.
pub(super) fn accept(
    request: &InboundRequest<'_>,
    credentials: &SalesforceCredentials,
    now: OffsetDateTime,
) -> Result<Delivery, Error> {
    let presented = request
        .header(TOKEN_HEADER)
        .map(str::to_owned)
        .or_else(|| request.query("token"));
    let tokens: Vec<&str> = credentials.tokens.iter().map(|t| t.expose()).collect();
    verify_tokens(
        presented.as_deref(),
        &tokens,
        "x-pipeline-guard-token (or ?token=)",
    )?;
    if is_json(request.header("content-type")) {
        let (org, delivery) = record::read_callout(request.body, now)?;
        credentials.org.check("organization_id", org.as_deref())?;
        Ok(delivery)
    } else {
        request.require_content_type("text/xml")?;
        let (org, events) = read(request.body, now)?;
        credentials
            .org
            .check("notifications.OrganizationId", Some(&org))?;
        Ok(Delivery::webhook(events))
    }
}

const SOAP_ENVELOPE: &[u8] = b"http://schemas.xmlsoap.org/soap/envelope/";
const OUTBOUND: &[u8] = b"http://soap.sforce.com/2005/09/outbound";
const XSI: &[u8] = b"http://www.w3.org/2001/XMLSchema-instance";

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
    read(body, now).map(|(_, events)| events)
}

/// Parse an outbound message: its `OrganizationId`, and an event per notification.
pub(super) fn read(body: &[u8], now: OffsetDateTime) -> Result<(String, Vec<WebhookEvent>), Error> {
    let text = std::str::from_utf8(body)
        .map_err(|e| Error::invalid_body(".", format!("not UTF-8: {e}")))?;
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
        Error::invalid_body(
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
                        return Err(Error::invalid_body(
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
                            return Err(Error::invalid_body(
                                "notifications",
                                "not in the outbound messaging namespace http://soap.sforce.com/2005/09/outbound",
                            ));
                        }
                        at = At::Notifications;
                    }
                    (At::Notifications, "Notification") => {
                        if notifications.len() == MAX_NOTIFICATIONS {
                            return Err(Error::invalid_body(
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
                            return Err(Error::invalid_body(
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
        return Err(Error::invalid_body(
            ".",
            "empty body: expected a SOAP envelope",
        ));
    }
    let organization = organization.ok_or_else(|| {
        Error::invalid_body(
            "notifications.OrganizationId",
            "missing: not an outbound message",
        )
    })?;
    let events = notifications
        .into_iter()
        .enumerate()
        .map(|(i, n)| {
            let at = format!("Notification[{i}]");
            let dedupe_key = format!("salesforce:{organization}:{}", n.id);
            record::into_event(dedupe_key, n.id, &n.object, n.fields, None, now, &at)
        })
        .collect::<Result<_, _>>()?;
    Ok((organization, events))
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

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

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
        let one = opportunity(
            "04l5g00000ABcdEAAT",
            "<sf:StageName>Discovery</sf:StageName>",
        );
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
}

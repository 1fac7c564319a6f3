//! Salesforce: the REST resources pipeline-guard calls (REST API Developer Guide: Query, sObject
//! Rows, sObject Collections), every field a SOQL query, a record sent or a record answered
//! names, checked against the standard-fields table; anything else must be custom (`__c`).

pub(crate) mod fields;
mod soql;

use serde_json::Value;

use crate::error::{Violation, ViolationKind};
use crate::operation::Call;
use fields::{Member, StandardFields};

/// What an sObject Collections answer holds for each record (REST API Developer Guide,
/// "SaveResult").
const SAVE_RESULT: &[&str] = &["id", "success", "errors", "created", "warnings", "infos"];

/// Checks a Salesforce call and its answer.
pub(crate) fn check(table: &StandardFields, call: &Call) -> Result<(), Violation> {
    let no_operation = || Violation {
        operation: format!("Salesforce {} {}", call.method, call.path()),
        kind: ViolationKind::NoOperation,
    };
    // `/services/data/v65.0/<resource>`
    let resource = call
        .path()
        .strip_prefix("/services/data/v")
        .and_then(|rest| rest.split_once('/'))
        .filter(|(version, _)| {
            version.split_once('.').is_some_and(|(major, minor)| {
                !major.is_empty()
                    && major
                        .chars()
                        .chain(minor.chars())
                        .all(|c| c.is_ascii_digit())
            })
        })
        .map(|(_, resource)| resource)
        .ok_or_else(no_operation)?;
    let segments: Vec<&str> = resource.split('/').collect();
    let (operation, object) = match (call.method, segments.as_slice()) {
        ("GET", ["query"]) => ("Query", None),
        ("GET", ["query", _]) => ("Query (next records)", None),
        ("POST" | "PATCH", ["composite", "sobjects"]) => ("sObject Collections", None),
        ("GET" | "PATCH", ["sobjects", object, _]) => ("sObject Rows", Some(*object)),
        _ => return Err(no_operation()),
    };
    let violation = |kind| Violation {
        operation: format!("Salesforce {operation}"),
        kind,
    };
    let unknown = |object: &str, field: &str| {
        violation(ViolationKind::SalesforceField {
            object: object.to_owned(),
            field: field.to_owned(),
        })
    };
    if operation == "Query" {
        let soql = url::form_urlencoded::parse(call.query().as_bytes())
            .find(|(name, _)| name == "q")
            .map(|(_, soql)| soql.into_owned())
            .unwrap_or_default();
        let query = soql::parse(&soql).map_err(|reason| {
            violation(ViolationKind::Soql {
                reason,
                soql: soql.clone(),
            })
        })?;
        for field in &query.fields {
            if !table.resolves(&query.from, field) {
                return Err(unknown(&query.from, field));
            }
        }
        for child in &query.children {
            let Some(Member::Children(object)) = table.member(&query.from, &child.from) else {
                return Err(unknown(&query.from, &child.from));
            };
            for field in &child.fields {
                if !table.resolves(&object, field) {
                    return Err(unknown(&object, field));
                }
            }
        }
    }
    if let Some(body) = call.body {
        let records = match (operation, object) {
            (_, Some(object)) => vec![(object.to_owned(), body)],
            _ => body["records"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|record| {
                    (
                        record["attributes"]["type"]
                            .as_str()
                            .unwrap_or("")
                            .to_owned(),
                        record,
                    )
                })
                .collect(),
        };
        for (object, record) in records {
            if let Some((object, field)) = unknown_in_record(table, &object, record) {
                return Err(unknown(&object, &field));
            }
        }
    }
    if let Some(answer) = call.answer {
        if operation == "sObject Collections" {
            for result in answer.as_array().into_iter().flatten() {
                for key in result.as_object().into_iter().flatten().map(|(key, _)| key) {
                    if !SAVE_RESULT.contains(&key.as_str()) {
                        return Err(violation(ViolationKind::AnswerField(key.clone())));
                    }
                }
            }
        } else if let Some(records) = answer["records"].as_array() {
            for record in records {
                let object = record["attributes"]["type"].as_str().unwrap_or_default();
                if let Some((object, field)) = unknown_in_record(table, object, record) {
                    return Err(unknown(&object, &field));
                }
            }
        } else if let Some(object) = object
            && let Some((object, field)) = unknown_in_record(table, object, answer)
        {
            return Err(unknown(&object, &field));
        }
    }
    Ok(())
}

/// The first field of `record` (an `object`) that is neither standard nor custom, following
/// parent records and child record lists.
fn unknown_in_record(
    table: &StandardFields,
    object: &str,
    record: &Value,
) -> Option<(String, String)> {
    let object = record["attributes"]["type"].as_str().unwrap_or(object);
    for (name, value) in record.as_object()? {
        if name == "attributes" {
            continue;
        }
        match table.member(object, name) {
            None => return Some((object.to_owned(), name.clone())),
            Some(Member::Field) => {}
            Some(Member::Parent(target)) => {
                if value.is_object()
                    && let Some(found) = unknown_in_record(table, &target, value)
                {
                    return Some(found);
                }
            }
            Some(Member::Children(target)) => {
                for child in value["records"].as_array().into_iter().flatten() {
                    if let Some(found) = unknown_in_record(table, &target, child) {
                        return Some(found);
                    }
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn query(soql: &str) -> String {
        let q: String = url::form_urlencoded::byte_serialize(soql.as_bytes()).collect();
        format!("/services/data/v65.0/query?q={q}")
    }

    #[test]
    fn a_field_no_opportunity_has_names_the_operation_and_the_field() {
        let path = query("SELECT Id, Employees FROM Opportunity WHERE Id IN ('006A')");
        let call = Call {
            method: "GET",
            path_and_query: &path,
            body: None,
            answer: None,
        };
        let err = check(&StandardFields::table(), &call).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Salesforce Query: `Opportunity.Employees` is not a standard field of Opportunity (custom fields end in `__c`)"
        );
    }

    #[test]
    fn checks_subqueries_and_answered_records() {
        let path = query(
            "SELECT Id, (SELECT Subject, CompletedDateTime FROM Tasks WHERE IsClosed = true) FROM Opportunity",
        );
        let answer = json!({"totalSize": 1, "done": true, "records": [{
            "attributes": {"type": "Opportunity"}, "Id": "006A",
            "Tasks": {"records": [{"attributes": {"type": "Task"}, "Subject": "Call", "Mood": 3}]}
        }]});
        let call = Call {
            method: "GET",
            path_and_query: &path,
            body: None,
            answer: Some(&answer),
        };
        let err = check(&StandardFields::table(), &call).unwrap_err();
        assert_eq!(
            err.kind,
            ViolationKind::SalesforceField {
                object: "Task".into(),
                field: "Mood".into()
            }
        );
    }

    #[test]
    fn collections_take_standard_and_custom_fields() {
        let body = json!({"allOrNone": false, "records": [
            {"attributes": {"type": "Opportunity"}, "id": "006A", "StageName": "Qualify", "pg_score__c": 3}
        ]});
        let answer = json!([{"id": "006A", "success": true, "errors": []}]);
        let call = Call {
            method: "PATCH",
            path_and_query: "/services/data/v65.0/composite/sobjects",
            body: Some(&body),
            answer: Some(&answer),
        };
        assert_eq!(check(&StandardFields::table(), &call), Ok(()));
    }
}

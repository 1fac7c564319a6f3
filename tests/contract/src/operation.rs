//! [`Api`]: the operations one API description holds, and the check of a call against the one
//! its method and path select.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::error::{Violation, ViolationKind};
use crate::shape::{Schemas, Shape};

/// One operation: a method on a path template, what it takes and what it answers.
#[derive(Debug)]
pub(crate) struct Operation {
    /// The description's name for it (`operationId`).
    pub id: String,
    /// Upper-case method.
    pub method: String,
    /// The path's segments; `None` for a `{parameter}`.
    pub template: Vec<Option<String>>,
    /// The query parameters it takes.
    pub query: BTreeSet<String>,
    /// The JSON body it takes, when the description gives one.
    pub request: Option<Shape>,
    /// What its successful answers hold, when the description gives it.
    pub response: Option<Shape>,
}

/// The segments of `path` (`/crm/v3/objects/{objectType}/`), a `{parameter}` as `None`.
pub(crate) fn template(path: &str) -> Vec<Option<String>> {
    path.split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| (!segment.contains('{')).then(|| segment.to_owned()))
        .collect()
}

/// One API description: its operations and the shapes they refer to.
#[derive(Debug)]
pub(crate) struct Api {
    /// The vendor's name for the description (`HubSpot CRM Objects v3`), for messages.
    pub title: String,
    pub operations: Vec<Operation>,
    pub schemas: Schemas,
}

/// A call to check: what was sent, and what the fake answered (a successful answer only).
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// The method, e.g. `POST`.
    pub method: &'a str,
    /// The path and query as sent, e.g. `/crm/v3/objects/deals/batch/read?archived=false`.
    pub path_and_query: &'a str,
    /// The JSON body sent, if any.
    pub body: Option<&'a Value>,
    /// The JSON answer, if it is checked.
    pub answer: Option<&'a Value>,
}

impl Call<'_> {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map_or(self.path_and_query, |(path, _)| path)
    }

    /// The query string, if any.
    pub fn query(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map_or("", |(_, query)| query)
    }
}

impl Api {
    /// The operation for `method` and `path`, with the most literal segments when several match
    /// (`/objects/{type}/search` over `/objects/{type}/{id}`), and how many literals it has.
    pub(crate) fn find(&self, method: &str, path: &str) -> Option<(&Operation, usize)> {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        self.operations
            .iter()
            .filter(|operation| operation.method.eq_ignore_ascii_case(method))
            .filter(|operation| {
                operation.template.len() == segments.len()
                    && operation
                        .template
                        .iter()
                        .zip(&segments)
                        .all(|(want, got)| want.as_deref().is_none_or(|want| want == *got))
            })
            .map(|operation| {
                let literals = operation.template.iter().flatten().count();
                (operation, literals)
            })
            .max_by_key(|(_, literals)| *literals)
    }

    /// Checks `call` against `operation`: its query parameters, body and answer.
    pub(crate) fn check(&self, operation: &Operation, call: &Call) -> Result<(), Violation> {
        let violation = |kind| Violation {
            operation: format!("{} {}", self.title, operation.id),
            kind,
        };
        for (name, _) in url::form_urlencoded::parse(call.query().as_bytes()) {
            if !operation.query.contains(name.as_ref()) {
                return Err(violation(ViolationKind::QueryParameter(name.into_owned())));
            }
        }
        if let (Some(body), Some(shape)) = (call.body, &operation.request)
            && let Some(field) = self.schemas.unknown_field(body, shape)
        {
            return Err(violation(ViolationKind::RequestField(field)));
        }
        if let (Some(answer), Some(shape)) = (call.answer, &operation.response)
            && let Some(field) = self.schemas.unknown_field(answer, shape)
        {
            return Err(violation(ViolationKind::AnswerField(field)));
        }
        Ok(())
    }
}

/// Checks `call` against the operation among `apis` that matches it best (`vendor` names the
/// call when none does).
pub(crate) fn check_among(apis: &[Api], vendor: &str, call: &Call) -> Result<(), Violation> {
    let found = apis
        .iter()
        .filter_map(|api| {
            api.find(call.method, call.path())
                .map(|(op, n)| (api, op, n))
        })
        .max_by_key(|(_, _, literals)| *literals);
    match found {
        Some((api, operation, _)) => api.check(operation, call),
        None => Err(Violation {
            operation: format!("{vendor} {} {}", call.method, call.path()),
            kind: ViolationKind::NoOperation,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operation(id: &str, method: &str, path: &str) -> Operation {
        Operation {
            id: id.into(),
            method: method.into(),
            template: template(path),
            query: BTreeSet::from(["archived".to_owned()]),
            request: None,
            response: None,
        }
    }

    #[test]
    fn the_most_literal_template_wins() {
        let api = Api {
            title: "CRM Objects".into(),
            operations: vec![
                operation("get", "POST", "/crm/v3/objects/{objectType}/{objectId}"),
                operation("search", "POST", "/crm/v3/objects/{objectType}/search"),
            ],
            schemas: Schemas::default(),
        };
        let (found, _) = api.find("POST", "/crm/v3/objects/deals/search").unwrap();
        assert_eq!(found.id, "search");
        assert!(api.find("GET", "/crm/v3/objects/deals/search").is_none());
    }

    #[test]
    fn an_unknown_query_parameter_names_the_operation() {
        let api = Api {
            title: "CRM Objects".into(),
            operations: vec![operation(
                "read",
                "POST",
                "/crm/v3/objects/{objectType}/batch/read",
            )],
            schemas: Schemas::default(),
        };
        let call = Call {
            method: "POST",
            path_and_query: "/crm/v3/objects/deals/batch/read?archived=false&limit=3",
            body: None,
            answer: None,
        };
        let err = check_among(&[api], "HubSpot", &call).unwrap_err();
        assert_eq!(
            err.to_string(),
            "CRM Objects read: query parameter `limit` is not in the description"
        );
    }
}

//! A deal's organization for fit: `GET /api/v2/organizations/<org_id>?include_option_labels=true`
//! on a webhook, the organizations of a sweep's page a hundred a call
//! ([`super::by_id::organizations`]).
//!
//! An organization is read flat, as [`crate::crm::company`] reads a company: its own fields
//! (`employee_count`, `industry`, …), its address's parts as `address.<part>`
//! (`address.country`), its custom fields by key. `industry` is an option id: its label comes
//! from the organization field definitions ([`super::options`]), fetched only when a field fit
//! reads as text holds one; custom option fields come labelled (`include_option_labels`).

use serde_json::{Map, Value};

use super::options::{self, OptionLabels};
use crate::{
    Error,
    api::Api,
    crm::{company::CompanyFields, path_segment},
    model::value_text,
    ports::{Clock, CrmClient},
    writeback::CrmCall,
};

/// Where a Pipedrive organization keeps what fit reads.
pub(super) const FIELDS: CompanyFields = &[
    ("employees", "employee_count"),
    ("industry", "industry"),
    ("country", "address.country"),
];

/// What to grant when Pipedrive refuses a deal's organization (an OAuth app's scope).
pub(super) const GRANT: &str = "grant the app the contacts:read scope";

/// The query every organization read is asked with: custom option fields as labels.
pub(super) const QUERY: &str = "include_option_labels=true";

/// `GET /api/v2/organizations/<id>`: the organization, flat; `None` when it was deleted since.
pub(super) async fn organization(
    id: &str,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<Option<Map<String, Value>>, Error> {
    let call = CrmCall::get(format!(
        "/api/v2/organizations/{}?{QUERY}",
        path_segment(id)
    ));
    match api.send(&call).await {
        Ok(answer) => Ok(answer["data"].as_object().map(flat)),
        Err(Error::CrmRecordGone { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// An organization's fields in one map: its own, `address.<part>`, its custom fields by key
/// (an option field's label where it came labelled).
pub(super) fn flat(organization: &Map<String, Value>) -> Map<String, Value> {
    let mut flat = Map::new();
    for (name, value) in organization {
        match (name.as_str(), value) {
            ("address", Value::Object(address)) => {
                for (part, value) in address {
                    flat.insert(format!("address.{part}"), value.clone());
                }
            }
            ("custom_fields", Value::Object(custom)) => {
                for (key, value) in custom {
                    flat.insert(key.clone(), labelled(value));
                }
            }
            _ => {
                flat.insert(name.clone(), labelled(value));
            }
        }
    }
    flat
}

/// An option value as `include_option_labels` gives it (`{"id": 5, "label": "Software"}`, or a
/// list of them) as its labels; any other value as it is.
fn labelled(value: &Value) -> Value {
    let label = |v: &Value| v.get("label").and_then(value_text);
    match value {
        Value::Object(_) => label(value).map_or_else(|| value.clone(), Value::String),
        Value::Array(items) if !items.is_empty() && items.iter().all(|i| label(i).is_some()) => {
            Value::String(
                items
                    .iter()
                    .filter_map(label)
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        }
        _ => value.clone(),
    }
}

/// Give the option ids among `organization`'s `properties` that fit reads as text (all but
/// `employees`, a count) their labels, from the organization field definitions, fetched only
/// when one is there.
pub(super) async fn label_options(
    organization: &mut Map<String, Value>,
    properties: &[(String, String)],
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<(), Error> {
    let ids: Vec<(&str, Vec<String>)> = properties
        .iter()
        .filter(|(canonical, _)| canonical != "employees")
        .filter_map(|(_, key)| Some((key.as_str(), options::plain_ids(organization.get(key)?)?)))
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let labels = OptionLabels::fetch(api, "organization").await?;
    for (key, ids) in ids {
        if labels.has(key) {
            organization.insert(key.to_owned(), Value::String(labels.text(key, &ids)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;
    use serde_json::json;

    use super::*;
    use crate::{crm::company, memory::RecordingCrm, model::Record};

    #[test]
    fn an_organization_gives_its_size_industry_label_country_and_region() {
        let crm = RecordingCrm::default();
        crm.answer(
            "GET",
            "/api/v1/organizationFields",
            json!({"success": true, "data": [
                {"key": "industry", "field_type": "enum", "options": [{"id": 11, "label": "Computer Software"}]},
            ]}),
        );
        let clock = crate::memory::StoppedClock::default();
        let api = Api::new(
            &crm,
            &clock,
            crate::api::Limits::within(std::time::Duration::from_secs(10)),
        );
        let organization = json!({"id": 41, "name": "Northwind", "employee_count": 420, "industry": 11,
            "address": {"value": "Alexanderplatz 1, Berlin", "country": "Germany"},
            "custom_fields": {"ab12": {"id": 3, "label": "Tier 1"}}});
        let mut flat = flat(organization.as_object().unwrap());
        assert_eq!(flat["address.country"], "Germany");
        assert_eq!(flat["ab12"], "Tier 1");
        let fields = company::properties(FIELDS, None, "pipedrive");
        block_on(label_options(&mut flat, &fields, &api)).unwrap();
        let mut deal = Record::new_deal("102");
        company::apply(&mut deal, &flat, &fields);
        assert_eq!(deal.number("employees"), Some(420.0));
        assert_eq!(deal.text("industry").as_deref(), Some("Computer Software"));
        assert_eq!(deal.text("region").as_deref(), Some("EMEA"));
        assert_eq!(crm.calls().len(), 1, "the definitions, for the industry id");
        let mut counted = json!({"employee_count": 12}).as_object().unwrap().clone();
        block_on(label_options(&mut counted, &fields, &api)).unwrap();
        assert_eq!(crm.calls().len(), 1, "a count needs no labels");
    }
}

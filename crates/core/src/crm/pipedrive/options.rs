//! Pipedrive's option fields (`enum`, `set`): webhooks and the API send option ids, but what the
//! playbook matches is the label reps picked (a buying role "Economic Buyer", an industry).
//!
//! Labels come from the field definitions, `GET /api/v1/<entity>Fields` (Pipedrive's fields API),
//! fetched only when a field the playbook reads holds option ids. An id without a label (an option
//! deleted since) stays as it is.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::{
    Error,
    api::Api,
    model::value_text,
    ports::{Clock, CrmClient},
    writeback::CrmCall,
};

/// How many field definitions one page asks for (Pipedrive's maximum).
const PAGE: u32 = 500;

/// Option ids as a webhook sends them: `{"type": "enum", "id": 17}` or
/// `{"type": "set", "values": [{"id": 13}, {"id": 14}]}`.
pub fn typed_ids(value: &Value) -> Option<Vec<String>> {
    match value.get("type")?.as_str()? {
        "enum" => Some(vec![value_text(value.get("id")?)?]),
        "set" => Some(
            value
                .get("values")?
                .as_array()?
                .iter()
                .filter_map(|v| value_text(&v["id"]))
                .collect(),
        ),
        _ => None,
    }
}

/// Option ids as the API sends them: an integer (`enum`) or an array of integers (`set`). A
/// number field looks the same; the field definitions tell them apart.
pub fn plain_ids(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::Number(n) if n.is_u64() => Some(vec![n.to_string()]),
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_u64) => {
            Some(items.iter().map(ToString::to_string).collect())
        }
        _ => None,
    }
}

/// How long an instance reuses field definitions: an admin's new option shows within minutes,
/// while a burst of webhooks (a bulk edit sends one per deal) reads them once.
pub const DEFINITIONS_LIFETIME: std::time::Duration = std::time::Duration::from_secs(300);

/// The labels of every option field of one entity: by field key, then by option id.
#[derive(Debug, Default)]
pub struct OptionLabels(BTreeMap<String, BTreeMap<String, String>>);

impl OptionLabels {
    /// Read `entity`'s (`deal`, `person`) field definitions, every page.
    pub async fn fetch(
        api: &Api<'_, impl CrmClient, impl Clock>,
        entity: &str,
    ) -> Result<OptionLabels, Error> {
        let mut labels = OptionLabels::default();
        let mut start = 0;
        loop {
            let page = api
                .send(
                    &CrmCall::get(format!("/api/v1/{entity}Fields?start={start}&limit={PAGE}"))
                        .reusable_for(DEFINITIONS_LIFETIME),
                )
                .await?;
            for field in page["data"].as_array().into_iter().flatten() {
                let (Some(key), Some(options)) =
                    (field["key"].as_str(), field["options"].as_array())
                else {
                    continue;
                };
                let options = options
                    .iter()
                    .filter_map(|o| Some((value_text(&o["id"])?, value_text(&o["label"])?)))
                    .collect();
                labels.0.insert(key.to_owned(), options);
            }
            let pagination = &page["additional_data"]["pagination"];
            match pagination["next_start"].as_u64() {
                Some(next) if pagination["more_items_in_collection"] == true && next > start => {
                    start = next;
                }
                _ => return Ok(labels),
            }
        }
    }

    /// Whether `key` is an option field.
    pub fn has(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// The labels of `ids` in field `key`, joined by `, `.
    pub fn text(&self, key: &str, ids: &[String]) -> String {
        let options = self.0.get(key);
        ids.iter()
            .map(|id| {
                options
                    .and_then(|o| o.get(id))
                    .map_or(id.as_str(), String::as_str)
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;
    use serde_json::json;

    use super::*;
    use crate::memory::RecordingCrm;

    #[test]
    fn ids_are_read_from_webhook_and_api_values() {
        assert_eq!(
            typed_ids(&json!({"type": "enum", "id": 17})).unwrap(),
            ["17"]
        );
        assert_eq!(
            typed_ids(&json!({"type": "set", "values": [{"id": 13}, {"id": 14}]})).unwrap(),
            ["13", "14"]
        );
        assert_eq!(typed_ids(&json!({"type": "varchar", "value": "17"})), None);
        assert_eq!(plain_ids(&json!(17)).unwrap(), ["17"]);
        assert_eq!(plain_ids(&json!([13, 14])).unwrap(), ["13", "14"]);
        assert_eq!(plain_ids(&json!("17")), None);
        assert_eq!(plain_ids(&json!(2.5)), None);
    }

    #[test]
    fn labels_come_from_every_page_of_field_definitions() {
        let crm = RecordingCrm::default();
        crm.answer(
            "GET",
            "/api/v1/personFields?start=0",
            json!({"success": true, "data": [
                {"key": "name", "field_type": "varchar"},
                {"key": "da82", "field_type": "enum", "options": [{"id": 31, "label": "Economic Buyer"}]},
            ], "additional_data": {"pagination": {"start": 0, "limit": 500, "more_items_in_collection": true, "next_start": 500}}}),
        );
        crm.answer(
            "GET",
            "/api/v1/personFields?start=500",
            json!({"success": true, "data": [
                {"key": "f00d", "field_type": "set", "options": [{"id": 1, "label": "EMEA"}, {"id": 2, "label": "APAC"}]},
            ], "additional_data": {"pagination": {"start": 500, "limit": 500, "more_items_in_collection": false}}}),
        );
        let clock = crate::memory::StoppedClock::default();
        let api = Api::new(
            &crm,
            &clock,
            crate::api::Limits::within(std::time::Duration::from_secs(10)),
        );
        let labels = block_on(OptionLabels::fetch(&api, "person")).unwrap();
        assert_eq!(crm.calls().len(), 2);
        assert!(labels.has("da82") && labels.has("f00d") && !labels.has("name"));
        assert_eq!(labels.text("da82", &["31".into()]), "Economic Buyer");
        assert_eq!(labels.text("f00d", &["2".into(), "1".into()]), "APAC, EMEA");
        assert_eq!(labels.text("f00d", &["9".into()]), "9", "a deleted option");
    }
}

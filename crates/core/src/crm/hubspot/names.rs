//! Owners by name: an owner id (what pipeline-guard assigns HubSpot tasks to) read with the
//! owners API, `GET /crm/v3/owners/{ownerId}`, whose answer (`PublicOwner`) carries `firstName`,
//! `lastName` and `email`. The name is first and last name, else the email; every owner of a
//! job side by side.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::{
    Error,
    api::Api,
    crm::users::{each_by_id, is_number},
    ports::{Clock, CrmClient},
};

/// The name of each owner of `ids`: `None` for an id that is no owner id (HubSpot's are
/// digits), an owner HubSpot does not have (`404`), or one answered without a name.
pub(super) async fn user_names(
    ids: &BTreeSet<String>,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> BTreeMap<String, Result<Option<String>, Error>> {
    let path = |id: &str| is_number(id).then(|| format!("/crm/v3/owners/{id}"));
    each_by_id(ids, api, path, owner_name).await
}

/// `firstName lastName` when either is set, else the email.
fn owner_name(owner: &Value) -> Option<String> {
    let part = |key: &str| owner[key].as_str().map(str::trim).filter(|s| !s.is_empty());
    let name = [part("firstName"), part("lastName")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        part("email").map(str::to_owned)
    } else {
        Some(name)
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
    fn an_owner_is_named_by_first_and_last_name_else_by_email() {
        assert_eq!(
            owner_name(&json!({"id": "1", "firstName": "Jo", "lastName": "Park"})).as_deref(),
            Some("Jo Park")
        );
        assert_eq!(
            owner_name(&json!({"id": "1", "firstName": " ", "email": "ops@northwind.example"}))
                .as_deref(),
            Some("ops@northwind.example")
        );
        assert_eq!(owner_name(&json!({"id": "1"})), None);
    }

    #[test]
    fn each_owner_is_read_once_and_an_id_that_is_no_owner_id_is_not_asked() {
        let (crm, clock) = (RecordingCrm::default(), StoppedClock::default());
        crm.answer(
            "GET",
            "/crm/v3/owners/52001",
            json!({"id": "52001", "firstName": "Jo", "lastName": "Park"}),
        );
        let api = Api::new(&crm, &clock, Limits::within(Duration::from_secs(5)));
        let ids: BTreeSet<String> = ["52001", "u-1"].map(String::from).into();
        let names = block_on(user_names(&ids, &api));
        assert_eq!(names["52001"], Ok(Some("Jo Park".to_owned())));
        assert_eq!(names["u-1"], Ok(None));
        let calls = crm.calls();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].path, "/crm/v3/owners/52001");
    }
}

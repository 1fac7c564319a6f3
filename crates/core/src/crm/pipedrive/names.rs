//! Users by name: `GET /api/v1/users/{id}` (Pipedrive's API v1 has the users; v2 has none),
//! whose answer's `data` is the user (`BaseUser`: `id`, `name`, `email`, …). Every user of a job
//! side by side.

use std::collections::{BTreeMap, BTreeSet};

use crate::{
    Error,
    api::Api,
    crm::users::{each_by_id, is_number},
    model::value_text,
    ports::{Clock, CrmClient},
};

/// The name of each user of `ids`: `None` for an id that is no user id (Pipedrive's are
/// digits), a user Pipedrive does not have (`404`), or one answered without a name.
pub(super) async fn user_names(
    ids: &BTreeSet<String>,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> BTreeMap<String, Result<Option<String>, Error>> {
    let path = |id: &str| is_number(id).then(|| format!("/api/v1/users/{id}"));
    each_by_id(ids, api, path, |answer| value_text(&answer["data"]["name"])).await
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
    fn a_user_is_named_by_the_data_name_and_a_missing_one_is_none() {
        let (crm, clock) = (RecordingCrm::default(), StoppedClock::default());
        crm.answer(
            "GET",
            "/api/v1/users/9001",
            json!({"success": true, "data": {"id": 9001, "name": "Sam Rivera"}}),
        );
        crm.refuse(
            "GET",
            "/api/v1/users/404",
            Error::CrmRecordGone {
                call: "GET /api/v1/users/404".into(),
            },
        );
        let api = Api::new(&crm, &clock, Limits::within(Duration::from_secs(5)));
        let ids: BTreeSet<String> = ["9001", "404", "x"].map(String::from).into();
        let names = block_on(user_names(&ids, &api));
        assert_eq!(names["9001"], Ok(Some("Sam Rivera".to_owned())));
        assert_eq!(names["404"], Ok(None));
        assert_eq!(names["x"], Ok(None));
        assert_eq!(crm.calls().len(), 1);
    }
}

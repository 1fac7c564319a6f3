//! Who made a change, as the owner a task can be assigned to.
//!
//! HubSpot names the person behind a change by *user* id (an event's `sourceId: "userId:123"`, a
//! history entry's `updatedByUserId`), but tasks and notes are assigned by *owner* id
//! (`hubspot_owner_id`), a different number. Each user id is turned into an owner id with
//! `GET /crm/v3/owners/{userId}?idProperty=userId&archived=false` (HubSpot's owners API; the
//! answer is the owner, `{"id": "52001", "userId": 31337, "email": …}`), every distinct user of
//! a batch side by side. Owners rarely change, so an instance reuses an answer for ten minutes.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use serde_json::Value;

use crate::{
    Error,
    api::Api,
    model::value_text,
    ports::{Clock, CrmClient},
    writeback::CrmCall,
};

/// How long an instance reuses an owner lookup: a bulk edit's hundred events by one rep cost one
/// call, and a rep given an owner shows within minutes.
const OWNER_LIFETIME: Duration = Duration::from_secs(600);

/// The user id in a HubSpot `sourceId` (`userId:123`, also seen as `userId:{123}` or
/// `{userId:123}`); `None` for sources that are not a user (an integration, a workflow, an
/// import).
pub fn user_id(source_id: &str) -> Option<String> {
    let source = source_id
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}');
    let (prefix, id) = source.split_once(':')?;
    let id = id
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .trim();
    (prefix.trim().eq_ignore_ascii_case("userId")
        && !id.is_empty()
        && id.bytes().all(|b| b.is_ascii_digit()))
    .then(|| id.to_owned())
}

/// The owner id of each of `user_ids`: `None` for a user who is no owner (HubSpot answers 404),
/// or the error that kept it from being read.
pub async fn owner_ids(
    user_ids: &BTreeSet<String>,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> BTreeMap<String, Result<Option<String>, Error>> {
    let found = api
        .map(user_ids, |user| async move {
            let call = CrmCall::get(format!(
                "/crm/v3/owners/{user}?idProperty=userId&archived=false"
            ))
            .reusable_for(OWNER_LIFETIME);
            let owner = match api.send(&call).await {
                Ok(answer) => owner_id(&call, &answer).map(Some),
                Err(Error::CrmRecordGone { .. }) => Ok(None),
                Err(e) => Err(e),
            };
            (user.clone(), owner)
        })
        .await;
    found.into_iter().collect()
}

/// The owner's id in an owners API answer.
fn owner_id(call: &CrmCall, answer: &Value) -> Result<String, Error> {
    value_text(&answer["id"]).ok_or_else(|| Error::CrmRejected {
        call: call.to_string(),
        reason: "the owner came back without its id".into(),
    })
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;
    use serde_json::json;

    use super::*;
    use crate::{
        api::Limits,
        memory::{RecordingCrm, StoppedClock},
    };

    #[test]
    fn only_user_sources_name_a_user() {
        assert_eq!(user_id("userId:31337").as_deref(), Some("31337"));
        assert_eq!(user_id(" userId:{31337} ").as_deref(), Some("31337"));
        assert_eq!(user_id("{userId:31337}").as_deref(), Some("31337"));
        assert_eq!(user_id("userid:7").as_deref(), Some("7"));
        for other in [
            "",
            "userId:",
            "userId:abc",
            "sample-app",
            "12345",
            "workflowId:9",
        ] {
            assert_eq!(user_id(other), None, "{other:?}");
        }
    }

    #[test]
    fn each_user_is_looked_up_once_and_a_user_without_owner_is_none() {
        let (crm, clock) = (RecordingCrm::default(), StoppedClock::default());
        crm.answer(
            "GET",
            "/crm/v3/owners/31337",
            json!({"id": "52001", "userId": 31337, "email": "jo.park@northwind.example"}),
        );
        crm.refuse(
            "GET",
            "/crm/v3/owners/404",
            Error::CrmRecordGone {
                call: "GET /crm/v3/owners/404".into(),
            },
        );
        crm.refuse(
            "GET",
            "/crm/v3/owners/503",
            Error::CrmUnavailable {
                call: "GET /crm/v3/owners/503".into(),
                reason: "503".into(),
            },
        );
        let api = Api::new(&crm, &clock, Limits::within(Duration::from_secs(5)));
        let users: BTreeSet<String> = ["31337", "404", "503"].map(String::from).into();
        let owners = block_on(owner_ids(&users, &api));
        assert_eq!(owners["31337"], Ok(Some("52001".to_owned())));
        assert_eq!(owners["404"], Ok(None));
        assert!(owners["503"].as_ref().is_err_and(Error::is_transient));
        let calls = crm.calls();
        assert_eq!(calls.len(), 1, "refused calls are not recorded");
        assert_eq!(
            calls[0].path,
            "/crm/v3/owners/31337?idProperty=userId&archived=false"
        );
        assert_eq!(calls[0].reusable_for, Some(OWNER_LIFETIME));
    }

    #[test]
    fn an_owner_without_id_is_refused() {
        let (crm, clock) = (RecordingCrm::default(), StoppedClock::default());
        let api = Api::new(&crm, &clock, Limits::within(Duration::from_secs(5)));
        let users: BTreeSet<String> = ["7".to_owned()].into();
        let owners = block_on(owner_ids(&users, &api));
        assert!(matches!(owners["7"], Err(Error::CrmRejected { .. })));
    }
}

//! Users by name: one SOQL query for every user of a job,
//! `SELECT Id, Name FROM User WHERE Id IN (…)`, through the query path the adapter reads
//! opportunities with ([`super::complete::query`]). `User.Name` is the user's full name
//! (`fields.md`).

use std::collections::{BTreeMap, BTreeSet};

use super::{complete::query, record::is_id};
use crate::{
    Error,
    api::Api,
    ports::{Clock, CrmClient},
};

/// The name of each user of `ids`: `None` for an id that is no Salesforce id, or a user the
/// query did not return; every id the query asked shares its error when it failed.
pub(super) async fn user_names(
    ids: &BTreeSet<String>,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> BTreeMap<String, Result<Option<String>, Error>> {
    let (asked, others): (Vec<&String>, Vec<&String>) = ids.iter().partition(|id| is_id(id));
    let mut names: BTreeMap<String, Result<Option<String>, Error>> = others
        .into_iter()
        .map(|id| (id.clone(), Ok(None)))
        .collect();
    if asked.is_empty() {
        return names;
    }
    let quoted: Vec<String> = asked.iter().map(|id| format!("'{id}'")).collect();
    let soql = format!(
        "SELECT Id, Name FROM User WHERE Id IN ({})",
        quoted.join(",")
    );
    match query(&soql, api).await {
        Ok(rows) => {
            for id in asked {
                // Ids come back 18 characters long; the job may name the 15-character form.
                let name = rows
                    .iter()
                    .find(|row| {
                        row["Id"]
                            .as_str()
                            .is_some_and(|r| r.starts_with(id.as_str()))
                    })
                    .and_then(|row| row["Name"].as_str())
                    .map(str::trim)
                    .filter(|name| !name.is_empty())
                    .map(str::to_owned);
                names.insert(id.clone(), Ok(name));
            }
        }
        Err(e) => names.extend(asked.into_iter().map(|id| (id.clone(), Err(e.clone())))),
    }
    names
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
    fn every_user_of_a_job_is_named_by_one_query() {
        let (crm, clock) = (RecordingCrm::default(), StoppedClock::default());
        crm.answer(
            "GET",
            "/services/data/",
            json!({"totalSize": 1, "done": true, "records": [
                {"attributes": {"type": "User"}, "Id": "0055g00000BdrUsAAA", "Name": "Ana Lopez"}
            ]}),
        );
        let api = Api::new(&crm, &clock, Limits::within(Duration::from_secs(5)));
        let ids: BTreeSet<String> = ["0055g00000BdrUs", "0055g00000AeUsrAAA", "u-1"]
            .map(String::from)
            .into();
        let names = block_on(user_names(&ids, &api));
        assert_eq!(names["0055g00000BdrUs"], Ok(Some("Ana Lopez".to_owned())));
        assert_eq!(names["0055g00000AeUsrAAA"], Ok(None));
        assert_eq!(names["u-1"], Ok(None));
        let calls = crm.calls();
        assert_eq!(calls.len(), 1, "{calls:?}");
        assert!(calls[0].path.contains("FROM%20User"), "{}", calls[0].path);
    }
}

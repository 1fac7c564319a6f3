//! The generic CRM's records come whole with each webhook; what is read again is a deal's stage
//! before a move.

use std::collections::BTreeMap;

use crate::{
    Error,
    api::Api,
    ports::{Clock, CrmClient},
    writeback::CrmCall,
};

/// `GET /records/deals/<id>` for each deal: the canonical record, whose `stage` is read. A
/// record answered without its stage is a fault of the answer: the move waits for the retry.
pub(super) async fn current_stages(
    ids: &[String],
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<BTreeMap<String, String>, Error> {
    let answers = api
        .map(ids.iter(), |id| async move {
            let call = CrmCall::get(format!("/records/deals/{}", crate::crm::path_segment(id)));
            let answer = api.send(&call).await;
            (id, call, answer)
        })
        .await;
    let mut stages = BTreeMap::new();
    for (id, call, answer) in answers {
        match answer {
            Ok(record) => {
                let stage = record["stage"]
                    .as_str()
                    .ok_or_else(|| Error::CrmUnavailable {
                        call: call.to_string(),
                        reason: format!("deal {id} was read again without its stage"),
                    })?;
                stages.insert(id.clone(), stage.to_owned());
            }
            Err(Error::CrmRecordGone { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(stages)
}

//! Write-backs to the generic CRM's API: one `PATCH` per record, and `POST /notices` for a
//! personal task (a rep's own, on no record).

use crate::writeback::{CrmCall, WriteBack};

/// The one API call that carries out a write-back.
pub fn render(write_back: &WriteBack) -> CrmCall {
    if write_back.personal {
        return CrmCall::with_body(
            "POST",
            "/notices",
            serde_json::json!({ "notices": write_back.notices }),
        );
    }
    let mut body = serde_json::json!({ "fields": write_back.fields });
    if let Some(stage) = &write_back.move_to_stage {
        body["stage"] = stage.clone().into();
    }
    if !write_back.notices.is_empty() {
        body["notices"] = serde_json::json!(write_back.notices);
    }
    CrmCall::with_body(
        "PATCH",
        format!(
            "/records/{}s/{}",
            write_back.record_kind.as_str(),
            crate::crm::path_segment(&write_back.record_id)
        ),
        body,
    )
}

//! Evidence kept as a contact: someone on the record with the right buying role, or at least a
//! title that carries the authority.

use super::Judgement;
use crate::{model::Record, score::Status};

/// Green with a contact in one of `roles`, yellow with only a matching title, red with neither.
pub fn judge(record: &Record, roles: &[String], titles: &[String]) -> Judgement {
    let has_role = record.contacts.iter().find(|c| {
        c.role
            .as_deref()
            .is_some_and(|role| roles.iter().any(|r| r.eq_ignore_ascii_case(role)))
    });
    if let Some(contact) = has_role {
        let who = contact.name.clone().unwrap_or_else(|| contact.id.clone());
        let role = contact.role.clone().unwrap_or_default();
        return Judgement::green(
            Some(format!("{who} ({role})")),
            format!("{who} is on the record as {role}"),
        );
    }
    let by_title = record.contacts.iter().find(|c| {
        c.title.as_deref().is_some_and(|title| {
            let title = title.to_lowercase();
            titles.iter().any(|t| title.contains(&t.to_lowercase()))
        })
    });
    match by_title {
        Some(contact) => {
            let who = contact.name.clone().unwrap_or_else(|| contact.id.clone());
            let title = contact.title.clone().unwrap_or_default();
            Judgement::short(
                Status::Yellow,
                Some(format!("{who}, {title}")),
                format!(
                    "{who} ({title}) has the authority by title, but the role is not confirmed"
                ),
                format!("{title} by title, role not confirmed"),
            )
        }
        None => Judgement::short(
            Status::Red,
            None,
            "no contact with that role or authority on the record",
            "no contact with the role",
        ),
    }
}

//! A page of open opportunities from Salesforce, with SOQL:
//! `SELECT … FROM Opportunity WHERE IsClosed = false AND Id > '<last>' ORDER BY Id LIMIT <n>`,
//! with the next activity's subqueries ([`NEXT_ACTIVITY_SUBQUERIES`]), every batch of the answer
//! read (`nextRecordsUrl`); each row read as an outbound message's opportunity is, then completed
//! as a webhook's ([`super::complete`]: the contact roles, the activities and the Accounts of the
//! whole page, a query each). Only fields an Opportunity has are selected ([`fields`]).
//!
//! The cursor is the last id read, not a `nextRecordsUrl`: a query locator expires after 15
//! minutes unused and an org keeps only a few open per user, so a sweep resumed the next morning,
//! or after a failure, would find it gone; ids sort, so `Id >` resumes anywhere.

use std::collections::BTreeSet;

use super::{NEXT_ACTIVITY_SUBQUERIES, complete, fields, record};
use crate::{
    Error,
    api::Api,
    crm::{
        FieldNames,
        list::{DealPage, listed, page_of},
    },
    model::RecordKind,
    playbook::Playbook,
    ports::{Clock, CrmClient},
};

/// The most opportunities one page takes.
const PAGE: usize = 100;

/// The Opportunity fields the record mapping reads.
const FIELDS: &[&str] = &[
    "Id",
    "Name",
    "StageName",
    "Amount",
    "CloseDate",
    "IsClosed",
    "IsWon",
    "OwnerId",
    "NextStep",
    "LastActivityDate",
    "LastStageChangeDate",
    "CreatedDate",
    "LastModifiedDate",
    "LastModifiedById",
];

/// List one page of open opportunities after the id `cursor`.
pub(super) async fn open_deals(
    cursor: Option<&str>,
    page_size: usize,
    playbook: &Playbook,
    names: &FieldNames,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<DealPage, Error> {
    let after = match cursor {
        Some(id) if record::is_id(id) => format!(" AND Id > '{id}'"),
        Some(other) => {
            return Err(Error::Store(format!(
                "the Salesforce sweep cursor {other:?} is not an opportunity id"
            )));
        }
        None => String::new(),
    };
    let limit = page_size.clamp(1, PAGE);
    let soql = format!(
        "SELECT {}, {NEXT_ACTIVITY_SUBQUERIES} FROM Opportunity WHERE IsClosed = false{after} ORDER BY Id ASC LIMIT {limit}",
        fields(playbook, names).join(", ")
    );
    let rows = complete::query(&soql, api).await?;
    let mut ids = Vec::new();
    let mut events = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        let Some(fields) = row.as_object().cloned() else {
            continue;
        };
        let id = record::text(&fields, "Id").unwrap_or_default();
        let event = record::into_event(
            format!("sweep:{id}"),
            format!("sweep:{id}"),
            "Opportunity",
            fields,
            None,
            time::OffsetDateTime::UNIX_EPOCH,
            &format!("records[{i}]"),
        )
        .map(|event| listed(event.record, false));
        ids.push(id);
        events.push(event);
    }
    let next = (ids.len() >= limit).then(|| ids.last().cloned()).flatten();
    let (read, unreadable): (Vec<_>, Vec<_>) = ids
        .iter()
        .cloned()
        .zip(events)
        .partition(|(_, e)| e.is_ok());
    let (read_ids, read_events): (Vec<String>, Vec<_>) = read
        .into_iter()
        .map(|(id, e)| (id, e.expect("partitioned")))
        .unzip();
    let completed = super::complete(read_events, playbook, names, api).await;
    let mut page = page_of(&read_ids, completed, next)?;
    for (id, error) in unreadable {
        if let Err(e) = error {
            page.unreadable.push(crate::crm::list::UnreadableDeal {
                record_id: id,
                reason: e.to_string(),
            });
        }
    }
    Ok(page)
}

/// The fields to select: the mapping's, the playbook's mapped fields, the fields written back (so
/// a deal whose flag is unchanged is written nothing) and the staleness fields that are custom;
/// each only if an Opportunity has it ([`fields::opportunity_field`]: a canonical name by its
/// standard field, `next_step` as `NextStep`; fit's fields come from the Account,
/// [`super::account`]), and once, whatever its case, as SOQL refuses a field selected twice.
fn fields(playbook: &Playbook, names: &FieldNames) -> Vec<String> {
    let written = names.written(RecordKind::Deal).map(str::to_owned);
    let staleness = playbook
        .staleness
        .read_fields()
        .into_iter()
        .filter(|f| f.ends_with("__c"))
        .map(str::to_owned);
    let mut seen = BTreeSet::new();
    FIELDS
        .iter()
        .map(|f| (*f).to_owned())
        .chain(names.incoming(RecordKind::Deal).keys().cloned())
        .chain(written)
        .chain(staleness)
        .filter_map(|f| fields::opportunity_field(&f))
        .filter(|f| seen.insert(f.to_ascii_lowercase()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::{Adapter, salesforce::Salesforce};

    #[test]
    fn a_sweep_selects_every_field_written_back_by_its_api_name() {
        let playbook = Playbook::default_playbook();
        let selected = fields(&playbook, &FieldNames::new(&playbook, &Salesforce::FACTS));
        for field in [
            "pg_score__c",
            "pg_summary__c",
            "pg_next_question__c",
            "pg_gaps__c",
            "pg_not_measured__c",
            "pg_stale__c",
        ] {
            assert!(
                selected.iter().any(|s| s == field),
                "{field} in {selected:?}"
            );
        }
    }

    /// Regression: the query selected canonical names an Opportunity does not have
    /// (`next_step`, `employees`, `industry`, `region`), which a real org refuses whole
    /// (`INVALID_FIELD`).
    #[test]
    fn the_sweep_selects_only_fields_an_opportunity_has() {
        let playbook = Playbook::default_playbook();
        let names = FieldNames::new(&playbook, &Salesforce::FACTS);
        let selected = fields(&playbook, &names);
        for field in &selected {
            assert!(
                super::fields::opportunity_field(field).as_deref() == Some(field.as_str()),
                "{field} in {selected:?}"
            );
        }
        for absent in [
            "next_step",
            "employees",
            "industry",
            "region",
            "close_date",
            "owner",
        ] {
            assert!(
                !selected.iter().any(|f| f == absent),
                "{absent} in {selected:?}"
            );
        }
        for present in ["NextStep", "CloseDate", "OwnerId", "Pain__c", "pg_stale__c"] {
            assert!(
                selected.iter().any(|f| f == present),
                "{present} not in {selected:?}"
            );
        }
    }
}

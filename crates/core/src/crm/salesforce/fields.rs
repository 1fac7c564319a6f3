//! The Opportunity fields a query may select: standard ones, by their API names, and custom ones
//! (`…__c`). A playbook's canonical name an Opportunity knows by a standard field (`close_date`,
//! `next_step`) is read from that field; one it does not have (`employees`, `region`: fit reads
//! them from the Account) is never selected, as the org would refuse the whole query
//! (`INVALID_FIELD`). Where every field comes from: `fields.md` beside this file.

/// The standard Opportunity fields (API names), as the field reference lists them.
const STANDARD: &[&str] = &[
    "AccountId",
    "AgeInDays",
    "Amount",
    "CampaignId",
    "CloseDate",
    "ContactId",
    "ContractId",
    "CreatedById",
    "CreatedDate",
    "Description",
    "ExpectedRevenue",
    "Fiscal",
    "FiscalQuarter",
    "FiscalYear",
    "ForecastCategory",
    "ForecastCategoryName",
    "HasOpenActivity",
    "HasOpportunityLineItem",
    "HasOverdueTask",
    "Id",
    "IsClosed",
    "IsDeleted",
    "IsPrivate",
    "IsWon",
    "LastActivityDate",
    "LastAmountChangedHistoryId",
    "LastCloseDateChangedHistoryId",
    "LastModifiedById",
    "LastModifiedDate",
    "LastReferencedDate",
    "LastStageChangeDate",
    "LastViewedDate",
    "LeadSource",
    "Name",
    "NextStep",
    "OwnerId",
    "Pricebook2Id",
    "Probability",
    "PushCount",
    "StageName",
    "SystemModstamp",
    "TotalOpportunityQuantity",
    "Type",
];

/// The canonical names an Opportunity keeps in a standard field.
const CANONICAL: &[(&str, &str)] = &[
    ("amount", "Amount"),
    ("close_date", "CloseDate"),
    ("name", "Name"),
    ("next_step", "NextStep"),
    ("owner", "OwnerId"),
    ("stage", "StageName"),
];

/// Whether `name` can go into a query: letters, digits and underscores.
pub(super) fn is_api_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The Opportunity field `name` (a field's API name, or a canonical name) is read from: a custom
/// field as named, a standard one as Salesforce spells it; `None` for a name no Opportunity has.
pub(super) fn opportunity_field(name: &str) -> Option<String> {
    if !is_api_name(name) {
        return None;
    }
    if name.len() > 3 && name[name.len() - 3..].eq_ignore_ascii_case("__c") {
        return Some(name.to_owned());
    }
    STANDARD
        .iter()
        .find(|standard| standard.eq_ignore_ascii_case(name))
        .or_else(|| {
            CANONICAL
                .iter()
                .find(|(canonical, _)| *canonical == name)
                .map(|(_, field)| field)
        })
        .map(|field| (*field).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The contract checks hold every standard object's fields
    /// (`tests/contract/salesforce/standard-fields.tsv`, with their sources); the Opportunity's
    /// here must be the same, or a sweep would select a field the contract refuses, or drop one
    /// it allows.
    #[test]
    fn the_standard_fields_are_the_contracts() {
        let table = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/contract/salesforce/standard-fields.tsv");
        let text = std::fs::read_to_string(&table).expect("the contract's field table");
        let mut listed: Vec<&str> = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| line.split('\t').collect::<Vec<_>>())
            .filter(|row| row.len() > 2 && row[0] == "Opportunity" && row[2] == "field")
            .map(|row| row[1])
            .collect();
        listed.sort_unstable();
        let mut ours = STANDARD.to_vec();
        ours.sort_unstable();
        assert_eq!(ours, listed);
    }

    #[test]
    fn only_fields_an_opportunity_has_are_selected() {
        assert_eq!(opportunity_field("Pain__c").as_deref(), Some("Pain__c"));
        assert_eq!(opportunity_field("nextstep").as_deref(), Some("NextStep"));
        assert_eq!(opportunity_field("next_step").as_deref(), Some("NextStep"));
        assert_eq!(
            opportunity_field("close_date").as_deref(),
            Some("CloseDate")
        );
        assert_eq!(opportunity_field("owner").as_deref(), Some("OwnerId"));
        for absent in [
            "employees",
            "industry",
            "region",
            "lost_reason",
            "x; DELETE",
            "__c",
        ] {
            assert_eq!(opportunity_field(absent), None, "{absent}");
        }
    }
}

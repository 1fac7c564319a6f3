//! An opportunity's Account for fit, read for a whole batch with one SOQL query of relationship
//! fields (`SELECT Id, Account.NumberOfEmployees, Account.Industry, Account.BillingCountry FROM
//! Opportunity WHERE Id IN (…)`), the fields as [`crate::crm::company`] names them for Salesforce
//! (a playbook renames them with `[fit.company_fields.salesforce]`, a custom field `Region__c`
//! too). Where every field comes from: `fields.md` beside this file.

use serde_json::{Map, Value};

use super::fields::is_api_name;
use crate::crm::company::CompanyFields;

/// Where an Account keeps what fit reads.
pub(super) const FIELDS: CompanyFields = &[
    ("employees", "NumberOfEmployees"),
    ("industry", "Industry"),
    ("country", "BillingCountry"),
];

/// What to grant when the org refuses an opportunity's Account fields.
pub(super) const GRANT: &str =
    "give the integration user Read on Account and on the Account fields fit reads";

/// The query of the Account `properties` of `opportunities` (quoted, checked ids); `None` when no
/// property is an API name (a name that is not cannot go into a query).
pub(super) fn query(opportunities: &[String], properties: &[(String, String)]) -> Option<String> {
    let mut selected: Vec<String> = Vec::new();
    for (_, property) in properties {
        let field = format!("Account.{property}");
        if is_api_name(property) && !selected.iter().any(|s| s.eq_ignore_ascii_case(&field)) {
            selected.push(field);
        }
    }
    (!selected.is_empty()).then(|| {
        format!(
            "SELECT Id, {} FROM Opportunity WHERE Id IN ({})",
            selected.join(", "),
            opportunities.join(",")
        )
    })
}

/// The Account of an opportunity's row of [`query`]; `None` when it has none.
pub(super) fn of_row(row: &Map<String, Value>) -> Option<Map<String, Value>> {
    row.get("Account")?.as_object().cloned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{crm::company, fit::Fit, model::Record};

    #[test]
    fn the_account_gives_size_industry_and_country_and_a_playbook_adds_its_own_field() {
        let fit: Fit = toml::from_str(
            "weight = 10\nregions = { field = \"region\", values = [\"EMEA\"] }\n[company_fields.salesforce]\nregion = \"Sales_Region__c\"\nindustry = \"Industry; DELETE\"\n",
        )
        .unwrap();
        let properties = company::properties(FIELDS, Some(&fit), "salesforce");
        let soql = query(&["'0065g00000Pg140AAZ'".to_owned()], &properties).unwrap();
        assert_eq!(
            soql,
            "SELECT Id, Account.NumberOfEmployees, Account.BillingCountry, Account.Sales_Region__c \
             FROM Opportunity WHERE Id IN ('0065g00000Pg140AAZ')",
            "a name that is no API name stays out of the query"
        );
        let row = json!({"Id": "0065g00000Pg140AAZ", "Account": {"attributes": {"type": "Account"},
            "NumberOfEmployees": 420, "BillingCountry": "Germany", "Sales_Region__c": null}});
        let account = of_row(row.as_object().unwrap()).unwrap();
        let mut deal = Record::new_deal("0065g00000Pg140AAZ");
        company::apply(&mut deal, &account, &properties);
        assert_eq!(deal.number("employees"), Some(420.0));
        assert_eq!(deal.text("region").as_deref(), Some("EMEA"));
        assert_eq!(
            of_row(json!({"Id": "x", "Account": null}).as_object().unwrap()),
            None
        );
    }
}

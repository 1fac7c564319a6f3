//! A deal's company read into the canonical fields fit reads, the same way for every CRM: each
//! adapter names where its company keeps them ([`CompanyFields`]), the playbook may rename them
//! ([`crate::fit::Fit::company_fields`]).

use serde_json::{Map, Value};

use crate::{
    fit::{Fit, region_of},
    model::{Record, value_text},
};

/// The canonical fields a company gives, with the CRM property holding each by default
/// (`("employees", "numberofemployees")`). A `region` the CRM does not keep is the country's.
pub type CompanyFields = &'static [(&'static str, &'static str)];

/// The company properties to read from `crm` (its route name): the defaults, as the playbook
/// renames them.
pub fn properties(defaults: CompanyFields, fit: Option<&Fit>, crm: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = defaults
        .iter()
        .map(|(canonical, default)| {
            let property = fit.map_or(*default, |f| f.company_field(crm, canonical, default));
            ((*canonical).to_owned(), property.to_owned())
        })
        .collect();
    if let Some(fit) = fit
        && let Some(extra) = fit.company_fields.get(crm)
    {
        for (canonical, property) in extra {
            if !fields.iter().any(|(c, _)| c == canonical) {
                fields.push((canonical.clone(), property.clone()));
            }
        }
    }
    fields
}

/// Put the company's values into `record`'s canonical fields (a value the deal itself carries
/// stays), and its region from its country where it has none.
pub fn apply(record: &mut Record, company: &Map<String, Value>, fields: &[(String, String)]) {
    for (canonical, property) in fields {
        let Some(value) = company.get(property).filter(|v| value_text(v).is_some()) else {
            continue;
        };
        record
            .fields
            .entry(canonical.clone())
            .or_insert_with(|| value.clone());
    }
    if !record.fields.contains_key("region")
        && let Some(region) = record.text("country").as_deref().and_then(region_of)
    {
        record.fields.insert("region".into(), region.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const HUBSPOT: CompanyFields = &[
        ("employees", "numberofemployees"),
        ("industry", "industry"),
        ("country", "country"),
    ];

    #[test]
    fn a_company_fills_what_the_deal_lacks_and_its_country_gives_the_region() {
        let mut deal = Record::new_deal("D");
        deal.fields
            .insert("industry".into(), json!("Manufacturing"));
        let company = json!({"numberofemployees": "420", "industry": "COMPUTER_SOFTWARE", "country": "Germany"});
        apply(
            &mut deal,
            company.as_object().unwrap(),
            &properties(HUBSPOT, None, "hubspot"),
        );
        assert_eq!(deal.number("employees"), Some(420.0));
        assert_eq!(deal.text("industry").as_deref(), Some("Manufacturing"));
        assert_eq!(deal.text("region").as_deref(), Some("EMEA"));
    }

    #[test]
    fn a_playbook_reads_a_company_field_under_its_own_name() {
        let fit: Fit = toml::from_str(
            "weight = 10\nregions = { field = \"region\", values = [\"EMEA\"] }\n[company_fields.hubspot]\nregion = \"sales_region\"\n",
        )
        .unwrap();
        let fields = properties(HUBSPOT, Some(&fit), "hubspot");
        assert!(fields.contains(&("region".to_owned(), "sales_region".to_owned())));
        let mut deal = Record::new_deal("D");
        let company = json!({"sales_region": "North America", "country": "Germany"});
        apply(&mut deal, company.as_object().unwrap(), &fields);
        assert_eq!(deal.text("region").as_deref(), Some("North America"));
    }
}

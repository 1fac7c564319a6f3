//! Fit with the ideal customer profile: a secondary part of the score.
//!
//! HubSpot, Pipedrive and Salesforce keep firmographics on the company (organization, Account),
//! not the deal: their adapters read the deal's company into the canonical fields fit reads
//! (`employees`, `industry`, `country`, and `region`, from the country where the CRM keeps none:
//! [`region`]), by a default table per CRM that [`Fit::company_fields`] overrides.

mod region;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use region::region_of;

use crate::{model::Record, score::Part};

/// The ideal customer profile. Every criterion set counts equally.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fit {
    /// Points out of 100 for a perfect fit.
    pub weight: f64,
    /// The company size band.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_size: Option<SizeBand>,
    /// Industries that fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industries: Option<ValueSet>,
    /// Regions that fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regions: Option<ValueSet>,
    /// Buyer title fragments that fit, matched against the record's contacts.
    #[serde(default)]
    pub buyer_titles: Vec<String>,
    /// The company's fields by CRM, where its adapter's defaults say otherwise: canonical field
    /// → the CRM's company property (`[fit.company_fields.hubspot] employees = "company_size"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub company_fields: BTreeMap<String, BTreeMap<String, String>>,
}

/// The part of a record ([`crate::model::Record::not_read`]) its company is.
pub const COMPANY: &str = "company";

/// A numeric band on a record field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeBand {
    /// The record field (`employees`).
    pub field: String,
    /// Smallest fitting value.
    pub min: f64,
    /// Largest fitting value.
    pub max: f64,
}

/// A set of fitting values of a record field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueSet {
    /// The record field (`industry`).
    pub field: String,
    /// The values that fit (case-insensitive).
    pub values: Vec<String>,
}

impl Fit {
    /// How many criteria are set.
    fn criteria(&self) -> usize {
        usize::from(self.company_size.is_some())
            + usize::from(self.industries.is_some())
            + usize::from(self.regions.is_some())
            + usize::from(!self.buyer_titles.is_empty())
    }

    /// Score a record's fit.
    pub fn score(&self, record: &Record) -> Part {
        let mut reasons = Vec::new();
        let mut matched = 0;
        if let Some(band) = &self.company_size {
            match record.number(&band.field) {
                Some(n) if (band.min..=band.max).contains(&n) => {
                    matched += 1;
                    reasons.push(format!(
                        "{} {n} is within {}..={}",
                        band.field, band.min, band.max
                    ));
                }
                Some(n) => reasons.push(format!(
                    "{} {n} is outside {}..={}",
                    band.field, band.min, band.max
                )),
                None => reasons.push(format!("no `{}` on the record", band.field)),
            }
        }
        for set in [&self.industries, &self.regions].into_iter().flatten() {
            match record.text(&set.field) {
                Some(v) if set.values.iter().any(|f| fits(f, &v)) => {
                    matched += 1;
                    reasons.push(format!("{} {v:?} fits", set.field));
                }
                Some(v) => reasons.push(format!("{} {v:?} is not in the profile", set.field)),
                None => reasons.push(format!("no `{}` on the record", set.field)),
            }
        }
        if !self.buyer_titles.is_empty() {
            let buyer = record.contacts.iter().find_map(|c| {
                let title = c.title.as_deref()?;
                let lower = title.to_lowercase();
                self.buyer_titles
                    .iter()
                    .any(|t| lower.contains(&t.to_lowercase()))
                    .then(|| title.to_owned())
            });
            match buyer {
                Some(title) => {
                    matched += 1;
                    reasons.push(format!("a {title} is on the record"));
                }
                None => reasons.push("no contact with a buyer title".to_owned()),
            }
        }
        if let Some(why) = record.not_read.get(COMPANY) {
            reasons.push(format!("company not read: {why}"));
        }
        let criteria = self.criteria();
        let points = if criteria == 0 {
            0.0
        } else {
            self.weight * matched as f64 / criteria as f64
        };
        Part {
            points,
            max_points: self.weight,
            reasons,
        }
    }

    /// The CRM property holding the company's `canonical` field in `crm` (its route name): the
    /// playbook's entry, else `default`.
    pub fn company_field<'a>(&'a self, crm: &str, canonical: &str, default: &'a str) -> &'a str {
        self.company_fields
            .get(crm)
            .and_then(|fields| fields.get(canonical))
            .map_or(default, String::as_str)
    }

    /// Problems with the fit section, relative to it.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(self.weight.is_finite() && self.weight >= 0.0) {
            problems.push(format!("weight: must be >= 0 (found {})", self.weight));
        }
        if self.criteria() == 0 {
            problems.push(
                "set at least one of company_size, industries, regions, buyer_titles".to_owned(),
            );
        }
        if let Some(band) = &self.company_size
            && band.min > band.max
        {
            problems.push(format!(
                "company_size.min: {} is above max {}",
                band.min, band.max
            ));
        }
        for (crm, fields) in &self.company_fields {
            if crate::crm_id::Crm::from_name(crm).is_none() {
                problems.push(format!(
                    "company_fields.{crm}: unknown CRM; use hubspot, pipedrive or salesforce"
                ));
            }
            for (canonical, property) in fields {
                if property.trim().is_empty() {
                    problems.push(format!(
                        "company_fields.{crm}.{canonical}: name the company property"
                    ));
                }
            }
        }
        problems
    }
}

/// Whether a record's value fits a profile value: the same words, or the profile's words within
/// the CRM's value (HubSpot's `COMPUTER_SOFTWARE` fits `software`).
fn fits(profile: &str, value: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let (profile, value) = (words(profile), words(value));
    !profile.is_empty()
        && value
            .windows(profile.len())
            .any(|window| window == profile.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crm_value_fits_when_it_holds_the_profile_words() {
        assert!(fits("software", "COMPUTER_SOFTWARE"));
        assert!(fits("financial services", "Financial Services"));
        assert!(fits("EMEA", "emea"));
        assert!(!fits("software", "Hardware"));
        assert!(!fits("financial services", "services"));
        assert!(!fits("", "anything"));
    }

    #[test]
    fn a_playbook_renames_a_company_field_for_one_crm() {
        let fit: Fit = toml::from_str(
            "weight = 10\nregions = { field = \"region\", values = [\"EMEA\"] }\n[company_fields.hubspot]\nemployees = \"company_size\"\n",
        )
        .unwrap();
        assert_eq!(
            fit.company_field("hubspot", "employees", "numberofemployees"),
            "company_size"
        );
        assert_eq!(
            fit.company_field("salesforce", "employees", "NumberOfEmployees"),
            "NumberOfEmployees"
        );
        assert!(fit.problems().is_empty());
    }
}

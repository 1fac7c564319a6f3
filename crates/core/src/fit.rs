//! Fit with the ideal customer profile: a secondary part of the score.

use serde::{Deserialize, Serialize};

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
}

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
                Some(v) if set.values.iter().any(|f| f.eq_ignore_ascii_case(&v)) => {
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
        problems
    }
}

//! Which dimensions predict: per dimension, the win rate of closed deals when it is green and
//! when it is not, each with its count and interval, and a sentence that says in plain words
//! whether, in this data, it separates won from lost deals.

use serde::{Deserialize, Serialize};

use super::{deal::DealRow, stats::Rate};
use crate::{playbook::Playbook, score::Status};

/// One dimension against the outcomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionRate {
    /// Its key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Won of closed deals where it is green.
    pub green: Rate,
    /// Won of closed deals where it is yellow or red.
    pub not_green: Rate,
    /// Whether it separates.
    pub predicts: Prediction,
    /// The finding in words.
    pub finding: String,
}

/// What a dimension's two win rates say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prediction {
    /// Green deals won more often, beyond what chance explains (the intervals are apart).
    Yes,
    /// The two rates' intervals overlap: no separation in this data.
    No,
    /// Green deals won less often, beyond chance.
    Reversed,
    /// One side has no closed deal.
    CannotTell,
}

/// Each of `playbook`'s dimensions against `deals`' outcomes, in the playbook's order.
pub fn dimensions(deals: &[DealRow], playbook: &Playbook) -> Vec<DimensionRate> {
    playbook
        .dimensions
        .iter()
        .map(|dimension| {
            let (mut green, mut not_green) = ((0, 0), (0, 0));
            for deal in deals {
                let Some(won) = deal.won() else { continue };
                let side = if deal.dimensions.get(&dimension.key) == Some(&Status::Green) {
                    &mut green
                } else {
                    &mut not_green
                };
                side.1 += 1;
                side.0 += u64::from(won);
            }
            let (green, not_green) = (
                Rate::of(green.0, green.1),
                Rate::of(not_green.0, not_green.1),
            );
            let predicts = match (green.value, not_green.value) {
                (Some(g), Some(n)) if green.apart_from(&not_green) => {
                    if g > n {
                        Prediction::Yes
                    } else {
                        Prediction::Reversed
                    }
                }
                (Some(_), Some(_)) => Prediction::No,
                _ => Prediction::CannotTell,
            };
            let finding = finding(&dimension.name, &green, &not_green, predicts);
            DimensionRate {
                key: dimension.key.clone(),
                name: dimension.name.clone(),
                green,
                not_green,
                predicts,
                finding,
            }
        })
        .collect()
}

fn finding(name: &str, green: &Rate, not_green: &Rate, predicts: Prediction) -> String {
    let pct = |rate: &Rate| {
        rate.value
            .map_or("–".to_owned(), |v| format!("{:.0} %", v * 100.0))
    };
    let rates = format!(
        "{name} green or not: {} vs {} won ({} and {} closed deals)",
        pct(green),
        pct(not_green),
        green.of,
        not_green.of
    );
    match predicts {
        Prediction::Yes => format!("{rates} — in your data it predicts."),
        Prediction::No => format!("{rates} — in your data it does not predict."),
        Prediction::Reversed => format!(
            "{rates} — in your data deals with it green won less often: check what reps write there."
        ),
        Prediction::CannotTell => format!("{rates} — cannot tell: no closed deal on one side."),
    }
}

//! Shadow or enforce: whether pipeline-guard acts on its decisions or only observes.

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

use crate::Error;

/// How a function acts on its decisions.
///
/// A rollout starts in [`Mode::Shadow`]: every decision is computed, recorded and shown to the rep,
/// but nothing is blocked or moved. [`Mode::Enforce`] moves blocked handoffs back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Observe and tell, never block. The default, so a fresh install cannot disrupt a pipeline.
    #[default]
    Shadow,
    /// Act: blocked handoffs are moved back to the previous stage.
    Enforce,
}

impl Mode {
    /// The mode's name as configured (`shadow`, `enforce`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Shadow => "shadow",
            Mode::Enforce => "enforce",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "" | "shadow" => Ok(Mode::Shadow),
            "enforce" => Ok(Mode::Enforce),
            other => Err(Error::Config(format!(
                "variable `mode` is {other:?}; set it to \"shadow\" or \"enforce\""
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_means_shadow_and_typos_are_refused() {
        assert_eq!("".parse::<Mode>().unwrap(), Mode::Shadow);
        assert_eq!("enforce".parse::<Mode>().unwrap(), Mode::Enforce);
        assert!("enforced".parse::<Mode>().is_err());
    }
}

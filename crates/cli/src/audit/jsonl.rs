//! Reading the generic export: JSON Lines, one canonical record per line (the generic
//! webhook's `record`, its `status` open, won or lost). A line that is not one is reported with
//! its number; blank lines are skipped.

use pipeline_guard_core::model::Record;

use super::export::Row;

/// Each non-blank line of `text` with its number.
pub fn rows(text: &str) -> impl Iterator<Item = (u64, Row)> + '_ {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let row = match serde_json::from_str::<Record>(line) {
                Ok(record) => Row::Deal(Box::new(record)),
                Err(e) => Row::Broken(format!("not a canonical record: {e}")),
            };
            (i as u64 + 1, row)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_that_is_not_a_record_is_reported_with_its_number() {
        let text = "{\"kind\":\"deal\",\"id\":\"D-1\",\"status\":\"won\"}\n\n{\"kind\":\"deal\"\n";
        let rows: Vec<(u64, Row)> = rows(text).collect();
        assert!(matches!(&rows[0], (1, Row::Deal(r)) if r.id == "D-1"));
        assert!(matches!(&rows[1], (3, Row::Broken(p)) if p.starts_with("not a canonical record")));
    }
}

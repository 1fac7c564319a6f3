//! Reading SQL text: where quoted text (strings, quoted names, dollar-quoted bodies, comments)
//! begins and ends, so rewrites touch code and never what the database reads literally.

/// Where the quoted text opening at byte `i` ends (exclusive); `None` when `i` opens none.
pub(super) fn quoted_end(sql: &str, i: usize) -> Option<usize> {
    let b = sql.as_bytes();
    match b[i] {
        q @ (b'\'' | b'"') => {
            let mut j = i + 1;
            while j < b.len() {
                if b[j] == q {
                    if b.get(j + 1) == Some(&q) {
                        j += 2;
                        continue;
                    }
                    return Some(j + 1);
                }
                j += 1;
            }
            Some(b.len())
        }
        b'-' if b.get(i + 1) == Some(&b'-') => {
            Some(sql[i..].find('\n').map_or(b.len(), |n| i + n + 1))
        }
        b'$' => {
            let tag_len = sql[i + 1..].find('$')?;
            let tag = &sql[i + 1..i + 1 + tag_len];
            let is_tag = tag.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
                && !tag.starts_with(|c: char| c.is_ascii_digit());
            if !is_tag {
                return None;
            }
            let delimiter = &sql[i..i + tag_len + 2];
            let body = i + delimiter.len();
            Some(
                sql[body..]
                    .find(delimiter)
                    .map_or(b.len(), |n| body + n + delimiter.len()),
            )
        }
        _ => None,
    }
}

/// The byte after the `)` closing the `(` at `open`, skipping quoted text.
pub(super) fn closing_paren(sql: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < sql.len() {
        if let Some(end) = quoted_end(sql, i) {
            i = end;
            continue;
        }
        match sql.as_bytes()[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The arguments inside a call's parentheses, split at top-level commas.
pub(super) fn arguments(inside: &str) -> Vec<&str> {
    let mut args = Vec::new();
    let (mut depth, mut start, mut i) = (0usize, 0, 0);
    while i < inside.len() {
        if let Some(end) = quoted_end(inside, i) {
            i = end;
            continue;
        }
        match inside.as_bytes()[i] {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => {
                args.push(inside[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    args.push(inside[start..].trim());
    args
}

/// The byte offset of the first `word` (a whole word, any case) in code at or after `from`.
pub(super) fn find_word(sql: &str, word: &str, from: usize) -> Option<usize> {
    let mut i = from;
    while i < sql.len() {
        if let Some(end) = quoted_end(sql, i) {
            i = end;
            continue;
        }
        if starts_word(sql, i) && word_at(sql, i).eq_ignore_ascii_case(word) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The byte offset of the last `word` (a whole word, any case) in code.
pub(super) fn rfind_word(sql: &str, word: &str) -> Option<usize> {
    let mut found = None;
    let mut from = 0;
    while let Some(at) = find_word(sql, word, from) {
        found = Some(at);
        from = at + word.len();
    }
    found
}

/// Whether a word (a name or keyword) starts at byte `i`.
pub(super) fn starts_word(sql: &str, i: usize) -> bool {
    let b = sql.as_bytes();
    is_word_byte(b[i])
        && !b[i].is_ascii_digit()
        && (i == 0 || !(is_word_byte(b[i - 1]) || b[i - 1] == b'.' || b[i - 1] == b'$'))
}

/// The word starting at byte `i`.
pub(super) fn word_at(sql: &str, i: usize) -> &str {
    let len = sql[i..].bytes().take_while(|&c| is_word_byte(c)).count();
    &sql[i..i + len]
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_text_ends_where_its_quote_does() {
        assert_eq!(quoted_end("'it''s' x", 0), Some(7));
        assert_eq!(quoted_end("\"a\" x", 0), Some(3));
        assert_eq!(quoted_end("$f$ ; $f$ x", 0), Some(9));
        assert_eq!(quoted_end("$1 x", 0), None);
        assert_eq!(quoted_end("-- ? \nx", 0), Some(6));
    }

    #[test]
    fn calls_split_at_their_own_commas_only() {
        let sql = "f(a, g(b, c), 'd, e')";
        let close = closing_paren(sql, 1).unwrap();
        assert_eq!(close, sql.len());
        assert_eq!(arguments(&sql[2..close - 1]), ["a", "g(b, c)", "'d, e'"]);
    }

    #[test]
    fn words_are_found_whole_and_outside_quotes() {
        let sql = "SELECT 'END' , endless, x.end, END";
        assert_eq!(find_word(sql, "end", 0), Some(sql.len() - 3));
        assert_eq!(rfind_word("BEGIN a; END; END", "END"), Some(14));
    }
}

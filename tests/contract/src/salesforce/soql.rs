//! Reads a SOQL query far enough to name every field it uses: the selected fields and
//! relationship paths, child subqueries, and the fields in `WHERE` and `ORDER BY`.

/// A query (or a child subquery) and the fields it names.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Query {
    /// The object (`Opportunity`), or for a subquery the child relationship (`Tasks`).
    pub from: String,
    /// Fields and relationship paths as written, selected or filtered or sorted on.
    pub fields: Vec<String>,
    /// Child subqueries in the select list.
    pub children: Vec<Query>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Literal,
    Punct(String),
}

fn tokens(soql: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = soql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '\'' => {
                let mut escaped = false;
                for next in chars.by_ref() {
                    if next == '\'' && !escaped {
                        break;
                    }
                    escaped = next == '\\' && !escaped;
                }
                out.push(Token::Literal);
            }
            c if c.is_ascii_digit() => {
                while chars.peek().is_some_and(|n| {
                    n.is_ascii_alphanumeric() || matches!(n, '.' | '-' | ':' | '+')
                }) {
                    chars.next();
                }
                out.push(Token::Literal);
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut word = String::from(c);
                while let Some(&next) = chars.peek() {
                    if !(next.is_alphanumeric() || matches!(next, '_' | '.' | ':')) {
                        break;
                    }
                    word.push(next);
                    chars.next();
                }
                out.push(Token::Word(word));
            }
            '<' | '>' | '!' if chars.peek() == Some(&'=') => {
                chars.next();
                out.push(Token::Punct(format!("{c}=")));
            }
            c => out.push(Token::Punct(c.to_string())),
        }
    }
    out
}

const OPERATORS: &[&str] = &["=", "!=", "<", ">", "<=", ">="];
const WORD_OPERATORS: &[&str] = &["IN", "NOT", "LIKE", "INCLUDES", "EXCLUDES"];
const CLAUSES: &[&str] = &[
    "WHERE", "ORDER", "LIMIT", "OFFSET", "GROUP", "HAVING", "FOR", "WITH",
];

/// The query `soql`, or what the reader expected where it stopped.
pub(crate) fn parse(soql: &str) -> Result<Query, String> {
    let mut reader = Reader {
        tokens: tokens(soql),
        at: 0,
    };
    let query = reader.query()?;
    match reader.tokens.get(reader.at) {
        None => Ok(query),
        Some(token) => Err(format!("unexpected {token:?} after the query")),
    }
}

struct Reader {
    tokens: Vec<Token>,
    at: usize,
}

impl Reader {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn keyword(&mut self, keyword: &str) -> bool {
        let found = matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword));
        if found {
            self.at += 1;
        }
        found
    }

    fn punct(&mut self, punct: &str) -> bool {
        let found = matches!(self.peek(), Some(Token::Punct(p)) if p == punct);
        if found {
            self.at += 1;
        }
        found
    }

    fn query(&mut self) -> Result<Query, String> {
        if !self.keyword("SELECT") {
            return Err("SELECT".into());
        }
        let mut query = Query::default();
        loop {
            if self.punct("(") {
                query.children.push(self.query()?);
                if !self.punct(")") {
                    return Err("`)` after a subquery".into());
                }
            } else {
                match self.tokens.get(self.at).cloned() {
                    Some(Token::Word(word)) => {
                        self.at += 1;
                        if self.punct("(") {
                            // An aggregate (`COUNT(Id)`): its argument is the field.
                            if let Some(Token::Word(field)) = self.peek().cloned() {
                                query.fields.push(field);
                            }
                            while !self.punct(")") {
                                if self.peek().is_none() {
                                    return Err("`)` after a function".into());
                                }
                                self.at += 1;
                            }
                        } else {
                            query.fields.push(word);
                        }
                    }
                    _ => return Err("a field".into()),
                }
            }
            if !self.punct(",") {
                break;
            }
        }
        if !self.keyword("FROM") {
            return Err("FROM".into());
        }
        match self.tokens.get(self.at).cloned() {
            Some(Token::Word(from)) => {
                self.at += 1;
                query.from = from;
            }
            _ => return Err("an object after FROM".into()),
        }
        self.clauses(&mut query)?;
        Ok(query)
    }

    /// `WHERE`, `ORDER BY`, `LIMIT`…, up to the end or the `)` closing a subquery.
    fn clauses(&mut self, query: &mut Query) -> Result<(), String> {
        let mut ordering = false;
        while let Some(token) = self.peek().cloned() {
            match token {
                Token::Punct(p) if p == ")" => return Ok(()),
                Token::Punct(p) if p == "(" => {
                    self.at += 1;
                    if matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case("SELECT"))
                    {
                        // A semi-join's inner query names its own object's fields, not checked.
                        self.query()?;
                    } else {
                        self.clauses(query)?;
                    }
                    if !self.punct(")") {
                        return Err("`)`".into());
                    }
                }
                Token::Word(word) => {
                    self.at += 1;
                    let upper = word.to_ascii_uppercase();
                    if upper == "ORDER" {
                        ordering = true;
                    } else if CLAUSES.contains(&upper.as_str()) {
                        ordering = false;
                    } else if ordering {
                        if !["BY", "ASC", "DESC", "NULLS", "FIRST", "LAST"]
                            .contains(&upper.as_str())
                        {
                            query.fields.push(word);
                        }
                    } else if matches!(self.peek(), Some(Token::Punct(p)) if OPERATORS.contains(&p.as_str()))
                        || matches!(self.peek(), Some(Token::Word(w)) if WORD_OPERATORS.contains(&w.to_ascii_uppercase().as_str()))
                    {
                        query.fields.push(word);
                    }
                }
                _ => self.at += 1,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_selected_filtered_and_sorted_fields_and_subqueries() {
        let query = parse(
            "SELECT Id, Account.Industry, (SELECT Subject FROM Tasks WHERE IsClosed = true \
             ORDER BY ActivityDate DESC NULLS LAST LIMIT 100) FROM Opportunity \
             WHERE Id IN ('006A', '006B') AND CloseDate < LAST_N_DAYS:30 AND pg_score__c != null",
        )
        .unwrap();
        assert_eq!(query.from, "Opportunity");
        assert_eq!(
            query.fields,
            ["Id", "Account.Industry", "Id", "CloseDate", "pg_score__c"]
        );
        assert_eq!(query.children[0].from, "Tasks");
        assert_eq!(
            query.children[0].fields,
            ["Subject", "IsClosed", "ActivityDate"]
        );
    }

    #[test]
    fn says_what_it_expected() {
        assert_eq!(parse("SELECT Id Opportunity").unwrap_err(), "FROM");
    }
}

//! Reads the TypeScript models an SDK generator writes (`export interface Deal { 'id'?: number;
//! … }`, `export type GetDealsResponse = BaseResponse & GetDealsResponseAllOf;`) into
//! [`Shape`]s. Only what such generated declarations use: interfaces, type aliases, unions,
//! intersections, `Array<T>`, `T[]`, inline object types and index signatures.

use std::collections::BTreeMap;

use crate::shape::Shape;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Punct(char),
}

fn tokens(source: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '/' if chars.peek() == Some(&'*') => {
                let mut last = ' ';
                for next in chars.by_ref() {
                    if last == '*' && next == '/' {
                        break;
                    }
                    last = next;
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                for next in chars.by_ref() {
                    if next == '\n' {
                        break;
                    }
                }
            }
            '\'' | '"' | '`' => {
                let mut text = String::new();
                for next in chars.by_ref() {
                    if next == c {
                        break;
                    }
                    text.push(next);
                }
                out.push(Token::Text(text));
            }
            c if c.is_alphanumeric() || c == '_' || c == '$' => {
                let mut word = String::from(c);
                while let Some(&next) = chars.peek() {
                    if !(next.is_alphanumeric() || next == '_' || next == '$') {
                        break;
                    }
                    word.push(next);
                    chars.next();
                }
                out.push(Token::Word(word));
            }
            c => out.push(Token::Punct(c)),
        }
    }
    out
}

/// The named shapes `source` declares.
pub(crate) fn declarations(source: &str) -> BTreeMap<String, Shape> {
    let mut parser = Parser {
        tokens: tokens(source),
        at: 0,
    };
    let mut found = BTreeMap::new();
    while parser.at < parser.tokens.len() {
        if parser.word("export") {
            if parser.word("interface") {
                let name = parser.name();
                // `extends A, B` adds A's and B's fields.
                let mut bases = Vec::new();
                if parser.word("extends") {
                    while !parser.punct('{') && parser.at < parser.tokens.len() {
                        if let Some(Token::Word(base)) = parser.next() {
                            bases.push(Shape::Ref(base));
                        }
                    }
                } else {
                    parser.punct('{');
                }
                let mut shape = parser.members();
                if !bases.is_empty() {
                    bases.push(shape);
                    shape = Shape::Union(bases);
                }
                found.insert(name, shape);
                continue;
            }
            if parser.word("type") {
                let name = parser.name();
                parser.punct('=');
                let shape = parser.union();
                found.insert(name, shape);
                continue;
            }
        }
        parser.skip_statement();
    }
    found
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn word(&mut self, word: &str) -> bool {
        let found = matches!(self.peek(), Some(Token::Word(w)) if w == word);
        if found {
            self.at += 1;
        }
        found
    }

    fn punct(&mut self, punct: char) -> bool {
        let found = self.peek() == Some(&Token::Punct(punct));
        if found {
            self.at += 1;
        }
        found
    }

    fn name(&mut self) -> String {
        match self.next() {
            Some(Token::Word(name) | Token::Text(name)) => name,
            _ => String::new(),
        }
    }

    /// Past the next `;` outside braces (an import, a `declare const` enum object).
    fn skip_statement(&mut self) {
        let mut depth = 0usize;
        while let Some(token) = self.next() {
            match token {
                Token::Punct('{') => depth += 1,
                Token::Punct('}') => depth = depth.saturating_sub(1),
                Token::Punct(';') if depth == 0 => return,
                _ => {}
            }
        }
    }

    /// The members of an object type, after its `{`, through its `}`.
    fn members(&mut self) -> Shape {
        let mut properties = BTreeMap::new();
        let mut additional = None;
        while self.at < self.tokens.len() && !self.punct('}') {
            if self.punct(';') || self.punct(',') || self.word("readonly") {
                continue;
            }
            if self.punct('[') {
                // `[key: string]: T`
                while !self.punct(']') && self.next().is_some() {}
                self.punct(':');
                additional = Some(Box::new(self.union()));
                continue;
            }
            let name = self.name();
            self.punct('?');
            self.punct(':');
            properties.insert(name, self.union());
        }
        if properties.is_empty() && additional.is_none() {
            return Shape::Any;
        }
        Shape::Object {
            properties,
            additional,
        }
    }

    /// `A | B | null`: the union of the members that are not `null` or `undefined`.
    fn union(&mut self) -> Shape {
        self.punct('|');
        let mut members = Vec::new();
        loop {
            let mut parts: Vec<Shape> = self.postfix().into_iter().collect();
            while self.punct('&') {
                parts.extend(self.postfix());
            }
            match parts.len() {
                0 => {}
                1 => members.extend(parts),
                _ => members.push(Shape::Union(parts)),
            }
            if !self.punct('|') {
                break;
            }
        }
        match members.len() {
            0 => Shape::Any,
            1 => members.remove(0),
            _ => Shape::Union(members),
        }
    }

    /// A primary type and its `[]`s; `None` for `null` and `undefined`.
    fn postfix(&mut self) -> Option<Shape> {
        let mut shape = self.primary();
        while self.peek() == Some(&Token::Punct('[')) {
            self.at += 1;
            if self.punct(']') {
                shape = shape.map(|item| Shape::Array(Box::new(item)));
            } else {
                // An indexed access (`typeof X[keyof typeof X]`): an enum's values.
                self.union();
                self.punct(']');
                shape = Some(Shape::Any);
            }
        }
        shape
    }

    fn primary(&mut self) -> Option<Shape> {
        match self.next() {
            Some(Token::Punct('{')) => Some(self.members()),
            Some(Token::Punct('(')) => {
                let inner = self.union();
                self.punct(')');
                Some(inner)
            }
            Some(Token::Word(word)) => match word.as_str() {
                "null" | "undefined" => None,
                "typeof" | "keyof" => {
                    self.postfix();
                    Some(Shape::Any)
                }
                "Array" | "Record" | "Set" | "Promise" => {
                    let mut arguments = Vec::new();
                    if self.punct('<') {
                        loop {
                            arguments.push(self.union());
                            if !self.punct(',') {
                                break;
                            }
                        }
                        self.punct('>');
                    }
                    let last = arguments.pop().unwrap_or(Shape::Any);
                    Some(match word.as_str() {
                        "Array" | "Set" => Shape::Array(Box::new(last)),
                        "Record" => Shape::Object {
                            properties: BTreeMap::new(),
                            additional: Some(Box::new(last)),
                        },
                        _ => last,
                    })
                }
                "string" | "number" | "boolean" | "any" | "unknown" | "object" | "Date"
                | "true" | "false" | "File" | "Blob" => Some(Shape::Any),
                _ if word.chars().next().is_some_and(|c| c.is_ascii_digit()) => Some(Shape::Any),
                _ => Some(Shape::Ref(word)),
            },
            _ => Some(Shape::Any),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_generated_interfaces_and_aliases() {
        let found = declarations(
            "import { Deal } from './deal';\n\
             /** The deals. */\n\
             export interface GetDealsResponseAllOf {\n\
                 /** The array of deals */\n\
                 'data'?: Array<Deal>;\n\
                 'custom_fields'?: {\n        [key: string]: any | undefined;\n    };\n\
                 'owner_id'?: number | null;\n\
             }\n\
             export type GetDealsResponse = BaseResponse & GetDealsResponseAllOf;\n\
             export declare const Status: { readonly Open: \"open\"; };\n\
             export type Status = typeof Status[keyof typeof Status];\n",
        );
        let Some(Shape::Object { properties, .. }) = found.get("GetDealsResponseAllOf") else {
            panic!("{found:?}");
        };
        assert_eq!(
            properties["data"],
            Shape::Array(Box::new(Shape::Ref("Deal".into())))
        );
        assert_eq!(properties["owner_id"], Shape::Any);
        assert!(matches!(
            &properties["custom_fields"],
            Shape::Object {
                additional: Some(_),
                ..
            }
        ));
        assert_eq!(
            found["GetDealsResponse"],
            Shape::Union(vec![
                Shape::Ref("BaseResponse".into()),
                Shape::Ref("GetDealsResponseAllOf".into())
            ])
        );
        assert_eq!(found["Status"], Shape::Any);
    }
}

//! The part of CloudWatch Logs' filter pattern syntax LocalLambda serves: terms, plain (letters,
//! digits, underscores) or in double quotes (any text, `\"` for a quote), each of which must
//! appear in an event's message, case-sensitive, for it to match (an empty pattern matches
//! every event). The rest of the syntax (`?term`, `-term`, JSON `{ ... }`, space-delimited
//! `[ ... ]`, `%regex%`) is refused by name rather than matched wrongly.

#[derive(Debug, Default, PartialEq, Eq)]
pub struct FilterPattern {
    terms: Vec<String>,
}

impl FilterPattern {
    pub fn parse(pattern: &str) -> Result<Self, String> {
        let mut terms = Vec::new();
        let mut chars = pattern.trim().chars().peekable();
        while let Some(&first) = chars.peek() {
            if first.is_whitespace() {
                chars.next();
                continue;
            }
            if first == '"' {
                chars.next();
                let mut term = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => term.push(chars.next().ok_or("the filter pattern ends inside a quoted term")?),
                        Some(c) => term.push(c),
                        None => return Err("the filter pattern ends inside a quoted term".into()),
                    }
                }
                terms.push(term);
                continue;
            }
            let mut term = String::new();
            while let Some(&c) = chars.peek().filter(|c| !c.is_whitespace()) {
                term.push(c);
                chars.next();
            }
            let unsupported = match first {
                '?' => Some("?term (any of several terms)"),
                '-' => Some("-term (exclusion)"),
                '{' => Some("JSON patterns { ... }"),
                '[' => Some("space-delimited patterns [ ... ]"),
                '%' => Some("regular expressions % ... %"),
                _ => None,
            };
            if let Some(what) = unsupported {
                return Err(format!(
                    "LocalLambda's filter patterns are terms, plain or quoted, that must all appear; it does not \
                     support {what}"
                ));
            }
            if !term.chars().all(|c| c.is_alphanumeric() || c == '_') {
                return Err(format!(
                    "a term with characters other than letters, digits and underscores must be in double quotes: \
                     {term}"
                ));
            }
            terms.push(term);
        }
        Ok(Self { terms })
    }

    pub fn matches(&self, message: &str) -> bool {
        self.terms.iter().all(|term| message.contains(term.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_term_must_appear_case_sensitive() {
        let pattern = FilterPattern::parse(r#"ERROR "request 1-2" done_"#).unwrap();
        assert!(pattern.matches("[ERROR] request 1-2 done_ now"));
        assert!(!pattern.matches("[error] request 1-2 done_ now"));
        assert!(!pattern.matches("[ERROR] request 1-3 done_"));
        assert!(FilterPattern::parse("  ").unwrap().matches("anything"));
        assert!(FilterPattern::parse(r#""say \"hi\"""#).unwrap().matches(r#"they say "hi""#));
    }

    #[test]
    fn what_it_does_not_support_is_refused() {
        for pattern in ["?ERROR ?WARN", "-DEBUG", "{ $.level = \"ERROR\" }", "[ip, user]", "%err.r%", "a-b", "\"open"] {
            assert!(FilterPattern::parse(pattern).is_err(), "{pattern}");
        }
    }
}

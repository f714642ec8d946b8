//! Errors as sentences a user reads: each cause's own words, outermost first, never a `Debug`
//! dump of the types behind them (which `DisplayErrorContext` appends).

use std::error::Error;

/// `error` and its sources, joined by ": ", a cause that repeats the words before it left out.
pub fn sentence(error: &(dyn Error + 'static)) -> String {
    let mut text = String::new();
    let mut cause = Some(error);
    while let Some(current) = cause {
        let words = current.to_string();
        if !words.is_empty() && !text.contains(&words) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&words);
        }
        cause = current.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("the request was not sent")
        }
    }

    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn joins_each_causes_words_and_no_debug_output() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let text = sentence(&Outer(refused));
        assert_eq!(text, "the request was not sent: connection refused");
    }
}

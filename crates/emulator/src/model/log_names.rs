//! How Lambda names a function's logs in CloudWatch Logs: the log group `/aws/lambda/NAME`, and
//! a log stream per execution environment, `YYYY/MM/DD/[VERSION]` and 32 hex digits (the date
//! the environment started, in UTC).

use std::time::SystemTime;

use super::clock::UtcTime;

pub fn log_group(function: &str) -> String {
    format!("/aws/lambda/{function}")
}

/// A new stream's name for an environment of `version` ("$LATEST" or a number) started at `started`.
pub fn log_stream(version: &str, started: SystemTime) -> String {
    let date = UtcTime::of(started);
    let id = uuid::Uuid::new_v4().simple();
    format!("{:04}/{:02}/{:02}/[{version}]{id}", date.year, date.month, date.day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_named_as_lambda_names_them() {
        let name = log_stream("$LATEST", SystemTime::UNIX_EPOCH);
        let (date, rest) = name.split_at("1970/01/01/".len());
        assert_eq!(date, "1970/01/01/");
        let id = rest.strip_prefix("[$LATEST]").unwrap();
        assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{name}");
        assert!(log_stream("7", SystemTime::now()).contains("/[7]"));
        assert_eq!(log_group("f"), "/aws/lambda/f");
    }
}

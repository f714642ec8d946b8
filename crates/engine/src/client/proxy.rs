//! The proxy a client goes through: botocore's `proxies=` (a URL per scheme) or, by default, the
//! environment's HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY in either case, as curl and
//! requests read them (NO_PROXY takes hosts, domain suffixes, CIDRs and `*`). Credentials in a
//! proxy URL are sent as Basic auth and never shown: messages name the proxy by host and port.

use hyper_util::client::proxy::matcher::Matcher;

/// The variables that choose a proxy.
const VARIABLES: [&str; 8] =
    ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"];

/// Explicit proxies by the scheme of the URLs they carry (`http`, `https`), as botocore's
/// `Config(proxies={...})`.
pub type Proxies = Vec<(String, String)>;

/// The proxy variables as this process has them now (part of what makes two clients the same).
pub fn environment() -> Vec<(String, String)> {
    VARIABLES.iter().filter_map(|name| Some((name.to_string(), std::env::var(name).ok()?))).collect()
}

fn no_proxy() -> Option<String> {
    ["NO_PROXY", "no_proxy"].iter().find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
}

/// NO_PROXY's `*` bypasses every proxy, as with curl (hyper-util matches it to host names only,
/// not to IP addresses such as a loopback endpoint's).
fn bypass_all() -> bool {
    no_proxy().is_some_and(|rules| rules.split(',').any(|rule| rule.trim() == "*"))
}

/// The proxies calls go through (None: every call goes direct): explicit ones per scheme, else the
/// environment's, with NO_PROXY's exceptions either way. A proxy URL that cannot be used is an
/// error naming its setting, never a reason to go direct: a proxy the user set is not bypassed.
pub fn matcher(proxies: Option<&Proxies>) -> Result<Option<Matcher>, String> {
    if bypass_all() {
        return Ok(None);
    }
    let Some(proxies) = proxies else {
        for (name, url) in environment() {
            if !name.eq_ignore_ascii_case("NO_PROXY") && !url.is_empty() {
                // As curl reads them, a URL without a scheme is an http:// one.
                let url = if url.contains("://") { url } else { format!("http://{url}") };
                check_url(&url).map_err(|why| format!("the environment's {name} {why}"))?;
            }
        }
        return Ok(Some(Matcher::from_env()));
    };
    let mut builder = Matcher::builder();
    for (scheme, url) in proxies {
        if scheme != "http" && scheme != "https" {
            return Err(format!("proxies takes 'http' and 'https' keys, not '{scheme}'"));
        }
        check_url(url).map_err(|why| format!("proxies['{scheme}'] {why}"))?;
        builder = if scheme == "http" { builder.http(url.clone()) } else { builder.https(url.clone()) };
    }
    Ok(Some(builder.no(no_proxy().unwrap_or_default()).build()))
}

/// Why a proxy URL cannot be used, if it cannot; never quoting it (it may hold credentials).
fn check_url(url: &str) -> Result<(), String> {
    let not_a_url = || "is not an http:// or https:// URL with a host".to_owned();
    let uri: http::Uri = url.parse().map_err(|_| not_a_url())?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none_or(str::is_empty) {
        return Err(not_a_url());
    }
    // The port as written (the http crate reads one past 65535 as none at all, hence port 80).
    let host_and_port = uri.authority().map_or("", |authority| authority.as_str()).rsplit('@').next().unwrap_or("");
    let port = host_and_port.rfind(':').map(|colon| &host_and_port[colon + 1..]).filter(|port| !port.contains(']'));
    match port {
        Some(port) if !port.parse::<u16>().is_ok_and(|port| port > 0) => {
            Err(format!("has port {port}, which is not 1 to 65535"))
        }
        _ => Ok(()),
    }
}

/// The proxy (`host:port`) that calls to `endpoint` go through, for messages; None if direct.
pub fn for_endpoint(matcher: Option<&Matcher>, endpoint: &str) -> Option<String> {
    let intercept = matcher?.intercept(&endpoint.parse().ok()?)?;
    let proxy = intercept.uri();
    Some(format!(
        "{}:{}",
        proxy.host()?,
        proxy.port_u16().unwrap_or(if proxy.scheme_str() == Some("https") { 443 } else { 80 })
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_url_is_checked_as_written() {
        for good in
            ["http://proxy:3128", "https://user:pass@proxy", "http://[::1]:8080", "http://[::1]", "http://p:65535"]
        {
            assert_eq!(check_url(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("http://proxy:99999", "has port 99999"),
            ("http://user:secret@proxy:70000", "has port 70000"),
            ("http://proxy:0", "has port 0"),
            ("http://[bad", "is not an http"),
            ("ftp://proxy:21", "is not an http"),
        ] {
            let error = check_url(bad).unwrap_err();
            assert!(error.starts_with(why) && !error.contains("secret"), "{bad}: {error}");
        }
    }
}

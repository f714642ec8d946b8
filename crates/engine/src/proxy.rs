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
/// environment's, with NO_PROXY's exceptions either way.
pub fn matcher(proxies: Option<&Proxies>) -> Result<Option<Matcher>, String> {
    if bypass_all() {
        return Ok(None);
    }
    let Some(proxies) = proxies else { return Ok(Some(Matcher::from_env())) };
    let mut builder = Matcher::builder();
    for (scheme, url) in proxies {
        if scheme != "http" && scheme != "https" {
            return Err(format!("proxies takes 'http' and 'https' keys, not '{scheme}'"));
        }
        let uri: http::Uri = url.parse().map_err(|_| invalid_url())?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none_or(str::is_empty) {
            return Err(invalid_url());
        }
        builder = if scheme == "http" { builder.http(url.clone()) } else { builder.https(url.clone()) };
    }
    Ok(Some(builder.no(no_proxy().unwrap_or_default()).build()))
}

fn invalid_url() -> String {
    "a proxy URL is not an http:// or https:// URL with a host".to_owned()
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

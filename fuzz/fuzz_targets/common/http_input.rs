//! How the HTTP-answer fuzz targets read their input: header lines (`Name: value`), a blank
//! line, then the body; the body's first byte picks an error status (400..=599).

/// The headers, the body, and the status the input stands for.
pub fn split(data: &[u8]) -> (Vec<(String, String)>, &[u8], u16) {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (&data[..0], data),
    };
    let headers = String::from_utf8_lossy(head)
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let status = 400 + u16::from(body.first().copied().unwrap_or(0) % 200);
    (headers, body, status)
}

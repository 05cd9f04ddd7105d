//! The console's pages at scale: how long the server takes to render the
//! runs list and a run page (one client, so each latency is one render and
//! its in-process API calls), and what a first load of a run page weighs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::Context;

use crate::{measure, Figures};

/// A console session for `key`: the sign-in form's token, then the form.
async fn sign_in(base: &str, key: &str) -> anyhow::Result<String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let form = client.get(format!("{base}/console/sign-in")).send().await?;
    let pre = cookie(&form, "rl_console_sign_in").context("the sign-in cookie")?;
    let page = form.text().await?;
    let marker = "name=\"csrf\" value=\"";
    let at = page.find(marker).context("the sign-in token")? + marker.len();
    let token = page.get(at..at + 64).context("a whole token")?.to_owned();
    let signed_in = client
        .post(format!("{base}/console/sign-in"))
        .header("cookie", format!("rl_console_sign_in={pre}"))
        .form(&[("api_key", key), ("actor_id", "bench"), ("csrf", &token)])
        .send()
        .await?;
    cookie(&signed_in, "rl_console").context("a session")
}

fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| value.strip_prefix(&format!("{name}=")))
        .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
}

async fn page(client: reqwest::Client, url: String, session: Arc<String>) -> u64 {
    let response = client
        .get(url)
        .header("cookie", format!("rl_console={session}"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    response.bytes().await.expect("a page");
    1
}

/// The console's figures at the current number of runs.
pub async fn figures(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    runs: Arc<Vec<uuid::Uuid>>,
    seconds: u64,
) -> anyhow::Result<Vec<String>> {
    let session = Arc::new(sign_in(base, key).await?);
    let (c, b, s) = (client.clone(), base.to_owned(), session.clone());
    let list: Figures = measure(1, seconds, move |_| {
        page(c.clone(), format!("{b}/console/runs"), s.clone())
    })
    .await;
    let next = Arc::new(AtomicU64::new(0));
    let (c, b, s, r) = (
        client.clone(),
        base.to_owned(),
        session.clone(),
        runs.clone(),
    );
    let detail: Figures = measure(1, seconds, move |_| {
        let index = next.fetch_add(7_919, Ordering::Relaxed) as usize % r.len();
        page(
            c.clone(),
            format!("{b}/console/runs/{}", r[index]),
            s.clone(),
        )
    })
    .await;
    let mut weight = Vec::new();
    for path in [
        format!("/console/runs/{}", runs[0]),
        "/console/assets/console.css".to_owned(),
        "/console/assets/console.js".to_owned(),
        "/console/assets/icon.svg".to_owned(),
    ] {
        let bytes = client
            .get(format!("{base}{path}"))
            .header("cookie", format!("rl_console={session}"))
            .send()
            .await?
            .bytes()
            .await?;
        weight.push(bytes.len());
    }
    Ok(vec![
        list.line(&format!(
            "run-ledger console: GET /console/runs at {} runs, 1 client (pages/s)",
            runs.len()
        )),
        detail.line(&format!(
            "run-ledger console: GET /console/runs/{{id}} at {} runs, 1 client (pages/s)",
            runs.len()
        )),
        format!(
            "| run-ledger console: first load of a run page, uncompressed: {:.1} KB (page {}, stylesheet {}, script {}, icon {} bytes) | | | | |",
            weight.iter().sum::<usize>() as f64 / 1024.0,
            weight[0],
            weight[1],
            weight[2],
            weight[3],
        ),
    ])
}

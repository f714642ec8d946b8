//! The ceiling for the engine: aws-sdk-lambda alone, from Rust, with the same shared client the
//! engine uses. Prints one JSON line for bench/run.py.
//!
//!     cargo run --release -p lambda-executor-engine --example sdk_baseline -- ENDPOINT_URL CALLS IN_FLIGHT [SLEEP_MS]

use std::sync::Arc;
use std::time::Instant;

use aws_sdk_lambda::primitives::Blob;
use tokio::sync::Semaphore;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (endpoint, calls, in_flight, sleep_ms) = match args.as_slice() {
        [_, endpoint, calls, in_flight] => (endpoint, calls, in_flight, "0"),
        [_, endpoint, calls, in_flight, sleep_ms] => (endpoint, calls, in_flight, sleep_ms.as_str()),
        _ => {
            eprintln!("usage: sdk_baseline ENDPOINT_URL CALLS IN_FLIGHT [SLEEP_MS]");
            std::process::exit(2);
        }
    };
    let sleep_ms: u64 = sleep_ms.parse().expect("SLEEP_MS is a number");
    let calls: usize = calls.parse().expect("CALLS is a number");
    let in_flight: usize = in_flight.parse().expect("IN_FLIGHT is a number");
    let runtime = lambda_executor_engine::runtime::get();
    runtime.block_on(async {
        let options = lambda_executor_engine::ClientOptions { endpoint_url: Some(endpoint.clone()), ..Default::default() };
        let client = lambda_executor_engine::client_for(&options).await.expect("client").sdk.clone();
        let room = Arc::new(Semaphore::new(in_flight));
        let started = Instant::now();
        let mut tasks = Vec::with_capacity(calls);
        for i in 0..calls {
            let permit = room.clone().acquire_owned().await.expect("open");
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                let payload = if sleep_ms == 0 { format!("{{\"i\":{i}}}") } else { format!("{{\"i\":{i},\"sleep_ms\":{sleep_ms}}}") };
                let output = client.invoke().function_name("echo").payload(Blob::new(payload.clone())).send().await;
                drop(permit);
                output.ok().and_then(|o| o.payload).is_some_and(|p| p.as_ref() == payload.as_bytes())
            }));
        }
        let mut succeeded = 0;
        for task in tasks {
            succeeded += usize::from(task.await.unwrap_or(false));
        }
        let seconds = started.elapsed().as_secs_f64();
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: getrusage fills the struct passed.
        unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
        let cpu = usage.ru_utime.tv_sec as f64 + usage.ru_stime.tv_sec as f64
            + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) as f64 / 1e6;
        let scenario = if sleep_ms == 0 { "echo" } else { "in_flight" };
        println!(
            "{{\"client\": \"aws-sdk-lambda alone (Rust)\", \"scenario\": \"{scenario}\", \"calls\": {calls}, \"succeeded\": {succeeded}, \
             \"seconds\": {seconds:.2}, \"per_s\": {:.0}, \"cpu_s\": {cpu:.2}, \"peak_rss_mb\": {}}}",
            calls as f64 / seconds,
            usage.ru_maxrss / 1024
        );
    });
}

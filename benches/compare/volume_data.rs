//! The text half of the volume's data: notes and service logs from a small deterministic
//! generator, so every run writes the same bytes, streamed as a tar archive.

use std::fmt::Write as _;
use std::io::Write;

use anyhow::Result;

use crate::measurement::MEBIBYTE;

/// xorshift64*: a small deterministic generator, so every run writes the same text.
pub(crate) struct Generator {
    pub(crate) state: u64,
}

impl Generator {
    fn next(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const SERVICES: [&str; 6] = ["orders", "billing", "auth", "search", "gateway", "mailer"];
const METHODS: [&str; 5] = ["GET", "GET", "GET", "POST", "PUT"];
const ROUTES: [&str; 8] = [
    "/api/v1/orders/",
    "/api/v1/users/",
    "/api/v1/invoices/",
    "/api/v1/search?page=",
    "/static/bundle.",
    "/api/v1/carts/",
    "/api/v1/sessions/",
    "/healthz?probe=",
];
const STATUSES: [&str; 8] = ["200", "200", "200", "200", "201", "204", "404", "500"];
const FAILURES: [&str; 5] = [
    "connection reset by peer",
    "deadline exceeded after 5000 ms",
    "duplicate key value violates unique constraint \"orders_pkey\"",
    "upstream returned 502 Bad Gateway",
    "token expired for subject",
];
const CLASSES: [&str; 6] = [
    "RequestHandler",
    "OrderService",
    "Repository",
    "ConnectionPool",
    "RetryPolicy",
    "Serializer",
];

/// The vocabulary of the notes, separated by single spaces.
const WORDS: &str = "the volume backup restore service container engine project profile compose \
    network health check running stopped created removed data file directory archive \
    stream hash verify and of to with from into every each when after before is are \
    was not only a new old first last safe fast small";

/// Service log lines, about `bytes` long: timestamps, request lines with ids, latencies and
/// trace ids, some warnings, and errors with stack traces.
fn log_text(generator: &mut Generator, bytes: usize, day: u64) -> String {
    let mut text = String::with_capacity(bytes + 1024);
    let mut millisecond = generator.below(1000);
    while text.len() < bytes {
        millisecond += generator.below(40);
        let time = format!(
            "2026-03-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            day % 28 + 1,
            millisecond / 3_600_000 % 24,
            millisecond / 60_000 % 60,
            millisecond / 1000 % 60,
            millisecond % 1000
        );
        let service = generator.pick(&SERVICES);
        let process = 1000 + generator.below(16);
        let trace = generator.next();
        let roll = generator.below(100);
        if roll < 2 {
            let _ = writeln!(
                text,
                "{time} ERROR {service}[{process}]: request {trace:016x} failed: {}",
                generator.pick(&FAILURES)
            );
            for _ in 0..3 + generator.below(6) {
                let class = generator.pick(&CLASSES);
                let _ = writeln!(
                    text,
                    "    at com.example.{service}.{class}.handle({class}.java:{})",
                    20 + generator.below(400)
                );
            }
        } else if roll < 8 {
            let _ = writeln!(
                text,
                "{time} WARN  {service}[{process}]: slow request {trace:016x}: {} ms over budget, retry {} of 3",
                generator.below(5000),
                1 + generator.below(3)
            );
        } else {
            let _ = writeln!(
                text,
                "{time} INFO  {service}[{process}]: {} {}{} -> {} in {}.{:02} ms (user=u-{}, trace={trace:016x}, bytes={})",
                generator.pick(&METHODS),
                generator.pick(&ROUTES),
                generator.below(100_000),
                generator.pick(&STATUSES),
                generator.below(250),
                generator.below(100),
                generator.below(50_000),
                generator.below(65_536)
            );
        }
    }
    text
}

/// Sentences of common words, about `bytes` long.
fn note_text(generator: &mut Generator, bytes: usize) -> String {
    let vocabulary: Vec<&str> = WORDS.split(' ').collect();
    let mut text = String::with_capacity(bytes + 256);
    while text.len() < bytes {
        let words = 6 + generator.below(14);
        for index in 0..words {
            let word = generator.pick(&vocabulary);
            if index == 0 {
                let mut letters = word.chars();
                if let Some(first) = letters.next() {
                    text.extend(first.to_uppercase());
                    text.push_str(letters.as_str());
                }
            } else {
                text.push(' ');
                text.push_str(word);
            }
        }
        text.push_str(if generator.below(5) == 0 { ".\n" } else { ". " });
    }
    text
}

/// 1024 notes of 8 KiB and 16 logs, 150 MiB in all, as a tar stream into `sink`.
pub(crate) fn write_text_tree(generator: &mut Generator, sink: &mut dyn Write) -> Result<u64> {
    const NOTES: u64 = 1024;
    const NOTE_BYTES: u64 = 8 * 1024;
    const LOGS: u64 = 16;
    const LOG_BYTES: u64 = (150 * MEBIBYTE - NOTES * NOTE_BYTES) / LOGS;
    let mut builder = tar::Builder::new(sink);
    let mut written = 0;
    for directory in ["notes", "logs"] {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(0o755);
        header.set_mtime(1_773_446_400);
        header.set_size(0);
        builder.append_data(&mut header, directory, std::io::empty())?;
    }
    let mut append = |path: String, text: String| -> Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_mtime(1_773_446_400);
        header.set_size(text.len() as u64);
        builder.append_data(&mut header, path, text.as_bytes())?;
        written += text.len() as u64;
        Ok(())
    };
    for index in 0..NOTES {
        let text = note_text(generator, NOTE_BYTES as usize);
        append(format!("notes/note-{index:04}.txt"), text)?;
    }
    for index in 0..LOGS {
        let text = log_text(generator, LOG_BYTES as usize, index);
        append(
            format!("logs/{}-{index:02}.log", SERVICES[index as usize % 6]),
            text,
        )?;
    }
    builder.into_inner()?.flush()?;
    Ok(written)
}

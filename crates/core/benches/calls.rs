//! The native bench of issue #22 §5: a generated 60-minute, 9,000-word sales call in each
//! transcript format, read (`parse`) and analysed (`signals`), timed natively, with the bytes
//! allocated counted by a global allocator: the peak held at once against the transcript's size
//! (the component's budget is 4×), and the total allocated.
//!
//! `cargo bench -p pipeline-guard-core --bench calls` prints the table (the release profile the
//! components ship with: `opt-level = "z"`, LTO). Native figures, not the component's on Spin.

#[path = "../tests/support/generated_call.rs"]
mod generated_call;

use std::{
    alloc::{GlobalAlloc, Layout, System},
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use pipeline_guard_core::{
    conversation::{Format, rep::RepRef, signals},
    playbook::Playbook,
};
use time::macros::datetime;

/// The system allocator, counting what is live, its peak and the total allocated.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static TOTAL: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the layout is the caller's, passed on unchanged.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
            TOTAL.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What one run measured.
struct Run {
    parse: Duration,
    signals: Duration,
    peak: usize,
    total: usize,
}

fn run(format: Format, source: &str, playbook: &Playbook) -> Run {
    let rep = RepRef::named("Sam Rivera");
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let total_before = TOTAL.load(Ordering::Relaxed);
    let start = Instant::now();
    let transcript = format
        .parse(source.as_bytes())
        .expect("generated call reads");
    let parsed = Instant::now();
    let speaker = rep.find_in(&transcript).expect("the rep speaks");
    let found = signals::signals(
        &transcript,
        speaker,
        playbook,
        datetime!(2026-12-07 15:00 UTC),
    );
    let done = Instant::now();
    std::hint::black_box(&found);
    Run {
        parse: parsed - start,
        signals: done - parsed,
        peak: PEAK.load(Ordering::Relaxed) - before,
        total: TOTAL.load(Ordering::Relaxed) - total_before,
    }
}

fn main() {
    const WORDS: usize = 9_000;
    const MINUTES: u64 = 60;
    const RUNS: usize = 20;
    let playbook = Playbook::default_playbook();
    println!(
        "{WORDS}-word, {MINUTES}-minute call; {RUNS} runs each after one not counted (it prepares the word lists once per process): the median's parse and signals, the fastest run's total (the least disturbed by other work on the machine); allocation counted by a global allocator\n"
    );
    println!(
        "| format | transcript | parse | signals | total | fastest total | peak held | peak / transcript | allocated in all |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for format in [Format::Webvtt, Format::Gong, Format::Text] {
        let source = generated_call::generated(format, WORDS, MINUTES);
        // One run first, not counted: it builds the word lists an instance prepares once (and
        // would otherwise be the median whenever they are quick to build, its peak with them).
        run(format, &source, &playbook);
        let mut runs: Vec<Run> = (0..RUNS).map(|_| run(format, &source, &playbook)).collect();
        runs.sort_by_key(|r| r.parse + r.signals);
        let median = &runs[RUNS / 2];
        let fastest = &runs[0];
        let kib = |bytes: usize| format!("{:.0} KiB", bytes as f64 / 1024.0);
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
        println!(
            "| {format} | {} | {} | {} | {} | {} | {} | {:.1}× | {} |",
            kib(source.len()),
            ms(median.parse),
            ms(median.signals),
            ms(median.parse + median.signals),
            ms(fastest.parse + fastest.signals),
            kib(median.peak),
            median.peak as f64 / source.len() as f64,
            kib(median.total),
        );
    }
}

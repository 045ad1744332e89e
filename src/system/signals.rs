//! Signal forwarding for child processes.
//!
//! While devctl runs compose, SIGINT/SIGTERM/SIGHUP/SIGQUIT reach devctl's handler instead of
//! killing it. A signal that another process sent to devctl alone (`kill -INT`) is forwarded
//! to the running child; a Ctrl-C typed at a terminal already reaches the whole foreground
//! process group, child included, so it is not sent a second time. Either way devctl records
//! the signal, waits for the child, and exits 128 + n. A long copy devctl makes itself reads
//! through `Interruptible`, which stops it at the next read.

use std::sync::Once;
use std::sync::atomic::{AtomicI32, Ordering};

use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::SignalsInfo;
use signal_hook::iterator::exfiltrator::origin::WithOrigin;
use signal_hook::low_level::siginfo::Cause;

static INSTALL: Once = Once::new();
static CHILD: AtomicI32 = AtomicI32::new(0);
static RECEIVED: AtomicI32 = AtomicI32::new(0);
static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Starts catching the termination signals (once per process).
pub fn install() {
    INSTALL.call_once(|| {
        let Ok(mut signals) = SignalsInfo::<WithOrigin>::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT])
        else {
            return;
        };
        std::thread::spawn(move || {
            for origin in signals.forever() {
                RECEIVED.store(origin.signal, Ordering::SeqCst);
                COUNT.fetch_add(1, Ordering::SeqCst);
                let child = CHILD.load(Ordering::SeqCst);
                let typed_at_terminal = matches!(origin.cause, Cause::Kernel)
                    && matches!(origin.signal, SIGINT | SIGQUIT);
                // A child in a process group of its own (a negative id) is not in the
                // terminal's foreground group: it gets every signal from here.
                if child < 0 || (child > 0 && !typed_at_terminal) {
                    // SAFETY: kill(2) with a pid we spawned and a valid signal number.
                    unsafe {
                        libc::kill(child, origin.signal);
                    }
                }
            }
        });
    });
}

/// Records the child that signals are forwarded to (0 for none).
pub fn set_child(pid: u32) {
    CHILD.store(pid as i32, Ordering::SeqCst);
}

/// Records a child that leads a process group of its own: signals go to the whole group,
/// a Ctrl-C typed at the terminal included (it does not reach that group otherwise).
pub fn set_child_group(pid: u32) {
    CHILD.store(-(pid as i32), Ordering::SeqCst);
}

/// How many termination signals have arrived so far: compare two readings to tell whether
/// one arrived in between.
pub fn count() -> usize {
    COUNT.load(Ordering::SeqCst)
}

/// The last termination signal received, if any.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// A reader that fails once a termination signal arrives after it was made, so that a long
/// copy devctl makes itself (with no child to forward the signal to) stops at its next read.
/// (The error is not `ErrorKind::Interrupted`, which readers retry.)
pub struct Interruptible<R> {
    inner: R,
    before: usize,
}

impl<R> Interruptible<R> {
    pub fn into_inner(self) -> R {
        self.inner
    }

    pub fn new(inner: R) -> Interruptible<R> {
        install();
        Interruptible {
            inner,
            before: count(),
        }
    }

    /// A reader that fails once a termination signal arrives after `before` (a reading of
    /// `count()` taken after `install()`), for work that began before the reader was made.
    pub fn since(inner: R, before: usize) -> Interruptible<R> {
        Interruptible { inner, before }
    }

    /// The signal that arrived since the reader was made, if one did.
    pub fn signal(&self) -> Option<i32> {
        (count() != self.before).then(received).flatten()
    }
}

impl<R: std::io::Read> std::io::Read for Interruptible<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if count() != self.before {
            return Err(std::io::Error::other("interrupted by a signal"));
        }
        self.inner.read(buffer)
    }
}

// SPDX-License-Identifier: GPL-2.0-only
// The stop flag: the runner sets it on SIGINT/SIGTERM/SIGHUP/SIGPIPE, and
// every probe loop checks it, keeping what it measured so far. It lives in
// core so that a probe knows the flag without knowing the runner.
#pragma once

namespace kperflab {

// True once a stop was asked for.
bool stop_requested();
// Asks every probe to stop at its next check. Returns whether a stop had
// been asked for already (the runner's second ^C exits at once).
// Async-signal-safe.
bool request_stop();

}  // namespace kperflab

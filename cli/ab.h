// SPDX-License-Identifier: GPL-2.0-only
// `kperflab ab`: one setting against another within one boot on this host.
// Short `kperflab run` processes of side A and side B alternate in ABBA
// order, each writing its own bundle (DIR/a/run-NN, DIR/b/run-NN), so that
// both sides share the boot and a drift of the machine over the session
// falls on both alike; `kperflab compare DIR/a DIR/b` then takes each side's
// runs as its units.
#pragma once

#include <string>
#include <vector>

namespace kperflab {

// ARGS of --a/--b split into words as a shell splits simple words: on
// blanks (space, tab, newline). No shell runs, so what a shell would treat
// specially (quotes, backslash, $ ` ; & | < > ( ) * ? { } ~ # ! and control
// characters) throws std::invalid_argument naming `flag` and the character;
// '[' and ']' are literal (list values such as [] or [1,2]).
std::vector<std::string> split_words(const std::string& args, const std::string& flag);

// The side ('a' or 'b') of run i (0-based) in ABBA order: a b b a a b b a ...
char abba_side(unsigned i);

// Returns the process exit status: 0 done (with --compare: compare's),
// 1 a run failed, 130 interrupted; bad arguments throw std::invalid_argument
// (exit 2) before any run starts.
int ab_main(const std::vector<std::string>& args);

}  // namespace kperflab

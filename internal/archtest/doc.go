// Package archtest holds only a test: it reads the source of the core
// packages (seq, wire, tcp, tcp/cc, stack, trace, and every package in a
// directory below them, such as trace/ladder) and of package web, and fails,
// naming the file and line, where they break the rules of
// ARCHITECTURE.md:
//
//   - a core package imports only the standard library and the module
//     packages its row of ARCHITECTURE.md's table allows (a new package
//     below a core one that imports nothing of the module, a leaf, may be
//     imported by any core package); from package clock it uses only the
//     Time type (Time, Never, Min), never a Clock;
//   - the core is sans-I/O: no sync, os, net (net/netip is a value type and
//     fine), syscall, io/ioutil, crypto/rand or log import, no go
//     statement, and of package time nothing that reads the clock or waits
//     (time.Now, Sleep, After, AfterFunc, NewTimer, NewTicker, Tick, Since,
//     Until): time.Duration is fine;
//   - web imports, of the module, only trace and what lies below it.
//
// Where today's code and the table differ, the test lists the difference
// with its reason, and fails once the difference is gone, so that the list
// only shrinks. Only non-test files are read; tests may do anything.
//
// Run it with go test ./internal/archtest.
package archtest

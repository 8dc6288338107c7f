// Package browsertest holds the browser tests of package web: headless
// chromium (driven with chromedp) loads the page that web.Handler serves,
// and the page that ladder.WriteHTML writes, and checks every arrow and
// state against the ladder model, step by step.
//
// It is a module of its own so that the main module does not depend on
// chromedp. Run it from this directory:
//
//	go test ./...
//
// The tests skip when no chromium is found (Debian: apt-get install
// chromium; or set $SYNACK_CHROMIUM). Screenshots go to $SYNACK_ARTIFACTS,
// or else to web/testdata/screenshot-*.png.
package browsertest

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
// chromium; or set $SYNACK_CHROMIUM). The Chinese pages' tests check that
// every character has a glyph, and fail without a CJK font (Debian:
// apt-get install fonts-wqy-zenhei, or fonts-noto-cjk). Screenshots go to
// $SYNACK_ARTIFACTS, or else to web/testdata/screenshot-*.png (ignored by
// git): html-demo, lost-syn, refused, web-zh, web-zh-run, html-zh (the
// Chinese pages), plot-beside-ladder and web-plot (a plot beside its
// ladder, a point selected), web-figures and web-figures-zh (a
// scenario's figures under its explanation).
package browsertest
